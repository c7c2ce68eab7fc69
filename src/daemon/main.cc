// tachyond: the kernel-bypass NTP server.
//
//   tachyond --config /etc/tachyon/tachyond.toml
//   tachyond --check-config FILE
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/logging.h"

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int print_errors(const tachyon::ConfigResult& r) {
  for (const auto& e : r.errors) std::cerr << e.to_string() << "\n";
  std::cerr << r.errors.size() << (r.errors.size() == 1 ? " error" : " errors") << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tachyond: kernel-bypass NTP server"};
  std::string config_path;
  std::string check_path;
  app.add_option("-c,--config", config_path, "configuration file (TOML)")->check(CLI::ExistingFile);
  app.add_option("--check-config", check_path, "validate a configuration file, print every error, and exit");
  app.set_version_flag("--version", "tachyond " TACHYON_VERSION);
  CLI11_PARSE(app, argc, argv);

  if (!check_path.empty()) {
    const tachyon::ConfigResult r = tachyon::load_config(check_path);
    if (!r.ok()) return print_errors(r);
    std::cout << check_path << ": ok\n";
    return 0;
  }
  if (config_path.empty()) {
    std::cerr << "tachyond: --config FILE is required (see --help)\n";
    return 2;
  }

  tachyon::ConfigResult loaded = tachyon::load_config(config_path);
  if (!loaded.ok()) return print_errors(loaded);
  if (tachyon::Status s = tachyon::setup_logging(loaded.config.log); !s) {
    std::cerr << "tachyond: " << s.message() << "\n";
    return 1;
  }

  install_signal_handlers();
  tachyon::Daemon daemon(std::move(loaded.config));
  if (tachyon::Status s = daemon.start(); !s) {
    spdlog::critical("start-up failed: {}", s.message());
    daemon.shutdown();
    return 1;
  }
  daemon.run(g_stop);
  spdlog::info("stopping (signal received)");
  daemon.shutdown();
  return 0;
}
