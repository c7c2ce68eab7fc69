// The discipline against a simulated oscillator in simulated time: a TSC at
// 2.5 GHz with up to +-100 ppm of frequency error and random-walk wander, a
// reference read with 100 ns of Gaussian noise, outliers, gaps and steps.
// The mapping error is measured where it matters: the time a worker would
// write, by the model it holds, at instants between two updates.
//
// Each test prints the figures it reaches ("[ sim ]" lines); docs/clock.md
// and docs/performance.md quote them.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/clock/rig.h"

namespace tachyon::clock {
namespace {

using sim::ErrorStats;
using sim::kNs;
using sim::kPeriodNs;
using sim::Rig;

constexpr int64_t kStart = 1'900'000'000 * kNs;  // 2030-03-17, an ordinary day

// Probes a model at three instants of the period that follows its update
// (right after, half-way, at the end): what workers stamp.
template <typename F>
void run_period(Rig& rig, F&& each_error) {
  rig.update();
  int64_t done = 0;
  for (const int64_t at : {int64_t{1'000'000}, int64_t{50'000'000}, int64_t{99'000'000}}) {
    rig.advance(at - done);
    done = at;
    each_error(rig.error_ns(rig.osc.now() + rig.ref.offset_ns));
  }
  rig.advance(kPeriodNs - done);
}

struct Figures {
  double convergence_s = 0;
  ErrorStats after;
};

// `seconds` of operation; convergence is the time after which every probe
// stays within 200 ns, statistics are over what follows 30 s.
Figures run(Rig& rig, int seconds) {
  Figures f;
  double last_bad = 0;
  const int64_t periods = int64_t{seconds} * kNs / kPeriodNs;
  for (int64_t i = 0; i < periods; ++i) {
    const double t = static_cast<double>(i) * 0.1;
    run_period(rig, [&](double e) {
      if (std::fabs(e) > 200) last_bad = t + 0.1;
      if (t >= 30) f.after.add(e);
    });
  }
  f.convergence_s = last_bad;
  return f;
}

TEST(DisciplineSim, ConvergesFastAndTracksWithin50NsRmsAt100NsNoise) {
  double worst_rms = 0, worst_max = 0, worst_convergence = 0;
  uint64_t seed = 1;
  for (const double ppm : {-100.0, -42.0, 0.0, 17.0, 100.0}) {
    Rig rig(ppm, /*wander_ppb=*/1.0, /*noise_ns=*/100, seed++, kStart);
    rig.ref.outlier_probability = 0.01;
    rig.ref.outlier_ns = 20'000;
    const Figures f = run(rig, 600);
    std::printf("[ sim ] %+6.1f ppm, wander 1 ppb/sqrt(s), noise 100 ns, 1%% outliers: converged in %.1f s, "
                "then RMS %.1f ns, max %.1f ns (%zu probes), window %zu, %llu rejected\n",
                ppm, f.convergence_s, f.after.rms(), f.after.max, f.after.n, rig.control->servo().window(),
                static_cast<unsigned long long>(rig.control->status().samples_rejected));
    EXPECT_LE(f.convergence_s, 5.0) << ppm << " ppm";
    EXPECT_LE(f.after.rms(), 50.0) << ppm << " ppm";
    EXPECT_LE(f.after.max, 250.0) << ppm << " ppm";
    EXPECT_EQ(rig.control->state(), ReferenceState::kSynchronized);
    EXPECT_EQ(rig.control->status().steps, 0u);
    // Outliers are rejected, not followed.
    EXPECT_GE(rig.control->status().samples_rejected, rig.ref.outliers * 9 / 10);
    EXPECT_NEAR(rig.control->status().frequency_ppm, rig.osc.error_ppm(), 0.01);
    worst_rms = std::max(worst_rms, f.after.rms());
    worst_max = std::max(worst_max, f.after.max);
    worst_convergence = std::max(worst_convergence, f.convergence_s);
  }
  std::printf("[ sim ] worst of 5: convergence %.1f s, RMS %.1f ns, max %.1f ns\n", worst_convergence, worst_rms,
              worst_max);
}

TEST(DisciplineSim, FollowsAStronglyWanderingOscillator) {
  // 10 ppb/sqrt(s): ten times a typical crystal's random walk.
  Rig rig(35, /*wander_ppb=*/10.0, /*noise_ns=*/100, 77, kStart);
  const Figures f = run(rig, 600);
  std::printf("[ sim ] wander 10 ppb/sqrt(s), noise 100 ns: RMS %.1f ns, max %.1f ns, window %zu\n", f.after.rms(),
              f.after.max, rig.control->servo().window());
  EXPECT_LE(f.after.rms(), 80.0);
  EXPECT_LE(f.after.max, 400.0);
}

TEST(DisciplineSim, QuietReferenceGivesNanosecondMapping) {
  // The system source on this kind of machine: ~20 ns of sandwich noise.
  Rig rig(-12, 1.0, 20, 5, kStart);
  const Figures f = run(rig, 300);
  std::printf("[ sim ] noise 20 ns: RMS %.1f ns, max %.1f ns\n", f.after.rms(), f.after.max);
  EXPECT_LE(f.after.rms(), 15.0);
}

TEST(DisciplineSim, GapsDoNotCostAccuracyOrCountAsSteps) {
  Rig rig(60, 1.0, 100, 11, kStart);
  ErrorStats s;
  for (int minute = 0; minute < 10; ++minute) {
    for (int i = 0; i < 600; ++i) {
      rig.ref.failing = i >= 300 && i < 350;  // 5 s without samples every minute
      run_period(rig, [&](double e) {
        if (minute > 0) s.add(e);
      });
    }
  }
  std::printf("[ sim ] 5 s gap every minute: RMS %.1f ns, max %.1f ns\n", s.rms(), s.max);
  EXPECT_LE(s.rms(), 60.0);
  EXPECT_LE(s.max, 500.0);
  EXPECT_EQ(rig.control->status().steps, 0u);
  // Each gap: one "cannot read" and one "answers again", plus holdover and back.
  EXPECT_EQ(rig.count_events("cannot read the reference"), 10u);
  EXPECT_EQ(rig.count_events("holdover: no good sample"), 10u);
}

TEST(DisciplineSim, ReferenceStepIsTakenOnceAndFollowed) {
  Rig rig(-20, 1.0, 100, 21, kStart);
  run(rig, 60);
  rig.ref.offset_ns = 5'000'000;  // the reference jumps 5 ms
  ErrorStats after;
  double recovered_s = -1;
  for (int i = 0; i < 300; ++i) {
    ErrorStats period;
    run_period(rig, [&](double e) { period.add(e); });
    if (recovered_s < 0 && period.max < 200) recovered_s = i * 0.1;
    if (i >= 100) after.add(period.max);
  }
  std::printf("[ sim ] 5 ms step: followed after %.1f s; RMS afterwards %.1f ns\n", recovered_s, after.rms());
  EXPECT_EQ(rig.control->status().steps, 1u);
  EXPECT_EQ(rig.count_events("the reference stepped by 5.00 ms"), 1u);
  EXPECT_GE(recovered_s, 0);
  EXPECT_LE(recovered_s, 1.5);
  EXPECT_LE(after.max, 250.0);

  // A move below the step threshold (50 us) re-synchronizes without a step.
  rig.ref.offset_ns += 50'000;
  for (int i = 0; i < 50; ++i) run_period(rig, [](double) {});
  EXPECT_EQ(rig.control->status().steps, 1u);
  EXPECT_EQ(rig.count_events("re-synchronized: the reference moved by 50.0 us"), 1u);
}

TEST(DisciplineSim, HoldoverDispersionBoundsTheErrorThenAlarmsThenRecovers) {
  ClockControlOptions o;
  o.stratum = 1;
  o.holdover_limit_ns = 1800 * kNs;
  Rig rig(80, 1.0, 100, 31, kStart, o);
  run(rig, 120);
  ASSERT_EQ(rig.header().li, 0);
  const int64_t disp_synced = rig.header().root_dispersion_ns();
  rig.ref.failing = true;
  std::vector<std::pair<double, double>> growth;  // (s, error ns)
  double worst_ratio = 0;
  bool saw_holdover = false;
  double alarm_at = -1;
  for (int i = 0; i < 24'000; ++i) {  // 40 minutes
    double err = 0;
    run_period(rig, [&](double e) { err = std::max(err, std::fabs(e)); });
    const auto h = rig.header();
    worst_ratio = std::max(worst_ratio, err / static_cast<double>(h.root_dispersion_ns()));
    if (rig.control->state() == ReferenceState::kHoldover) {
      saw_holdover = true;
      EXPECT_EQ(h.li, 0);
      EXPECT_EQ(h.stratum, 1);
    }
    if (alarm_at < 0 && h.li == 3) {
      alarm_at = (i + 1) * 0.1;
      EXPECT_EQ(h.stratum, 16);
      EXPECT_EQ(rig.control->state(), ReferenceState::kUnsynchronized);
    }
    if ((i + 1) % 3000 == 0) growth.emplace_back((i + 1) * 0.1, err);
  }
  for (const auto& [s, e] : growth) {
    std::printf("[ sim ] holdover %4.0f s: |error| %8.1f us, root dispersion %.1f ms\n", s, e / 1e3,
                15e-6 * s * 1e3);
  }
  EXPECT_TRUE(saw_holdover);
  EXPECT_NEAR(alarm_at, 1800, 0.3);
  EXPECT_LT(worst_ratio, 1.0) << "the announced root dispersion must bound the real error";
  EXPECT_EQ(rig.count_events("holdover limit of 30.0"), 0u) << "(the message says 1800.000 s)";
  EXPECT_EQ(rig.count_events("holdover limit of"), 1u);
  // 15 ppm of growth: after 40 minutes, 36 ms on top of what it was.
  const int64_t disp = rig.header().root_dispersion_ns();
  EXPECT_NEAR(static_cast<double>(disp - disp_synced), 15e-6 * 2400e9, 0.5e6);

  // The reference comes back: synchronized at once, accurate within seconds.
  rig.ref.failing = false;
  ErrorStats back;
  for (int i = 0; i < 100; ++i) {
    run_period(rig, [&](double e) {
      if (i >= 30) back.add(e);
    });
    if (i == 1) {
      EXPECT_EQ(rig.control->state(), ReferenceState::kSynchronized);
      EXPECT_EQ(rig.header().li, 0);
      EXPECT_EQ(rig.header().stratum, 1);
    }
  }
  std::printf("[ sim ] after recovery: RMS %.1f ns, max %.1f ns; root dispersion %.2f us\n", back.rms(), back.max,
              static_cast<double>(rig.header().root_dispersion_ns()) / 1e3);
  EXPECT_LE(back.max, 300.0);
  EXPECT_EQ(rig.count_events("synchronized again"), 1u);
  EXPECT_LE(rig.header().root_dispersion_ns(), 15'259) << "one unit of the NTP short format (2^-16 s)";
}

}  // namespace
}  // namespace tachyon::clock
