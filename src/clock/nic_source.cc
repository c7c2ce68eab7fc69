#include "clock/nic_source.h"

namespace tachyon::clock {

Result<NicTickSample> sample_nic_ticks(NicClock& nic, TickSource& ticks, int tries) {
  NicTickSample best;
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < tries; ++i) {
    const uint64_t t1 = ticks.now();
    auto n = nic.read_ticks();
    const uint64_t t2 = ticks.now();
    if (!n) return n.status();
    if (t2 - t1 < best_width) {
      best_width = t2 - t1;
      best = NicTickSample{*n, t1 + (t2 - t1) / 2, 0};
    }
  }
  best.uncertainty_ns = static_cast<int64_t>(static_cast<double>(best_width) * 0.5e9 / ticks.nominal_hz() + 0.5);
  return best;
}

Result<ReferenceSample> NicSource::sample() {
  ReferenceSample best;
  uint64_t best_width = UINT64_MAX;
  for (int i = 0; i < tries_; ++i) {
    const uint64_t t1 = ticks_.now();
    auto t = nic_.read_time_ns();
    const uint64_t t2 = ticks_.now();
    if (!t) return t.status();
    if (t2 - t1 < best_width) {
      best_width = t2 - t1;
      best.ticks = t1 + (t2 - t1) / 2;
      best.time_ns = *t;
    }
  }
  best.uncertainty_ns = static_cast<int64_t>(static_cast<double>(best_width) * 0.5e9 / ticks_.nominal_hz() + 0.5);
  return best;
}

}  // namespace tachyon::clock
