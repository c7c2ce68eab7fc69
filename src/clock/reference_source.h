// A reference source: where the served time comes from. Each sample pairs
// a reading of the tick source (the TSC) with the reference's time at the
// same instant; the servo (servo.h) turns samples into a clock model.
//
// Implementations: SystemSource (CLOCK_REALTIME + adjtimex), PhcSource (a
// PTP hardware clock, /dev/ptpN) and NicSource (the DPDK port's clock).
// Tests implement the interface with simulated clocks and faults.
//
// Thread-compatible: used by the control thread only. Never on the
// per-packet path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace tachyon::clock {

// How the reference counts time.
enum class Timescale : uint8_t {
  kUtc,  // Unix time: leap seconds applied by the reference (the kernel's CLOCK_REALTIME)
  kTai,  // TAI since 1970, no leap seconds (PTP's timescale: ptp4l keeps PHCs on it)
};

struct ReferenceSample {
  uint64_t ticks = 0;          // the tick source at the reference instant (midpoint of the sandwich)
  int64_t time_ns = 0;         // the reference at that instant, ns since 1970 on its timescale
  int64_t uncertainty_ns = 0;  // half the width of the sandwich: how well the two are paired
};

// What the reference says about itself.
struct ReferenceStatus {
  bool synchronized = true;        // false: the reference itself says its time is not to be trusted
  int64_t root_delay_ns = 0;       // its own root delay (RFC 5905), if it knows one
  int64_t root_dispersion_ns = 0;  // its own error bound (the kernel's maxerror for the system clock)
  int leap = 0;                    // announced leap at the next UTC midnight: +1 insert, -1 delete
  int tai_offset_s = 0;            // TAI - UTC as the reference knows it; 0: unknown
};

class ReferenceSource {
 public:
  virtual ~ReferenceSource() = default;
  // One sample: the tightest of a few sandwiches. An error (with a message
  // naming the device and the failing call) when the reference cannot be read.
  virtual Result<ReferenceSample> sample() = 0;
  virtual ReferenceStatus status() = 0;
  virtual Timescale timescale() const = 0;
  // For logs and status: "system clock", "PHC /dev/ptp0 (PTP_SYS_OFFSET_EXTENDED)".
  virtual std::string describe() const = 0;
  // Things worth one log line that happened since the last call (e.g. a PHC
  // falling back to an older ioctl). The caller logs them.
  virtual std::vector<std::string> take_notes() { return {}; }
};

}  // namespace tachyon::clock
