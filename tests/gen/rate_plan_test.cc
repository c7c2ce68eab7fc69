// The ramp: rates grow by the multiplier until a step fails, optional
// bisection between the last good and first bad rate, and the maximum
// loss-free rate; a simulated server with a known capacity drives it.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tools/gen/rate_plan.h"
#include "tools/gen/report.h"

namespace tachyon::gen {
namespace {

// A server that answers everything up to `capacity` requests/s and drops
// the excess; a generator that can send up to `generator_max`.
StepOutcome simulate(double offered, double capacity, double generator_max = 1e12) {
  StepOutcome o;
  o.offered_rate = offered;
  o.sent_rate = std::min(offered, generator_max);
  o.failed_pct = o.sent_rate > capacity ? 100.0 * (o.sent_rate - capacity) / o.sent_rate : 0.0;
  o.generator_limited = o.sent_rate < 0.97 * offered;
  return o;
}

// Runs the plan to its end with `outcome(step)` as each step's result;
// returns the steps asked for.
template <typename Outcome>
std::vector<PlannedStep> run_with(RatePlan& plan, Outcome outcome) {
  std::vector<PlannedStep> steps;
  while (auto step = plan.next()) {
    steps.push_back(*step);
    plan.record(outcome(*step));
    if (steps.size() > 200) break;
  }
  return steps;
}

std::vector<double> rates_of(const std::vector<PlannedStep>& steps) {
  std::vector<double> rates;
  for (const PlannedStep& s : steps) rates.push_back(s.rate);
  return rates;
}

std::vector<double> run(RatePlan& plan, double capacity, double generator_max = 1e12) {
  return rates_of(run_with(plan, [&](const PlannedStep& step) { return simulate(step.rate, capacity, generator_max); }));
}

TEST(CatchUp, WhatFallsDueIn20MicrosecondsBetween4Or1BurstAnd128) {
  EXPECT_EQ(catch_up_limit(100'000, 1), 4u);       // a stall never arrives as a burst of 32 at 100k/s
  EXPECT_EQ(catch_up_limit(500'000, 1), 10u);
  EXPECT_EQ(catch_up_limit(1'000'000, 1), 20u);
  EXPECT_EQ(catch_up_limit(6'400'000, 1), 128u);
  EXPECT_EQ(catch_up_limit(50'000'000, 1), 128u);  // the old limit, at any rate
  EXPECT_EQ(catch_up_limit(1'000, 1), 4u);         // a few late requests together are harmless
  EXPECT_EQ(catch_up_limit(10'000, 32), 32u);      // --burst 32 still sends whole bursts
  EXPECT_EQ(catch_up_limit(0, 1), 128u);           // --rate max
  // Yielding every 1 ms (veth): what fell due during one interval.
  EXPECT_EQ(catch_up_limit(50'000, 1, 1e-3), 51u);
  EXPECT_EQ(catch_up_limit(200'000, 1, 1e-3), 128u);
}

TEST(RatePlan, FixedRunsOneStep) {
  RatePlan plan = RatePlan::fixed(5000, 0.1);
  auto step = plan.next();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->rate, 5000);
  EXPECT_EQ(step->kind, StepKind::kFixed);
  plan.record(simulate(5000, 1e9));
  EXPECT_FALSE(plan.next());
  EXPECT_EQ(plan.stop_reason(), StopReason::kCompleted);
  EXPECT_EQ(*plan.max_loss_free_rate(), 5000);
}

TEST(RatePlan, RampMultipliesUntilAStepFails) {
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  o.max_loss_pct = 0.1;
  RatePlan plan = RatePlan::ramp(o);
  const std::vector<double> rates = run(plan, 10000);
  EXPECT_EQ(rates, (std::vector<double>{1000, 2000, 4000, 8000, 16000}));
  EXPECT_EQ(plan.stop_reason(), StopReason::kLoss);
  EXPECT_EQ(*plan.max_loss_free_rate(), 8000);
}

TEST(RatePlan, LossAtTheThresholdStillPasses) {
  RampOptions o;
  o.max_loss_pct = 1.0;
  RatePlan plan = RatePlan::ramp(o);
  EXPECT_TRUE(plan.passed(StepOutcome{1000, 1000, 1.0, false}));
  EXPECT_FALSE(plan.passed(StepOutcome{1000, 1000, 1.01, false}));
}

TEST(RatePlan, BisectionNarrowsTheGapGeometrically) {
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  o.bisect = 4;
  RatePlan plan = RatePlan::ramp(o);
  const std::vector<double> rates = run(plan, 10000);
  ASSERT_EQ(rates.size(), 9u);
  // After 8000 (good) and 16000 (bad): sqrt(8000 * 16000) = 11314 (bad),
  // then sqrt(8000 * 11314) = 9514 (good), ...
  EXPECT_NEAR(rates[5], std::sqrt(8000.0 * 16000), 1);
  EXPECT_NEAR(rates[6], std::sqrt(8000.0 * rates[5]), 1);
  EXPECT_NEAR(rates[7], std::sqrt(rates[6] * rates[5]), 1);
  EXPECT_EQ(plan.stop_reason(), StopReason::kLoss);
  const double best = *plan.max_loss_free_rate();
  EXPECT_GT(best, 9500);
  EXPECT_LE(best, 10000);
}

TEST(RatePlan, FirstStepFailingEndsWithoutBisection) {
  RampOptions o;
  o.start_rate = 50000;
  o.bisect = 3;
  RatePlan plan = RatePlan::ramp(o);
  EXPECT_EQ(run(plan, 10000).size(), 1u);
  EXPECT_EQ(plan.stop_reason(), StopReason::kLoss);
  EXPECT_FALSE(plan.max_loss_free_rate());
}

TEST(RatePlan, GeneratorLimitEndsTheRampAsALowerBound) {
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  RatePlan plan = RatePlan::ramp(o);
  const std::vector<double> rates = run(plan, 1e9, 5000);
  // 8000 could not be sent: tried again twice (generator_retries), then over.
  EXPECT_EQ(rates, (std::vector<double>{1000, 2000, 4000, 8000, 8000, 8000}));
  EXPECT_EQ(plan.stop_reason(), StopReason::kGeneratorLimit);
  EXPECT_EQ(*plan.max_loss_free_rate(), 5000);
}

TEST(RatePlan, AStepMissedOnceByAStallIsRunAgainAndTheRampGoesOn) {
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  o.bisect = 1;
  RatePlan plan = RatePlan::ramp(o);
  bool stalled = false;
  const std::vector<PlannedStep> steps = run_with(plan, [&](const PlannedStep& step) {
    StepOutcome out = simulate(step.rate, 10000);
    if (step.rate == 4000 && !stalled) {  // the generator's CPU was taken away once, for long
      stalled = true;
      out.sent_rate = 2500;  // not even half the multiplier's growth over 2000
      out.generator_limited = true;
    }
    return out;
  });
  const std::vector<double> rates = rates_of(steps);
  std::vector<StepKind> kinds;
  for (const PlannedStep& step : steps) kinds.push_back(step.kind);
  EXPECT_EQ(rates, (std::vector<double>{1000, 2000, 4000, 4000, 8000, 16000, std::sqrt(8000.0 * 16000.0)}));
  EXPECT_EQ(kinds[3], StepKind::kRetry);
  EXPECT_STREQ(step_kind_name(kinds[3]), "retry");
  EXPECT_EQ(plan.stop_reason(), StopReason::kLoss);
  EXPECT_EQ(*plan.max_loss_free_rate(), 8000);
}

TEST(RatePlan, WithLossRetriesAStepLostToAStallIsRunAgainAndTheRampGoesOn) {
  // The server takes 10k/s; at 4000/s a stall of a CPU loses 5 % of the
  // step once. Without loss retries the ramp ends there; with one, 4000
  // is run again, passes, and the ramp finds the server's limit, where
  // the failure repeats and the bisection starts.
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  o.bisect = 1;
  const auto stall_once = [](bool& stalled) {
    return [&stalled](const PlannedStep& step) {
      StepOutcome out = simulate(step.rate, 10000);
      if (step.rate == 4000 && !stalled) {
        stalled = true;
        out.failed_pct = 5;
      }
      return out;
    };
  };
  bool stalled = false;
  RatePlan plain = RatePlan::ramp(o);
  EXPECT_EQ(rates_of(run_with(plain, stall_once(stalled))),
            (std::vector<double>{1000, 2000, 4000, std::sqrt(2000.0 * 4000.0)}));
  EXPECT_EQ(*plain.max_loss_free_rate(), std::sqrt(2000.0 * 4000.0));

  o.loss_retries = 1;
  stalled = false;
  RatePlan plan = RatePlan::ramp(o);
  const std::vector<PlannedStep> steps = run_with(plan, stall_once(stalled));
  const double mid = std::sqrt(8000.0 * 16000.0);
  EXPECT_EQ(rates_of(steps), (std::vector<double>{1000, 2000, 4000, 4000, 8000, 16000, 16000, mid, mid}));
  EXPECT_EQ(steps[3].kind, StepKind::kRetry);  // 4000 once more: passed
  EXPECT_EQ(steps[6].kind, StepKind::kRetry);  // 16000 once more: failed again, so the bisection starts
  EXPECT_EQ(steps[7].kind, StepKind::kBisect);
  EXPECT_EQ(steps[8].kind, StepKind::kRetry);  // the bisection step failed too: once more, then over
  EXPECT_EQ(plan.stop_reason(), StopReason::kLoss);
  EXPECT_EQ(*plan.max_loss_free_rate(), 8000);
}

TEST(RatePlan, LossRetriesAreCountedPerRate) {
  // Two retries: a rate that fails three times in a row fails; one that
  // fails twice and then passes passes, and the next rate has its two
  // retries again.
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  o.loss_retries = 2;
  RatePlan plan = RatePlan::ramp(o);
  int runs_of_2000 = 0;
  const std::vector<double> rates = rates_of(run_with(plan, [&](const PlannedStep& step) {
    StepOutcome out = simulate(step.rate, 3000);
    if (step.rate == 2000 && ++runs_of_2000 <= 2) out.failed_pct = 1;
    return out;
  }));
  EXPECT_EQ(rates, (std::vector<double>{1000, 2000, 2000, 2000, 4000, 4000, 4000}));
  EXPECT_EQ(plan.stop_reason(), StopReason::kLoss);
  EXPECT_EQ(*plan.max_loss_free_rate(), 2000);
}

TEST(RatePlan, StepsShortOfTheirRateGoOnWhileTheLoadStillGrows) {
  // Stalls of the generator's CPU cost every step 10 % of its rate: the
  // server still gets more at each step, so the ramp runs into its
  // capacity (10k/s) instead of stopping at the first short step.
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  RatePlan plan = RatePlan::ramp(o);
  const std::vector<double> rates = rates_of(run_with(plan, [](const PlannedStep& step) {
    StepOutcome out = simulate(0.9 * step.rate, 10000);  // 90 % of the rate reaches the server
    out.offered_rate = step.rate;
    out.generator_limited = true;
    return out;
  }));
  EXPECT_EQ(rates, (std::vector<double>{1000, 2000, 4000, 8000, 16000}));
  EXPECT_EQ(plan.stop_reason(), StopReason::kLoss);
  EXPECT_EQ(*plan.max_loss_free_rate(), 7200);
}

TEST(RatePlan, BackPressureEndsTheRampAtTheServersLimit) {
  // Over memif a saturated server does not lose requests: its ring fills
  // and the generator's TX queue refuses them. From 4000/s on the port
  // pushes back: retried twice, then the server's maximum, not a bound.
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  o.bisect = 3;
  RatePlan plan = RatePlan::ramp(o);
  const std::vector<double> rates = rates_of(run_with(plan, [](const PlannedStep& step) {
    StepOutcome out = simulate(step.rate, 1e9);
    if (step.rate >= 4000) {
      out.sent_rate = 3500;
      out.back_pressure = true;
    }
    return out;
  }));
  EXPECT_EQ(rates, (std::vector<double>{1000, 2000, 4000, 4000, 4000}));
  EXPECT_EQ(plan.stop_reason(), StopReason::kBackPressure);
  EXPECT_STREQ(stop_reason_name(plan.stop_reason()), "back_pressure");
  EXPECT_EQ(*plan.max_loss_free_rate(), 3500);
}

TEST(RatePlan, NoRetriesMeansTheFirstShortStepEndsTheRamp) {
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 2;
  o.generator_retries = 0;
  RatePlan plan = RatePlan::ramp(o);
  EXPECT_EQ(run(plan, 1e9, 5000), (std::vector<double>{1000, 2000, 4000, 8000}));
  EXPECT_EQ(plan.stop_reason(), StopReason::kGeneratorLimit);
}

TEST(RatePlan, MaxRateCapsTheLastStep) {
  RampOptions o;
  o.start_rate = 1000;
  o.multiplier = 3;
  o.max_rate = 5000;
  RatePlan plan = RatePlan::ramp(o);
  EXPECT_EQ(run(plan, 1e9), (std::vector<double>{1000, 3000, 5000}));
  EXPECT_EQ(plan.stop_reason(), StopReason::kMaxRate);
}

TEST(RatePlan, StepLimitBoundsARampThatNeverFails) {
  RampOptions o;
  o.multiplier = 1.01;
  o.max_steps = 10;
  RatePlan plan = RatePlan::ramp(o);
  EXPECT_EQ(run(plan, 1e12).size(), 10u);
  EXPECT_EQ(plan.stop_reason(), StopReason::kMaxSteps);
}

TEST(RatePlan, AskingTwiceReturnsTheSameStep) {
  RatePlan plan = RatePlan::ramp(RampOptions{});
  const auto a = plan.next();
  const auto b = plan.next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->rate, b->rate);
}

TEST(Summary, MaxLossFreeRateIsTheBestPassingStep) {
  std::vector<StepResult> steps(3);
  steps[0].number = 1;
  steps[0].sent_rate = 1000;
  steps[0].passed = true;
  steps[1].number = 2;
  steps[1].sent_rate = 2000;
  steps[1].passed = true;
  steps[2].number = 3;
  steps[2].sent_rate = 4000;
  steps[2].passed = false;
  const RunSummary s = summarize(steps, StopReason::kLoss);
  EXPECT_EQ(*s.max_loss_free_rate, 2000);
  EXPECT_EQ(s.max_loss_free_step, 2u);
  EXPECT_FALSE(s.lower_bound);
  EXPECT_TRUE(summarize(steps, StopReason::kGeneratorLimit).lower_bound);
}

}  // namespace
}  // namespace tachyon::gen
