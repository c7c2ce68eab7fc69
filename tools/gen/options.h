// tachyon-gen's command line: every option, its default, and the checks
// that turn a typo into one clear message before DPDK starts.
//
// Control path only. parse_options() is thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/key_file.h"
#include "core/result.h"
#include "tools/gen/addresses.h"
#include "tools/gen/rate_plan.h"
#include "tools/gen/request_mix.h"

namespace tachyon::gen {

struct GenOptions {
  // Where the requests go.
  std::string device;                 // DPDK vdev string or PCI address
  IpAddress server;
  uint16_t server_port = 123;
  std::optional<Mac> server_mac;      // skips ARP / neighbor discovery
  std::optional<IpAddress> gateway;   // resolve this next hop instead of the server
  uint16_t vlan = 0;

  // Who sends them and what they are.
  Prefix source;                      // default: RFC 2544 / RFC 5180 benchmarking ranges
  uint32_t clients = 1024;
  uint16_t source_port_min = 1024;
  uint16_t source_port_max = 65535;
  std::vector<MixEntry> mix;
  uint32_t mac_key_id = 1;
  std::string keys_path;              // --keys: +mac requests signed, answers' MACs checked; "" none
  auth::KeyFileFormat keys_format = auth::KeyFileFormat::kAuto;
  bool interleaved = false;           // interleaved client/server mode (chrony's xleave)

  // How many, how fast.
  bool ramp = false;
  double rate = 10'000;               // fixed rate; 0: as fast as possible
  RampOptions ramp_options;
  double step_s = 2;
  double duration_s = 0;              // 0: fixed 10 s, ramp unbounded
  uint64_t count = 0;                 // 0: unbounded
  double warmup_s = 1;
  double timeout_s = 0.1;

  // What an answer must satisfy.
  double max_offset_s = 1;
  bool reject_unsync = false;
  bool echo = false;                  // the peer reflects requests (bench baseline)

  // DPDK.
  std::vector<uint32_t> cpus{1};      // one TX/RX worker lcore each
  uint32_t main_cpu = 1;
  uint32_t memory_mb = 256;
  bool hugepages = false;
  std::string file_prefix;            // default: tachyon-gen-PID
  std::vector<std::string> eal_args;
  uint16_t rx_descriptors = 0;  // 0: auto (dp::auto_rx_descriptors())
  uint16_t tx_descriptors = 1024;
  double link_timeout_s = 10;
  double resolve_timeout_s = 3;
  unsigned burst = 1;                 // requests sent together once this many are due (1-32)
  double yield_us = 1000;             // sched_yield() this often in the poll loop; 0: never
  std::string log_level = "error";

  // Output.
  std::string json_path;              // "" none, "-" stdout
  bool quiet = false;
  double progress_interval_s = 1;

  std::string command_line;           // as given, for the JSON report
};

// Parses argv. Returns the options, or nothing with `exit_code` set: 0
// after --help or --version, 2 after a usage error (already printed to
// stderr with a hint).
std::optional<GenOptions> parse_options(int argc, const char* const* argv, int& exit_code);

// "10000", "10k", "1.5M", "max" (0). Error otherwise.
Result<double> parse_rate(const std::string& text);
// "1", "1,3", "2-5", "0,2-3". Error on duplicates or junk.
Result<std::vector<uint32_t>> parse_cpu_list(const std::string& text);

}  // namespace tachyon::gen
