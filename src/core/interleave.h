// Server side of NTP interleaved client/server mode (draft-ietf-ntp-
// interleaved-modes; chrony's `xleave`). A basic answer can only carry a
// transmit timestamp taken before the frame leaves; in interleaved mode the
// next answer to the same client carries the precise transmit timestamp of
// the previous one.
//
// The server remembers, per answer to a client in interleaved mode, its
// receive timestamp -> the precise transmit timestamp of that answer. A
// client in interleaved mode puts our earlier receive timestamp in its
// origin field; when it is found here (and the request's receive and
// transmit fields differ, as the draft requires), the answer carries
// origin = the request's receive field and transmit = the remembered one.
// An entry is handed out once, then freed.
//
// Only requests that look interleaved (a marked origin, receive field !=
// transmit field) get their answer remembered, as chronyd's server does:
// basic clients, nearly all of them, never cost a table write or an entry,
// and a client's third answer is its first interleaved one (its first
// request is basic, its second names a basic answer).
//
// Receive timestamps handed out are keys: their lowest bit is set (marked)
// and they are unique per worker (mark_unique()), so most basic requests
// are told apart by one bit and never cost a lookup. The next bit says
// whether the answer was remembered (as_remembered()): an origin without
// it is a client starting interleaved mode, not an entry lost. Bounded: a
// fixed table of 16-byte records, 4 per cache line; the oldest record of a
// full bucket is overwritten. One table per worker (RSS keeps a client on
// one worker): not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>

#include "core/ntp_time.h"
#include "core/prefetch.h"
#include "core/table_array.h"

namespace tachyon::core {

class InterleaveTable {
 public:
  // Allocates `entries` records (rounded up to a power of two, >= 4) from
  // `memory`.
  explicit InterleaveTable(size_t entries, std::pmr::memory_resource* memory = std::pmr::get_default_resource());

  // `rx` made usable as a key: lowest bit set, the next one clear, and
  // distinct from the key issued before it. A software receive timestamp
  // is shared by a whole burst: each frame after the first gets the
  // previous key + 4 (0.93 ns), so a burst of 32 is spread over 30 ns. A
  // timestamp further back than that is the clock moving back (a model
  // correction, a step, a leap second): it is used as it is, never pinned
  // ahead of the clock, and a move back of more than a millisecond also
  // empties the table, whose keys could otherwise be issued again.
  NtpTimestamp mark_unique(NtpTimestamp rx) noexcept {
    uint64_t k = (rx.raw & ~kRemembered) | kMarked;
    const auto behind = static_cast<int64_t>(last_key_ - k);  // NTP time wraps: signed difference
    if (last_key_ != 0 && behind >= 0) {
      if (behind < kNudgeWindow) {
        k = last_key_ + kKeyStep;
      } else if (behind > kStepBack) {
        clear();
      }
    }
    last_key_ = k;
    return NtpTimestamp{k};
  }
  static bool is_marked(NtpTimestamp t) noexcept { return (t.raw & kMarked) != 0; }
  // The key of an answer that will be remembered: what its receive field
  // carries, and what remember() and take() are given.
  static NtpTimestamp as_remembered(NtpTimestamp key) noexcept { return NtpTimestamp{key.raw | kRemembered}; }
  static bool was_remembered(NtpTimestamp origin) noexcept {
    return (origin.raw & (kMarked | kRemembered)) == (kMarked | kRemembered);
  }

  // After the answer whose receive timestamp was `rx_key` left: its
  // precise transmit timestamp.
  void remember(NtpTimestamp rx_key, NtpTimestamp tx) noexcept;

  // Starts loading the bucket remember(rx_key) will write, or take(origin)
  // will read: the table is far larger than a core's cache, so without it
  // each answer's record costs a cache miss on the worker's path.
  void prefetch(NtpTimestamp rx_key) noexcept { prefetch_line(&bucket_of(rx_key.raw)); }

  // The transmit timestamp remembered for `origin`, removed from the
  // table; nothing for an origin that was never remembered.
  std::optional<NtpTimestamp> take(NtpTimestamp origin) noexcept;

  // Forgets every record (a large step back of the clock).
  void clear() noexcept;
  uint64_t clears() const noexcept { return clears_; }

  size_t entries() const noexcept { return (bucket_mask_ + 1) * kWays; }
  size_t memory_bytes() const noexcept { return entries() * sizeof(Record); }

 private:
  struct Record {
    uint64_t rx;  // 0: free (keys are marked, so never 0)
    uint64_t tx;
  };
  static constexpr size_t kWays = 4;
  static constexpr uint64_t kMarked = 1;
  static constexpr uint64_t kRemembered = 2;
  static constexpr uint64_t kKeyStep = 4;
  static constexpr int64_t kNudgeWindow = 256;          // 60 ns in 2^-32 s units
  static constexpr int64_t kStepBack = 4'294'967;      // 1 ms
  struct alignas(64) Bucket {
    Record way[kWays];
  };
  Bucket& bucket_of(uint64_t key) noexcept {
    // The low bits of a receive timestamp are noise (sub-nanosecond), the
    // high ones change slowly: mix before indexing.
    uint64_t x = key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return buckets_[x & bucket_mask_];
  }

  TableArray<Bucket> buckets_;
  size_t bucket_mask_ = 0;
  uint64_t last_key_ = 0;
  uint64_t clears_ = 0;
};

}  // namespace tachyon::core
