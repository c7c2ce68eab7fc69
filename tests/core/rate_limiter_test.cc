#include "core/rate_limiter.h"

#include <gtest/gtest.h>

#include <random>

namespace tachyon::core {
namespace {

using Decision = RateLimiter::Decision;

NtpTimestamp at_seconds(double s) { return NtpTimestamp{0xeeab'0000'0000'0000ull + static_cast<uint64_t>(s * 4294967296.0)}; }
IpAddress ip(const std::string& s) { return *IpAddress::parse(s); }

struct Limiter {
  RateLimitOptions options;
  RateLimiter table{options};
  RateLimitParams limits = RateLimitParams::from(options);
  Decision check(const IpAddress& c, NtpTimestamp t) { return table.check(c, t, limits); }
  size_t clients() const { return table.clients(); }
  size_t memory_bytes() const { return table.memory_bytes(); }
};

RateLimitOptions options(int8_t interval, uint16_t burst, uint8_t leak) {
  RateLimitOptions o;
  o.table_entries = 1024;
  o.interval_log2 = interval;
  o.burst = burst;
  o.leak_log2 = leak;
  o.seed = 12345;
  return o;
}

TEST(RateLimiter, AllowsABurstThenLimits) {
  Limiter r{options(3, 8, 0)};
  const IpAddress c = ip("192.0.2.10");
  for (int i = 0; i < 8; ++i) EXPECT_EQ(r.check(c, at_seconds(0)), Decision::kAllow) << i;
  EXPECT_EQ(r.check(c, at_seconds(0)), Decision::kLimited);
  EXPECT_EQ(r.check(c, at_seconds(0.5)), Decision::kLimited);
}

TEST(RateLimiter, EarnsOneRequestPerInterval) {
  Limiter r{options(3, 2, 0)};  // one per 8 s, burst 2
  const IpAddress c = ip("192.0.2.10");
  EXPECT_EQ(r.check(c, at_seconds(0)), Decision::kAllow);
  EXPECT_EQ(r.check(c, at_seconds(0)), Decision::kAllow);
  EXPECT_EQ(r.check(c, at_seconds(1)), Decision::kLimited);
  EXPECT_EQ(r.check(c, at_seconds(8.1)), Decision::kAllow);  // one earned
  EXPECT_EQ(r.check(c, at_seconds(8.2)), Decision::kLimited);
  // A client polling every 8 s is never limited.
  for (int i = 2; i < 50; ++i) EXPECT_EQ(r.check(c, at_seconds(8.2 + 8.0 * i)), Decision::kAllow);
  // Saving stops at the burst.
  EXPECT_EQ(r.check(c, at_seconds(10000)), Decision::kAllow);
  EXPECT_EQ(r.check(c, at_seconds(10000)), Decision::kAllow);
  EXPECT_EQ(r.check(c, at_seconds(10000)), Decision::kLimited);
}

TEST(RateLimiter, ClientsAreLimitedIndependently) {
  Limiter r{options(3, 1, 0)};
  EXPECT_EQ(r.check(ip("192.0.2.1"), at_seconds(0)), Decision::kAllow);
  EXPECT_EQ(r.check(ip("192.0.2.1"), at_seconds(0)), Decision::kLimited);
  EXPECT_EQ(r.check(ip("192.0.2.2"), at_seconds(0)), Decision::kAllow);
}

TEST(RateLimiter, Ipv6ClientIsItsSlash64) {
  Limiter r{options(3, 1, 0)};
  EXPECT_EQ(r.check(ip("2001:db8:0:1::1"), at_seconds(0)), Decision::kAllow);
  EXPECT_EQ(r.check(ip("2001:db8:0:1::ffff"), at_seconds(0)), Decision::kLimited);  // same /64
  EXPECT_EQ(r.check(ip("2001:db8:0:2::1"), at_seconds(0)), Decision::kAllow);
}

TEST(RateLimiter, LeakLetsSpoofedVictimThrough) {
  // An attacker floods with the victim's address: the victim's bucket is
  // empty, yet about 1 in 4 of the victim's own requests is answered.
  Limiter r{options(3, 8, 2)};
  const IpAddress victim = ip("192.0.2.50");
  for (int i = 0; i < 100000; ++i) r.check(victim, at_seconds(i * 0.001));
  int answered = 0;
  constexpr int kVictimRequests = 4000;
  for (int i = 0; i < kVictimRequests; ++i) {
    r.check(victim, at_seconds(100 + i * 0.001));  // the flood goes on
    if (r.check(victim, at_seconds(100 + i * 0.001)) != Decision::kLimited) ++answered;
  }
  EXPECT_GT(answered, kVictimRequests / 4 * 8 / 10);
  EXPECT_LT(answered, kVictimRequests / 4 * 12 / 10);
}

TEST(RateLimiter, TableNeverGrowsUnderARandomSourceFlood) {
  RateLimitOptions o = options(3, 8, 2);
  o.table_entries = 4096;
  Limiter r{o};
  EXPECT_EQ(r.memory_bytes(), 4096u * 16u);
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) {
    EXPECT_EQ(r.check(IpAddress::ipv4(static_cast<uint32_t>(rng())), at_seconds(i * 1e-5)), Decision::kAllow);
  }
  EXPECT_LE(r.clients(), 4096u);
  EXPECT_GT(r.clients(), 3000u);
  // A well-behaved client evicted by the flood is answered when it returns.
  EXPECT_EQ(r.check(ip("192.0.2.9"), at_seconds(3)), Decision::kAllow);
}

TEST(RateLimiter, RepeatOffenderStaysLimitedWhileOthersChurn) {
  Limiter r{options(3, 4, 0)};
  const IpAddress abuser = ip("192.0.2.66");
  std::mt19937 rng(2);
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) {
    if (r.check(abuser, at_seconds(i * 0.01)) == Decision::kAllow) ++allowed;
    r.check(IpAddress::ipv4(static_cast<uint32_t>(rng())), at_seconds(i * 0.01));
  }
  // 10 s at one per 8 s plus the burst of 4: a handful, not a thousand.
  EXPECT_LE(allowed, 6);
}

}  // namespace
}  // namespace tachyon::core
