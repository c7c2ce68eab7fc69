// tachyond: the kernel-bypass NTP server.
//
//   tachyond --config /etc/tachyon/tachyond.toml [--queues 2 --log-level debug ...]
//   tachyond --check-config FILE [overrides...]
//
// Command-line options override keys of the file (docs/configuration.md);
// SIGHUP re-reads the file and applies what can change live; SIGINT and
// SIGTERM stop cleanly. Under systemd (Type=notify) readiness, reloads and
// the stop are reported with sd_notify.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }
extern "C" void on_reload_signal(int) { g_reload.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = on_reload_signal;
  sigaction(SIGHUP, &sa, nullptr);
}

int print_errors(const tachyon::ConfigResult& r) {
  for (const auto& e : r.errors) std::cerr << e.to_string() << "\n";
  std::cerr << r.errors.size() << (r.errors.size() == 1 ? " error" : " errors") << "\n";
  return 1;
}

// A TOML basic string.
std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string toml_string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + toml_string(items[i]);
  return out + "]";
}

// The usual keys, each as a command-line option.
struct Shortcuts {
  std::string device, stats_listen, log_level, log_file, file_prefix;
  std::vector<std::string> ipv4, ipv6;
  std::string queues, ntp_port, vlan, local_stratum, memory_mb, worker_cpus;

  void add_to(CLI::App& app) {
    app.add_option("--device", device, "port.device: PCI address or DPDK vdev string")->group("Overrides");
    app.add_option("--queues", queues, "port.queues: RX/TX queue pairs, one worker each")->group("Overrides");
    app.add_option("--ipv4", ipv4, "server.ipv4: an address to serve (repeatable)")->group("Overrides");
    app.add_option("--ipv6", ipv6, "server.ipv6: an address to serve (repeatable)")->group("Overrides");
    app.add_option("--ntp-port", ntp_port, "server.port: UDP port")->group("Overrides");
    app.add_option("--vlan", vlan, "server.vlan: 802.1Q VLAN ID (0: untagged)")->group("Overrides");
    app.add_option("--local-stratum", local_stratum, "reference.local_stratum")->group("Overrides");
    app.add_option("--worker-cpus", worker_cpus, "eal.worker_cpus, e.g. 1,2")->group("Overrides");
    app.add_option("--memory-mb", memory_mb, "eal.memory_mb")->group("Overrides");
    app.add_option("--file-prefix", file_prefix, "eal.file_prefix")->group("Overrides");
    app.add_option("--stats-listen", stats_listen, "stats.listen: HOST:PORT, \"\" to disable")->group("Overrides");
    app.add_option("--log-level", log_level, "log.level")->group("Overrides");
    app.add_option("--log-file", log_file, "log.file")->group("Overrides");
  }

  void append_to(std::vector<tachyon::ConfigOverride>& out, const CLI::App& app) const {
    auto add = [&](const char* option, const char* key, const std::string& value) {
      if (app.count(option) != 0) out.push_back({key, value, option});
    };
    add("--device", "port.device", toml_string(device));
    add("--queues", "port.queues", queues);
    add("--ipv4", "server.ipv4", toml_string_array(ipv4));
    add("--ipv6", "server.ipv6", toml_string_array(ipv6));
    add("--ntp-port", "server.port", ntp_port);
    add("--vlan", "server.vlan", vlan);
    add("--local-stratum", "reference.local_stratum", local_stratum);
    add("--worker-cpus", "eal.worker_cpus", "[" + worker_cpus + "]");
    add("--memory-mb", "eal.memory_mb", memory_mb);
    add("--file-prefix", "eal.file_prefix", toml_string(file_prefix));
    add("--stats-listen", "stats.listen", toml_string(stats_listen));
    add("--log-level", "log.level", toml_string(log_level));
    add("--log-file", "log.file", toml_string(log_file));
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tachyond: kernel-bypass NTP server (docs/configuration.md lists every key)"};
  std::string config_path;
  std::string check_path;
  std::vector<std::string> sets;
  Shortcuts shortcuts;
  app.add_option("-c,--config", config_path, "configuration file (TOML)");
  app.add_option("--check-config", check_path, "validate a configuration file (with overrides), print every error, exit");
  app.add_option("--set", sets, "override any key: TABLE.KEY=VALUE (repeatable), e.g. --set port.queues=2")
      ->group("Overrides");
  shortcuts.add_to(app);
  app.set_version_flag("--version", "tachyond " TACHYON_VERSION);
  CLI11_PARSE(app, argc, argv);

  std::vector<tachyon::ConfigOverride> overrides;
  shortcuts.append_to(overrides, app);
  for (const std::string& s : sets) {
    const auto eq = s.find('=');
    overrides.push_back({s.substr(0, eq), eq == std::string::npos ? "" : s.substr(eq + 1), "--set " + s});
  }

  if (!check_path.empty()) {
    const tachyon::ConfigResult r = tachyon::load_config(check_path, overrides);
    if (!r.ok()) return print_errors(r);
    std::cout << check_path << ": ok\n";
    return 0;
  }
  if (config_path.empty()) {
    std::cerr << "tachyond: --config FILE is required (see --help)\n";
    return 2;
  }

  tachyon::ConfigResult loaded = tachyon::load_config(config_path, overrides);
  if (!loaded.ok()) return print_errors(loaded);
  if (tachyon::Status s = tachyon::setup_logging(loaded.config.log); !s) {
    std::cerr << "tachyond: " << s.message() << "\n";
    return 1;
  }

  install_signal_handlers();
  tachyon::Daemon daemon(std::move(loaded.config), overrides);
  if (tachyon::Status s = daemon.start(); !s) {
    spdlog::critical("start-up failed: {}", s.message());
    sd_notifyf(0, "STATUS=start-up failed: %s", s.message().c_str());
    daemon.shutdown();
    return 1;
  }
  sd_notifyf(0, "READY=1\nSTATUS=serving on %s", daemon.config().port.device.c_str());
  daemon.run(g_stop, g_reload);
  spdlog::info("stopping (signal received)");
  sd_notify(0, "STOPPING=1");
  daemon.shutdown();
  return 0;
}
