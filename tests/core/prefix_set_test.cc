#include "core/prefix_set.h"

#include <gtest/gtest.h>

#include <random>

namespace tachyon::core {
namespace {

IpAddress ip(const std::string& s) { return *IpAddress::parse(s); }

void add(PrefixSet<int>& set, const std::string& prefix, int value) {
  const auto p = parse_prefix(prefix);
  ASSERT_TRUE(p.ok()) << p.message();
  set.add(p->address, p->length, value);
}

TEST(PrefixSet, LongestMatchingPrefixWins) {
  PrefixSet<int> s;
  add(s, "0.0.0.0/0", 1);
  add(s, "192.0.2.0/24", 2);
  add(s, "192.0.2.128/25", 3);
  add(s, "192.0.2.200", 4);
  add(s, "::/0", 10);
  add(s, "2001:db8::/32", 11);
  add(s, "2001:db8:1::/48", 12);
  s.build();
  EXPECT_EQ(*s.lookup(ip("198.51.100.1")), 1);
  EXPECT_EQ(*s.lookup(ip("192.0.2.5")), 2);
  EXPECT_EQ(*s.lookup(ip("192.0.2.129")), 3);
  EXPECT_EQ(*s.lookup(ip("192.0.2.200")), 4);
  EXPECT_EQ(*s.lookup(ip("2001:db8:2::1")), 11);
  EXPECT_EQ(*s.lookup(ip("2001:db8:1:ffff::1")), 12);
  EXPECT_EQ(*s.lookup(ip("2002::1")), 10);
  EXPECT_EQ(s.size(), 7u);
}

TEST(PrefixSet, EmptyOrNonMatchingGivesNothing) {
  PrefixSet<int> s;
  s.build();
  EXPECT_EQ(s.lookup(ip("192.0.2.1")), nullptr);
  add(s, "192.0.2.0/24", 1);
  s.build();
  EXPECT_EQ(s.lookup(ip("192.0.3.1")), nullptr);
  EXPECT_EQ(s.lookup(ip("2001:db8::1")), nullptr);  // families never mix
}

TEST(PrefixSet, AddingAgainReplacesAndHostBitsAreIgnored) {
  PrefixSet<int> s;
  add(s, "192.0.2.77/24", 1);
  add(s, "192.0.2.0/24", 2);
  s.build();
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(*s.lookup(ip("192.0.2.1")), 2);
}

TEST(PrefixSet, MatchesABruteForceReferenceOnRandomSets) {
  std::mt19937 rng(4);
  for (int round = 0; round < 20; ++round) {
    PrefixSet<int> s;
    std::vector<std::tuple<uint32_t, uint8_t, int>> ref;
    for (int i = 0; i < 200; ++i) {
      const auto len = static_cast<uint8_t>(rng() % 33);
      const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
      const uint32_t a = static_cast<uint32_t>(rng()) & mask;
      s.add(IpAddress::ipv4(a), len, i);
      std::erase_if(ref, [&](const auto& e) { return std::get<0>(e) == a && std::get<1>(e) == len; });
      ref.emplace_back(a, len, i);
    }
    s.build();
    for (int q = 0; q < 2000; ++q) {
      uint32_t a = static_cast<uint32_t>(rng());
      if (q % 2) a = std::get<0>(ref[rng() % ref.size()]) | (static_cast<uint32_t>(rng()) & 0xff);
      int best = -1, best_len = -1;
      for (const auto& [p, len, v] : ref) {
        const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
        if ((a & mask) == p && len > best_len) best = v, best_len = len;
      }
      const int* got = s.lookup(IpAddress::ipv4(a));
      if (best < 0) {
        EXPECT_EQ(got, nullptr);
      } else {
        ASSERT_NE(got, nullptr);
        EXPECT_EQ(*got, best);
      }
    }
  }
}

TEST(PrefixSet, Ipv6MatchesABruteForceReferenceIncludingEdges) {
  std::mt19937_64 rng(5);
  PrefixSet<int> s;
  std::vector<std::tuple<uint128, uint8_t, int>> ref;
  auto mask = [](uint8_t len) { return len == 0 ? uint128{0} : ~uint128{0} << (128 - len); };
  for (int i = 0; i < 300; ++i) {
    const auto len = static_cast<uint8_t>(i == 0 ? 0 : i == 1 ? 128 : rng() % 129);
    const uint128 a = ((uint128{rng()} << 64) | rng()) & mask(len);
    IpAddress addr;
    addr.v6 = true;
    for (int b = 0; b < 16; ++b) addr.bytes[static_cast<size_t>(b)] = static_cast<uint8_t>(a >> (120 - 8 * b));
    s.add(addr, len, i);
    std::erase_if(ref, [&](const auto& e) { return std::get<0>(e) == a && std::get<1>(e) == len; });
    ref.emplace_back(a, len, i);
  }
  s.build();
  for (int q = 0; q < 3000; ++q) {
    uint128 a = (uint128{rng()} << 64) | rng();
    if (q % 2) a = std::get<0>(ref[rng() % ref.size()]) | (rng() & 0xffff);
    if (q == 1) a = ~uint128{0};
    int best = -1, best_len = -1;
    for (const auto& [p, len, v] : ref) {
      if ((a & mask(len)) == p && len > best_len) best = v, best_len = len;
    }
    IpAddress addr;
    addr.v6 = true;
    for (int b = 0; b < 16; ++b) addr.bytes[static_cast<size_t>(b)] = static_cast<uint8_t>(a >> (120 - 8 * b));
    const int* got = s.lookup(addr);
    ASSERT_NE(got, nullptr);  // ::/0 is in the set
    EXPECT_EQ(*got, best);
  }
}

TEST(PrefixSet, ParsesPrefixesAndRejectsBadOnes) {
  EXPECT_EQ(parse_prefix("192.0.2.0/24")->length, 24);
  EXPECT_EQ(parse_prefix("192.0.2.1")->length, 32);
  EXPECT_EQ(parse_prefix("2001:db8::/32")->length, 32);
  EXPECT_EQ(parse_prefix("2001:db8::1")->length, 128);
  EXPECT_FALSE(parse_prefix("192.0.2.0/33").ok());
  EXPECT_FALSE(parse_prefix("192.0.2.0/").ok());
  EXPECT_FALSE(parse_prefix("nonsense/8").ok());
  EXPECT_FALSE(parse_prefix("2001:db8::/129").ok());
}

}  // namespace
}  // namespace tachyon::core
