#include "core/interleave.h"

#include <gtest/gtest.h>

namespace tachyon::core {
namespace {

// The key of an answer the worker remembers (the client asked in
// interleaved mode): its receive field.
NtpTimestamp remembered(InterleaveTable& t, NtpTimestamp rx) {
  return InterleaveTable::as_remembered(t.mark_unique(rx));
}

TEST(Interleave, RemembersTransmitTimestampByReceiveTimestampOnce) {
  InterleaveTable t(64);
  const NtpTimestamp rx = remembered(t, NtpTimestamp{0xeeab'0000'1234'5670ull});
  EXPECT_TRUE(InterleaveTable::is_marked(rx));
  EXPECT_TRUE(InterleaveTable::was_remembered(rx));
  t.remember(rx, NtpTimestamp{0xeeab'0000'2000'0000ull});
  const auto tx = t.take(rx);
  ASSERT_TRUE(tx.has_value());
  EXPECT_EQ(tx->raw, 0xeeab'0000'2000'0000ull);
  EXPECT_FALSE(t.take(rx).has_value());  // never handed out twice
}

TEST(Interleave, UnmarkedOrUnknownOriginsMiss) {
  InterleaveTable t(64);
  EXPECT_FALSE(t.take(NtpTimestamp{0x1234'5678'0000'0000ull}).has_value());  // unmarked: no lookup
  EXPECT_FALSE(t.take(NtpTimestamp{0x1234'5678'0000'0003ull}).has_value());  // remembered-looking, not ours
}

TEST(Interleave, AnswersToBasicClientsAreToldApartFromRememberedOnes) {
  InterleaveTable t(64);
  // mark_unique() clears the "remembered" bit whatever the clock put there.
  const NtpTimestamp basic = t.mark_unique(NtpTimestamp{0xeeab'0000'1234'5673ull});
  EXPECT_TRUE(InterleaveTable::is_marked(basic));
  EXPECT_FALSE(InterleaveTable::was_remembered(basic));
  EXPECT_EQ(basic.raw, 0xeeab'0000'1234'5671ull);
  // A record under the remembered key is not found through the basic one:
  // that origin is a client's first interleaved request, never a lookup.
  t.remember(InterleaveTable::as_remembered(basic), NtpTimestamp{7});
  EXPECT_FALSE(t.take(basic).has_value());
  EXPECT_EQ(t.take(InterleaveTable::as_remembered(basic)), NtpTimestamp{7});
}

TEST(Interleave, KeysWithinABurstAreUniqueAndFollowTheClockBack) {
  InterleaveTable t(64);
  const NtpTimestamp same{0xeeab'0000'0000'1000ull};
  const NtpTimestamp a = t.mark_unique(same);
  const NtpTimestamp b = t.mark_unique(same);  // a burst: one software timestamp
  EXPECT_NE(a, b);
  EXPECT_EQ(b.raw - a.raw, 4u);  // distorted by 2^-30 s per frame, the two flag bits kept
  // The clock moved back 233 us (a correction): the key follows it, never
  // pinned ahead of the time served (receive would come after transmit).
  const NtpTimestamp c = t.mark_unique(NtpTimestamp{same.raw - 1'000'000});
  EXPECT_EQ(c.raw, ((same.raw - 1'000'000) & ~3ull) | 1);
  EXPECT_EQ(t.clears(), 0u);
}

TEST(Interleave, AKeyIssuedAgainAfterTheClockCameBackKeepsOnlyTheNewestAnswer) {
  InterleaveTable t(64);
  const NtpTimestamp k1 = remembered(t, NtpTimestamp{0xeeab'0000'0010'0000ull});
  t.remember(k1, NtpTimestamp{100});
  t.mark_unique(NtpTimestamp{0xeeab'0000'0020'0000ull});
  const NtpTimestamp k2 = remembered(t, NtpTimestamp{0xeeab'0000'0010'0000ull});  // back 0.24 ms
  ASSERT_EQ(k1, k2);
  t.remember(k2, NtpTimestamp{200});
  EXPECT_EQ(t.take(k1), NtpTimestamp{200});
  EXPECT_FALSE(t.take(k1).has_value());
}

TEST(Interleave, AStepBackOfMoreThanAMillisecondEmptiesTheTable) {
  // A leap second repeats 23:59:59: keys of the first pass could be issued
  // again during the second.
  InterleaveTable t(64);
  const NtpTimestamp before = remembered(t, NtpTimestamp{0xeeab'0001'0000'0000ull});
  t.remember(before, NtpTimestamp{5});
  const NtpTimestamp after = t.mark_unique(NtpTimestamp{0xeeab'0000'0000'0000ull});  // 1 s back
  EXPECT_EQ(after.raw, 0xeeab'0000'0000'0001ull);
  EXPECT_EQ(t.clears(), 1u);
  EXPECT_FALSE(t.take(before).has_value());
}

TEST(Interleave, TableIsBoundedAndEvictsTheOldest) {
  InterleaveTable t(16);
  EXPECT_EQ(t.entries(), 16u);
  EXPECT_EQ(t.memory_bytes(), 256u);
  NtpTimestamp keys[1000];
  for (int i = 0; i < 1000; ++i) {
    keys[i] = remembered(t, NtpTimestamp{0xeeab'0000'0000'0000ull + static_cast<uint64_t>(i) * 0x1'0000'0000ull});
    t.remember(keys[i], NtpTimestamp{static_cast<uint64_t>(i) * 2});
  }
  int found_old = 0, found_new = 0;
  for (int i = 0; i < 100; ++i) found_old += t.take(keys[i]).has_value();
  for (int i = 990; i < 1000; ++i) found_new += t.take(keys[i]).has_value();
  EXPECT_EQ(found_old, 0);
  EXPECT_GE(found_new, 5);  // recent entries survive unless their bucket was hammered
}

}  // namespace
}  // namespace tachyon::core
