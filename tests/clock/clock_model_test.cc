#include "core/clock_model.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace tachyon::core {
namespace {

constexpr uint64_t kSecond = uint64_t{1} << 32;

TEST(TimeMap, MapsTicksAtTheRate) {
  const TimeMap m = TimeMap::at(1000, NtpTimestamp{100 * kSecond}, 1e9);
  EXPECT_EQ(m.to_ntp(1000).raw, 100 * kSecond);
  EXPECT_EQ(m.to_ntp(1000 + 1'000'000'000).raw, 101 * kSecond);
  // Before the base the product rounds toward minus infinity: one unit
  // (2^-32 s) at most.
  EXPECT_NEAR(static_cast<double>(m.to_ntp(1000 - 500'000'000).raw), static_cast<double>(100 * kSecond - kSecond / 2), 1);
}

TEST(TimeMap, InsertedLeapRepeatsTheSecondFromItsTick) {
  // Base 23:59:59.0 (as NTP second 100), 1 GHz ticks; the leap at tick 1e9
  // (when the clock would read 00:00:00).
  const TimeMap m = TimeMap::at(0, NtpTimestamp{100 * kSecond}, 1e9).with_leap(1'000'000'000, TimeMap::kInsertSecond);
  EXPECT_EQ(m.to_ntp(999'999'999).raw >> 32, 100u);       // 23:59:59.999999999
  EXPECT_EQ(m.to_ntp(1'000'000'000).raw, 100 * kSecond);  // 23:59:59.0 again
  EXPECT_EQ(m.to_ntp(2'000'000'000).raw, 101 * kSecond);  // 00:00:00
  // Ticks before the base are not affected by a leap after it.
  EXPECT_NEAR(static_cast<double>(m.to_ntp(static_cast<uint64_t>(-1'000'000'000)).raw), static_cast<double>(99 * kSecond), 1);
}

TEST(TimeMap, DeletedLeapSkipsTheSecond) {
  const TimeMap m = TimeMap::at(0, NtpTimestamp{99 * kSecond}, 1e9).with_leap(1'000'000'000, TimeMap::kDeleteSecond);
  EXPECT_EQ(m.to_ntp(999'999'999).raw >> 32, 99u);        // 23:59:58.999...
  EXPECT_EQ(m.to_ntp(1'000'000'000).raw, 101 * kSecond);  // 00:00:00: 23:59:59 never happens
}

TEST(TimeMap, NoLeapMeansNoCorrectionAnywhere) {
  const TimeMap m = TimeMap::at(5, NtpTimestamp{7 * kSecond}, 2.5e9);
  for (uint64_t t : {uint64_t{0}, uint64_t{5}, uint64_t{1} << 40, ~uint64_t{0}}) {
    TimeMap with = m;
    with.leap_ticks = t;
    EXPECT_EQ(with.to_ntp(t).raw, m.to_ntp(t).raw);
  }
}

TEST(ClockModel, StaysSmallEnoughToCopyPerBurst) {
  EXPECT_LE(sizeof(ClockModel), 192u);
  EXPECT_TRUE(std::is_trivially_copyable_v<ClockModel>);
}

// Every field of model g is a function of g: a reader that sees a mix of
// two publications finds a field that does not match the generation.
ClockModel model_for(uint64_t g) {
  ClockModel m;
  m.tsc = TimeMap{g, g * 3, g * 5 + 1, g * 7, static_cast<int64_t>(g * 11)};
  m.nic = TimeMap{g * 13, g * 17, g * 19 + 1, g * 23, static_cast<int64_t>(g * 29)};
  ServerState s;
  s.synchronized = (g & 1) != 0;
  s.stratum = static_cast<uint8_t>(g % 15 + 1);
  s.refid = static_cast<uint32_t>(g * 31);
  s.root_delay = NtpShort{static_cast<uint32_t>(g * 37)};
  s.root_dispersion = NtpShort{static_cast<uint32_t>(g * 41)};
  s.reference_time = NtpTimestamp{g * 43};
  m.answer = AnswerTemplate(s);
  m.generation = g;
  return m;
}

bool consistent(const ClockModel& m) {
  const ClockModel want = model_for(m.generation);
  return std::memcmp(&m, &want, sizeof m) == 0;
}

TEST(ClockPublisher, ConcurrentReadersNeverSeeATornModel) {
  ClockPublisher p(model_for(1));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> reads{0}, torn{0}, backwards{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      uint64_t last = 0, n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const ClockModel m = p.read();
        if (!consistent(m)) torn.fetch_add(1);
        if (m.generation < last) backwards.fetch_add(1);
        last = m.generation;
        ++n;
      }
      reads.fetch_add(n);
    });
  }
  // The writer publishes as fast as it can (far faster than the control
  // thread's 10 Hz), so readers race it constantly.
  uint64_t g = 1;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1000; ++i) p.publish(model_for(++g));
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_GT(reads.load(), 1000u);
  EXPECT_GT(g, 10'000u);
  EXPECT_TRUE(consistent(p.read()));
  EXPECT_EQ(p.read().generation, g);
}

TEST(ClockPublisher, RefreshCopiesOnlyAfterAPublication) {
  ClockPublisher p(model_for(1));
  ClockModel cached{};
  uint64_t seen = ClockPublisher::kNeverSeen;
  ASSERT_TRUE(p.refresh(cached, seen));  // the first call always copies
  EXPECT_EQ(cached.generation, 1u);
  EXPECT_TRUE(consistent(cached));
  // Unchanged: the cached copy is left as it is (here: a marker the
  // publisher never wrote shows that nothing was copied over it).
  cached.generation = 999;
  EXPECT_FALSE(p.refresh(cached, seen));
  EXPECT_EQ(cached.generation, 999u);
  p.publish(model_for(2));
  ASSERT_TRUE(p.refresh(cached, seen));
  EXPECT_EQ(cached.generation, 2u);
  EXPECT_TRUE(consistent(cached));
  EXPECT_FALSE(p.refresh(cached, seen));
}

// The worker's way of reading: a cached model refreshed once per burst.
// Racing a writer, it must never keep a torn copy nor miss the last one.
TEST(ClockPublisher, RefreshingReadersNeverKeepATornModel) {
  ClockPublisher p(model_for(1));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> copies{0}, torn{0}, backwards{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      ClockModel m{};
      uint64_t seen = ClockPublisher::kNeverSeen, last = 0, n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (p.refresh(m, seen)) ++n;
        if (!consistent(m)) torn.fetch_add(1);
        if (m.generation < last) backwards.fetch_add(1);
        last = m.generation;
      }
      p.refresh(m, seen);
      if (m.generation != p.read().generation) backwards.fetch_add(1);
      copies.fetch_add(n);
    });
  }
  uint64_t g = 1;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1000; ++i) p.publish(model_for(++g));
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_GT(copies.load(), 100u);
}

}  // namespace
}  // namespace tachyon::core
