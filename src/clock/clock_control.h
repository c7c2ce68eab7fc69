// The discipline: turns a reference source's samples into the ClockModel
// workers stamp packets with, and into the header fields that tell clients
// the truth about it.
//
// Every update() (the daemon calls it every 100 ms):
//   1. samples the reference (quality checks: sandwich width, then the
//      servo's outlier gate, steps; see servo.h) and, with raw NIC
//      timestamps, the NIC's tick counter;
//   2. runs the state machine: starting -> synchronized -> holdover (no
//      good sample for a second; root dispersion keeps growing at
//      holdover_dispersion_ppm) -> unsynchronized (past holdover_limit, or
//      the reference itself says so: LI=3, stratum 16), and back by itself
//      when samples return;
//   3. builds the model: the servo's line from ticks to TAI, minus TAI - UTC
//      from the leap table, with the next leap second inside the map (a
//      worker applies it at exactly the right tick: see core::TimeMap) or,
//      with leap smearing, a 24-hour linear smear centred on it.
//
// The servo never touches a clock; neither does this class. State changes,
// steps and source errors become events (take_events()), each once, which
// the daemon logs.
//
// Thread-compatible: used by the control thread only; status() is a copy
// the caller publishes to other threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clock/clock_sources.h"
#include "clock/clock_status.h"
#include "clock/leap_table.h"
#include "clock/nic_source.h"
#include "clock/reference_source.h"
#include "clock/servo.h"
#include "core/clock_model.h"

namespace tachyon::clock {

struct ClockControlOptions {
  std::string source_name = "system";  // reference.source, for status
  uint8_t stratum = 2;                 // announced while synchronized or in holdover
  uint32_t refid = 0;                  // 0: default_refid (or "LOCL" under the local override)
  uint32_t default_refid = core::refid_from_ascii("SYS\0");
  uint8_t local_stratum = 0;           // >0: serve at this stratum when the reference says unsynchronized
  core::HwClock hw_clock = core::HwClock::kNone;
  double holdover_dispersion_ppm = 15;            // RFC 5905's PHI
  int64_t holdover_limit_ns = 3'600'000'000'000;  // then LI=3, stratum 16
  int64_t holdover_after_ns = 1'000'000'000;      // no good sample for this long: holdover
  int64_t step_threshold_ns = 1'000'000;
  bool leap_smear = false;
};

struct ClockEvent {
  enum class Level : uint8_t { kInfo, kWarning, kError };
  Level level = Level::kInfo;
  std::string message;
};

class ClockControl {
 public:
  // `nic` (may be null): the port's clock, for HwClock::kRawTicks.
  ClockControl(const ClockControlOptions& options, TickSource& ticks, ReferenceSource& source, LeapTable leaps,
               NicClock* nic = nullptr);

  // Samples, disciplines and returns the next model (generation not set).
  core::ClockModel update();

  const ClockStatus& status() const noexcept { return status_; }
  ReferenceState state() const noexcept { return state_; }
  // What happened since the last call, to be logged once each.
  std::vector<ClockEvent> take_events();
  // log2 of the timestamp precision in seconds: the larger of the tick
  // period and the cost of reading the ticks, measured (RFC 5905 7.3).
  int8_t precision() const noexcept { return precision_; }
  // Time until the next leap second or smear boundary, if it comes within
  // `horizon_ns`: the caller publishes a new model right after it, so the
  // leap indicator clears (and a smear's rate changes) on time.
  std::optional<int64_t> next_boundary_in_ns(int64_t horizon_ns) const;
  const Servo& servo() const noexcept { return servo_; }
  const LeapTable& leaps() const noexcept { return leaps_; }
  // A reloaded leap-seconds table, taken only if it agrees with the one in
  // use on TAI - UTC now (else the served time would jump by seconds;
  // that takes a restart). Leaps the kernel announced are kept. Returns ""
  // or why the table was refused.
  std::string replace_leaps(LeapTable next);

 private:
  // How the served timescale relates to the continuous one at an instant.
  struct Served {
    int64_t ns = 0;           // served UTC (smeared if smearing), ns since 1970
    double frac_ns = 0;       // and the fraction of a ns
    double rate_factor = 1;   // served seconds per reference second (smear slope)
    core::Leap leap = core::Leap::kNone;
    std::optional<int64_t> leap_event_tai_ns;  // announced leap: step here
    int64_t leap_step_ntp = 0;
    bool smearing = false;
    int64_t smear_ns = 0;     // correction applied (served = UTC before the leap - smear)
    int tai_utc = 0;
  };
  Served served_at(int64_t tai_ns, double frac_ns) const;
  core::TimeMap map_for(const Servo& servo, uint64_t base_ticks, Served* served) const;

  void sample_reference();
  void note_kernel_leap(const ReferenceStatus& rs);
  void calibrate_nic();
  void update_state(uint64_t now, const ReferenceStatus& rs);
  void fill_status(const core::ServerState& st, const Served& served, const ReferenceStatus& rs, uint64_t now);
  bool width_ok(int64_t uncertainty_ns);
  int64_t age_ns(uint64_t now) const noexcept;
  void event(ClockEvent::Level level, std::string message);

  ClockControlOptions options_;
  TickSource& ticks_;
  ReferenceSource& source_;
  LeapTable leaps_;
  NicClock* nic_;
  Servo servo_;
  std::unique_ptr<Servo> nic_servo_;
  int8_t precision_;
  // Why the state is what it is, where that differs (unsynchronized).
  enum class Why : uint8_t { kNone, kHoldoverLimit, kReferenceSaysSo };
  ReferenceState state_ = ReferenceState::kStarting;
  Why why_ = Why::kNone;
  ClockStatus status_;
  std::vector<ClockEvent> events_;

  uint64_t good_samples_ = 0;
  uint64_t rejected_samples_ = 0;
  uint64_t steps_ = 0;
  uint64_t source_errors_ = 0;
  std::string last_error_;
  bool failing_ = false;
  bool nic_failing_ = false;
  int64_t last_uncertainty_ns_ = 0;
  int64_t last_good_utc_ns_ = 0;   // reference time of the last good sample, on the UTC scale
  int64_t last_sample_utc_ns_ = 0; // of the last sample read (good or not)
  std::vector<int64_t> recent_uncertainty_;  // ring for the sandwich-width check
  size_t recent_next_ = 0;
  std::optional<ServoSample> nic_first_;  // until the NIC's rate is known
  uint64_t nic_last_ticks_ = 0;
  bool was_smearing_ = false;
  core::Leap announced_ = core::Leap::kNone;
  std::optional<int> last_tai_utc_;
  bool expiry_warned_ = false;
  bool odd_kernel_leap_warned_ = false;
};

// The precision of timestamps taken with `ticks`, measured.
int8_t measure_precision(TickSource& ticks);

// ntpd's reference ID while smearing: 254.x.y.z, with the correction's two
// integer bits and 22 fraction bits in x.y.z.
uint32_t smear_refid(int64_t smear_ns) noexcept;

}  // namespace tachyon::clock
