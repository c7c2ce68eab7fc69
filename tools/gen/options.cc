#include "tools/gen/options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <tuple>

namespace tachyon::gen {
namespace {

constexpr const char* kFooter = R"(Examples:
  # tachyond over memif (tachyond is the memif server), 100k requests/s for 10 s:
  tachyon-gen -d net_memif0,role=client,socket=/tmp/tachyon.sock -s 192.0.2.1 -r 100k

  # maximum loss-free rate of a kernel NTP server behind a veth, IPv6, mixed requests:
  tachyon-gen -d net_af_xdp0,iface=veth1,start_queue=0,queue_count=1 -s 2001:db8::1 \
      --source 2001:db8::8000/113 --ramp --start-rate 20k --multiplier 1.25 \
      --mix 'v4=90,v3=5,v4+sym=3,v4+ef=1,v4+mac=1' --json result.json

  # interleaved mode (chrony's xleave) against tachyond, 64 clients, 2k requests/s:
  tachyon-gen -d net_memif0,role=client,socket=/tmp/tachyon.sock -s 192.0.2.1 --interleaved --clients 64 -r 2k

  # a server that authenticates: requests signed with key 2 of its keys file, 90 % of them:
  tachyon-gen -d net_memif0,role=client,socket=/tmp/tachyon.sock -s 192.0.2.1 -r 50k \
      --keys /etc/tachyon/ntp.keys --mac-key-id 2 --mix 'v4+mac=9,v4=1'

  # a real NIC, four TX/RX lcores, server behind a router:
  tachyon-gen -d 0000:3b:00.0 -s 203.0.113.10 --gateway 198.18.0.1 --source 198.18.0.0/16 \
      --cpus 2-5 --ramp --start-rate 1M

See docs/tachyon-gen.md for the output fields and the JSON schema.)";

Result<double> positive_seconds(const char* name, double v, bool zero_ok) {
  if (!std::isfinite(v) || v < 0 || (!zero_ok && v == 0)) {
    return Result<double>::error(std::string(name) + " must be " + (zero_ok ? "0 or more" : "more than 0") +
                                 " seconds");
  }
  return v;
}

}  // namespace

Result<double> parse_rate(const std::string& text) {
  if (text == "max") return 0.0;
  double v = 0;
  int used = 0;
  if (text.empty() || std::sscanf(text.c_str(), "%lf%n", &v, &used) != 1) {
    return Result<double>::error("\"" + text + "\" is not a rate (e.g. 50000, 50k, 1.5M or max)");
  }
  const std::string suffix = text.substr(static_cast<size_t>(used));
  if (suffix == "k" || suffix == "K") {
    v *= 1e3;
  } else if (suffix == "M" || suffix == "m") {
    v *= 1e6;
  } else if (suffix == "G" || suffix == "g") {
    v *= 1e9;
  } else if (!suffix.empty() && suffix != "/s") {
    return Result<double>::error("\"" + text + "\" is not a rate (e.g. 50000, 50k, 1.5M or max)");
  }
  if (!std::isfinite(v) || v < 1 || v > 1e10) {
    return Result<double>::error("rate \"" + text + "\" must be from 1 to 10G requests/s (or max)");
  }
  return v;
}

Result<std::vector<uint32_t>> parse_cpu_list(const std::string& text) {
  using R = Result<std::vector<uint32_t>>;
  std::vector<uint32_t> out;
  size_t pos = 0;
  auto bad = [&] { return R::error("\"" + text + "\" is not a CPU list (e.g. 1, 2,3 or 2-5)"); };
  if (text.empty()) return bad();
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    unsigned a = 0, b = 0;
    int used = 0;
    if (std::sscanf(item.c_str(), "%u-%u%n", &a, &b, &used) == 2 && static_cast<size_t>(used) == item.size() &&
        item[0] != '-' && a <= b) {
    } else if (std::sscanf(item.c_str(), "%u%n", &a, &used) == 1 && static_cast<size_t>(used) == item.size() &&
               std::isdigit(static_cast<unsigned char>(item[0]))) {
      b = a;
    } else {
      return bad();
    }
    if (b > 1023) return R::error("CPU " + std::to_string(b) + " out of range (0 to 1023)");
    for (unsigned c = a; c <= b; ++c) {
      if (std::find(out.begin(), out.end(), c) != out.end()) {
        return R::error("CPU " + std::to_string(c) + " is listed twice in \"" + text + "\"");
      }
      out.push_back(c);
    }
    pos = comma + 1;
  }
  return out;
}

std::optional<GenOptions> parse_options(int argc, const char* const* argv, int& exit_code) {
  GenOptions o;
  std::string server, source, server_mac, gateway, source_ports = "1024-65535", mix = "v4", rate = "10k";
  std::string start_rate = "10k", max_rate, cpus = "1", keys_format = "auto";
  int main_cpu = -1;
  uint64_t vlan = 0, port = 123;

  CLI::App app{"tachyon-gen: a DPDK load generator for NTP servers. It simulates many clients, validates\n"
               "every answer, and measures rates, loss, round-trip and server processing times.",
               "tachyon-gen"};
  app.footer(kFooter);
  app.set_version_flag("--version", "tachyon-gen " TACHYON_VERSION);
  app.get_formatter()->column_width(34);

  const char* target = "Server";
  app.add_option("-d,--device", o.device,
                 "DPDK port: a vdev (net_memif0,role=client,socket=PATH | net_af_xdp0,iface=IF,start_queue=0,"
                 "queue_count=1 | net_af_packet0,iface=IF) or a PCI address")
      ->required()
      ->group(target);
  app.add_option("-s,--server", server, "server address, IPv4 or IPv6")->required()->group(target);
  app.add_option("--port", port, "server UDP port")->capture_default_str()->check(CLI::Range(1, 65535))->group(target);
  app.add_option("--server-mac", server_mac,
                 "the server's (or next hop's) MAC; default: resolved with ARP / neighbor solicitation")
      ->group(target);
  app.add_option("--gateway", gateway, "resolve this router's MAC instead of the server's (server off-link)")
      ->group(target);
  app.add_option("--vlan", vlan, "802.1Q VLAN ID of the requests (1-4094); default untagged")
      ->check(CLI::Range(1, 4094))
      ->group(target);

  const char* clients = "Clients and requests";
  app.add_option("--source", source,
                 "client source prefix; default 198.18.0.0/15 (IPv4) or 2001:2::/48 (IPv6), the benchmarking "
                 "ranges. A kernel server must be able to reach it: use a prefix on its link")
      ->group(clients);
  app.add_option("--clients", o.clients, "number of client addresses taken from --source (fewer if it is smaller)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24))
      ->group(clients);
  app.add_option("--source-ports", source_ports, "random source port range LO-HI")
      ->capture_default_str()
      ->group(clients);
  app.add_option("--mix", mix,
                 "request mix: vN[+sym][+ef][+mac][=WEIGHT],... N=1-4; +sym mode 1 instead of 3; +ef an extension "
                 "field (v4); +mac a MAC (a real one with --keys, else key --mac-key-id and 16 random bytes)")
      ->capture_default_str()
      ->group(clients);
  app.add_option("--mac-key-id", o.mac_key_id, "key id of +mac requests")->capture_default_str()->group(clients);
  app.add_option("--keys", o.keys_path,
                 "keys file (ntpd's ntp.keys or chrony's chrony.keys format): +mac requests are signed with key "
                 "--mac-key-id from it, and their answers must carry a MAC under that key that verifies; "
                 "default: +mac requests carry 16 random bytes")
      ->group(clients);
  app.add_option("--keys-format", keys_format, "how --keys is read: auto, ntpd or chrony")
      ->capture_default_str()
      ->group(clients);
  auto* interleaved =
      app.add_flag("--interleaved", o.interleaved,
                   "interleaved client/server mode (chrony's xleave): each client keeps one source port and sends "
                   "the receive timestamp of its last answer as origin; answers are counted as interleaved or basic")
          ->group(clients);

  const char* load = "Load";
  app.add_option("-r,--rate", rate, "fixed rate, requests/s (50000, 50k, 1.5M, or max)")
      ->capture_default_str()
      ->group(load);
  app.add_option("--burst", o.burst,
                 "send the requests in bursts of this many (1-32) at the same average rate: the server then "
                 "receives whole bursts, as it does at saturation (to compare servers' cost per request)")
      ->capture_default_str()
      ->check(CLI::Range(1, 32))
      ->group(load);
  app.add_flag("--ramp", o.ramp, "find the maximum loss-free rate: steps from --start-rate up by --multiplier")
      ->group(load);
  app.add_option("--start-rate", start_rate, "ramp: first step's rate")->capture_default_str()->group(load);
  app.add_option("--multiplier", o.ramp_options.multiplier, "ramp: rate factor from one step to the next")
      ->capture_default_str()
      ->group(load);
  app.add_option("--step", o.step_s, "ramp: seconds per step")->capture_default_str()->group(load);
  app.add_option("--max-loss", o.ramp_options.max_loss_pct,
                 "ramp: a step fails when more than this % of its requests got no usable answer")
      ->capture_default_str()
      ->group(load);
  app.add_option("--max-rate", max_rate, "ramp: stop at this rate")->group(load);
  app.add_option("--bisect", o.ramp_options.bisect,
                 "ramp: after the first failed step, this many steps between the last good and first bad rate")
      ->capture_default_str()
      ->check(CLI::Range(0, 20))
      ->group(load);
  app.add_option("--generator-retries", o.ramp_options.generator_retries,
                 "ramp: a step that passed but could not be sent at its rate is run again this many times "
                 "before the ramp ends at the generator's limit (one stall of its CPU can cost a step a few %)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10))
      ->group(load);
  app.add_option("--loss-retries", o.ramp_options.loss_retries,
                 "ramp: a step that failed is run again this many times at the same rate, and fails only if every "
                 "run does (one stall of a virtual machine's CPU can lose a step's requests)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10))
      ->group(load);
  app.add_option("-t,--duration", o.duration_s, "seconds: length of a fixed-rate run (default 10), bound on a ramp")
      ->group(load);
  app.add_option("-n,--count", o.count, "stop after sending this many requests")->group(load);
  app.add_option("--warmup", o.warmup_s,
                 "seconds of traffic before the first step, not counted (lets a kernel server resolve the clients)")
      ->capture_default_str()
      ->group(load);
  app.add_option("--timeout", o.timeout_s, "seconds after which an answer counts as lost")
      ->capture_default_str()
      ->group(load);

  const char* checks = "Validation";
  app.add_option("--max-offset", o.max_offset_s,
                 "seconds the server's receive/transmit timestamps may be off our clock before the answer is invalid")
      ->capture_default_str()
      ->group(checks);
  app.add_flag("--reject-unsync", o.reject_unsync,
               "count answers of an unsynchronized server (LI=3 or stratum 16) as invalid")
      ->group(checks);
  app.add_flag("--echo", o.echo,
               "the peer reflects each request unchanged (bench/reflector): match by transmit timestamp, no NTP checks")
      ->excludes(interleaved)
      ->group(checks);

  const char* dpdk = "DPDK";
  app.add_option("-c,--cpus", cpus, "CPUs of the TX/RX worker lcores, one busy-polling loop and one queue pair each")
      ->capture_default_str()
      ->group(dpdk);
  app.add_option("--main-cpu", main_cpu, "CPU of the main lcore (mostly asleep); default: the first of --cpus")
      ->group(dpdk);
  app.add_option("--memory-mb", o.memory_mb, "DPDK memory, MiB")->capture_default_str()->group(dpdk);
  app.add_flag("--hugepages", o.hugepages, "use hugepages (default: --no-huge, no set-up needed)")->group(dpdk);
  app.add_option("--file-prefix", o.file_prefix, "DPDK --file-prefix; default tachyon-gen-PID")->group(dpdk);
  app.add_option("--eal", o.eal_args, "extra EAL argument (repeatable), e.g. --eal=--log-level=pmd.net.memif:debug")
      ->allow_extra_args(false)
      ->group(dpdk);
  app.add_option("--rx-descriptors", o.rx_descriptors,
                 "RX descriptors per queue; default 4096 on AF_XDP (the kernel fills that ring while the worker "
                 "yields), 1024 on other ports")
      ->group(dpdk);
  app.add_option("--tx-descriptors", o.tx_descriptors, "TX descriptors per queue")
      ->capture_default_str()
      ->group(dpdk);
  app.add_option("--link-timeout", o.link_timeout_s, "seconds to wait for the port's link (a memif peer)")
      ->capture_default_str()
      ->group(dpdk);
  app.add_option("--resolve-timeout", o.resolve_timeout_s, "seconds to wait for the server's ARP / NDP answer")
      ->capture_default_str()
      ->group(dpdk);
  app.add_option("--yield-us", o.yield_us,
                 "microseconds between sched_yield() calls of a worker, so the kernel's softirq work on its CPU "
                 "runs (AF_XDP/AF_PACKET on a veth need it); 0: never")
      ->capture_default_str()
      ->group(dpdk);
  app.add_option("--log-level", o.log_level, "DPDK's log level (error, warning, info, debug)")
      ->capture_default_str()
      ->group(dpdk);

  const char* output = "Output";
  app.add_option("--json", o.json_path, "write the results as JSON to FILE (- for stdout; the table then goes to "
                                        "stderr)")
      ->group(output);
  app.add_flag("-q,--quiet", o.quiet, "no live progress line")->group(output);
  app.add_option("--progress-interval", o.progress_interval_s, "seconds between progress lines")
      ->capture_default_str()
      ->group(output);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      exit_code = app.exit(e);
    } else {
      std::cerr << "tachyon-gen: " << e.what() << "\nRun with --help for more information.\n";
      exit_code = 2;
    }
    return std::nullopt;
  }

  auto fail = [&](const std::string& message) -> std::optional<GenOptions> {
    std::cerr << "tachyon-gen: " << message << "\nRun with --help for more information.\n";
    exit_code = 2;
    return std::nullopt;
  };

  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);

  auto s = parse_ip(server);
  if (!s) return fail("--server: " + s.message());
  o.server = *s;
  o.server_port = static_cast<uint16_t>(port);
  o.vlan = static_cast<uint16_t>(vlan);
  if (!server_mac.empty()) {
    auto m = parse_mac(server_mac);
    if (!m) return fail("--server-mac: " + m.message());
    if ((*m)[0] & 1) return fail("--server-mac: " + server_mac + " is a multicast address");
    o.server_mac = *m;
  }
  if (!gateway.empty()) {
    auto g = parse_ip(gateway);
    if (!g) return fail("--gateway: " + g.message());
    if (g->v6 != o.server.v6) return fail("--gateway " + gateway + " and --server " + server + " differ in family");
    o.gateway = *g;
  }

  if (source.empty()) source = o.server.v6 ? "2001:2::/48" : "198.18.0.0/15";
  auto p = parse_prefix(source);
  if (!p) return fail("--source: " + p.message());
  if (p->base.v6 != o.server.v6) {
    return fail("--source " + source + " and --server " + server + " differ in address family");
  }
  o.source = *p;

  unsigned lo = 0, hi = 0;
  int used = 0;
  if (std::sscanf(source_ports.c_str(), "%u-%u%n", &lo, &hi, &used) != 2 ||
      static_cast<size_t>(used) != source_ports.size() || lo < 1 || hi > 65535 || lo > hi) {
    return fail("--source-ports \"" + source_ports + "\": expected LO-HI with 1 <= LO <= HI <= 65535");
  }
  o.source_port_min = static_cast<uint16_t>(lo);
  o.source_port_max = static_cast<uint16_t>(hi);

  auto m = parse_mix(mix);
  if (!m) return fail(m.message());
  o.mix = *m;
  auto kf = auth::parse_key_file_format(keys_format);
  if (!kf) return fail("--keys-format \"" + keys_format + "\": expected auto, ntpd or chrony");
  o.keys_format = *kf;
  if (!o.keys_path.empty()) {
    if (std::none_of(o.mix.begin(), o.mix.end(), [](const MixEntry& e) { return e.mac; })) {
      return fail("--keys signs the mix's +mac requests, and --mix " + mix + " has none (e.g. --mix v4+mac)");
    }
    if (o.mac_key_id == 0) return fail("--mac-key-id 0 is no key (it marks a crypto-NAK): use 1 or more");
  }

  auto r = parse_rate(rate);
  if (!r) return fail("--rate: " + r.message());
  o.rate = *r;
  auto sr = parse_rate(start_rate);
  if (!sr || *sr == 0) return fail("--start-rate: " + (sr ? std::string("must be a number, not max") : sr.message()));
  o.ramp_options.start_rate = *sr;
  if (!max_rate.empty()) {
    auto mr = parse_rate(max_rate);
    if (!mr || *mr == 0) return fail("--max-rate: " + (mr ? std::string("must be a number, not max") : mr.message()));
    if (*mr < *sr) return fail("--max-rate is below --start-rate");
    o.ramp_options.max_rate = *mr;
  }
  if (!(o.ramp_options.multiplier > 1.0) || o.ramp_options.multiplier > 100) {
    return fail("--multiplier must be more than 1 (and at most 100)");
  }
  if (!(o.ramp_options.max_loss_pct >= 0) || o.ramp_options.max_loss_pct > 100) {
    return fail("--max-loss must be a percentage from 0 to 100");
  }
  const std::tuple<const char*, double, bool> seconds[] = {
      {"--step", o.step_s, false},
      {"--duration", o.duration_s, true},
      {"--warmup", o.warmup_s, true},
      {"--timeout", o.timeout_s, false},
      {"--max-offset", o.max_offset_s, false},
      {"--link-timeout", o.link_timeout_s, false},
      {"--resolve-timeout", o.resolve_timeout_s, false},
      {"--progress-interval", o.progress_interval_s, false},
  };
  for (const auto& [name, value, zero_ok] : seconds) {
    if (auto v = positive_seconds(name, value, zero_ok); !v) return fail(v.message());
  }
  if (o.timeout_s > 10) return fail("--timeout must be at most 10 seconds");
  if (!(o.yield_us >= 0) || o.yield_us > 1e6) return fail("--yield-us must be 0 to 1000000");
  if (o.ramp && o.step_s < 0.1) return fail("--step must be at least 0.1 seconds");

  auto c = parse_cpu_list(cpus);
  if (!c) return fail("--cpus: " + c.message());
  if (c->size() > 64) return fail("--cpus: at most 64 worker lcores");
  o.cpus = *c;
  if (main_cpu >= 1024) return fail("--main-cpu must be 0 to 1023");
  o.main_cpu = main_cpu >= 0 ? static_cast<uint32_t>(main_cpu) : o.cpus.front();
  if (o.memory_mb < 64 && !o.hugepages) return fail("--memory-mb must be at least 64");
  if (o.file_prefix.empty()) o.file_prefix = "tachyon-gen-" + std::to_string(getpid());
  const auto descriptors_ok = [](uint16_t d) { return d >= 64 && (d & (d - 1)) == 0; };
  if ((o.rx_descriptors != 0 && !descriptors_ok(o.rx_descriptors)) || !descriptors_ok(o.tx_descriptors)) {
    return fail("--rx-descriptors/--tx-descriptors: a power of two from 64");
  }
  return o;
}

}  // namespace tachyon::gen
