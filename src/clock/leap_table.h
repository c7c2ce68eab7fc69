// TAI - UTC over time and the leap seconds that change it, read from an
// IERS leap-seconds.list file (the copy tzdata installs as
// /usr/share/zoneinfo/leap-seconds.list).
//
// The file's data lines give, for each change, the NTP second (since 1900)
// from which a new TAI - UTC holds; "#$" is when the file was last updated,
// "#@" when it expires, "#h" the SHA-1 of the digits of those two values and
// of the first two fields of every data line. load() refuses a file whose
// hash does not match; an expired file still loads (the caller warns).
//
// Times are Unix seconds/nanoseconds on the UTC scale ("utc") or on a
// continuous TAI scale counted from 1970 ("tai" = utc + TAI - UTC), the
// scale the servo works in.
//
// Thread-compatible value type: built by the control thread at start-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tachyon::clock {

struct LeapSecond {
  int64_t utc_s = 0;      // Unix time of 00:00:00 UTC right after the leap
  int tai_utc_before = 0; // TAI - UTC before it
  int tai_utc_after = 0;  // and from utc_s on

  int step() const noexcept { return tai_utc_after - tai_utc_before; }  // +1 inserted, -1 deleted
  // The TAI instant at which a clock kept as TAI - tai_utc_before reaches
  // 23:59:60 (inserted second: 23:59:59 is repeated from here) or 23:59:59
  // (deleted second: the clock jumps to 00:00:00 here).
  int64_t tai_event_s() const noexcept { return utc_s + tai_utc_before - (step() < 0 ? 1 : 0); }
  friend bool operator==(const LeapSecond&, const LeapSecond&) = default;
};

class LeapTable {
 public:
  // A table without a file: TAI - UTC is `tai_utc` at all times (0: unknown,
  // which still keeps the continuous scale continuous across the leaps
  // added later with add()).
  static LeapTable fixed(int tai_utc);
  // Reads and checks a leap-seconds.list file. Errors name the file and line.
  static Result<LeapTable> load(const std::string& path);
  static Result<LeapTable> parse(std::string_view text, const std::string& name);

  // TAI - UTC at a UTC instant (Unix ns); the new value holds from the
  // leap's utc_s on.
  int tai_utc_at_utc(int64_t utc_ns) const noexcept;
  // TAI - UTC at an instant of the continuous scale; switches at the leap's
  // tai_event_s().
  int tai_utc_at_tai(int64_t tai_ns) const noexcept;
  // The first leap whose event is after `tai_ns`, if the table has one.
  std::optional<LeapSecond> next_leap(int64_t tai_ns) const noexcept;
  // The last leap whose event is at or before `tai_ns`.
  std::optional<LeapSecond> previous_leap(int64_t tai_ns) const noexcept;

  // Adds a leap the table does not have (e.g. announced by the kernel's
  // STA_INS/STA_DEL at the next midnight); later offsets shift with it.
  // Ignored if the table already has a leap at that instant.
  void add(int64_t utc_s, int step);

  bool from_file() const noexcept { return !path_.empty(); }
  const std::string& path() const noexcept { return path_; }
  int64_t updated_unix() const noexcept { return updated_unix_; }  // "#$", 0 without a file
  int64_t expiry_unix() const noexcept { return expiry_unix_; }    // "#@", 0 without a file
  bool expired(int64_t now_unix_s) const noexcept { return from_file() && now_unix_s >= expiry_unix_; }
  int latest_tai_utc() const noexcept;  // TAI - UTC after the table's last leap
  const std::vector<LeapSecond>& leaps() const noexcept { return leaps_; }

 private:
  int initial_ = 0;                // TAI - UTC before the first leap
  std::vector<LeapSecond> leaps_;  // ordered by utc_s
  std::string path_;
  int64_t updated_unix_ = 0;
  int64_t expiry_unix_ = 0;
};

}  // namespace tachyon::clock
