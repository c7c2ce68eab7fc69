#include "clock/servo.h"

#include <algorithm>
#include <cmath>

namespace tachyon::clock {
namespace {

// Below this many samples every sample is taken: there is no prediction
// good enough to judge it yet.
constexpr size_t kGateFrom = 4;
// Consecutive outliers that agree with each other and restart the window.
constexpr size_t kConfirm = 4;
// The gate: six sigma of the prediction error (Gaussian noise crosses it
// about once in 10^9 samples), never tighter than 200 ns, widened by three
// times the sample's own uncertainty.
constexpr double kGateSigmas = 6;
constexpr double kGateFloorNs = 200;
constexpr double kUncertaintyWeight = 3;
// A longer pause between accepted samples is a gap (the control loop
// samples every 100 ms).
constexpr double kGapNs = 2e9;
// EWMA weights: the error estimate follows within ~8 samples; the window
// choice compares sizes over ~32 samples so one lucky sample does not flip it.
constexpr double kErrorAlpha = 1.0 / 8;
constexpr double kSelectAlpha = 1.0 / 32;
// error_ns() before any prediction has been checked.
constexpr double kUnknownErrorNs = 1000;

double signed_ticks(uint64_t a, uint64_t b) noexcept { return static_cast<double>(static_cast<int64_t>(a - b)); }

}  // namespace

Servo::Servo(const ServoOptions& options) : options_(options), nominal_ns_per_tick_(1e9 / options.nominal_hz) {
  pending_.reserve(kConfirm + 1);
}

const ServoSample& Servo::nth_newest(size_t i) const noexcept {
  return ring_[(next_ + kCapacity - 1 - i) % kCapacity];
}

void Servo::push(const ServoSample& s) noexcept {
  ring_[next_] = s;
  next_ = (next_ + 1) % kCapacity;
  count_ = std::min(count_ + 1, kCapacity);
}

size_t Servo::window() const noexcept {
  return selected_ < kSizes.size() ? std::min(kSizes[selected_], count_) : count_;
}

double Servo::error_ns() const noexcept { return err2_ < 0 ? kUnknownErrorNs : std::sqrt(err2_); }

double Servo::residual(const Fit& f, const ServoSample& s) const noexcept {
  const double dx = signed_ticks(s.ticks, f.ticks0);
  return static_cast<double>(s.ref_ns - f.ref0) - dx * nominal_ns_per_tick_ - (f.a + f.b * dx);
}

Servo::Prediction Servo::predict(uint64_t ticks) const noexcept {
  const double dx = signed_ticks(ticks, fit_.ticks0);
  const double offset = dx * nominal_ns_per_tick_ + fit_.a + fit_.b * dx;
  const double whole = std::floor(offset);
  return Prediction{fit_.ref0 + static_cast<int64_t>(whole), offset - whole};
}

// Least squares over the newest n samples, relative to the newest one. With
// free_slope false (or one sample) only the offset is fitted, at the current
// estimate's rate.
Servo::Fit Servo::fit_last(size_t n, bool free_slope) const noexcept {
  const ServoSample& last = nth_newest(0);
  Fit f;
  f.valid = true;
  f.ticks0 = last.ticks;
  f.ref0 = last.ref_ns;
  f.b = fit_.valid ? fit_.b : 0;
  double sx = 0, sy = 0;
  for (size_t i = 0; i < n; ++i) {
    const ServoSample& s = nth_newest(i);
    const double x = signed_ticks(s.ticks, last.ticks);
    sx += x;
    sy += static_cast<double>(s.ref_ns - last.ref_ns) - x * nominal_ns_per_tick_;
  }
  const double xm = sx / static_cast<double>(n), ym = sy / static_cast<double>(n);
  if (free_slope && n >= 2) {
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < n; ++i) {
      const ServoSample& s = nth_newest(i);
      const double x = signed_ticks(s.ticks, last.ticks);
      const double y = static_cast<double>(s.ref_ns - last.ref_ns) - x * nominal_ns_per_tick_;
      sxx += (x - xm) * (x - xm);
      sxy += (x - xm) * (y - ym);
    }
    if (sxx > 0) f.b = sxy / sxx;
  }
  f.a = ym - f.b * xm;
  return f;
}

void Servo::refit() noexcept {
  for (size_t i = 0; i < kSizes.size(); ++i) {
    size_fits_[i] = kSizes[i] <= count_ ? fit_last(kSizes[i], true) : Fit{};
  }
  if (count_ < kSizes[0]) {
    fit_ = fit_last(count_, bootstrap_free_slope_);
    selected_ = kSizes.size();
    return;
  }
  size_t best = 0;
  for (size_t i = 0; i < kSizes.size() && kSizes[i] <= count_; ++i) {
    if (size_err_set_[i] && (!size_err_set_[best] || size_err_[i] < size_err_[best])) best = i;
  }
  selected_ = best;
  fit_ = size_fits_[best];
}

void Servo::restart(const std::vector<ServoSample>& samples, bool free_slope) noexcept {
  // fit_ keeps the old rate: the prior for an offset-only restart.
  count_ = 0;
  next_ = 0;
  size_err_set_.fill(false);
  for (const ServoSample& s : samples) push(s);
  bootstrap_free_slope_ = free_slope;
  last_accepted_ticks_ = samples.back().ticks;
  pending_.clear();
  refit();
}

double Servo::gate_ns(const ServoSample& s) const noexcept {
  return std::max(kGateSigmas * error_ns(), kGateFloorNs) + kUncertaintyWeight * static_cast<double>(s.uncertainty_ns);
}

ServoVerdict Servo::add(const ServoSample& s) {
  if (count_ == 0) {
    last_residual_ns_ = 0;
    push(s);
    last_accepted_ticks_ = s.ticks;
    refit();
    return ServoVerdict::kAccepted;
  }
  const double r = residual(fit_, s);
  last_residual_ns_ = std::llround(r);
  const double gate = gate_ns(s);
  const double gap_ns = signed_ticks(s.ticks, last_accepted_ticks_) * nominal_ns_per_tick_;

  if (count_ < kGateFrom || std::fabs(r) <= gate) {
    pending_.clear();
    if (count_ >= kGateFrom) err2_ = err2_ < 0 ? r * r : err2_ + kErrorAlpha * (r * r - err2_);
    for (size_t i = 0; i < kSizes.size(); ++i) {
      if (!size_fits_[i].valid) continue;
      const double ri = residual(size_fits_[i], s);
      if (size_err_set_[i]) {
        size_err_[i] += kSelectAlpha * (ri * ri - size_err_[i]);
      } else {
        // A size that just became possible starts no better than the one in use.
        size_err_[i] = selected_ < kSizes.size() && size_err_set_[selected_] ? std::max(ri * ri, size_err_[selected_])
                                                                               : ri * ri;
        size_err_set_[i] = true;
      }
    }
    push(s);
    last_accepted_ticks_ = s.ticks;
    refit();
    return ServoVerdict::kAccepted;
  }

  // After a gap the prediction may have drifted: a sample within the drift
  // the gap allows restarts the window at the old rate.
  if (gap_ns > kGapNs && std::fabs(r) <= gate + options_.gap_drift_ppm * 1e-6 * gap_ns) {
    last_jump_ns_ = last_residual_ns_;
    restart({s}, false);
    return std::llabs(last_jump_ns_) >= options_.step_threshold_ns ? ServoVerdict::kStep : ServoVerdict::kResync;
  }

  pending_.push_back(s);
  if (pending_.size() > kConfirm) pending_.erase(pending_.begin());
  if (pending_.size() < kConfirm) return ServoVerdict::kOutlier;
  // Do the outliers lie on one line (the reference moved), or scatter?
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const ServoSample& newest = pending_.back();
  std::array<double, kConfirm> xs{}, ys{};
  for (size_t i = 0; i < kConfirm; ++i) {
    xs[i] = signed_ticks(pending_[i].ticks, newest.ticks);
    ys[i] = static_cast<double>(pending_[i].ref_ns - newest.ref_ns) - xs[i] * nominal_ns_per_tick_;
    sx += xs[i];
    sy += ys[i];
  }
  const double xm = sx / kConfirm, ym = sy / kConfirm;
  for (size_t i = 0; i < kConfirm; ++i) {
    sxx += (xs[i] - xm) * (xs[i] - xm);
    sxy += (xs[i] - xm) * (ys[i] - ym);
  }
  const double b = sxx > 0 ? sxy / sxx : 0;
  double worst = 0, mean_residual = 0;
  for (size_t i = 0; i < kConfirm; ++i) {
    worst = std::max(worst, std::fabs(ys[i] - (ym + b * (xs[i] - xm))));
    mean_residual += residual(fit_, pending_[i]) / kConfirm;
  }
  if (worst > gate) return ServoVerdict::kOutlier;
  last_jump_ns_ = std::llround(mean_residual);
  const std::vector<ServoSample> moved = pending_;
  restart(moved, true);
  return std::llabs(last_jump_ns_) >= options_.step_threshold_ns ? ServoVerdict::kStep : ServoVerdict::kResync;
}

}  // namespace tachyon::clock
