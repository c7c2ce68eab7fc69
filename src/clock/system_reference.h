// The `system` reference: CLOCK_REALTIME as the host keeps it (chrony,
// ntpd or phc2sys discipline it), read against the worker's tick source.
//
// Every update() takes the tightest of a few (ticks, realtime, ticks)
// sandwiches, estimates the tick rate over a sliding window, and returns the
// next ClockModel together with the header fields the kernel's status
// justifies. The caller publishes the model; this class touches no clock.
//
// Thread-compatible: used by the control thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "clock/clock_sources.h"
#include "core/clock_model.h"

namespace tachyon::clock {

struct SystemReferenceOptions {
  uint8_t stratum = 2;        // announced while synchronized
  uint32_t refid = 0;         // 0: "SYS" (or "LOCL" under the local override)
  uint8_t local_stratum = 0;  // >0: serve at this stratum when the kernel says unsynchronized
  core::HwClock hw_clock = core::HwClock::kNone;
};

struct Sample {
  uint64_t ticks = 0;       // midpoint of the sandwich
  int64_t realtime_ns = 0;
  uint64_t width_ticks = 0; // sandwich width: the sample's uncertainty
};

class SystemReference {
 public:
  SystemReference(const SystemReferenceOptions& options, TickSource& ticks, KernelClock& kernel);

  // Samples the clocks and returns the next model (generation not set).
  core::ClockModel update();

  // The tightest of `tries` sandwiches.
  Sample sample(int tries = 5);

  // log2 of the timestamp precision in seconds: the larger of the tick
  // period and the cost of reading the ticks, measured (RFC 5905 section 7.3).
  int8_t precision() const noexcept { return precision_; }
  double rate_hz() const noexcept { return rate_hz_; }
  bool using_local_override() const noexcept { return local_override_; }
  const KernelStatus& last_status() const noexcept { return status_; }

 private:
  int8_t measure_precision();

  SystemReferenceOptions options_;
  TickSource& ticks_;
  KernelClock& kernel_;
  std::deque<Sample> window_;
  double rate_hz_;
  int8_t precision_;
  bool local_override_ = false;
  KernelStatus status_;
};

}  // namespace tachyon::clock
