// What the stats endpoint exports: a snapshot of the daemon taken when a
// scrape arrives (counters summed from the per-worker blocks at that
// moment, never kept by workers), rendered as Prometheus text (/metrics)
// or JSON (/status). Rendering is pure: tests feed it fixed snapshots.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "clock/clock_status.h"
#include "dpdk/worker_counters.h"

namespace tachyon {

struct StatsSnapshot {
  // Server identity.
  std::string version;
  double uptime_s = 0;
  std::string device;
  std::string driver;
  std::string mac;
  uint16_t queues = 0;
  bool rss = false;
  bool checksum_offload = false;
  std::string rx_timestamps;  // "software", "hardware"
  std::vector<std::string> addresses;
  uint16_t ntp_port = 123;
  uint16_t vlan = 0;

  clock::ClockStatus clock;
  std::vector<dp::WorkerCountersSnapshot> workers;  // one per queue
  uint64_t mbufs_in_use = 0;
  uint64_t mbufs_total = 0;
  std::vector<std::pair<std::string, uint64_t>> nic_xstats;
  uint32_t auth_keys = 0;           // keys loaded
  bool auth_required = false;       // auth.require: only requests with a valid MAC are answered
  uint64_t interleave_entries = 0;  // per worker; 0: interleaved mode off
  double tsc_hz = 0;                // the workers' busy time is in TSC ticks; 0: not exported
  // The workers' large tables (daemon/table_memory.h): mapped, and of
  // that what the kernel backs with transparent huge pages at the scrape.
  uint64_t table_bytes = 0;
  uint64_t table_huge_bytes = 0;
};

// Prometheus text exposition format 0.0.4: every metric with HELP and TYPE.
std::string render_metrics(const StatsSnapshot& s);
// The /status document (docs/troubleshooting.md, step 9, reads it).
std::string render_status(const StatsSnapshot& s);

// The q-quantile (0..1) of the processing-time histogram summed over
// workers, interpolated within its bucket; 0 when empty.
double processing_quantile_s(const StatsSnapshot& s, double q);

// "GPS", "192.0.2.1" or hex, as ntpq and chronyc show a refid.
std::string refid_text(uint32_t refid, uint8_t stratum);

}  // namespace tachyon
