// tachyon-query's exit status, one value per outcome an operator or a
// script may want to tell apart. Documented in docs/tachyon-query.md.
#pragma once

namespace tachyon::query {

enum ExitCode : int {
  kExitOk = 0,              // at least one usable answer, none unsynchronized or KoD
  kExitNoAnswer = 1,        // no usable answer: timeouts, port unreachable, invalid answers
  kExitUsage = 2,           // bad command line
  kExitUnsynchronized = 3,  // the server is unsynchronized (LI=3 / stratum 16) or sent a KoD
  kExitLocalError = 4,      // name resolution or socket failure on this host
  kExitStatusError = 5,     // status: endpoint unreachable, HTTP status not 200, invalid JSON
  kExitInterrupted = 130,   // SIGINT before any sample completed
};

}  // namespace tachyon::query
