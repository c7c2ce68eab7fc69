// Which rate each step of a run offers, and when the run is over.
//
// Fixed: one step at --rate. Ramp (as ntpperf does): steps at start_rate,
// start_rate * multiplier, ... until a step fails, i.e. more than
// max_loss_pct % of its requests got no usable time answer (lost, invalid,
// Kiss-o'-Death); then optionally `bisect` more steps between the last
// step that passed and the first that failed (geometric midpoints). The
// result is the maximum loss-free rate: the highest rate actually sent in
// a step that passed.
//
// A ramp also ends when the generator could not send at the offered rate
// (then the server was not the limit, and the result is a lower bound), or
// at max_rate. A step that passed but fell short of its rate (below 97 %)
// ends the ramp only if it also sent no more than the best step before it
// (less than half the multiplier's growth), after being run again at the
// same rate up to generator_retries times in a row. On a shared or virtual
// machine stalls of the generator's CPU cost every step a few percent of
// its rate, which says nothing about what the generator can send: as long
// as each step still sends clearly more than the last, the server is being
// loaded harder and the ramp goes on. A step that passed while the port
// refused requests (back pressure: over memif, a saturated server's ring
// is full, and nothing is lost) ends the ramp at the server's limit, after
// the same retries (the server's CPU can stall too). With loss_retries, a
// step that failed is run again at the same rate up to that many times, and
// counts as failed only if every run of it failed: on a virtual machine one
// stall of either CPU for tens of milliseconds loses a whole step's margin,
// and ends a ramp far below what the server sustains (a retry that passed
// sent that rate for a whole step without loss). Limits of the whole
// run (duration, count, Ctrl-C) are the caller's: it simply stops asking
// for steps.
//
// Pure logic, no clock: thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace tachyon::gen {

enum class StepKind : uint8_t { kFixed, kRamp, kBisect, kRetry };
const char* step_kind_name(StepKind k) noexcept;

enum class StopReason : uint8_t {
  kNone,            // still running
  kCompleted,       // the fixed-rate step ran to its end
  kLoss,            // a ramp step failed (after bisecting, if asked)
  kGeneratorLimit,  // the generator could not send at the offered rate
  kBackPressure,    // the port refused requests: the server (or link) took no more
  kMaxRate,         // the ramp reached --max-rate without failing
  kMaxSteps,        // safety bound on the number of ramp steps
  kDuration,        // --duration ran out
  kCount,           // --count requests were sent
  kInterrupted,     // SIGINT / SIGTERM
  kLinkDown,        // the port's link went down
};
const char* stop_reason_name(StopReason r) noexcept;         // "loss"
const char* stop_reason_description(StopReason r) noexcept;  // for humans

struct RampOptions {
  double start_rate = 10'000;
  double multiplier = 1.5;
  double max_loss_pct = 0.1;
  double max_rate = 0;  // 0: no limit
  unsigned bisect = 0;
  unsigned max_steps = 64;
  unsigned generator_retries = 2;  // a short or pushed-back step is run again this often before the ramp ends
  unsigned loss_retries = 0;       // a failed step is run again this often before it counts as failed
};

struct PlannedStep {
  double rate = 0;  // requests/s; 0: as fast as the generator can
  StepKind kind = StepKind::kFixed;
};

// What a finished step did.
struct StepOutcome {
  double offered_rate = 0;
  double sent_rate = 0;
  double failed_pct = 0;           // requests without a usable answer, in % of those sent
  bool generator_limited = false;  // sent clearly below the offered rate
  bool back_pressure = false;      // the port refused requests (the server's limit)
};

class RatePlan {
 public:
  static RatePlan fixed(double rate, double max_loss_pct);
  static RatePlan ramp(const RampOptions& options);

  // The next step, or nothing once the plan is over (see stop_reason()).
  std::optional<PlannedStep> next();
  // The outcome of the step next() returned last.
  void record(const StepOutcome& outcome);

  bool passed(const StepOutcome& o) const noexcept { return o.failed_pct <= options_.max_loss_pct; }
  StopReason stop_reason() const noexcept { return stop_; }
  bool is_ramp() const noexcept { return ramp_; }
  // The highest sent rate of a step that passed.
  std::optional<double> max_loss_free_rate() const;
  const std::vector<StepOutcome>& outcomes() const noexcept { return outcomes_; }

 private:
  std::optional<PlannedStep> stop(StopReason r) {
    stop_ = r;
    return std::nullopt;
  }
  // After a step that passed but was generator-limited or pushed back:
  // the same rate again while retries are left, else the end of the ramp.
  std::optional<PlannedStep> retry_or_stop(const StepOutcome& last, StopReason reason);

  RampOptions options_;
  bool ramp_ = false;
  bool bisecting_ = false;
  unsigned bisect_left_ = 0;
  unsigned retries_left_ = 0;       // for the current rate
  unsigned loss_retries_left_ = 0;  // likewise
  double best_sent_ = 0;            // highest sent rate of a step that passed
  double good_ = 0;  // highest offered rate that passed
  double bad_ = 0;   // lowest offered rate that failed
  StopReason stop_ = StopReason::kNone;
  std::vector<StepOutcome> outcomes_;
  std::vector<PlannedStep> planned_;
};

// Pacing: the most requests a worker sends at once to catch up after it
// fell behind its schedule at `rate` requests/s (rate <= 0: as fast as it
// can): what falls due in kCatchUpSeconds plus `yield_s` (a worker that
// yields its CPU every --yield-us lets the kernel's softirq work, which
// moves its own frames on a veth, run for up to that long: what fell due
// meanwhile goes out when it is back), at least kMinCatchUp (a few late
// requests together are harmless) and `burst` (--burst), at most
// kMaxCatchUp. The overdue rest is skipped and counted, so a stall of the
// generator's CPU never reaches the server as a burst real clients would
// not send (at 100k/s a 1 ms stall would otherwise arrive as 100 requests
// in four bursts).
inline constexpr double kCatchUpSeconds = 20e-6;
inline constexpr uint64_t kMinCatchUp = 4;
inline constexpr uint64_t kMaxCatchUp = 128;
uint64_t catch_up_limit(double rate, uint16_t burst, double yield_s = 0) noexcept;

}  // namespace tachyon::gen
