#include "tools/gen/rate_plan.h"

#include <algorithm>
#include <cmath>

namespace tachyon::gen {

RatePlan RatePlan::fixed(double rate, double max_loss_pct) {
  RatePlan p;
  p.options_.start_rate = rate;
  p.options_.max_loss_pct = max_loss_pct;
  return p;
}

RatePlan RatePlan::ramp(const RampOptions& options) {
  RatePlan p;
  p.options_ = options;
  p.ramp_ = true;
  p.bisect_left_ = options.bisect;
  p.retries_left_ = options.generator_retries;
  p.loss_retries_left_ = options.loss_retries;
  return p;
}

std::optional<PlannedStep> RatePlan::retry_or_stop(const StepOutcome& last, StopReason reason) {
  if (retries_left_ == 0) return stop(reason);
  --retries_left_;
  planned_.push_back({last.offered_rate, StepKind::kRetry});
  return planned_.back();
}

std::optional<PlannedStep> RatePlan::next() {
  if (stop_ != StopReason::kNone) return std::nullopt;
  if (planned_.size() > outcomes_.size()) return planned_.back();  // asked twice: the same step
  if (outcomes_.empty()) {
    planned_.push_back({options_.start_rate, ramp_ ? StepKind::kRamp : StepKind::kFixed});
    return planned_.back();
  }
  if (!ramp_) return stop(StopReason::kCompleted);

  const StepOutcome& last = outcomes_.back();
  const bool ok = passed(last);
  if (!ok && loss_retries_left_ > 0) {  // lost to a stall, or the server's limit? Once more, to know.
    --loss_retries_left_;
    planned_.push_back({last.offered_rate, StepKind::kRetry});
    return planned_.back();
  }
  if (ok && last.back_pressure) return retry_or_stop(last, StopReason::kBackPressure);
  if (ok && last.generator_limited) {
    // Short of its rate: the generator's limit only if the load stopped
    // growing (a bisection step is between rates already reached).
    const double growth = 1 + (options_.multiplier - 1) / 2;
    if (bisecting_ || last.sent_rate <= best_sent_ * growth) return retry_or_stop(last, StopReason::kGeneratorLimit);
  }
  retries_left_ = options_.generator_retries;
  loss_retries_left_ = options_.loss_retries;
  if (ok) {
    best_sent_ = std::max(best_sent_, last.sent_rate);
    good_ = std::max(good_, last.offered_rate);
  } else {
    bad_ = bad_ == 0 ? last.offered_rate : std::min(bad_, last.offered_rate);
  }

  if (!bisecting_) {
    if (!ok) {
      if (bisect_left_ == 0 || good_ == 0) return stop(StopReason::kLoss);
      bisecting_ = true;
    } else {
      if (options_.max_rate > 0 && last.offered_rate >= options_.max_rate) return stop(StopReason::kMaxRate);
      if (planned_.size() >= options_.max_steps) return stop(StopReason::kMaxSteps);
      double rate = last.offered_rate * options_.multiplier;
      if (options_.max_rate > 0) rate = std::min(rate, options_.max_rate);
      planned_.push_back({rate, StepKind::kRamp});
      return planned_.back();
    }
  } else {
    --bisect_left_;
    if (bisect_left_ == 0) return stop(StopReason::kLoss);
  }
  planned_.push_back({std::sqrt(good_ * bad_), StepKind::kBisect});
  return planned_.back();
}

void RatePlan::record(const StepOutcome& outcome) {
  if (outcomes_.size() < planned_.size()) outcomes_.push_back(outcome);
}

std::optional<double> RatePlan::max_loss_free_rate() const {
  std::optional<double> best;
  for (const StepOutcome& o : outcomes_) {
    if (passed(o) && (!best || o.sent_rate > *best)) best = o.sent_rate;
  }
  return best;
}

const char* step_kind_name(StepKind k) noexcept {
  switch (k) {
    case StepKind::kFixed: return "fixed";
    case StepKind::kRamp: return "ramp";
    case StepKind::kBisect: return "bisect";
    case StepKind::kRetry: return "retry";
  }
  return "?";
}

const char* stop_reason_name(StopReason r) noexcept {
  switch (r) {
    case StopReason::kNone: return "none";
    case StopReason::kCompleted: return "completed";
    case StopReason::kLoss: return "loss";
    case StopReason::kGeneratorLimit: return "generator_limit";
    case StopReason::kBackPressure: return "back_pressure";
    case StopReason::kMaxRate: return "max_rate";
    case StopReason::kMaxSteps: return "max_steps";
    case StopReason::kDuration: return "duration";
    case StopReason::kCount: return "count";
    case StopReason::kInterrupted: return "interrupted";
    case StopReason::kLinkDown: return "link_down";
  }
  return "?";
}

const char* stop_reason_description(StopReason r) noexcept {
  switch (r) {
    case StopReason::kNone: return "still running";
    case StopReason::kCompleted: return "the run completed";
    case StopReason::kLoss:
      return "more than --max-loss of a step's requests got no usable answer (lost, refused or invalid)";
    case StopReason::kGeneratorLimit:
      return "the generator could not send at the offered rate (the server was not the limit: add --cpus)";
    case StopReason::kBackPressure:
      return "the port refused requests at this rate: the server (or the link) took no more (over memif: the "
             "server's ring stayed full); the maximum is the server's";
    case StopReason::kMaxRate: return "--max-rate reached without loss";
    case StopReason::kMaxSteps: return "the ramp reached its step limit";
    case StopReason::kDuration: return "--duration ran out";
    case StopReason::kCount: return "--count requests were sent";
    case StopReason::kInterrupted: return "interrupted";
    case StopReason::kLinkDown: return "the port's link went down";
  }
  return "?";
}

uint64_t catch_up_limit(double rate, uint16_t burst, double yield_s) noexcept {
  const uint64_t floor = std::max<uint64_t>(kMinCatchUp, burst);
  if (!(rate > 0)) return std::max(floor, kMaxCatchUp);
  const double window = kCatchUpSeconds + std::max(0.0, yield_s);
  const auto due = static_cast<uint64_t>(std::min(rate * window, static_cast<double>(kMaxCatchUp)));
  return std::clamp(due, floor, std::max(floor, kMaxCatchUp));
}

}  // namespace tachyon::gen
