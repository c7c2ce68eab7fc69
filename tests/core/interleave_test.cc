#include "core/interleave.h"

#include <gtest/gtest.h>

namespace tachyon::core {
namespace {

TEST(Interleave, RemembersTransmitTimestampByReceiveTimestampOnce) {
  InterleaveTable t(64);
  const NtpTimestamp rx = t.mark_unique(NtpTimestamp{0xeeab'0000'1234'5670ull});
  EXPECT_TRUE(InterleaveTable::is_marked(rx));
  t.remember(rx, NtpTimestamp{0xeeab'0000'2000'0000ull});
  const auto tx = t.take(rx);
  ASSERT_TRUE(tx.has_value());
  EXPECT_EQ(tx->raw, 0xeeab'0000'2000'0000ull);
  EXPECT_FALSE(t.take(rx).has_value());  // never handed out twice
}

TEST(Interleave, UnmarkedOrUnknownOriginsMiss) {
  InterleaveTable t(64);
  EXPECT_FALSE(t.take(NtpTimestamp{0x1234'5678'0000'0000ull}).has_value());  // unmarked: no lookup
  EXPECT_FALSE(t.take(NtpTimestamp{0x1234'5678'0000'0001ull}).has_value());  // marked, not ours
}

TEST(Interleave, KeysAreUniqueAndIncreaseEvenWhenTheClockRepeatsOrStepsBack) {
  InterleaveTable t(64);
  const NtpTimestamp same{0xeeab'0000'0000'1000ull};
  const NtpTimestamp a = t.mark_unique(same);
  const NtpTimestamp b = t.mark_unique(same);  // a burst: one software timestamp
  const NtpTimestamp c = t.mark_unique(NtpTimestamp{same.raw - 1'000'000});  // stepped back
  EXPECT_NE(a, b);
  EXPECT_GT(b.raw, a.raw);
  EXPECT_GT(c.raw, b.raw);
  EXPECT_LE(b.raw - a.raw, 2u);  // distorted by at most 2^-31 s
}

TEST(Interleave, TableIsBoundedAndEvictsTheOldest) {
  InterleaveTable t(16);
  EXPECT_EQ(t.entries(), 16u);
  EXPECT_EQ(t.memory_bytes(), 256u);
  NtpTimestamp keys[1000];
  for (int i = 0; i < 1000; ++i) {
    keys[i] = t.mark_unique(NtpTimestamp{0xeeab'0000'0000'0000ull + static_cast<uint64_t>(i) * 0x1'0000'0000ull});
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
