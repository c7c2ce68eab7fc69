// The DPDK port's own clock, as the control side sees it, and the `nic`
// reference built on it.
//
// NicClock is the interface; dpdk/nic_clock.h implements it with
// rte_eth_read_clock() and rte_eth_timesync_read_time(), tests with
// simulated clocks. Two uses:
//
//  - reference.source = "nic": the NIC's PTP clock (timesync_read_time),
//    kept on time by a PTP stack, is the reference (NicSource).
//  - RX hardware timestamps in raw NIC ticks (HwClock::kRawTicks): the tick
//    counter (read_clock) is regressed against the reference through the
//    TSC, as DPDK's documentation of rte_eth_read_clock() advises, so the
//    model maps NIC ticks onto the served timescale (ClockControl).
//
// Thread-compatible: used by the control thread only.
#pragma once

#include <cstdint>
#include <string>

#include "clock/clock_sources.h"
#include "clock/reference_source.h"

namespace tachyon::clock {

class NicClock {
 public:
  virtual ~NicClock() = default;
  // The free-running counter the RX timestamps count (rte_eth_read_clock).
  virtual Result<uint64_t> read_ticks() = 0;
  // The NIC's PTP clock in ns since 1970 (rte_eth_timesync_read_time).
  virtual Result<int64_t> read_time_ns() = 0;
  virtual std::string describe() const = 0;
};

// One (NIC ticks, TSC) pairing: the tightest of `tries` (ticks, NIC, ticks)
// sandwiches.
struct NicTickSample {
  uint64_t nic_ticks = 0;
  uint64_t ticks = 0;          // the tick source at the midpoint
  int64_t uncertainty_ns = 0;  // half the sandwich width
};
Result<NicTickSample> sample_nic_ticks(NicClock& nic, TickSource& ticks, int tries = 5);

class NicSource final : public ReferenceSource {
 public:
  NicSource(NicClock& nic, TickSource& ticks, Timescale timescale, int tries = 5)
      : nic_(nic), ticks_(ticks), timescale_(timescale), tries_(tries) {}

  Result<ReferenceSample> sample() override;
  // Like a PHC, the NIC's clock says nothing about its own synchronization.
  ReferenceStatus status() override { return ReferenceStatus{}; }
  Timescale timescale() const override { return timescale_; }
  std::string describe() const override { return "NIC clock of " + nic_.describe(); }

 private:
  NicClock& nic_;
  TickSource& ticks_;
  Timescale timescale_;
  int tries_;
};

}  // namespace tachyon::clock
