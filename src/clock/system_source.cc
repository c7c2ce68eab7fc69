#include "clock/system_source.h"

namespace tachyon::clock {

Result<ReferenceSample> SystemSource::sample() {
  ReferenceSample best;
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < tries_; ++i) {
    const uint64_t t1 = ticks_.now();
    const int64_t rt = kernel_.realtime_ns();
    const uint64_t t2 = ticks_.now();
    if (t2 - t1 < best_width) {
      best_width = t2 - t1;
      best.ticks = t1 + (t2 - t1) / 2;
      best.time_ns = rt;
    }
  }
  best.uncertainty_ns = static_cast<int64_t>(static_cast<double>(best_width) * 0.5e9 / ticks_.nominal_hz() + 0.5);
  return best;
}

ReferenceStatus SystemSource::status() {
  const KernelStatus k = kernel_.status();
  ReferenceStatus s;
  s.synchronized = k.synchronized;
  // maxerror already includes the upstream's delay/2 (chrony and ntpd set it
  // to their root distance): all of it goes into the root dispersion.
  s.root_dispersion_ns = k.max_error_ns;
  s.leap = k.leap;
  s.tai_offset_s = k.tai_offset_s;
  return s;
}

}  // namespace tachyon::clock
