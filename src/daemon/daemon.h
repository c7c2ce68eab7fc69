// tachyond's wiring: EAL, port, workers and the control thread, from a
// validated Config.
//
// Lifecycle: start() brings everything up (any failure is one clear Status
// and leaves nothing running); run() is the control loop on the main lcore
// (clock model publication, until `stop` becomes true); shutdown() stops the
// workers after their current burst, stops the port and logs final counters.
// All three are called from the main thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "auth/mac_engine.h"
#include "auth/policy.h"
#include "clock/clock_sources.h"
#include "clock/clock_status.h"
#include "clock/clock_control.h"
#include "clock/nic_source.h"
#include "clock/reference_source.h"
#include "core/clock_model.h"
#include "core/control.h"
#include "core/interleave.h"
#include "core/quiescent_box.h"
#include "core/seqlock.h"
#include "core/service.h"
#include "core/result.h"
#include "daemon/config.h"
#include "daemon/stats.h"
#include "daemon/stats_server.h"
#include "daemon/table_memory.h"
#include "dpdk/frame_handler.h"
#include "dpdk/port.h"
#include "dpdk/worker.h"
#include "dpdk/worker_counters.h"

namespace tachyon {

// Totals over all workers, summed on demand (never kept by workers).
struct CounterTotals {
  uint64_t rx_packets = 0, tx_packets = 0, tx_dropped = 0, hw_timestamps = 0;
  uint64_t arp = 0, nd = 0, icmp = 0, icmpv6 = 0, control = 0;
  uint64_t ntp_replies = 0, kod = 0;
  uint64_t drops[core::kDropReasonCount] = {};
};

class Daemon {
 public:
  explicit Daemon(Config config, std::vector<ConfigOverride> overrides = {});
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Status start();
  // The control loop: clock model publication until `stop`; a reload of
  // the configuration file whenever `reload` is set (SIGHUP).
  void run(const std::atomic<bool>& stop, std::atomic<bool>& reload);
  void shutdown();
  // Re-reads the configuration file (with the command-line overrides) and
  // applies what can change live; a bad file keeps the running configuration.
  void reload();

  const Config& config() const noexcept { return config_; }
  CounterTotals totals() const;
  // The timescale as of the last clock update. Safe from any thread.
  clock::ClockStatus clock_status() const;
  // Everything the stats endpoint exports, taken now. Safe from any
  // thread while the daemon runs (between start() and shutdown()).
  StatsSnapshot stats_snapshot() const;

 private:
  // Creates the reference source and the clock control from [reference].
  Status start_clock();
  void publish_clock();
  void log_banner() const;

  Config config_;
  std::vector<ConfigOverride> overrides_;
  int device_lock_ = -1;  // flock()ed: one tachyond per device
  bool eal_started_ = false;
  std::optional<dp::Port> port_;
  dp::PortIdentity identity_;
  core::ClockPublisher clock_;
  uint64_t clock_generation_ = 0;
  std::unique_ptr<clock::TickSource> ticks_;
  std::unique_ptr<clock::KernelClock> kernel_;
  std::unique_ptr<clock::NicClock> nic_clock_;         // the port's clock, if used
  std::unique_ptr<clock::ReferenceSource> source_;
  std::unique_ptr<clock::ClockControl> reference_;
  std::vector<std::unique_ptr<dp::WorkerCounters>> counters_;
  std::vector<std::unique_ptr<dp::Worker>> workers_;
  std::atomic<bool> workers_stop_{false};
  bool workers_running_ = false;
  // The memory of the per-worker tables below (rate limit, interleave):
  // declared before them, so it outlives them.
  TableMemory table_memory_;
  // Admission: the policy workers share (replaced on reload), each
  // worker's service (its rate-limit table), and what mode 6 shows.
  std::unique_ptr<core::PolicyBox> policies_;
  std::vector<std::unique_ptr<core::NtpService>> services_;
  core::SeqlockCell<core::SystemVariables> control_vars_;
  // Authentication: the keys workers use (replaced on reload) and each
  // worker's MAC engine; interleaved mode: each worker's table.
  std::unique_ptr<core::QuiescentBox<auth::AuthPolicy>> auth_;
  std::vector<std::unique_ptr<auth::MacEngine>> macs_;
  std::vector<std::unique_ptr<core::InterleaveTable>> interleave_;
  std::atomic<uint32_t> auth_keys_{0};  // keys loaded, for the stats endpoint
  std::atomic<bool> auth_required_{false};  // the running policy's auth.require, likewise
  void publish_control_variables();
  void log_table_memory() const;
  std::unique_ptr<StatsServer> stats_server_;
  std::chrono::steady_clock::time_point started_at_;
  mutable std::mutex status_mutex_;
  clock::ClockStatus clock_status_;  // guarded by status_mutex_
};

}  // namespace tachyon
