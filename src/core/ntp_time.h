// NTP time formats (RFC 5905, section 6) and their conversion to a signed
// 64-bit count of nanoseconds since the Unix epoch, the time unit used
// everywhere else in Tachyon.
//
// The 64-bit timestamp format carries seconds modulo 2^32: era 0 ends on
// 2036-02-07 06:28:16 UTC and era 1 starts there. A timestamp alone therefore
// does not name an instant; it is resolved against a pivot (usually "now"),
// choosing the era that puts it within 68 years of the pivot. Conversion to
// the wire format simply drops the era, as RFC 5905 prescribes.
//
// Everything here is constexpr, allocation-free and thread-compatible.
#pragma once

#include <cstdint>

namespace tachyon::core {

// Seconds from 1900-01-01 (NTP prime epoch) to 1970-01-01 (Unix epoch).
inline constexpr int64_t kNtpToUnixSeconds = 2'208'988'800;
inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

// The 64-bit NTP timestamp: 32 bits of seconds (mod 2^32) and 32 bits of
// fraction. `raw` is the host-order value of the big-endian wire field.
struct NtpTimestamp {
  uint64_t raw = 0;

  constexpr uint32_t seconds() const noexcept { return static_cast<uint32_t>(raw >> 32); }
  constexpr uint32_t fraction() const noexcept { return static_cast<uint32_t>(raw); }
  constexpr bool is_zero() const noexcept { return raw == 0; }
  static constexpr NtpTimestamp from_parts(uint32_t sec, uint32_t frac) noexcept {
    return NtpTimestamp{(uint64_t{sec} << 32) | frac};
  }
  friend constexpr bool operator==(NtpTimestamp, NtpTimestamp) = default;
};

// The 32-bit NTP short format: 16 bits of seconds, 16 bits of fraction. Used
// for root delay and root dispersion.
struct NtpShort {
  uint32_t raw = 0;
  friend constexpr bool operator==(NtpShort, NtpShort) = default;
};

// Fraction of a second in units of 2^-32 s from nanoseconds in [0, 1e9),
// rounded to nearest.
constexpr uint32_t fraction_from_nanos(uint32_t ns) noexcept {
  return static_cast<uint32_t>(((uint64_t{ns} << 32) + kNanosPerSecond / 2) / kNanosPerSecond);
}

// Nanoseconds in [0, 1e9] from a 2^-32 s fraction, rounded to nearest.
constexpr uint32_t nanos_from_fraction(uint32_t frac) noexcept {
  return static_cast<uint32_t>((uint64_t{frac} * kNanosPerSecond + (uint64_t{1} << 31)) >> 32);
}

// Unix nanoseconds -> wire timestamp (the era is dropped).
constexpr NtpTimestamp ntp_from_unix_nanos(int64_t unix_ns) noexcept {
  // Floor division so that instants before 1970 convert correctly as well.
  int64_t sec = unix_ns / kNanosPerSecond;
  int64_t ns = unix_ns % kNanosPerSecond;
  if (ns < 0) {
    ns += kNanosPerSecond;
    sec -= 1;
  }
  const auto ntp_sec = static_cast<uint64_t>(sec + kNtpToUnixSeconds);
  uint64_t frac = ((static_cast<uint64_t>(ns) << 32) + kNanosPerSecond / 2) / kNanosPerSecond;
  // Rounding may carry into the seconds (ns close to 1e9).
  return NtpTimestamp{(ntp_sec << 32) + frac};
}

// Signed difference a - b of two wire timestamps as nanoseconds, valid when
// the two instants are less than 68 years apart (whatever their eras).
// `t` plus `ns` nanoseconds. REQUIRES: 0 <= ns < 2^32 (about 4.3 s).
constexpr NtpTimestamp ntp_add_nanos(NtpTimestamp t, uint64_t ns) noexcept {
  constexpr uint64_t kPerSecond = static_cast<uint64_t>(kNanosPerSecond);
  return NtpTimestamp{t.raw + ((ns << 32) + kPerSecond / 2) / kPerSecond};
}

constexpr int64_t ntp_diff_nanos(NtpTimestamp a, NtpTimestamp b) noexcept {
  const auto delta = static_cast<int64_t>(a.raw - b.raw);  // signed 32.32
  const int64_t sec = delta >> 32;                          // floor
  const auto frac = static_cast<uint32_t>(delta & 0xffff'ffff);
  return sec * kNanosPerSecond + nanos_from_fraction(frac);
}

// Wire timestamp -> Unix nanoseconds, choosing the era that puts the result
// within 68 years of `pivot_unix_ns`.
constexpr int64_t unix_nanos_from_ntp(NtpTimestamp ts, int64_t pivot_unix_ns) noexcept {
  return pivot_unix_ns + ntp_diff_nanos(ts, ntp_from_unix_nanos(pivot_unix_ns));
}

// Era number (0 for 1900-2036, 1 for 2036-2172, ...) of a Unix-nanosecond
// instant, as RFC 5905 section 6 defines it.
constexpr int64_t ntp_era(int64_t unix_ns) noexcept {
  int64_t sec = unix_ns / kNanosPerSecond;
  if (unix_ns % kNanosPerSecond < 0) sec -= 1;
  const int64_t ntp_sec = sec + kNtpToUnixSeconds;
  return ntp_sec >= 0 ? ntp_sec >> 32 : -((-ntp_sec + 0xffff'ffff) >> 32);
}

// Nanoseconds -> NTP short format, saturating at the format's range
// [0, 65536 s). Negative durations become 0.
constexpr NtpShort ntp_short_from_nanos(int64_t ns) noexcept {
  if (ns <= 0) return NtpShort{0};
  if (ns >= int64_t{65536} * kNanosPerSecond) return NtpShort{0xffff'ffff};
  const auto u = static_cast<uint64_t>(ns);
  // ns * 2^16 / 1e9, rounded up: an error bound must never be understated.
  const uint64_t v = ((u << 16) + kNanosPerSecond - 1) / kNanosPerSecond;
  return NtpShort{v > 0xffff'ffff ? 0xffff'ffffu : static_cast<uint32_t>(v)};
}

constexpr int64_t nanos_from_ntp_short(NtpShort s) noexcept {
  return static_cast<int64_t>((uint64_t{s.raw} * kNanosPerSecond) >> 16);
}

// The reference ID carries four ASCII characters for stratum 0/1 (kiss codes,
// reference clock names) and an address hash otherwise.
constexpr uint32_t refid_from_ascii(const char (&s)[5]) noexcept {
  return (uint32_t{static_cast<uint8_t>(s[0])} << 24) | (uint32_t{static_cast<uint8_t>(s[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[2])} << 8) | uint32_t{static_cast<uint8_t>(s[3])};
}

}  // namespace tachyon::core
