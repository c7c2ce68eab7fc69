#include "tools/query/fields.h"

#include <gtest/gtest.h>

namespace tachyon::query {
namespace {

TEST(Refid, Stratum1ReferenceClockIsAscii) {
  EXPECT_EQ(refid_text(core::refid_from_ascii("GPS\0"), 1), "GPS");
  EXPECT_EQ(refid_text(core::refid_from_ascii("PPS\0"), 1), "PPS");
}

TEST(Refid, KissCodeIsAscii) {
  EXPECT_EQ(refid_text(core::refid_from_ascii("RATE"), 0), "RATE");
  EXPECT_EQ(kiss_code(core::refid_from_ascii("DENY")), "DENY");
}

TEST(Refid, UnprintableStratum1RefidIsHex) {
  // chronyd's `local` reference: 127.127.1.1.
  EXPECT_EQ(refid_text(0x7F7F0101, 1), "7F7F0101");
}

TEST(Refid, Stratum2IsTheUpstreamIPv4AddressWithItsHex) {
  EXPECT_EQ(refid_text(0xC0000207, 2), "192.0.2.7 (C0000207)");
}

TEST(Refid, IPv6UpstreamHashStillShowsItsHex) {
  // The first 32 bits of an MD5 hash: the dotted form is meaningless, the
  // hex is what to compare with the upstream's hash.
  EXPECT_EQ(refid_text(0x8D2A31F0, 3), "141.42.49.240 (8D2A31F0)");
}

TEST(Refid, CapitalNameAboveStratum1IsReadAsAName) {
  // tachyond under local_stratum, ntpd's INIT at stratum 16.
  EXPECT_EQ(refid_text(core::refid_from_ascii("LOCL"), 10), "LOCL (4C4F434C)");
  EXPECT_EQ(refid_text(core::refid_from_ascii("INIT"), 16), "INIT (494E4954)");
  EXPECT_EQ(refid_text(core::refid_from_ascii("SYS\0"), 2), "SYS (53595300)");
  // Two letters are more likely an address (76.79.0.0).
  EXPECT_EQ(refid_text(core::refid_from_ascii("LO\0\0"), 2), "76.79.0.0 (4C4F0000)");
}

TEST(Refid, HexIsEightUppercaseDigits) {
  EXPECT_EQ(refid_hex(0), "00000000");
  EXPECT_EQ(refid_hex(0xdeadbeef), "DEADBEEF");
}

TEST(KissCode, KnownCodesHaveAMeaning) {
  ASSERT_NE(kiss_code_meaning("RATE"), nullptr);
  EXPECT_NE(std::string(kiss_code_meaning("RATE")).find("less often"), std::string::npos);
  EXPECT_NE(kiss_code_meaning("DENY"), nullptr);
  EXPECT_NE(kiss_code_meaning("RSTR"), nullptr);
  EXPECT_EQ(kiss_code_meaning("ABCD"), nullptr);
}

TEST(Fields, LeapNames) {
  EXPECT_STREQ(leap_name(core::Leap::kNone), "none");
  EXPECT_STREQ(leap_name(core::Leap::kInsert), "insert");
  EXPECT_STREQ(leap_name(core::Leap::kDelete), "delete");
  EXPECT_STREQ(leap_name(core::Leap::kUnsync), "unsync");
}

TEST(Fields, Log2SecondsShowsThePowerAndItsValue) {
  EXPECT_EQ(log2_seconds_text(-26), "2^-26 (14.9 ns)");
  EXPECT_EQ(log2_seconds_text(-6), "2^-6 (15.625 ms)");
  EXPECT_EQ(log2_seconds_text(0), "2^0 (1 s)");
  EXPECT_EQ(log2_seconds_text(6), "2^6 (64 s)");
}

TEST(Fields, DurationsPickTheirUnit) {
  EXPECT_EQ(duration_text(0), "0 s");
  EXPECT_EQ(duration_text(2.5e-7), "250.0 ns");
  EXPECT_EQ(duration_text(1.2345e-5), "12.345 us");
  EXPECT_EQ(duration_text(0.0015), "1.500 ms");
  EXPECT_EQ(duration_text(2), "2.000 s");
  EXPECT_EQ(signed_duration_text(1.2345e-5), "+12.345 us");
  EXPECT_EQ(signed_duration_text(-1.2345e-5), "-12.345 us");
  EXPECT_EQ(signed_seconds_text(-1.2345e-5), "-0.000012345");
  EXPECT_EQ(seconds_text(0.000105123), "0.000105123");
}

TEST(Fields, UtcTextIsIso8601) {
  EXPECT_EQ(utc_text(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(utc_text(1'750'000'000'123'456'789, 9), "2025-06-15T15:06:40.123456789Z");
  EXPECT_EQ(utc_text(1'750'000'000'123'456'789, 0), "2025-06-15T15:06:40Z");
  EXPECT_EQ(utc_text(-1, 3), "1969-12-31T23:59:59.999Z");
}

TEST(Fields, NtpTimeResolvesTheEraAndZeroIsNever) {
  EXPECT_EQ(ntp_time_text({}, 0), "never");
  // Just after the 2036 rollover, read from just before it.
  const int64_t era1 = ((int64_t{1} << 32) - core::kNtpToUnixSeconds) * core::kNanosPerSecond;
  EXPECT_EQ(ntp_time_text(core::ntp_from_unix_nanos(era1 + 1'000'000'000), era1 - 1'000'000'000, 0),
            "2036-02-07T06:28:17Z");
}

}  // namespace
}  // namespace tachyon::query
