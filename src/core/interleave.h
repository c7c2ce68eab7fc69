// Server side of NTP interleaved client/server mode (draft-ietf-ntp-
// interleaved-modes; chrony's `xleave`). A basic answer can only carry a
// transmit timestamp taken before the frame leaves; in interleaved mode the
// next answer to the same client carries the precise transmit timestamp of
// the previous one.
//
// The server remembers, per answer, its receive timestamp -> the precise
// transmit timestamp of that answer. A client in interleaved mode puts our
// earlier receive timestamp in its origin field; when it is found here
// (and the request's receive and transmit fields differ, as the draft
// requires), the answer carries origin = the request's receive field and
// transmit = the remembered one. An entry is handed out once, then freed.
//
// Receive timestamps used as keys are marked (lowest bit set) and unique
// per worker (mark_unique()), so most basic requests are told apart by one
// bit and never cost a lookup. Bounded: a fixed table of 16-byte records,
// 4 per cache line; the oldest record of a full bucket is overwritten.
// One table per worker (RSS keeps a client on one worker): not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/ntp_time.h"

namespace tachyon::core {

class InterleaveTable {
 public:
  // Allocates `entries` records (rounded up to a power of two, >= 4).
  explicit InterleaveTable(size_t entries);

  // `rx` made usable as a key: lowest bit set, and greater than every key
  // this table issued before (a clock that steps back cannot reuse a key).
  NtpTimestamp mark_unique(NtpTimestamp rx) noexcept {
    uint64_t k = rx.raw | 1;
    // Compared as a signed difference (NTP time wraps); the first key has
    // nothing to compare with.
    if (last_key_ != 0 && static_cast<int64_t>(k - last_key_) <= 0) k = last_key_ + 2;
    last_key_ = k;
    return NtpTimestamp{k};
  }
  static bool is_marked(NtpTimestamp t) noexcept { return (t.raw & 1) != 0; }

  // After the answer whose receive timestamp was `rx_key` left: its
  // precise transmit timestamp.
  void remember(NtpTimestamp rx_key, NtpTimestamp tx) noexcept;

  // The transmit timestamp remembered for `origin`, removed from the table.
  std::optional<NtpTimestamp> take(NtpTimestamp origin) noexcept;

  size_t entries() const noexcept { return (bucket_mask_ + 1) * kWays; }
  size_t memory_bytes() const noexcept { return entries() * sizeof(Record); }

 private:
  struct Record {
    uint64_t rx;  // 0: free (keys are marked, so never 0)
    uint64_t tx;
  };
  static constexpr size_t kWays = 4;
  struct alignas(64) Bucket {
    Record way[kWays];
  };
  Bucket& bucket_of(uint64_t key) noexcept;

  std::unique_ptr<Bucket[]> buckets_;
  size_t bucket_mask_ = 0;
  uint64_t last_key_ = 0;
};

}  // namespace tachyon::core
