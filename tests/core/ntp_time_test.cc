#include "core/ntp_time.h"

#include <gtest/gtest.h>

#include <random>

namespace tachyon::core {
namespace {

constexpr int64_t kSec = kNanosPerSecond;
// 2036-02-07T06:28:16Z: NTP era 1 begins.
constexpr int64_t kEra1StartUnixNs = ((int64_t{1} << 32) - kNtpToUnixSeconds) * kSec;
static_assert(kEra1StartUnixNs / kSec == 2085978496);

TEST(NtpTime, UnixEpochIsNtpSeconds2208988800) {
  const NtpTimestamp ts = ntp_from_unix_nanos(0);
  EXPECT_EQ(ts.seconds(), 2208988800u);
  EXPECT_EQ(ts.fraction(), 0u);
}

TEST(NtpTime, HalfSecondIsHalfTheFraction) {
  const NtpTimestamp ts = ntp_from_unix_nanos(kSec / 2);
  EXPECT_EQ(ts.fraction(), 0x8000'0000u);
}

TEST(NtpTime, KnownInstantFromChronydCapture) {
  // chronyd's transmit timestamp eeaba4ccc6bf752a in ntpdig.pcap, captured
  // 2026-11-18; seconds 0xeeaba4cc.
  const NtpTimestamp ts{0xeeaba4ccc6bf752aull};
  const int64_t pivot = (int64_t{0xeeaba4cc} - kNtpToUnixSeconds) * kSec;
  const int64_t ns = unix_nanos_from_ntp(ts, pivot);
  EXPECT_EQ(ns / kSec, int64_t{0xeeaba4cc} - kNtpToUnixSeconds);
  EXPECT_EQ(ns % kSec, nanos_from_fraction(0xc6bf752a));
}

TEST(NtpTime, RoundTripIsWithinOneNanosecond) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(-kEra1StartUnixNs, 3 * kEra1StartUnixNs);
  for (int i = 0; i < 100000; ++i) {
    const int64_t ns = dist(rng);
    const int64_t back = unix_nanos_from_ntp(ntp_from_unix_nanos(ns), ns + 1000 * kSec);
    EXPECT_LE(std::abs(back - ns), 1) << ns;
  }
}

TEST(NtpTime, EraRolloverWrapsSecondsToZero) {
  EXPECT_EQ(ntp_from_unix_nanos(kEra1StartUnixNs).raw, 0u);
  EXPECT_EQ(ntp_from_unix_nanos(kEra1StartUnixNs - 1).seconds(), 0xffff'ffffu);
  EXPECT_EQ(ntp_era(kEra1StartUnixNs - 1), 0);
  EXPECT_EQ(ntp_era(kEra1StartUnixNs), 1);
  EXPECT_EQ(ntp_era(-kNtpToUnixSeconds * kSec - 1), -1);
}

TEST(NtpTime, PivotResolvesEraAcrossThe2036Rollover) {
  // A timestamp just after the rollover, read with a pivot just before it,
  // lands in era 1, and vice versa.
  const int64_t after = kEra1StartUnixNs + 5 * kSec;
  const int64_t before = kEra1StartUnixNs - 5 * kSec;
  EXPECT_EQ(unix_nanos_from_ntp(ntp_from_unix_nanos(after), before), after);
  EXPECT_EQ(unix_nanos_from_ntp(ntp_from_unix_nanos(before), after), before);
  // A pivot decades away still picks the nearest era.
  const int64_t pivot_2100 = (int64_t{4102444800}) * kSec;
  EXPECT_EQ(unix_nanos_from_ntp(ntp_from_unix_nanos(after), pivot_2100), after);
  EXPECT_EQ(unix_nanos_from_ntp(NtpTimestamp{0}, kEra1StartUnixNs + 1000 * kSec), kEra1StartUnixNs);
}

TEST(NtpTime, DifferenceIsSignedAcrossRollover) {
  const NtpTimestamp a = ntp_from_unix_nanos(kEra1StartUnixNs + kSec);
  const NtpTimestamp b = ntp_from_unix_nanos(kEra1StartUnixNs - kSec);
  EXPECT_EQ(ntp_diff_nanos(a, b), 2 * kSec);
  EXPECT_EQ(ntp_diff_nanos(b, a), -2 * kSec);
}

TEST(NtpTime, FractionConversionsRoundToNearest) {
  EXPECT_EQ(fraction_from_nanos(0), 0u);
  EXPECT_EQ(fraction_from_nanos(500'000'000), 0x8000'0000u);
  EXPECT_EQ(nanos_from_fraction(0x8000'0000u), 500'000'000u);
  for (uint32_t ns = 0; ns < 1'000'000'000; ns += 999'983) {
    EXPECT_EQ(nanos_from_fraction(fraction_from_nanos(ns)), ns);
  }
  // Rounding up near a whole second carries into the seconds.
  const NtpTimestamp ts = ntp_from_unix_nanos(kSec - 1);
  EXPECT_EQ(ts.fraction(), 0xffff'fffcu);  // 4294967291.7 rounded
}

TEST(NtpTime, ShortFormatSaturatesAndNeverUnderstates) {
  EXPECT_EQ(ntp_short_from_nanos(-5).raw, 0u);
  EXPECT_EQ(ntp_short_from_nanos(0).raw, 0u);
  EXPECT_EQ(ntp_short_from_nanos(kSec).raw, 0x0001'0000u);
  EXPECT_EQ(ntp_short_from_nanos(1).raw, 1u);  // rounded up
  EXPECT_EQ(ntp_short_from_nanos(int64_t{70000} * kSec).raw, 0xffff'ffffu);
  EXPECT_EQ(nanos_from_ntp_short(NtpShort{0x0001'8000}), kSec + kSec / 2);
  for (int64_t ns = 1; ns < 10 * kSec; ns = ns * 3 + 7) {
    EXPECT_GE(nanos_from_ntp_short(ntp_short_from_nanos(ns)) + 15259, ns);
    EXPECT_GE(nanos_from_ntp_short(ntp_short_from_nanos(ns)), ns - 1) << ns;
  }
}

TEST(NtpTime, RefidFromAscii) {
  EXPECT_EQ(refid_from_ascii("RATE"), 0x52415445u);
  EXPECT_EQ(refid_from_ascii("GPS\0"), 0x47505300u);
}

}  // namespace
}  // namespace tachyon::core
