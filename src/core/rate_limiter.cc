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

RateLimiter::RateLimiter(const RateLimitOptions& o) {
  size_t entries = 4;
  while (entries < o.table_entries) entries <<= 1;
  mask_ = entries - 1;
  bucket_mask_ = entries / kWays - 1;
  buckets_ = std::make_unique<Bucket[]>(entries / kWays);  // value-initialised: all free
  seed_ = o.seed != 0 ? o.seed : (uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  random_ = mix(seed_ ^ 0x5851f42d4c957f2dull) | 1;
  // One request costs 2^interval seconds of credit, in 1/64 s.
  const int shift = 6 + o.interval_log2;
  cost_ = shift >= 0 ? (uint32_t{1} << shift) : 1;
  max_credit_ = cost_ * (o.burst == 0 ? 1u : o.burst);
  leak_mask_ = o.leak_log2 == 0 ? 0 : (uint64_t{1} << o.leak_log2) - 1;
  ipv6_prefix_ = o.ipv6_prefix;
  v6_mask_ = o.ipv6_prefix >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - o.ipv6_prefix);
}

uint64_t RateLimiter::key_of(const IpAddress& client) const noexcept {
  if (!client.v6) {
    // All ones in the high half: no IPv6 source we answer starts with ffff:ffff.
    return 0xffff'ffff'0000'0000ull | (uint64_t{client.bytes[0]} << 24 | uint64_t{client.bytes[1]} << 16 |
                                       uint64_t{client.bytes[2]} << 8 | client.bytes[3]);
  }
  uint64_t key = load_host64(client.bytes.data()) & v6_mask_;
  if (ipv6_prefix_ > 64) {
    const uint64_t lo_mask = ipv6_prefix_ >= 128 ? ~uint64_t{0} : ~uint64_t{0} << (128 - ipv6_prefix_);
    key ^= mix(load_host64(client.bytes.data() + 8) & lo_mask);
  }
  return key == 0 ? 1 : key;  // 0 marks a free record
}

uint64_t RateLimiter::next_random() noexcept {
  // xorshift64: cheap and good enough to decide a leak.
  random_ ^= random_ << 13;
  random_ ^= random_ >> 7;
  random_ ^= random_ << 17;
  return random_;
}

RateLimiter::Decision RateLimiter::check(const IpAddress& client, NtpTimestamp now) noexcept {
  const uint64_t key = key_of(client);
  Bucket& bucket = buckets_[mix(key ^ seed_) & bucket_mask_];
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
    *victim = Record{key, t, max_credit_ - cost_};
    return Decision::kAllow;
  }

  // Refill by the time elapsed since its last request (wrapping arithmetic;
  // a clock going backwards refills nothing).
  const auto elapsed = static_cast<int32_t>(t - record->last);
  if (elapsed > 0) {
    const uint64_t credit = uint64_t{record->credit} + static_cast<uint32_t>(elapsed);
    record->credit = credit > max_credit_ ? max_credit_ : static_cast<uint32_t>(credit);
    record->last = t;
  }
  if (record->credit >= cost_) {
    record->credit -= cost_;
    return Decision::kAllow;
  }
  if (leak_mask_ != 0 && (next_random() & leak_mask_) == 0) return Decision::kLeak;
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
