// The `system` reference: CLOCK_REALTIME as the host keeps it (chrony,
// ntpd or phc2sys discipline it), read against the tick source.
//
// A sample is the tightest of five (ticks, realtime, ticks) sandwiches. The
// status comes from adjtimex(): STA_UNSYNC means unsynchronized, maxerror
// is the error bound the disciplining daemon maintains (and the kernel
// grows by 500 ppm between its updates), STA_INS/STA_DEL announce a leap
// second at the next midnight, which the kernel then applies itself.
//
// Thread-compatible: used by the control thread only.
#pragma once

#include "clock/clock_sources.h"
#include "clock/reference_source.h"

namespace tachyon::clock {

class SystemSource final : public ReferenceSource {
 public:
  SystemSource(TickSource& ticks, KernelClock& kernel, int tries = 5) : ticks_(ticks), kernel_(kernel), tries_(tries) {}

  Result<ReferenceSample> sample() override;
  ReferenceStatus status() override;
  Timescale timescale() const override { return Timescale::kUtc; }
  std::string describe() const override { return "system clock (CLOCK_REALTIME)"; }

 private:
  TickSource& ticks_;
  KernelClock& kernel_;
  int tries_;
};

}  // namespace tachyon::clock
