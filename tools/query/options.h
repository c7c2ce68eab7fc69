// tachyon-query's command line: what to ask, of whom, how often, and how to
// print it. Parsing is pure (no name resolution, no I/O) so every rule is
// unit-tested; errors are values whose message names the option, what was
// found and what was expected.
//
//   tachyon-query [options] SERVER[:PORT]    ask an NTP server
//   tachyon-query status [--url URL]         summarize a tachyond's /status
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/ntp_packet.h"
#include "core/result.h"

namespace tachyon::query {

enum class Family : uint8_t { kAny, kIpv4, kIpv6 };

struct QueryOptions {
  std::string host;                       // name or literal address, without brackets
  uint16_t port = 123;
  Family family = Family::kAny;
  uint8_t version = 4;                    // 1 to 4
  core::Mode mode = core::Mode::kClient;  // kClient or kSymmetricActive
  uint32_t count = 1;                     // samples; 0: until interrupted
  double interval_s = 1.0;                // between the starts of two samples
  double timeout_s = 2.0;                 // wait for each answer
  bool json = false;
  bool stripchart = false;
  bool allow_unsync = false;              // an unsynchronized server is not an error
};

struct StatusOptions {
  std::string url = "http://127.0.0.1:9123";
  bool json = false;
  double timeout_s = 2.0;
};

struct Command {
  enum class Kind : uint8_t { kQuery, kStatus, kHelp };
  Kind kind = Kind::kQuery;
  QueryOptions query;    // kind == kQuery
  StatusOptions status;  // kind == kStatus
};

// Parses the arguments after the program name. `status` is a subcommand
// only as the first argument (`tachyon-query -4 status` asks a host named
// "status").
Result<Command> parse_command_line(std::span<const std::string_view> args);

// The --help text.
std::string usage();

// SERVER[:PORT]: "host", "host:123", "192.0.2.1:123", "[2001:db8::1]:123",
// "[2001:db8::1]" and bare "2001:db8::1" (two colons or more: all address,
// no port). An IPv6 zone ("fe80::1%eth0") is kept in the host.
struct HostPort {
  std::string host;
  std::optional<uint16_t> port;
};
Result<HostPort> split_host_port(std::string_view server);

// http://HOST[:PORT][/PATH]; HOST may be a bracketed IPv6 address. The path
// defaults to /status; the port to 80.
struct HttpUrl {
  std::string host;  // brackets removed
  uint16_t port = 80;
  std::string path;

  std::string host_port() const;  // "127.0.0.1:9123", "[::1]:9123"
};
Result<HttpUrl> parse_http_url(std::string_view url);

}  // namespace tachyon::query
