#include "clock/system_reference.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tachyon::clock {
namespace {

// Rate estimates use up to this much history; older samples are dropped.
constexpr int64_t kRateWindowNs = 60'000'000'000;
// Below this span the nominal rate is used (too little history to beat it).
constexpr int64_t kMinRateSpanNs = 2'000'000'000;
// A sample further than this from the model's prediction is a step of the
// system clock (someone set it): the rate history restarts.
constexpr int64_t kStepThresholdNs = 1'000'000;

}  // namespace

SystemReference::SystemReference(const SystemReferenceOptions& options, TickSource& ticks, KernelClock& kernel)
    : options_(options), ticks_(ticks), kernel_(kernel), rate_hz_(ticks.nominal_hz()) {
  precision_ = measure_precision();
}

int8_t SystemReference::measure_precision() {
  // The median cost of reading the tick source, or one tick if larger.
  std::vector<uint64_t> d;
  for (int i = 0; i < 101; ++i) {
    const uint64_t a = ticks_.now();
    const uint64_t b = ticks_.now();
    d.push_back(b - a);
  }
  std::nth_element(d.begin(), d.begin() + 50, d.end());
  const double seconds = std::max(1.0, static_cast<double>(d[50])) / ticks_.nominal_hz();
  return static_cast<int8_t>(std::ceil(std::log2(seconds)));
}

Sample SystemReference::sample(int tries) {
  Sample best;
  best.width_ticks = UINT64_MAX;
  for (int i = 0; i < tries; ++i) {
    const uint64_t t1 = ticks_.now();
    const int64_t rt = kernel_.realtime_ns();
    const uint64_t t2 = ticks_.now();
    if (t2 - t1 < best.width_ticks) best = Sample{t1 + (t2 - t1) / 2, rt, t2 - t1};
  }
  return best;
}

core::ClockModel SystemReference::update() {
  const Sample s = sample();

  if (!window_.empty()) {
    const Sample& last = window_.back();
    const double predicted = static_cast<double>(last.realtime_ns) +
                             static_cast<double>(s.ticks - last.ticks) * 1e9 / rate_hz_;
    if (std::fabs(predicted - static_cast<double>(s.realtime_ns)) > kStepThresholdNs) window_.clear();
  }
  window_.push_back(s);
  while (window_.size() > 2 && s.realtime_ns - window_.front().realtime_ns > kRateWindowNs) window_.pop_front();
  const Sample& first = window_.front();
  const int64_t span = s.realtime_ns - first.realtime_ns;
  rate_hz_ = span >= kMinRateSpanNs ? static_cast<double>(s.ticks - first.ticks) * 1e9 / static_cast<double>(span)
                                    : ticks_.nominal_hz();

  status_ = kernel_.status();
  core::ServerState st;
  local_override_ = !status_.synchronized && options_.local_stratum > 0;
  st.synchronized = status_.synchronized || local_override_;
  st.stratum = local_override_ ? options_.local_stratum : options_.stratum;
  st.leap = status_.leap > 0 ? core::Leap::kInsert : status_.leap < 0 ? core::Leap::kDelete : core::Leap::kNone;
  st.precision = precision_;
  st.refid = options_.refid != 0 ? options_.refid
             : local_override_   ? core::refid_from_ascii("LOCL")
                                 : core::refid_from_ascii("SYS\0");
  // The kernel's maximum error bounds our distance to the true time; under
  // the local override nothing bounds it and we claim only our precision.
  st.root_dispersion = local_override_ ? core::ntp_short_from_nanos(static_cast<int64_t>(
                                             std::ldexp(1e9, precision_)))
                                       : core::ntp_short_from_nanos(status_.max_error_ns);
  const core::NtpTimestamp now = core::ntp_from_unix_nanos(s.realtime_ns);
  st.reference_time = now;

  core::ClockModel m;
  m.tsc = core::TimeMap::at(s.ticks, now, rate_hz_);
  // NIC timestamps already on the Unix timescale map one to one. The base
  // sits at the present so that the rate's rounding (2^64 / 1e6 is not an
  // integer) stays below a nanosecond for timestamps within a day of it.
  switch (options_.hw_clock) {
    case core::HwClock::kUnixMicros: {
      const int64_t us = s.realtime_ns / 1000;
      m.nic = core::TimeMap::at(static_cast<uint64_t>(us), core::ntp_from_unix_nanos(us * 1000), 1e6);
      break;
    }
    case core::HwClock::kUnixNanos:
      m.nic = core::TimeMap::at(static_cast<uint64_t>(s.realtime_ns), now, 1e9);
      break;
    case core::HwClock::kNone:
    case core::HwClock::kRawTicks:  // calibrated by the `nic` reference
      break;
  }
  m.answer = core::AnswerTemplate(st);
  return m;
}

}  // namespace tachyon::clock
