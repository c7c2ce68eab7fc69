// The servo: turns (ticks, reference time) samples into the line that maps
// a free-running tick counter (the TSC, or a NIC's clock) onto the
// reference. Like linuxptp's servos it gets samples and returns an
// estimate; it never touches a clock. Unlike a PI loop it has no clock to
// steer: the estimate itself becomes the next ClockModel.
//
// Method (see docs/clock.md): least-squares regression over a window of
// the latest samples, with the window size chosen adaptively among 8, 16,
// 32, 64 and 128 samples by which size has predicted the newest samples
// best (after Lichvar's linreg servo in linuxptp). Long windows average the
// sample noise away while the oscillator is stable; short ones follow it
// when it wanders. Samples further from the prediction than a gate (six
// times the running prediction error, at least 200 ns, plus the sample's
// own uncertainty) are outliers and left out; four consecutive outliers that
// agree with each other mean the reference moved: the window restarts on
// them (a "resync"), and if they are off by more than the step threshold
// the reference is taken to have stepped. After a gap in the samples the
// gate widens by the drift the gap allows, and the first sample back
// restarts the window at the old rate.
//
// Times: ticks are the counter's raw value; reference times are integer
// nanoseconds on a continuous scale (TAI, no leap seconds). Internally
// everything is relative to the newest sample, so doubles keep
// sub-nanosecond resolution whatever the absolute values.
//
// Thread-compatible: used by the control thread only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tachyon::clock {

struct ServoSample {
  uint64_t ticks = 0;          // the counter at the sample's instant
  int64_t ref_ns = 0;          // the reference at that instant (continuous scale)
  int64_t uncertainty_ns = 0;  // half-width of the sample's sandwich
};

enum class ServoVerdict : uint8_t {
  kAccepted,  // used
  kOutlier,   // off the prediction by more than the gate: left out
  kResync,    // the window restarted (after a gap, or on consistent outliers)
  kStep,      // a resync by more than the step threshold: the reference stepped
};

struct ServoOptions {
  double nominal_hz = 1e9;                // the counter's nominal rate
  int64_t step_threshold_ns = 1'000'000;  // a resync by more than this is a step
  double gap_drift_ppm = 15;              // drift a gap in the samples may explain (widens the gate)
};

class Servo {
 public:
  explicit Servo(const ServoOptions& options);

  ServoVerdict add(const ServoSample& s);

  // At least one sample accepted: predict() and rate are usable.
  bool ready() const noexcept { return count_ > 0; }
  // Samples in the window behind the estimate.
  size_t window() const noexcept;
  size_t samples_held() const noexcept { return count_; }

  // The reference at `ticks`: whole nanoseconds plus a fraction in [0, 1).
  // REQUIRES: ready().
  struct Prediction {
    int64_t ns = 0;
    double frac_ns = 0;
  };
  Prediction predict(uint64_t ticks) const noexcept;
  // Estimated counter rate in ticks per second of the reference.
  double rate_hz() const noexcept { return 1e9 / (nominal_ns_per_tick_ + fit_.b); }
  // RMS of recent prediction errors one sample ahead (ns): the servo's own
  // error estimate. Before it knows, a conservative guess.
  double error_ns() const noexcept;
  // Reference - prediction of the last sample given to add(), accepted or not.
  int64_t last_residual_ns() const noexcept { return last_residual_ns_; }
  // How far the reference moved at the last kResync/kStep.
  int64_t last_jump_ns() const noexcept { return last_jump_ns_; }
  uint64_t last_accepted_ticks() const noexcept { return last_accepted_ticks_; }

 private:
  // ref(t) = ref0 + dx * nominal + a + b * dx, dx = t - ticks0 in ticks.
  struct Fit {
    bool valid = false;
    uint64_t ticks0 = 0;
    int64_t ref0 = 0;
    double a = 0;  // ns
    double b = 0;  // ns per tick, on top of the nominal
  };
  static constexpr size_t kCapacity = 128;
  static constexpr std::array<size_t, 5> kSizes = {8, 16, 32, 64, 128};

  const ServoSample& nth_newest(size_t i) const noexcept;  // 0: newest
  void push(const ServoSample& s) noexcept;
  Fit fit_last(size_t n, bool free_slope) const noexcept;
  double residual(const Fit& f, const ServoSample& s) const noexcept;
  void refit() noexcept;
  void restart(const std::vector<ServoSample>& samples, bool free_slope) noexcept;
  double gate_ns(const ServoSample& s) const noexcept;

  ServoOptions options_;
  double nominal_ns_per_tick_;
  std::array<ServoSample, kCapacity> ring_{};
  size_t next_ = 0;   // where the next sample goes
  size_t count_ = 0;  // samples held
  Fit fit_;           // the estimate
  size_t selected_ = 0;  // index into kSizes, or kSizes.size() while bootstrapping
  std::array<Fit, kSizes.size()> size_fits_{};
  std::array<double, kSizes.size()> size_err_{};  // EWMA of squared prediction errors
  std::array<bool, kSizes.size()> size_err_set_{};
  bool bootstrap_free_slope_ = true;  // below 8 samples: fit the slope (no trusted rate yet)
  double err2_ = -1;                  // EWMA of squared prediction errors of fit_; <0: unknown
  std::vector<ServoSample> pending_;  // consecutive outliers
  int64_t last_residual_ns_ = 0;
  int64_t last_jump_ns_ = 0;
  uint64_t last_accepted_ticks_ = 0;
};

}  // namespace tachyon::clock
