#include "clock/leap_table.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "clock/sha1.h"
#include "tests/clock/sim.h"

namespace tachyon::clock {
namespace {

using sim::kNs;
using sim::leap_file;
using sim::utc_midnight;

TEST(Sha1, KnownVectors) {
  EXPECT_EQ(Sha1::of(""), (Sha1::Digest{0xda39a3ee, 0x5e6b4b0d, 0x3255bfef, 0x95601890, 0xafd80709}));
  EXPECT_EQ(Sha1::of("abc"), (Sha1::Digest{0xa9993e36, 0x4706816a, 0xba3e2571, 0x7850c26c, 0x9cd0d89d}));
  EXPECT_EQ(Sha1::of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            (Sha1::Digest{0x84983e44, 0x1c3bd26e, 0xbaae4aa1, 0xf95129e5, 0xe54670f1}));
  Sha1 h;
  for (int i = 0; i < 1000; ++i) h.update(std::string(1000, 'a'));
  EXPECT_EQ(h.finish(), (Sha1::Digest{0x34aa973c, 0xd4c4daa4, 0xf61eeb2b, 0xdbad2731, 0x6534016f}));
}

TEST(LeapTable, TzdataFileLoadsWithAMatchingHash) {
  const std::string path = "/usr/share/zoneinfo/leap-seconds.list";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not installed";
  const auto t = LeapTable::load(path);
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_TRUE(t->from_file());
  EXPECT_GE(t->leaps().size(), 27u);
  EXPECT_GE(t->latest_tai_utc(), 37);
  // 2017-01-01: 36 -> 37.
  const int64_t jan2017 = utc_midnight(2017, 1, 1);
  EXPECT_EQ(t->tai_utc_at_utc(jan2017 * kNs - 1), 36);
  EXPECT_EQ(t->tai_utc_at_utc(jan2017 * kNs), 37);
  EXPECT_GT(t->expiry_unix(), t->updated_unix());
}

TEST(LeapTable, TamperedFileIsRefused) {
  const int64_t l = utc_midnight(2017, 1, 1);
  const std::string good = leap_file({{utc_midnight(2015, 7, 1), 36}, {l, 37}}, l, l + 86400 * 365);
  ASSERT_TRUE(LeapTable::parse(good, "good.list").ok());
  std::string bad = good;
  bad.replace(bad.find("\t36\t"), 4, "\t35\t");  // every value one lower: still a valid table
  bad.replace(bad.find("\t37\t"), 4, "\t36\t");
  const auto r = LeapTable::parse(bad, "bad.list");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("bad.list: hash mismatch"), std::string::npos) << r.message();
  const auto broken = LeapTable::parse(leap_file({{l, 37}}, l, l + 1, true), "broken.list");
  EXPECT_FALSE(broken.ok());
}

TEST(LeapTable, MissingLinesAndBadDataAreErrorsWithTheLine) {
  EXPECT_NE(LeapTable::parse("3692217600 37\n", "x").message().find("no \"#$\""), std::string::npos);
  const auto r = LeapTable::parse("#$ 3692217600\n#@ 3992217600\n3692217600 thirty-seven\n", "f.list");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("f.list:3:"), std::string::npos) << r.message();
  EXPECT_NE(LeapTable::parse("#$ 1\n#@ 2\n#h 1 2 3\n3692217600 37\n", "x").message().find("five hexadecimal"),
            std::string::npos);
}

TEST(LeapTable, HashWordsWithoutLeadingZerosMatch) {
  // IERS files print the words with %x: leading zeros are dropped.
  const int64_t l = utc_midnight(2017, 1, 1);
  for (int64_t expiry = l + 1; expiry < l + 200; ++expiry) {
    const std::string text = leap_file({{l, 37}}, l, expiry);
    ASSERT_TRUE(LeapTable::parse(text, "x").ok()) << text;
  }
}

TEST(LeapTable, ExpiryIsReportedNotFatal) {
  const int64_t l = utc_midnight(2017, 1, 1);
  const auto t = LeapTable::parse(leap_file({{l, 37}}, l, l + 1000), "x");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->expired(l + 999));
  EXPECT_TRUE(t->expired(l + 1000));
  EXPECT_FALSE(LeapTable::fixed(37).expired(l + 1000)) << "no file, nothing to expire";
}

TEST(LeapTable, InsertedSecondHappensAt235960OnTheContinuousScale) {
  const int64_t l = utc_midnight(2030, 7, 1);
  const auto t = LeapTable::parse(leap_file({{utc_midnight(2017, 1, 1), 37}, {l, 38}}, l - 86400 * 100, l + 86400 * 100), "x");
  ASSERT_TRUE(t.ok()) << t.message();
  const LeapSecond leap = t->leaps().back();
  EXPECT_EQ(leap.step(), 1);
  // TAI - 37 reaches 00:00:00 (i.e. 23:59:60 begins) at TAI = L + 37.
  EXPECT_EQ(leap.tai_event_s(), l + 37);
  EXPECT_EQ(t->tai_utc_at_tai((l + 37) * kNs - 1), 37);
  EXPECT_EQ(t->tai_utc_at_tai((l + 37) * kNs), 38);
  EXPECT_EQ(t->next_leap((l + 37) * kNs - 1), leap);
  EXPECT_FALSE(t->next_leap((l + 37) * kNs).has_value());
  EXPECT_EQ(t->previous_leap((l + 37) * kNs), leap);
}

TEST(LeapTable, DeletedSecondSkips235959) {
  const int64_t l = utc_midnight(2030, 7, 1);
  const auto t = LeapTable::parse(leap_file({{utc_midnight(2017, 1, 1), 37}, {l, 36}}, l - 86400, l + 86400), "x");
  ASSERT_TRUE(t.ok()) << t.message();
  const LeapSecond leap = t->leaps().back();
  EXPECT_EQ(leap.step(), -1);
  // TAI - 37 reaches 23:59:59 at TAI = L - 1 + 37; from there TAI - 36 = 00:00:00.
  EXPECT_EQ(leap.tai_event_s(), l - 1 + 37);
  EXPECT_EQ(t->tai_utc_at_tai((l + 36) * kNs - 1), 37);
  EXPECT_EQ(t->tai_utc_at_tai((l + 36) * kNs), 36);
}

TEST(LeapTable, AnnouncedLeapShiftsTheOffsetsAfterIt) {
  LeapTable t = LeapTable::fixed(37);
  const int64_t l = utc_midnight(2031, 1, 1);
  t.add(l, +1);
  t.add(l, +1);  // once only
  ASSERT_EQ(t.leaps().size(), 1u);
  EXPECT_EQ(t.tai_utc_at_utc(l * kNs - 1), 37);
  EXPECT_EQ(t.tai_utc_at_utc(l * kNs), 38);
  t.add(utc_midnight(2030, 7, 1), +1);
  EXPECT_EQ(t.leaps().front().tai_utc_after, 38);
  EXPECT_EQ(t.leaps().back().tai_utc_before, 38);
  EXPECT_EQ(t.latest_tai_utc(), 39);
}

}  // namespace
}  // namespace tachyon::clock
