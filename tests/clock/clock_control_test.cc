// ClockControl's behaviour in answers: leap seconds inserted and deleted at
// exactly the right tick, the smear curve, the system source's kernel status
// (unsynchronized, local override, maxerror, announced leaps), an expired
// leap file, the NIC's clock, the measured precision.
#include "clock/clock_control.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "clock/system_source.h"
#include "tests/clock/rig.h"

namespace tachyon::clock {
namespace {

using sim::kNs;
using sim::kPeriodNs;
using sim::leap_file;
using sim::Rig;
using sim::utc_midnight;

// 2030-07-01: a leap second at the end of June 30 (the table says so).
const int64_t kLeap = utc_midnight(2030, 7, 1);

LeapTable table(int after) {
  auto t = LeapTable::parse(leap_file({{utc_midnight(2017, 1, 1), 37}, {kLeap, after}}, kLeap - 86400 * 200,
                                      kLeap + 86400 * 200),
                            "/test/leap-seconds.list");
  EXPECT_TRUE(t.ok()) << t.message();
  return std::move(t.value());
}

void run_for(Rig& rig, int64_t ns) {
  for (int64_t t = 0; t < ns; t += kPeriodNs) rig.step();
}

uint32_t refid(const char (&s)[5]) { return core::refid_from_ascii(s); }

TEST(ClockControl, InsertedLeapIsAppliedAtExactly235960AndAnnouncedTheDayBefore) {
  ClockControlOptions o;
  o.default_refid = refid("PHC\0");
  o.stratum = 1;
  const int64_t event_tai = (kLeap + 37) * kNs;  // TAI when TAI - 37 reaches 00:00:00
  const auto served = [&](int64_t tai) { return tai - (tai < event_tai ? 37 : 38) * kNs; };
  // A PHC on TAI, starting at 23:59:30 UTC.
  Rig rig(25, 1.0, 100, 3, event_tai - 30 * kNs, o, table(38));
  run_for(rig, 20 * kNs);
  EXPECT_EQ(rig.header().li, 1) << "LI=1 during the last day before the leap";
  EXPECT_EQ(rig.control->status().leap, core::Leap::kInsert);
  EXPECT_EQ(rig.control->status().next_leap_unix, kLeap) << "the next leap, for /status and /metrics";
  EXPECT_EQ(rig.control->status().next_leap_step, +1);
  EXPECT_EQ(rig.count_events("leap second announced: 23:59:60 inserted at the end of 2030-06-30"), 1u);
  EXPECT_FALSE(rig.control->next_boundary_in_ns(kPeriodNs).has_value());

  // The last model before the boundary, 50 ms before it.
  rig.osc.advance_to(event_tai - 50'000'000);
  rig.update();
  const auto boundary = rig.control->next_boundary_in_ns(kPeriodNs);
  ASSERT_TRUE(boundary.has_value());
  EXPECT_NEAR(static_cast<double>(*boundary), 50e6, 2000);
  // It maps across the boundary by itself: 23:59:59.999999, then 23:59:59
  // again (the inserted second, 23:59:60, is 23:59:59 repeated).
  for (const int64_t at : {int64_t{-1000}, int64_t{1000}, int64_t{400'000'000}, int64_t{999'999'000}}) {
    rig.osc.advance_to(event_tai + at);
    EXPECT_NEAR(rig.error_ns(served(event_tai + at)), 0, 300) << "at " << at << " ns from the leap";
  }
  const core::NtpTimestamp in_leap = rig.model.tsc.to_ntp(rig.osc.ticks());
  EXPECT_EQ(core::unix_nanos_from_ntp(in_leap, kLeap * kNs) / kNs, kLeap - 1) << "23:59:59 repeated";
  // The model published right after the boundary (the daemon wakes for it).
  rig.update();
  EXPECT_EQ(rig.header().li, 0) << "announcement cleared after the leap";
  EXPECT_EQ(rig.count_events("leap second inserted: TAI - UTC is now 38 s"), 1u);
  rig.osc.advance_to(event_tai + 1'000'000'500);
  EXPECT_NEAR(rig.error_ns(served(rig.osc.now())), 0, 300) << "00:00:00.0000005";
  EXPECT_EQ(rig.control->status().tai_offset_s, 38);
  EXPECT_EQ(rig.control->status().next_leap_unix, 0) << "no leap after it in the table";
  EXPECT_EQ(rig.control->status().next_leap_step, 0);
  run_for(rig, 5 * kNs);
  EXPECT_NEAR(rig.error_ns(served(rig.osc.now())), 0, 300);
  EXPECT_EQ(rig.control->status().steps, 0u);
}

TEST(ClockControl, DeletedLeapSkips235959) {
  ClockControlOptions o;
  const int64_t event_tai = (kLeap - 1 + 37) * kNs;  // TAI when TAI - 37 reaches 23:59:59
  const auto served = [&](int64_t tai) { return tai - (tai < event_tai ? 37 : 36) * kNs; };
  Rig rig(-60, 1.0, 100, 4, event_tai - 30 * kNs, o, table(36));
  run_for(rig, 20 * kNs);
  EXPECT_EQ(rig.header().li, 2);
  EXPECT_EQ(rig.control->status().next_leap_unix, kLeap);
  EXPECT_EQ(rig.control->status().next_leap_step, -1);
  rig.osc.advance_to(event_tai - 30'000'000);
  rig.update();
  for (const int64_t at : {int64_t{-1000}, int64_t{1000}, int64_t{60'000'000}}) {
    rig.osc.advance_to(event_tai + at);
    EXPECT_NEAR(rig.error_ns(served(event_tai + at)), 0, 300) << "at " << at << " ns from the leap";
  }
  const core::NtpTimestamp after = rig.model.tsc.to_ntp(rig.osc.ticks());
  EXPECT_EQ(core::unix_nanos_from_ntp(after, kLeap * kNs) / kNs, kLeap) << "00:00:00 right after 23:59:58";
  rig.update();
  EXPECT_EQ(rig.header().li, 0);
  EXPECT_EQ(rig.count_events("leap second deleted: TAI - UTC is now 36 s"), 1u);
}

TEST(ClockControl, SystemClockAcrossTheKernelsInsertedLeapStaysContinuous) {
  // CLOCK_REALTIME repeats 23:59:59; tachyond's samples there are ambiguous
  // and left out, its own map applies the leap.
  ClockControlOptions o;
  const int64_t event_tai = (kLeap + 37) * kNs;
  const auto served = [&](int64_t tai) { return tai - (tai < event_tai ? 37 : 38) * kNs; };
  Rig rig(40, 1.0, 50, 8, event_tai - 20 * kNs, o, table(38), Timescale::kUtc, table(38));
  sim::ErrorStats s;
  for (int i = 0; i < 400; ++i) {
    rig.update();
    for (const int64_t at : {int64_t{10'000'000}, int64_t{60'000'000}, int64_t{99'000'000}}) {
      rig.osc.advance_to(event_tai - 20 * kNs + i * kPeriodNs + at);
      if (i >= 50) s.add(rig.error_ns(served(rig.osc.now())));
    }
    rig.osc.advance_to(event_tai - 20 * kNs + (i + 1) * kPeriodNs);
  }
  std::printf("[ sim ] system clock across an inserted leap: RMS %.1f ns, max %.1f ns\n", s.rms(), s.max);
  EXPECT_LE(s.max, 300.0);
  EXPECT_EQ(rig.control->status().steps, 0u);
  EXPECT_EQ(rig.count_events("re-synchronized"), 0u);
  EXPECT_EQ(rig.count_events("leap second inserted"), 1u);
}

TEST(ClockControl, KernelAnnouncedLeapIsFollowedAtTheEndOfTheMonth) {
  // No leap file lists it; the kernel's STA_INS does (chrony was told).
  ClockControlOptions o;
  const int64_t event_tai = (kLeap + 37) * kNs;
  Rig rig(10, 1.0, 50, 9, event_tai - 10 * kNs, o, LeapTable::fixed(37), Timescale::kUtc, table(38));
  rig.ref.status_value.leap = +1;
  run_for(rig, 5 * kNs);
  EXPECT_EQ(rig.header().li, 1);
  EXPECT_EQ(rig.count_events("the kernel announces a leap second (inserted)"), 1u);
  rig.osc.advance_to(event_tai + 20 * kNs);
  rig.ref.status_value.leap = 0;
  run_for(rig, 10 * kNs);
  EXPECT_NEAR(rig.error_ns(rig.osc.now() - 38 * kNs), 0, 300);
  EXPECT_EQ(rig.header().li, 0);
}

TEST(ClockControl, KernelLeapFlagOnAnOrdinaryDayIsIgnored) {
  ClockControlOptions o;
  Rig rig(10, 1.0, 50, 10, (utc_midnight(2030, 5, 15) + 37) * kNs, o, LeapTable::fixed(37), Timescale::kUtc,
          LeapTable::fixed(37));
  rig.ref.status_value.leap = +1;
  run_for(rig, 3 * kNs);
  EXPECT_EQ(rig.header().li, 0);
  EXPECT_EQ(rig.count_events("which is not the end of a month: ignored"), 1u);
}

TEST(ClockControl, SmearIsA24HourLineCentredOnTheLeapWithLiZero) {
  ClockControlOptions o;
  o.leap_smear = true;
  o.default_refid = refid("PHC\0");
  struct Point {
    double hours;  // from the leap, on the pre-leap UTC scale
    double correction_s;
  };
  for (const Point p : {Point{-13, 0}, Point{-12, 0}, Point{-6, 0.25}, Point{-0.5 / 3600, 0.5 - 0.5 / 86400},
                        Point{0, 0.5}, Point{6, 0.75}, Point{11.99, 1 - 0.01 / 24}, Point{13, 1}}) {
    SCOPED_TRACE(p.hours);
    // u: UTC as if the leap did not happen (TAI - 37); served = u - correction.
    const auto correction = [](int64_t u) {
      return std::clamp(static_cast<double>(u - (kLeap - 43200) * kNs) / 86400.0, 0.0, 1e9);
    };
    const int64_t u_check = kLeap * kNs + static_cast<int64_t>(p.hours * 3600e9);
    Rig rig(-33, 1.0, 100, 12, u_check - 5 * kNs + 37 * kNs, o, table(38));
    run_for(rig, 5 * kNs);
    rig.update();
    const int64_t u = rig.osc.now() - 37 * kNs;
    ASSERT_EQ(u, u_check);
    const double correction_ns = correction(u);
    EXPECT_NEAR(correction_ns / 1e9, p.correction_s, 1e-6);
    EXPECT_NEAR(rig.error_ns(u - std::llround(correction_ns)), 0, 300);
    rig.advance(90'000'000);  // the smear's rate is in the map
    const int64_t later = rig.osc.now() - 37 * kNs;
    EXPECT_NEAR(rig.error_ns(later - std::llround(correction(later))), 0, 300);
    EXPECT_EQ(rig.header().li, 0) << "a smearing server never announces the leap";
    const bool inside = p.hours >= -12 && p.hours < 12;
    EXPECT_EQ(rig.control->status().leap_smear, inside);
    if (inside) {
      EXPECT_EQ(rig.header().refid >> 24, 254u) << "ntpd's smear refid 254.x.y.z";
      EXPECT_EQ(rig.header().refid, smear_refid(rig.control->status().smear_offset_ns));
      EXPECT_NEAR(static_cast<double>(rig.control->status().smear_offset_ns), correction_ns, 1000);
      std::printf("[ sim ] smear at %+6.2f h: correction %.6f s, refid %u.%u.%u.%u\n", p.hours, correction_ns / 1e9,
                  rig.header().refid >> 24, (rig.header().refid >> 16) & 255, (rig.header().refid >> 8) & 255,
                  rig.header().refid & 255);
    } else {
      EXPECT_EQ(rig.header().refid, refid("PHC\0"));
    }
  }
}

TEST(SmearRefid, EncodesTheCorrectionAsNtpdDoes) {
  EXPECT_EQ(smear_refid(0), 0xfe00'0000u);
  EXPECT_EQ(smear_refid(500'000'000), 0xfe20'0000u);  // 0.5 s: fraction 0x8000_0000 >> 10
  EXPECT_EQ(smear_refid(1'000'000'000), 0xfe40'0000u);
}

TEST(ClockControl, SmearBoundariesAreScheduled) {
  ClockControlOptions o;
  o.leap_smear = true;
  const int64_t start_tai = (kLeap - 43200 + 37) * kNs;
  Rig rig(0, 0, 10, 13, start_tai - 5 * kNs, o, table(38));
  run_for(rig, 5 * kNs - 40'000'000);
  const auto b = rig.control->next_boundary_in_ns(kPeriodNs);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(static_cast<double>(*b), 40e6 - 1e8 + 1e8 * 0, 100e6);
  run_for(rig, 2 * kNs);
  EXPECT_EQ(rig.count_events("leap smear started"), 1u);
}

TEST(ClockControl, ExpiredLeapFileIsLoggedOnceAndServingContinues) {
  const int64_t l = utc_midnight(2017, 1, 1);
  auto t = LeapTable::parse(leap_file({{l, 37}}, l, utc_midnight(2025, 12, 28)), "/test/old.list");
  ASSERT_TRUE(t.ok());
  ClockControlOptions o;
  Rig rig(5, 1.0, 100, 14, (utc_midnight(2026, 11, 21) + 37) * kNs, o, std::move(t.value()));
  run_for(rig, 3 * kNs);
  EXPECT_EQ(rig.count_events("the leap-seconds file /test/old.list expired on 2025-12-28"), 1u);
  EXPECT_TRUE(rig.control->status().leap_file_expired);
  EXPECT_EQ(rig.control->state(), ReferenceState::kSynchronized);
  EXPECT_EQ(rig.header().li, 0);
  EXPECT_EQ(rig.header().stratum, 2);
}

TEST(ClockControl, UnsynchronizedSystemClockAnswersLi3Stratum16UnlessLocalStratum) {
  ClockControlOptions o;
  Rig plain(3, 1.0, 20, 15, 1'900'000'000 * kNs, o, LeapTable::fixed(37), Timescale::kUtc, LeapTable::fixed(37));
  plain.ref.status_value.synchronized = false;
  plain.ref.status_value.root_dispersion_ns = 16 * kNs;
  run_for(plain, 2 * kNs);
  EXPECT_EQ(plain.header().li, 3);
  EXPECT_EQ(plain.header().stratum, 16);
  EXPECT_EQ(plain.control->state(), ReferenceState::kUnsynchronized);
  EXPECT_EQ(plain.count_events("the reference says it is unsynchronized"), 1u);

  o.local_stratum = 10;
  Rig lab(3, 1.0, 20, 16, 1'900'000'000 * kNs, o, LeapTable::fixed(37), Timescale::kUtc, LeapTable::fixed(37));
  lab.ref.status_value.synchronized = false;
  lab.ref.status_value.root_dispersion_ns = 16 * kNs;
  run_for(lab, 2 * kNs);
  EXPECT_EQ(lab.header().li, 0);
  EXPECT_EQ(lab.header().stratum, 10);
  EXPECT_EQ(lab.header().refid, refid("LOCL"));
  EXPECT_LT(lab.header().root_dispersion_ns(), 100'000) << "the kernel's 16 s bound is not claimed";
  EXPECT_EQ(lab.control->state(), ReferenceState::kLocalOverride);
  EXPECT_EQ(lab.count_events("serving anyway at local_stratum 10"), 1u);

  // chrony locks: the kernel's maxerror becomes the root dispersion.
  lab.ref.status_value.synchronized = true;
  lab.ref.status_value.root_dispersion_ns = 2'000'000;
  run_for(lab, 1 * kNs);
  EXPECT_EQ(lab.header().stratum, 2);
  EXPECT_EQ(lab.header().refid, refid("SYS\0"));
  EXPECT_GE(lab.header().root_dispersion_ns(), 2'000'000);
  EXPECT_LT(lab.header().root_dispersion_ns(), 2'031'000) << "plus ours: under two 15 us units of the short format";
  EXPECT_EQ(lab.count_events("synchronized again"), 1u);
}

TEST(ClockControl, StartsUnsynchronizedUntilItHasSamples) {
  ClockControlOptions o;
  Rig rig(0, 0, 10, 17, 1'900'000'000 * kNs, o);
  rig.ref.failing = true;
  run_for(rig, 1 * kNs);
  EXPECT_EQ(rig.control->state(), ReferenceState::kStarting);
  EXPECT_EQ(rig.header().li, 3);
  EXPECT_EQ(rig.header().stratum, 16);
  EXPECT_EQ(rig.count_events("cannot read the reference: simulated failure"), 1u);
  rig.ref.failing = false;
  run_for(rig, 1 * kNs);
  EXPECT_EQ(rig.control->state(), ReferenceState::kSynchronized);
  EXPECT_EQ(rig.count_events("simulated reference answers again"), 1u);
}

TEST(ClockControl, RawNicTicksAreMappedOntoTheReference) {
  // A 156.25 MHz NIC counter, 30 ppm fast; the reference a TAI PHC.
  sim::Oscillator osc(2.5e9, -45, 1.0, 18, 1'900'000'000 * kNs);
  sim::Ticks ticks(osc);
  sim::Reference ref(osc, Timescale::kTai, 100, 19);
  sim::Nic nic(osc, 156.25e6, 30);
  ClockControlOptions o;
  o.hw_clock = core::HwClock::kRawTicks;
  ClockControl control(o, ticks, ref, LeapTable::fixed(0), &nic);
  core::ClockModel m;
  for (int i = 0; i < 300; ++i) {
    m = control.update();
    osc.advance_to(osc.now() + kPeriodNs);
  }
  ASSERT_TRUE(m.nic.valid());
  sim::ErrorStats s;
  for (int i = 0; i < 600; ++i) {
    m = control.update();
    for (const int64_t at : {int64_t{1'000'000}, int64_t{50'000'000}, int64_t{99'000'000}}) {
      const int64_t t = osc.now() + at;
      s.add(static_cast<double>(core::ntp_diff_nanos(m.nic.to_ntp(nic.ticks_at(t)), core::ntp_from_unix_nanos(t))));
    }
    osc.advance_to(osc.now() + kPeriodNs);
  }
  std::printf("[ sim ] NIC ticks (156.25 MHz, +30 ppm) mapped: RMS %.1f ns, max %.1f ns\n", s.rms(), s.max);
  EXPECT_LE(s.rms(), 60.0);
  EXPECT_LE(s.max, 300.0);

  // The NIC stops answering: logged once, the last calibration stays.
  nic.failing = true;
  for (int i = 0; i < 10; ++i) m = control.update();
  EXPECT_TRUE(m.nic.valid());
  const auto events = control.take_events();
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const ClockEvent& e) { return e.message.find("cannot read the NIC's clock") != std::string::npos; }),
            1);
}

TEST(ClockControl, NicClockAsTheReference) {
  sim::Oscillator osc(2.5e9, 70, 1.0, 20, 1'900'000'000 * kNs);
  sim::Ticks ticks(osc);
  sim::Nic nic(osc, 1e9, 0);
  nic.time_offset_ns = 37 * kNs;  // the NIC's PTP clock on TAI
  NicSource source(nic, ticks, Timescale::kTai);
  ClockControlOptions o;
  o.default_refid = refid("NIC\0");
  o.stratum = 1;
  ClockControl control(o, ticks, source, LeapTable::fixed(37));
  core::ClockModel m;
  for (int i = 0; i < 100; ++i) {
    m = control.update();
    osc.advance_to(osc.now() + kPeriodNs);
  }
  EXPECT_EQ(control.state(), ReferenceState::kSynchronized);
  EXPECT_NEAR(static_cast<double>(core::ntp_diff_nanos(m.tsc.to_ntp(osc.ticks()), core::ntp_from_unix_nanos(osc.now()))),
              0, 100);
  EXPECT_EQ(sim::header_of(m).refid, refid("NIC\0"));
  EXPECT_EQ(sim::header_of(m).stratum, 1);
  nic.failing = true;
  m = control.update();
  EXPECT_NE(control.status().last_error.find("rte_eth_timesync_read_time"), std::string::npos);
}

class CostlyTicks final : public TickSource {
 public:
  uint64_t now() noexcept override { return t_ += 40; }  // 16 ns per read at 2.5 GHz
  double nominal_hz() const noexcept override { return 2.5e9; }

 private:
  uint64_t t_ = 0;
};

TEST(ClockControl, PrecisionIsTheMeasuredReadCost) {
  CostlyTicks ticks;
  EXPECT_EQ(measure_precision(ticks), -25);  // 16 ns: 2^-25.9, rounded up
  sim::Oscillator osc(1e9, 0, 0, 1);
  sim::Ticks exact(osc);  // reads cost nothing: one tick, 1 ns
  EXPECT_EQ(measure_precision(exact), -29);
}

TEST(SystemSource, TakesTheTightestSandwichAndReadsTheKernelStatus) {
  CostlyTicks ticks;
  sim::Oscillator osc(1e9, 0, 0, 1, 1'900'000'000 * kNs);
  sim::Kernel kernel(osc);
  kernel.value.synchronized = true;
  kernel.value.max_error_ns = 1'500'000;
  kernel.value.leap = 1;
  kernel.value.tai_offset_s = 37;
  SystemSource s(ticks, kernel);
  const auto r = s.sample();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->time_ns, 1'900'000'000 * kNs);
  EXPECT_EQ(r->uncertainty_ns, 8);  // 40 ticks at 2.5 GHz, halved
  const ReferenceStatus st = s.status();
  EXPECT_TRUE(st.synchronized);
  EXPECT_EQ(st.root_dispersion_ns, 1'500'000);
  EXPECT_EQ(st.leap, 1);
  EXPECT_EQ(st.tai_offset_s, 37);
  EXPECT_EQ(s.timescale(), Timescale::kUtc);
}

}  // namespace
}  // namespace tachyon::clock
