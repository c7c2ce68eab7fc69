// The clocks the control thread reads, behind small interfaces so that the
// discipline can be tested against simulated clocks and faults. Control
// path only: none of this runs per packet.
#pragma once

#include <cstdint>

namespace tachyon::clock {

// A free-running counter: the TSC in production.
class TickSource {
 public:
  virtual ~TickSource() = default;
  virtual uint64_t now() noexcept = 0;
  virtual double nominal_hz() const noexcept = 0;
};

// What adjtimex() says about the system clock.
struct KernelStatus {
  bool synchronized = false;  // STA_UNSYNC clear
  int64_t max_error_ns = 0;   // maxerror
  int64_t est_error_ns = 0;   // esterror
  int leap = 0;               // 0 none, +1 insert, -1 delete at the next midnight (STA_INS/STA_DEL)
  int tai_offset_s = 0;       // the kernel's TAI-UTC, 0 if unset
};

// CLOCK_REALTIME and adjtimex().
class KernelClock {
 public:
  virtual ~KernelClock() = default;
  virtual int64_t realtime_ns() noexcept = 0;
  virtual KernelStatus status() noexcept = 0;
};

// The real ones.
class SystemKernelClock final : public KernelClock {
 public:
  int64_t realtime_ns() noexcept override;
  KernelStatus status() noexcept override;
};

}  // namespace tachyon::clock
