// Per-client rate limiting for one worker, in the spirit of chrony's
// `ratelimit` (clientlog.c): a fixed-size table of small records, a token
// bucket per client, and a random leak.
//
// - A client is its IPv4 address (/32) or its IPv6 /64 (configurable);
//   RSS keeps a client on one queue, so each worker limits its own clients
//   and nothing is shared between workers.
// - Each client earns one request per 2^interval_log2 seconds and may save
//   up to `burst` of them. A request without a token is over the limit.
// - Over the limit, 1 in 2^leak_log2 requests is let through anyway, at
//   random: an attacker spoofing a victim's address can drain the victim's
//   bucket but cannot lock the victim out completely (chrony's `leak`).
// - The table never grows: 4 records per 64-byte bucket, the hash keyed
//   with a per-table random seed so a flood cannot aim at one bucket, and
//   the least recently seen record of a full bucket is reused. A client
//   evicted by a flood starts again with a full bucket (fails open).
//
// check() is O(1), noexcept, allocation-free: one hash, one cache line.
// A RateLimiter belongs to one worker (not thread-safe); the constructor
// allocates the table (control path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>

#include "core/ntp_time.h"
#include "core/prefetch.h"
#include "core/prefix_set.h"
#include "core/table_array.h"

namespace tachyon::core {

struct RateLimitOptions {
  uint32_t table_entries = 65536;  // rounded up to a power of two, at least 4
  int8_t interval_log2 = 3;        // one request per 2^N s on average (-4..12)
  uint16_t burst = 8;              // requests a client may save up (1..255)
  uint8_t leak_log2 = 2;           // 1 in 2^N over-limit requests answered anyway; 0: none
  uint8_t ipv6_prefix = 64;        // an IPv6 client is its /N (32..128)
  uint64_t seed = 0;               // hash key and leak randomness; 0: pick at random
};

// The limits, precomputed from RateLimitOptions: part of the live policy,
// so a reload changes them without touching the tables.
struct RateLimitParams {
  uint32_t cost = 0;         // one request, in 1/64 s
  uint32_t max_credit = 0;   // burst * cost
  uint64_t leak_mask = 0;    // 0: no leak
  uint64_t v6_hi_mask = 0;   // of the address's first 64 bits
  uint64_t v6_lo_mask = 0;   // of its last 64 bits (prefixes longer than /64)

  static RateLimitParams from(const RateLimitOptions& o) noexcept;
};

class RateLimiter {
 public:
  enum class Decision : uint8_t {
    kAllow,    // within the limit
    kLeak,     // over the limit, let through by the random leak
    kLimited,  // over the limit: KoD RATE or drop
  };

  // Allocates the table from `memory`: options.table_entries and
  // options.seed are used.
  explicit RateLimiter(const RateLimitOptions& options,
                       std::pmr::memory_resource* memory = std::pmr::get_default_resource());

  // Accounts one request from `client` at `now` (the request's receive
  // timestamp) and decides, under `limits`.
  Decision check(const IpAddress& client, NtpTimestamp now, const RateLimitParams& limits) noexcept;

  // Starts loading the bucket check(client, ...) will use: the table is
  // far larger than a core's cache, so the worker calls this for a whole
  // burst before checking any of it, and the misses overlap.
  void prefetch(const IpAddress& client, const RateLimitParams& limits) const noexcept {
    prefetch_line(&buckets_[bucket_index(key_of(client, limits))]);
  }

  size_t table_entries() const noexcept { return mask_ + 1; }
  static constexpr size_t kRecordBytes = 16;
  size_t memory_bytes() const noexcept { return table_entries() * kRecordBytes; }
  // Records in use (control path, O(table)).
  size_t clients() const noexcept;

 private:
  struct Record {
    uint64_t key;     // 0: free
    uint32_t last;    // last request, in 1/64 s (wraps every 2 years)
    uint32_t credit;  // saved time, in 1/64 s, up to burst * interval
  };
  static_assert(sizeof(Record) == kRecordBytes);
  static constexpr size_t kWays = 4;  // records per 64-byte bucket

  static uint64_t key_of(const IpAddress& client, const RateLimitParams& limits) noexcept;
  size_t bucket_index(uint64_t key) const noexcept;
  uint64_t next_random() noexcept;

  struct alignas(64) Bucket {
    Record way[kWays];
  };
  TableArray<Bucket> buckets_;
  size_t mask_ = 0;         // entries - 1
  size_t bucket_mask_ = 0;  // buckets - 1
  uint64_t seed_ = 0;
  uint64_t random_ = 0;     // xorshift state for the leak
};

}  // namespace tachyon::core
