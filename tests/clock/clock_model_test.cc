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

struct RaceResult {
  uint64_t counted = 0;       // what the readers counted (reads, copies)
  uint64_t torn = 0;          // models that mix two publications
  uint64_t backwards = 0;     // a model older than one read before it
  uint64_t stale_at_end = 0;  // readers not holding the last model once the writer stopped
  uint64_t published = 0;     // generation of the last model published
};

// Two reader threads race a writer that publishes as fast as it can (far
// faster than the control thread's 10 Hz) for `length`. make_reader()
// gives each thread its read step: it returns the model the thread holds
// now and adds to its argument what the test counts.
template <typename MakeReader>
RaceResult race(ClockPublisher& p, std::chrono::milliseconds length, MakeReader make_reader) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> counted{0}, torn{0}, backwards{0}, stale{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      auto read = make_reader();
      uint64_t last = 0, n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const ClockModel m = read(n);
        if (!consistent(m)) torn.fetch_add(1);
        if (m.generation < last) backwards.fetch_add(1);
        last = m.generation;
      }
      if (read(n).generation != p.read().generation) stale.fetch_add(1);
      counted.fetch_add(n);
    });
  }
  uint64_t g = 1;
  const auto until = std::chrono::steady_clock::now() + length;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 1000; ++i) p.publish(model_for(++g));
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  return {counted.load(), torn.load(), backwards.load(), stale.load(), g};
}

TEST(ClockPublisher, ConcurrentReadersNeverSeeATornModel) {
  ClockPublisher p(model_for(1));
  const RaceResult r = race(p, std::chrono::milliseconds(500), [&p] {
    return [&p](uint64_t& reads) {
      ++reads;
      return p.read();
    };
  });
  EXPECT_EQ(r.torn, 0u);
  EXPECT_EQ(r.backwards, 0u);
  EXPECT_EQ(r.stale_at_end, 0u);
  EXPECT_GT(r.counted, 1000u);
  EXPECT_GT(r.published, 10'000u);
  EXPECT_TRUE(consistent(p.read()));
  EXPECT_EQ(p.read().generation, r.published);
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
  const RaceResult r = race(p, std::chrono::milliseconds(300), [&p] {
    return [&p, m = ClockModel{}, seen = ClockPublisher::kNeverSeen](uint64_t& copies) mutable {
      if (p.refresh(m, seen)) ++copies;
      return m;
    };
  });
  EXPECT_EQ(r.torn, 0u);
  EXPECT_EQ(r.backwards, 0u);
  EXPECT_EQ(r.stale_at_end, 0u);
  EXPECT_GT(r.counted, 100u);
}

}  // namespace
}  // namespace tachyon::core
