#include "tools/gen/step_stats.h"

#include <algorithm>

namespace tachyon::gen {

void StepCounters::merge(const StepCounters& o) noexcept {
  sent += o.sent;
  tx_full += o.tx_full;
  tx_skipped += o.tx_skipped;
  no_mbuf += o.no_mbuf;
  good += o.good;
  unsync += o.unsync;
  interleaved += o.interleaved;
  for (size_t i = 0; i < kKissCount; ++i) kod[i] += o.kod[i];
  crypto_nak += o.crypto_nak;
  for (size_t i = 0; i < kInvalidCount; ++i) invalid[i] += o.invalid[i];
  late += o.late;
  duplicates += o.duplicates;
  other_frames += o.other_frames;
  arp_replies += o.arp_replies;
  nd_replies += o.nd_replies;
  forwarded += o.forwarded;
  active_ticks = std::max(active_ticks, o.active_ticks);  // the lcores ran side by side
  for (size_t i = 0; i < by_kind.size(); ++i) by_kind[i].merge(o.by_kind[i]);
}

void StepStats::merge(const StepStats& o) noexcept {
  c.merge(o.c);
  rtt_ticks.merge(o.rtt_ticks);
  processing_ns.merge(o.processing_ns);
  xmt_offset_ns.merge(o.xmt_offset_ns);
  offset_ns.merge(o.offset_ns);
}

Percentiles percentiles_us(const LogHistogram& h, double units_per_us) {
  Percentiles p;
  p.count = h.count();
  if (p.count == 0) return p;
  auto us = [&](double v) { return v / units_per_us; };
  p.min = us(static_cast<double>(h.min()));
  p.mean = us(h.mean());
  p.p50 = us(static_cast<double>(h.percentile(0.5)));
  p.p90 = us(static_cast<double>(h.percentile(0.9)));
  p.p99 = us(static_cast<double>(h.percentile(0.99)));
  p.p999 = us(static_cast<double>(h.percentile(0.999)));
  p.max = us(static_cast<double>(h.max()));
  return p;
}

Percentiles percentiles_us(const SignedHistogram& h, double units_per_us) {
  Percentiles p;
  p.count = h.count();
  if (p.count == 0) return p;
  auto us = [&](double v) { return v / units_per_us; };
  p.min = us(static_cast<double>(h.min()));
  p.mean = us(h.mean());
  p.p50 = us(static_cast<double>(h.percentile(0.5)));
  p.p90 = us(static_cast<double>(h.percentile(0.9)));
  p.p99 = us(static_cast<double>(h.percentile(0.99)));
  p.p999 = us(static_cast<double>(h.percentile(0.999)));
  p.max = us(static_cast<double>(h.max()));
  return p;
}

StepResult make_result(unsigned number, StepKind kind, double offered_rate, const StepStats& s, double tsc_hz,
                       bool interrupted, double max_loss_pct) {
  StepResult r;
  r.number = number;
  r.kind = kind;
  r.offered_rate = offered_rate;
  r.interrupted = interrupted;
  r.c = s.c;
  r.duration_s = tsc_hz > 0 ? static_cast<double>(s.c.active_ticks) / tsc_hz : 0;
  const double sent = static_cast<double>(s.c.sent);
  const uint64_t usable = s.c.good + s.c.unsync;
  if (r.duration_s > 0) {
    r.sent_rate = sent / r.duration_s;
    r.answered_rate = static_cast<double>(usable) / r.duration_s;
  }
  r.basic = usable - std::min(s.c.interleaved, usable);
  r.interleaved_pct = usable ? 100.0 * static_cast<double>(s.c.interleaved) / static_cast<double>(usable) : 0;
  const uint64_t matched = s.c.matched();
  r.lost = s.c.sent > matched ? s.c.sent - matched : 0;
  r.lost_pct = s.c.sent ? 100.0 * static_cast<double>(r.lost) / sent : 0;
  r.invalid = s.c.invalid_total();
  const uint64_t received = matched + s.c.invalid[static_cast<size_t>(Invalid::kUnknownOrigin)] +
                            s.c.invalid[static_cast<size_t>(Invalid::kIpChecksum)];
  r.invalid_pct = received ? 100.0 * static_cast<double>(r.invalid) / static_cast<double>(received) : 0;
  r.failed_pct = s.c.sent ? 100.0 * static_cast<double>(s.c.sent - std::min(usable, s.c.sent)) / sent : 100.0;
  const double meant = offered_rate * r.duration_s;  // requests the step meant to send
  r.back_pressure = offered_rate > 0 && static_cast<double>(s.c.tx_full) >= kBackPressureShare * meant;
  r.generator_limited =
      offered_rate > 0 && r.sent_rate < kGeneratorLimitedBelow * offered_rate && !r.back_pressure;
  r.passed = !interrupted && s.c.sent > 0 && r.failed_pct <= max_loss_pct;
  const double ticks_per_us = tsc_hz / 1e6;
  r.rtt = percentiles_us(s.rtt_ticks, ticks_per_us);
  r.processing = percentiles_us(s.processing_ns, 1e3);
  r.xmt_offset = percentiles_us(s.xmt_offset_ns, 1e3);
  r.offset = percentiles_us(s.offset_ns, 1e3);
  return r;
}

}  // namespace tachyon::gen
