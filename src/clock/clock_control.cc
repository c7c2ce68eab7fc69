#include "clock/clock_control.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace tachyon::clock {
namespace {

constexpr int64_t kNs = 1'000'000'000;
constexpr int64_t kDay = 86'400;
constexpr int64_t kHalfDay = kDay / 2;
// A UTC reference read this close to a leap second is ambiguous (the kernel
// repeats 23:59:59 or skips it): such samples are left out.
constexpr int64_t kLeapGuardNs = 2 * kNs;
// Good samples before the starting state ends.
constexpr uint64_t kMinSamples = 4;
// The sandwich check: a sample whose uncertainty is more than 8 times the
// smallest of the last 64, and 2 us more, was preempted or delayed.
constexpr size_t kWidthHistory = 64;
constexpr int64_t kWidthFactor = 8;
constexpr int64_t kWidthSlackNs = 2'000;
// Before the NIC's rate is known it is measured over at least this long.
constexpr int64_t kNicRateSpanNs = 50'000'000;

core::NtpTimestamp ntp_at(int64_t ns, double frac_ns) {
  const core::NtpTimestamp t = core::ntp_from_unix_nanos(ns);
  return core::NtpTimestamp{t.raw + static_cast<uint64_t>(std::llround(frac_ns * 4.294967296))};
}

std::string utc_text(int64_t unix_s) {
  const time_t t = static_cast<time_t>(unix_s);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return buf;
}

std::string date_text(int64_t unix_s) {
  const time_t t = static_cast<time_t>(unix_s);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &parts);
  return buf;
}

// "12.3 us", "4.56 ms", "1.5 s".
std::string duration_text(double ns) {
  char buf[32];
  const double a = std::fabs(ns);
  if (a < 1e3) {
    std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  } else if (a < 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
  } else if (a < 1e9) {
    std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f s", ns / 1e9);
  }
  return buf;
}

std::string ppm_text(double ppm) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g ppm", ppm);
  return buf;
}

std::string refid_text(uint32_t r) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto c = static_cast<char>((r >> shift) & 0xff);
    if (c >= 0x20 && c < 0x7f) s += c;
  }
  return s;
}

}  // namespace

int8_t measure_precision(TickSource& ticks) {
  // The median cost of reading the tick source, or one tick if larger.
  std::vector<uint64_t> d;
  for (int i = 0; i < 101; ++i) {
    const uint64_t a = ticks.now();
    const uint64_t b = ticks.now();
    d.push_back(b - a);
  }
  std::nth_element(d.begin(), d.begin() + 50, d.end());
  const double seconds = std::max(1.0, static_cast<double>(d[50])) / ticks.nominal_hz();
  return static_cast<int8_t>(std::ceil(std::log2(seconds)));
}

uint32_t smear_refid(int64_t smear_ns) noexcept {
  // As ntpd's convertLFPToRefID(): the correction as 32.32 fixed point,
  // rounded at the highest bit shifted out, two integer and 22 fraction
  // bits kept, under 254 (0xfe) so clients see it is no real address.
  const auto fp = static_cast<uint64_t>(std::llround(static_cast<double>(smear_ns) * 4.294967296)) + 0x200;
  const auto integer = static_cast<uint32_t>(fp >> 32) & 3;
  const auto fraction = static_cast<uint32_t>(fp);
  return 0xfe00'0000u | (integer << 22) | (fraction >> 10);
}

ClockControl::ClockControl(const ClockControlOptions& options, TickSource& ticks, ReferenceSource& source,
                           LeapTable leaps, NicClock* nic)
    : options_(options),
      ticks_(ticks),
      source_(source),
      leaps_(std::move(leaps)),
      nic_(nic),
      servo_(ServoOptions{ticks.nominal_hz(), options.step_threshold_ns, options.holdover_dispersion_ppm}),
      precision_(measure_precision(ticks)) {
  recent_uncertainty_.reserve(kWidthHistory);
  status_.source = options_.source_name;
  status_.reference = source_.describe();
  status_.precision = precision_;
}

std::vector<ClockEvent> ClockControl::take_events() {
  std::vector<ClockEvent> out;
  out.swap(events_);
  return out;
}

void ClockControl::event(ClockEvent::Level level, std::string message) {
  events_.push_back(ClockEvent{level, std::move(message)});
}

int64_t ClockControl::age_ns(uint64_t now) const noexcept {
  if (!servo_.ready()) return 0;
  const auto ticks = static_cast<double>(static_cast<int64_t>(now - servo_.last_accepted_ticks()));
  return static_cast<int64_t>(ticks / servo_.rate_hz() * 1e9);
}

bool ClockControl::width_ok(int64_t uncertainty_ns) {
  if (recent_uncertainty_.size() < kWidthHistory) {
    recent_uncertainty_.push_back(uncertainty_ns);
  } else {
    recent_uncertainty_[recent_next_] = uncertainty_ns;
    recent_next_ = (recent_next_ + 1) % kWidthHistory;
  }
  const int64_t least = *std::min_element(recent_uncertainty_.begin(), recent_uncertainty_.end());
  return uncertainty_ns <= std::max(least * kWidthFactor, least + kWidthSlackNs);
}

void ClockControl::sample_reference() {
  auto r = source_.sample();
  if (!r) {
    ++source_errors_;
    last_error_ = r.message();
    if (!failing_) {
      failing_ = true;
      event(ClockEvent::Level::kWarning, "cannot read the reference: " + r.message());
    }
    return;
  }
  if (failing_) {
    failing_ = false;
    event(ClockEvent::Level::kInfo, source_.describe() + " answers again");
  }
  const ReferenceSample& s = *r;
  int64_t tai = s.time_ns;
  if (source_.timescale() == Timescale::kUtc) {
    last_sample_utc_ns_ = s.time_ns;
    for (const LeapSecond& l : leaps_.leaps()) {
      if (std::llabs(s.time_ns - l.utc_s * kNs) < kLeapGuardNs) return;
    }
    tai = s.time_ns + int64_t{leaps_.tai_utc_at_utc(s.time_ns)} * kNs;
  } else {
    last_sample_utc_ns_ = tai - int64_t{leaps_.tai_utc_at_tai(tai)} * kNs;
  }
  if (!width_ok(s.uncertainty_ns)) {
    ++rejected_samples_;
    return;
  }
  switch (servo_.add(ServoSample{s.ticks, tai, s.uncertainty_ns})) {
    case ServoVerdict::kOutlier:
      ++rejected_samples_;
      return;
    case ServoVerdict::kStep:
      ++steps_;
      event(ClockEvent::Level::kWarning,
            "the reference stepped by " + duration_text(static_cast<double>(servo_.last_jump_ns())) +
                " (more than reference.step_threshold_us): following it");
      break;
    case ServoVerdict::kResync:
      event(ClockEvent::Level::kInfo, "re-synchronized: the reference moved by " +
                                          duration_text(static_cast<double>(servo_.last_jump_ns())) +
                                          " against the model");
      break;
    case ServoVerdict::kAccepted:
      break;
  }
  ++good_samples_;
  last_uncertainty_ns_ = s.uncertainty_ns;
  last_good_utc_ns_ = last_sample_utc_ns_;
}

std::string ClockControl::replace_leaps(LeapTable next) {
  if (last_sample_utc_ns_ != 0) {
    const int now = leaps_.tai_utc_at_utc(last_sample_utc_ns_);
    const int then = next.tai_utc_at_utc(last_sample_utc_ns_);
    if (now != then && now != 0) {
      return "it says TAI - UTC = " + std::to_string(then) + " s now, the table in use " + std::to_string(now) +
             " s: restart tachyond to change the timescale";
    }
  }
  // Upcoming leaps the new table lacks (announced by the kernel) stay.
  for (const LeapSecond& l : leaps_.leaps()) {
    if (l.utc_s * kNs > last_sample_utc_ns_) next.add(l.utc_s, l.step());
  }
  leaps_ = std::move(next);
  expiry_warned_ = false;
  return "";
}

void ClockControl::note_kernel_leap(const ReferenceStatus& rs) {
  if (rs.leap == 0 || last_sample_utc_ns_ == 0) return;
  const int64_t utc_s = last_sample_utc_ns_ / kNs;
  const int64_t midnight = (utc_s / kDay + 1) * kDay;
  for (const LeapSecond& l : leaps_.leaps()) {
    if (l.utc_s == midnight) return;
  }
  // The IERS schedules leap seconds at the end of a month only.
  const time_t t = static_cast<time_t>(midnight);
  tm parts{};
  gmtime_r(&t, &parts);
  if (parts.tm_mday != 1) {
    if (!odd_kernel_leap_warned_) {
      odd_kernel_leap_warned_ = true;
      event(ClockEvent::Level::kWarning, "the kernel announces a leap second at " + utc_text(midnight) +
                                             ", which is not the end of a month: ignored");
    }
    return;
  }
  leaps_.add(midnight, rs.leap);
  event(ClockEvent::Level::kInfo, std::string("the kernel announces a leap second (") +
                                      (rs.leap > 0 ? "inserted" : "deleted") + ") before " + utc_text(midnight) +
                                      " that the leap-seconds file does not list: following the kernel");
}

void ClockControl::calibrate_nic() {
  if (nic_ == nullptr || options_.hw_clock != core::HwClock::kRawTicks || !servo_.ready()) return;
  auto r = sample_nic_ticks(*nic_, ticks_);
  if (!r) {
    if (!nic_failing_) {
      nic_failing_ = true;
      event(ClockEvent::Level::kWarning,
            "cannot read the NIC's clock: " + r.message() + "; hardware timestamps keep the last calibration");
    }
    return;
  }
  nic_failing_ = false;
  const Servo::Prediction p = servo_.predict(r->ticks);
  const ServoSample s{r->nic_ticks, p.ns, r->uncertainty_ns + std::llround(servo_.error_ns())};
  if (!nic_servo_) {
    // The NIC counts at a rate of its own (often not 1 GHz): measure it
    // before the servo starts, so its nominal rate is close.
    if (!nic_first_) {
      nic_first_ = s;
      return;
    }
    const int64_t span_ns = s.ref_ns - nic_first_->ref_ns;
    if (span_ns < kNicRateSpanNs || s.ticks <= nic_first_->ticks) return;
    const double hz = static_cast<double>(s.ticks - nic_first_->ticks) * 1e9 / static_cast<double>(span_ns);
    nic_servo_ = std::make_unique<Servo>(ServoOptions{hz, options_.step_threshold_ns, options_.holdover_dispersion_ppm});
    nic_servo_->add(*nic_first_);
  }
  nic_servo_->add(s);
  nic_last_ticks_ = s.ticks;
}

void ClockControl::update_state(uint64_t now, const ReferenceStatus& rs) {
  ReferenceState next = ReferenceState::kSynchronized;
  Why why = Why::kNone;
  const int64_t age = age_ns(now);
  if (!servo_.ready() || good_samples_ < kMinSamples) {
    next = ReferenceState::kStarting;
  } else if (age > options_.holdover_limit_ns) {
    next = ReferenceState::kUnsynchronized;
    why = Why::kHoldoverLimit;
  } else if (!rs.synchronized) {
    next = options_.local_stratum > 0 ? ReferenceState::kLocalOverride : ReferenceState::kUnsynchronized;
    why = Why::kReferenceSaysSo;
  } else if (age > options_.holdover_after_ns) {
    next = ReferenceState::kHoldover;
  }
  if (next == state_ && why == why_) return;
  const ReferenceState was = state_;
  state_ = next;
  why_ = why;
  using L = ClockEvent::Level;
  const std::string limit = duration_text(static_cast<double>(options_.holdover_limit_ns));
  switch (next) {
    case ReferenceState::kStarting:
      break;
    case ReferenceState::kSynchronized:
      event(L::kInfo, std::string(was == ReferenceState::kStarting ? "synchronized to " : "synchronized again to ") +
                          source_.describe() + ": serving at stratum " + std::to_string(options_.stratum) +
                          ", refid " + refid_text(options_.refid != 0 ? options_.refid : options_.default_refid) +
                          (was == ReferenceState::kHoldover || was == ReferenceState::kUnsynchronized
                               ? " (after " + duration_text(static_cast<double>(age)) + " without a good sample)"
                               : ""));
      break;
    case ReferenceState::kHoldover:
      event(L::kWarning, "holdover: no good sample from " + source_.describe() + " for " +
                             duration_text(static_cast<double>(age)) + "; serving on the last model with root "
                             "dispersion growing by " + ppm_text(options_.holdover_dispersion_ppm) +
                             "; LI=3 and stratum 16 after " + limit);
      break;
    case ReferenceState::kUnsynchronized:
      if (why == Why::kHoldoverLimit) {
        event(L::kError, "holdover limit of " + limit + " passed without a good sample: answering LI=3, stratum 16 " +
                             "until the reference comes back");
      } else {
        event(L::kWarning, "the reference says it is unsynchronized (" + source_.describe() +
                               "): answering LI=3, stratum 16 (set reference.local_stratum to serve anyway in a lab)");
      }
      break;
    case ReferenceState::kLocalOverride:
      event(L::kWarning, "the reference says it is unsynchronized (" + source_.describe() +
                             "); serving anyway at local_stratum " + std::to_string(options_.local_stratum) +
                             " (reference.local_stratum is set)");
      break;
  }
}

ClockControl::Served ClockControl::served_at(int64_t tai_ns, double frac_ns) const {
  Served s;
  s.tai_utc = leaps_.tai_utc_at_tai(tai_ns);
  s.ns = tai_ns - int64_t{s.tai_utc} * kNs;
  s.frac_ns = frac_ns;
  if (options_.leap_smear) {
    // The leap whose 24-hour window holds this instant: the next one (first
    // half of the window), or the last one (second half).
    for (const auto& l : {leaps_.next_leap(tai_ns), leaps_.previous_leap(tai_ns)}) {
      if (!l) continue;
      const int64_t u = tai_ns - int64_t{l->tai_utc_before} * kNs;  // UTC as if the leap were not there
      const int64_t start = (l->utc_s - kHalfDay) * kNs;
      if (u < start || u >= (l->utc_s + kHalfDay) * kNs) continue;
      // served = u - step * (u - start) / 24 h: linear, so within one model
      // it is a rate (the map's mult) and an offset (its base).
      const double correction =
          l->step() * (static_cast<double>(u - start) + frac_ns) / static_cast<double>(kDay);  // ns
      const double whole = std::floor(frac_ns - correction);
      s.ns = u + static_cast<int64_t>(whole);
      s.frac_ns = frac_ns - correction - whole;
      s.rate_factor = 1.0 - static_cast<double>(l->step()) / static_cast<double>(kDay);
      s.smearing = true;
      s.smear_ns = std::llround(correction);
      return s;
    }
    return s;  // smearing servers never announce a leap: clients must not apply it
  }
  if (const auto l = leaps_.next_leap(tai_ns)) {
    // Announced during the UTC day that ends with the leap.
    const int64_t u = tai_ns - int64_t{l->tai_utc_before} * kNs;
    if (u >= (l->utc_s - kDay) * kNs) {
      s.leap = l->step() > 0 ? core::Leap::kInsert : core::Leap::kDelete;
      s.leap_event_tai_ns = l->tai_event_s() * kNs;
      s.leap_step_ntp = l->step() > 0 ? core::TimeMap::kInsertSecond : core::TimeMap::kDeleteSecond;
    }
  }
  return s;
}

core::TimeMap ClockControl::map_for(const Servo& servo, uint64_t base_ticks, Served* served) const {
  const Servo::Prediction p = servo.predict(base_ticks);
  const Served s = served_at(p.ns, p.frac_ns);
  const double hz = servo.rate_hz();
  core::TimeMap m = core::TimeMap::at(base_ticks, ntp_at(s.ns, s.frac_ns), hz / s.rate_factor);
  if (s.leap_event_tai_ns) {
    // The first tick at or after the leap, by this servo's own line.
    const double until_ns = static_cast<double>(*s.leap_event_tai_ns - p.ns) - p.frac_ns;
    const auto ticks = static_cast<int64_t>(std::ceil(until_ns * hz / 1e9));
    m = m.with_leap(base_ticks + static_cast<uint64_t>(ticks), s.leap_step_ntp);
  }
  if (served != nullptr) *served = s;
  return m;
}

core::ClockModel ClockControl::update() {
  sample_reference();
  for (std::string& note : source_.take_notes()) event(ClockEvent::Level::kWarning, std::move(note));
  const ReferenceStatus rs = source_.status();
  note_kernel_leap(rs);
  calibrate_nic();
  const uint64_t now = ticks_.now();
  update_state(now, rs);

  core::ClockModel m;
  Served served;
  if (servo_.ready()) {
    m.tsc = map_for(servo_, now, &served);
    switch (options_.hw_clock) {
      case core::HwClock::kUnixMicros: {
        // NIC timestamps already on the Unix timescale map one to one. The
        // base sits at the present so that the rate's rounding (2^64 / 1e6
        // is not an integer) stays below a nanosecond within a day of it.
        const int64_t us = served.ns / 1000;
        m.nic = core::TimeMap::at(static_cast<uint64_t>(us), core::ntp_from_unix_nanos(us * 1000), 1e6);
        break;
      }
      case core::HwClock::kUnixNanos:
        m.nic = core::TimeMap::at(static_cast<uint64_t>(served.ns), core::ntp_from_unix_nanos(served.ns), 1e9);
        break;
      case core::HwClock::kRawTicks:
        if (nic_servo_ && nic_servo_->ready()) m.nic = map_for(*nic_servo_, nic_last_ticks_, nullptr);
        break;
      case core::HwClock::kNone:
        break;
    }
  }

  const bool override_active = state_ == ReferenceState::kLocalOverride;
  core::ServerState st;
  st.synchronized = state_ == ReferenceState::kSynchronized || state_ == ReferenceState::kHoldover || override_active;
  st.stratum = override_active ? options_.local_stratum : options_.stratum;
  st.leap = served.leap;
  st.precision = precision_;
  if (served.smearing) {
    st.refid = smear_refid(served.smear_ns);
  } else if (options_.refid != 0) {
    st.refid = options_.refid;
  } else {
    st.refid = override_active ? core::refid_from_ascii("LOCL") : options_.default_refid;
  }
  // RFC 5905 section 7.3: root delay and dispersion to the primary source.
  // Ours adds to the reference's own: the precision, three times the
  // servo's RMS error, the last sample's uncertainty and PHI (the holdover
  // rate) times the time since that sample. Under the local override the
  // reference's bound means nothing (the kernel's maxerror has grown to
  // 16 s) and only our own error is claimed.
  const double ours = std::ldexp(1e9, precision_) + 3 * servo_.error_ns() +
                      static_cast<double>(last_uncertainty_ns_) +
                      options_.holdover_dispersion_ppm * 1e-6 * static_cast<double>(age_ns(now));
  st.root_delay = core::ntp_short_from_nanos(override_active ? 0 : rs.root_delay_ns);
  st.root_dispersion = core::ntp_short_from_nanos(static_cast<int64_t>(std::ceil(ours)) +
                                                  (override_active ? 0 : rs.root_dispersion_ns));
  if (last_good_utc_ns_ != 0) st.reference_time = core::ntp_from_unix_nanos(last_good_utc_ns_);
  m.answer = core::AnswerTemplate(st);

  // Leap second and smear transitions, once each.
  using L = ClockEvent::Level;
  if (servo_.ready()) {
    if (served.leap != announced_) {
      if (served.leap != core::Leap::kNone) {
        const auto l = leaps_.next_leap(servo_.predict(now).ns);
        event(L::kInfo, std::string("leap second announced: ") +
                            (served.leap == core::Leap::kInsert ? "23:59:60 inserted" : "23:59:59 deleted") +
                            " at the end of " + (l ? date_text(l->utc_s - 1) : std::string("today")) +
                            " UTC; answers carry LI=" + std::to_string(static_cast<int>(served.leap)) +
                            " until then");
      }
      announced_ = served.leap;
    }
    if (last_tai_utc_ && served.tai_utc != *last_tai_utc_) {
      event(L::kInfo, "leap second " + std::string(served.tai_utc > *last_tai_utc_ ? "inserted" : "deleted") +
                          ": TAI - UTC is now " + std::to_string(served.tai_utc) + " s");
    }
    last_tai_utc_ = served.tai_utc;
    if (served.smearing != was_smearing_) {
      event(L::kInfo, served.smearing ? "leap smear started: the served time slews by 1 s over 24 hours around "
                                        "the leap second (LI stays 0, refid 254.x.y.z shows the correction)"
                                      : "leap smear finished: serving UTC again");
      was_smearing_ = served.smearing;
    }
    if (!expiry_warned_ && leaps_.expired(served.ns / kNs)) {
      expiry_warned_ = true;
      event(L::kWarning, "the leap-seconds file " + leaps_.path() + " expired on " +
                             utc_text(leaps_.expiry_unix()) +
                             ": leap seconds announced since are unknown to it (update tzdata); serving on");
    }
  }
  fill_status(st, served, rs, now);
  return m;
}

void ClockControl::fill_status(const core::ServerState& st, const Served& served, const ReferenceStatus& rs,
                               uint64_t now) {
  ClockStatus& c = status_;
  c.source = options_.source_name;
  c.state = state_;
  c.stratum = st.wire_stratum();
  c.refid = st.refid;
  c.precision = st.precision;
  c.root_delay_ns = core::nanos_from_ntp_short(st.root_delay);
  c.root_dispersion_ns = core::nanos_from_ntp_short(st.root_dispersion);
  c.leap = st.wire_leap();
  c.offset_ns = servo_.last_residual_ns();
  c.frequency_ppm = servo_.ready() ? (servo_.rate_hz() / ticks_.nominal_hz() - 1.0) * 1e6 : 0;
  c.last_sample_unix_ns = last_good_utc_ns_;
  c.samples = good_samples_;
  c.samples_rejected = rejected_samples_;
  c.steps = steps_;
  c.tai_offset_s = served.tai_utc != 0 ? served.tai_utc : rs.tai_offset_s;
  c.leap_smear = served.smearing;
  c.smear_offset_ns = served.smear_ns;
  c.leap_file = leaps_.path();
  c.leap_file_expiry_unix = leaps_.expiry_unix();
  c.leap_file_expired = leaps_.expired(served.ns / kNs);
  const auto next = servo_.ready() ? leaps_.next_leap(servo_.predict(now).ns) : std::nullopt;
  c.next_leap_unix = next ? next->utc_s : 0;
  c.next_leap_step = next ? next->step() : 0;
  c.reference = source_.describe();
  c.error_ns = std::llround(servo_.error_ns());
  c.window = static_cast<uint32_t>(servo_.window());
  c.holdover_ns = age_ns(now);
  c.source_errors = source_errors_;
  c.last_error = last_error_;
}

std::optional<int64_t> ClockControl::next_boundary_in_ns(int64_t horizon_ns) const {
  if (!servo_.ready()) return std::nullopt;
  const int64_t tai = servo_.predict(ticks_.now()).ns;
  std::optional<int64_t> best;
  const auto consider = [&](int64_t at_tai) {
    if (at_tai > tai && at_tai - tai <= horizon_ns && (!best || at_tai - tai < *best)) best = at_tai - tai;
  };
  for (const auto& l : {leaps_.next_leap(tai), leaps_.previous_leap(tai)}) {
    if (!l) continue;
    if (options_.leap_smear) {
      consider((l->utc_s - kHalfDay + l->tai_utc_before) * kNs);
      consider((l->utc_s + kHalfDay + l->tai_utc_before) * kNs);
    } else {
      consider(l->tai_event_s() * kNs);
    }
  }
  return best;
}

}  // namespace tachyon::clock
