// tachyon-gen's output: the live progress line, the final table and the
// JSON document (schema in docs/tachyon-gen.md). Pure formatting of
// finished results: thread-compatible, control path only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/gen/rate_plan.h"
#include "tools/gen/step_stats.h"

namespace tachyon::gen {

// What the run was: printed above the table and stored in the JSON.
struct RunInfo {
  std::string version;
  std::string command_line;
  std::string device;
  std::string driver;
  std::string local_mac;
  std::string server;           // address
  uint16_t server_port = 123;
  std::string server_mac;
  bool server_mac_resolved = false;  // false: given with --server-mac
  uint16_t vlan = 0;
  std::string source;           // prefix
  uint32_t clients = 0;
  std::string mix;
  std::vector<std::string> kinds;  // the mix's entries by index ("v4", "v4+sym"): StepCounters::by_kind
  // --keys: what +mac requests are signed with; empty without.
  std::string keys_file;
  uint32_t key_id = 0;
  std::string key_algorithm;  // "MD5", "SHA1", "AES128CMAC"
  unsigned workers = 1;
  std::string cpus;
  bool ramp = false;
  double rate = 0;              // fixed rate (0: max)
  RampOptions ramp_options;
  double step_s = 0;
  double timeout_s = 0;
  double max_offset_s = 0;
  bool reject_unsync = false;
  bool echo = false;
  bool interleaved = false;     // --interleaved: answers counted as interleaved or basic
  double tsc_hz = 0;
  std::string started;          // ISO 8601 UTC
};

// The port's own counters over the whole run (rte_eth_stats): what the
// NIC or the PMD dropped never reaches the per-step figures.
struct PortCounters {
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t rx_missed = 0;  // dropped by the port: no RX descriptor free (imissed)
  uint64_t rx_errors = 0;
  uint64_t tx_errors = 0;
  uint64_t rx_no_mbuf = 0;
};

struct RunSummary {
  StopReason stop = StopReason::kNone;
  std::optional<double> max_loss_free_rate;
  unsigned max_loss_free_step = 0;
  bool lower_bound = false;  // the generator, not the server, was the limit
  // Retry steps that passed right after one or more runs of the same rate
  // failed (--loss-retries), with the first of those failed runs: without
  // the retries, the ramp would have ended there.
  struct RunAgain {
    unsigned failed = 0;  // the first failed run at that rate
    unsigned passed = 0;  // the retry that passed
    bool operator==(const RunAgain&) const = default;
  };
  std::vector<RunAgain> passed_when_run_again;
  PortCounters port;
};

RunSummary summarize(const std::vector<StepResult>& steps, StopReason stop);

// The header line describing the run.
std::string format_header(const RunInfo& info);
// The table of steps and the lines explaining it.
std::string format_table(const RunInfo& info, const std::vector<StepResult>& steps, const RunSummary& summary);

// One line about a step that just finished (ramps print these as they go).
std::string format_step_line(const StepResult& s);

// One live progress line (no newline).
struct Progress {
  unsigned step = 0;
  const char* phase = "";   // "warm-up", "ramp", "bisect", "fixed", "drain"
  double offered_rate = 0;
  double elapsed_s = 0;
  double length_s = 0;      // 0: unbounded
  double sent_rate = 0;     // over the last interval
  double answered_rate = 0;
  uint64_t invalid = 0;     // so far in the run
  uint64_t sent_total = 0;
};
std::string format_progress(const Progress& p);

nlohmann::json to_json(const RunInfo& info, const std::vector<StepResult>& steps, const RunSummary& summary);

// "1234567" -> "1.23M"; rates and counts in the table.
std::string human_rate(double v);

}  // namespace tachyon::gen
