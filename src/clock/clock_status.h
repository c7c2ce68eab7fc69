// What the control thread knows about the timescale, for operators: the
// stats endpoint (/metrics, /status), mode 6 system variables (ntpq) and the
// log read it. Produced by the clock control on every update; a plain value.
#pragma once

#include <cstdint>
#include <string>

#include "core/ntp_packet.h"

namespace tachyon::clock {

enum class ReferenceState : uint8_t {
  kStarting,        // no usable sample yet
  kSynchronized,    // samples arrive and pass their checks
  kHoldover,        // samples stopped or fail: serving on the last model, dispersion growing
  kUnsynchronized,  // holdover limit passed, or the reference says unsynchronized: LI=3, stratum 16
  kLocalOverride,   // reference.local_stratum in effect (kernel clock unsynchronized)
};

inline const char* reference_state_name(ReferenceState s) noexcept {
  switch (s) {
    case ReferenceState::kStarting: return "starting";
    case ReferenceState::kSynchronized: return "synchronized";
    case ReferenceState::kHoldover: return "holdover";
    case ReferenceState::kUnsynchronized: return "unsynchronized";
    case ReferenceState::kLocalOverride: return "local";
  }
  return "unknown";
}

struct ClockStatus {
  std::string source = "system";  // reference.source
  ReferenceState state = ReferenceState::kStarting;
  uint8_t stratum = 16;            // as announced now
  uint32_t refid = 0;
  int8_t precision = 0;            // log2 seconds
  int64_t root_delay_ns = 0;
  int64_t root_dispersion_ns = 0;
  core::Leap leap = core::Leap::kUnsync;  // as announced now
  int64_t offset_ns = 0;           // last measured reference - model
  double frequency_ppm = 0;        // tick source rate error vs its nominal rate
  int64_t last_sample_unix_ns = 0; // when the last good sample was taken (0: never)
  uint64_t samples = 0;            // good samples
  uint64_t samples_rejected = 0;   // samples that failed a quality check
  uint64_t steps = 0;              // steps of the reference taken
  int tai_offset_s = 0;            // TAI - UTC, 0 when unknown
  bool leap_smear = false;         // smearing now
  int64_t smear_offset_ns = 0;     // current smear correction
  std::string leap_file;           // path of the leap-seconds file in use ("" if none)
  int64_t leap_file_expiry_unix = 0;
  bool leap_file_expired = false;  // past its "#@" expiry (still used; logged)
  int64_t next_leap_unix = 0;      // 00:00:00 UTC after the next known leap second (0: none)
  int next_leap_step = 0;          // +1 inserted, -1 deleted
  std::string reference;           // the source as described in the log ("PHC /dev/ptp0 (...)")
  int64_t error_ns = 0;            // the servo's RMS prediction error
  uint32_t window = 0;             // samples in the servo's regression window
  int64_t holdover_ns = 0;         // time since the last good sample
  uint64_t source_errors = 0;      // samples the reference could not deliver (read errors)
  std::string last_error;          // the last such error ("" if none)
};

}  // namespace tachyon::clock
