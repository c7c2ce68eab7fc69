// The clock model: how a worker turns its raw time (TSC ticks for software
// timestamps, NIC clock ticks for hardware timestamps) into NTP time, plus
// the header fields every answer carries. The control thread computes a new
// model from its reference (see clock/clock_control.h) and publishes it;
// workers read one snapshot per burst.
//
// ClockModel is trivially copyable and small (about 140 bytes): a worker
// copies it once per burst.
//
// Thread safety: ClockModel is an immutable value. ClockPublisher has one
// writer (the control thread) and any number of readers (workers); readers
// never block the writer, never take a lock, and never see a torn model
// (a seqlock over relaxed atomic words: standard C++, TSan-clean).
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/ntp_time.h"
#include "core/seqlock.h"
#include "core/server_state.h"

namespace tachyon::core {

__extension__ using int128 = __int128;

// ntp(ticks) = base_ntp + (ticks - base_ticks) * mult / 2^32 [+ leap_ntp
// from leap_ticks on], where mult is the rate in NTP units (2^-32 s) per tick
// as 32.32 fixed point. The product is computed in 128 bits, so any delta
// (before or after the base) maps exactly; NTP time wraps modulo 2^64 like
// the wire format does.
//
// A map may carry one leap second: from the tick `leap_ticks` on, `leap_ntp`
// (-2^32 for an inserted second, +2^32 for a deleted one) is added, so a
// worker holding a model published before the leap applies it at exactly
// the right tick, without the control thread racing the boundary. The cost
// is a subtract, a shift, an and and an add; leap_ntp = 0 means no leap.
struct TimeMap {
  uint64_t base_ticks = 0;
  uint64_t base_ntp = 0;  // NtpTimestamp::raw at base_ticks
  uint64_t mult = 0;      // 0: the map is not valid
  uint64_t leap_ticks = 0;
  int64_t leap_ntp = 0;   // NTP units added from leap_ticks on; 0: no leap

  static constexpr int64_t kInsertSecond = -(int64_t{1} << 32);
  static constexpr int64_t kDeleteSecond = int64_t{1} << 32;

  bool valid() const noexcept { return mult != 0; }

  NtpTimestamp to_ntp(uint64_t ticks) const noexcept {
    const auto delta = static_cast<int64_t>(ticks - base_ticks);
    const int128 scaled = (static_cast<int128>(delta) * static_cast<int128>(mult)) >> 32;
    // Signed distance: ticks before the leap, also those before the base,
    // get no correction. Branch-free: the sign bit spread into a mask.
    const uint64_t before_leap = static_cast<uint64_t>(static_cast<int64_t>(ticks - leap_ticks) >> 63);
    const uint64_t leap = static_cast<uint64_t>(leap_ntp) & ~before_leap;
    return NtpTimestamp{base_ntp + static_cast<uint64_t>(static_cast<int64_t>(scaled)) + leap};
  }

  // Rate in ticks per second as a multiplier. REQUIRES: ticks_per_second > 0.
  static uint64_t mult_for_rate(double ticks_per_second) noexcept {
    // 2^64 / rate: NTP units per tick in 32.32.
    return static_cast<uint64_t>(18446744073709551616.0 / ticks_per_second + 0.5);
  }
  static TimeMap at(uint64_t base_ticks, NtpTimestamp base, double ticks_per_second) noexcept {
    return TimeMap{base_ticks, base.raw, mult_for_rate(ticks_per_second), 0, 0};
  }
  // This map with a leap second at `ticks`. REQUIRES: `ticks` after
  // base_ticks (less than 2^63 ticks ahead).
  TimeMap with_leap(uint64_t ticks, int64_t leap) const noexcept {
    TimeMap m = *this;
    m.leap_ticks = ticks;
    m.leap_ntp = leap;
    return m;
  }
  double ticks_per_second() const noexcept { return 18446744073709551616.0 / static_cast<double>(mult); }
};

// What the NIC's per-packet RX timestamps count.
enum class HwClock : uint8_t {
  kNone,          // no hardware timestamps: software (TSC) timestamps only
  kUnixMicros,    // microseconds since the Unix epoch (net_pcap replays)
  kUnixNanos,     // nanoseconds since the Unix epoch (NIC clock kept on UTC/TAI)
  kRawTicks,      // free-running NIC ticks, mapped by calibration
};

struct ClockModel {
  TimeMap tsc;             // TSC -> NTP (software timestamps)
  TimeMap nic;             // NIC timestamp -> NTP (hardware timestamps); invalid if none
  AnswerTemplate answer;   // header fields of every answer
  uint64_t generation = 0; // incremented by every publication
};
static_assert(std::is_trivially_copyable_v<ClockModel>);
static_assert(sizeof(ClockModel) <= 192, "workers copy the model once per burst: keep it small");

// The control thread's single-writer publication of the model to the
// workers: a SeqlockCell (core/seqlock.h) under the clock's vocabulary.
class ClockPublisher {
 public:
  ClockPublisher() noexcept = default;  // publishes ClockModel{}
  explicit ClockPublisher(const ClockModel& m) noexcept : cell_(m) {}

  // REQUIRES: a single writer thread.
  void publish(const ClockModel& m) noexcept { cell_.write(m); }
  // Retries only while a publication (a few dozen stores, every few
  // hundred ms) is in flight.
  ClockModel read() const noexcept { return cell_.read(); }
  // A worker's cached model, copied again only after a publication (see
  // SeqlockCell::refresh); `seen` starts at kNeverSeen.
  static constexpr uint64_t kNeverSeen = SeqlockCell<ClockModel>::kNeverSeen;
  bool refresh(ClockModel& m, uint64_t& seen) const noexcept { return cell_.refresh(m, seen); }
  uint64_t sequence() const noexcept { return cell_.sequence(); }

 private:
  SeqlockCell<ClockModel> cell_;
};

}  // namespace tachyon::core
