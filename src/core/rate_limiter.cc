#include "core/rate_limiter.h"

#include <random>

namespace tachyon::core {
namespace {

// splitmix64's finalizer: a strong 64-bit mixer (Stafford variant 13).
constexpr uint64_t mix(uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t load_host64(const uint8_t* p) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

// Time in 1/64 s from an NTP timestamp: its low 26 bits are dropped.
uint32_t ticks64(NtpTimestamp t) noexcept { return static_cast<uint32_t>(t.raw >> 26); }

}  // namespace

RateLimitParams RateLimitParams::from(const RateLimitOptions& o) noexcept {
  RateLimitParams p;
  // One request costs 2^interval seconds of credit, in 1/64 s.
  const int shift = 6 + o.interval_log2;
  p.cost = shift >= 0 ? (uint32_t{1} << shift) : 1;
  p.max_credit = p.cost * (o.burst == 0 ? 1u : o.burst);
  p.leak_mask = o.leak_log2 == 0 ? 0 : (uint64_t{1} << o.leak_log2) - 1;
  const unsigned prefix = o.ipv6_prefix > 128 ? 128u : o.ipv6_prefix;
  p.v6_hi_mask = prefix >= 64 ? ~uint64_t{0} : prefix == 0 ? 0 : ~uint64_t{0} << (64 - prefix);
  p.v6_lo_mask = prefix <= 64 ? 0 : prefix >= 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - prefix);
  return p;
}

RateLimiter::RateLimiter(const RateLimitOptions& o, std::pmr::memory_resource* memory) {
  size_t entries = 4;
  while (entries < o.table_entries) entries <<= 1;
  mask_ = entries - 1;
  bucket_mask_ = entries / kWays - 1;
  buckets_ = TableArray<Bucket>(entries / kWays, memory);  // value-initialised: all free
  seed_ = o.seed != 0 ? o.seed : (uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  random_ = mix(seed_ ^ 0x5851f42d4c957f2dull) | 1;
}

uint64_t RateLimiter::key_of(const IpAddress& client, const RateLimitParams& limits) noexcept {
  if (!client.v6) {
    // All ones in the high half: no IPv6 source we answer starts with ffff:ffff.
    return 0xffff'ffff'0000'0000ull | (uint64_t{client.bytes[0]} << 24 | uint64_t{client.bytes[1]} << 16 |
                                       uint64_t{client.bytes[2]} << 8 | client.bytes[3]);
  }
  uint64_t key = load_host64(client.bytes.data()) & limits.v6_hi_mask;
  if (limits.v6_lo_mask != 0) key ^= mix(load_host64(client.bytes.data() + 8) & limits.v6_lo_mask);
  return key == 0 ? 1 : key;  // 0 marks a free record
}

size_t RateLimiter::bucket_index(uint64_t key) const noexcept { return mix(key ^ seed_) & bucket_mask_; }

uint64_t RateLimiter::next_random() noexcept {
  // xorshift64: cheap and good enough to decide a leak.
  random_ ^= random_ << 13;
  random_ ^= random_ >> 7;
  random_ ^= random_ << 17;
  return random_;
}

RateLimiter::Decision RateLimiter::check(const IpAddress& client, NtpTimestamp now,
                                         const RateLimitParams& limits) noexcept {
  const uint64_t key = key_of(client, limits);
  Bucket& bucket = buckets_[bucket_index(key)];
  const uint32_t t = ticks64(now);

  Record* record = nullptr;
  Record* victim = &bucket.way[0];
  for (Record& r : bucket.way) {
    if (r.key == key) {
      record = &r;
      break;
    }
    // A free record, else the one seen longest ago.
    if (victim->key != 0 && (r.key == 0 || static_cast<int32_t>(r.last - victim->last) < 0)) victim = &r;
  }
  if (record == nullptr) {
    // A new (or evicted and returning) client starts with a full bucket.
    *victim = Record{key, t, limits.max_credit - limits.cost};
    return Decision::kAllow;
  }

  // Refill by the time elapsed since its last request (wrapping arithmetic;
  // a clock going backwards refills nothing).
  const auto elapsed = static_cast<int32_t>(t - record->last);
  if (elapsed > 0) {
    const uint64_t credit = uint64_t{record->credit} + static_cast<uint32_t>(elapsed);
    record->credit = credit > limits.max_credit ? limits.max_credit : static_cast<uint32_t>(credit);
    record->last = t;
  }
  if (record->credit >= limits.cost) {
    record->credit -= limits.cost;
    return Decision::kAllow;
  }
  if (limits.leak_mask != 0 && (next_random() & limits.leak_mask) == 0) return Decision::kLeak;
  return Decision::kLimited;
}

size_t RateLimiter::clients() const noexcept {
  size_t n = 0;
  for (size_t b = 0; b <= bucket_mask_; ++b) {
    for (const Record& r : buckets_[b].way) n += r.key != 0;
  }
  return n;
}

}  // namespace tachyon::core
