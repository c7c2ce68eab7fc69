// Per-worker (per-queue) dataplane counters: one writer, the worker; read
// by the control thread when /metrics is scraped. Cache-line aligned so two
// workers never share a line. See core/counters.h for the Counter contract.
#pragma once

#include <cstdint>

#include "core/counters.h"

namespace tachyon::dp {

using core::Counter;

struct alignas(core::kCacheLine) WorkerCounters {
  Counter rx_packets;
  Counter rx_bytes;
  Counter tx_packets;
  Counter tx_bytes;
  Counter tx_dropped;       // answers the TX queue did not take (freed)
  Counter busy_tsc;         // TSC ticks spent on non-empty polls (receive to transmit)
  Counter hw_timestamps;    // requests stamped with the NIC's RX timestamp
  Counter arp_replies;
  Counter nd_advertisements;
  Counter icmp_echo_replies;
  Counter icmpv6_echo_replies;
  Counter control_replies;  // mode 6 answers
  Counter ratelimit_leaks;  // over the rate limit, answered by the random leak
  Counter auth_signed;      // answers MACed with the request's key
  Counter auth_crypto_naks; // crypto-NAK answers (unknown key or bad MAC)
  Counter auth_failures;    // OpenSSL failures signing an answer (answer not sent)
  Counter interleaved;      // interleaved answers (the previous answer's precise TX)
  Counter interleaved_misses;  // interleaved-looking requests whose entry was gone: answered in basic mode
  core::NtpCounters ntp;    // answers by mode/version, KoD, drops by reason

  // Server processing time (RX timestamp -> TX timestamp) histogram, in
  // buckets whose upper bounds are kProcessingBucketsNs; the last is +Inf.
  static constexpr uint64_t kProcessingBucketsNs[] = {250, 500, 1000, 2000, 5000, 10000, 50000, 100000, 1000000};
  static constexpr size_t kProcessingBuckets = sizeof kProcessingBucketsNs / sizeof kProcessingBucketsNs[0] + 1;
  Counter processing_sum_ns;
  Counter processing_bucket[kProcessingBuckets];

  // Frames per non-empty RX burst, in buckets of at most 1, 2, 4, 8, 16
  // and 32 frames (kBurstSize): how bursty the load arrives. A request
  // waits for those ahead of it in its burst, so this is what the
  // processing-time tail follows.
  static constexpr size_t kBurstBuckets = 6;
  Counter rx_burst_bucket[kBurstBuckets];
  void observe_burst(uint16_t frames) noexcept {
    size_t b = frames <= 1 ? 0 : static_cast<size_t>(32 - __builtin_clz(static_cast<unsigned>(frames) - 1));
    rx_burst_bucket[b < kBurstBuckets ? b : kBurstBuckets - 1].add();
  }

  static size_t processing_bucket_of(uint64_t ns) noexcept {
    size_t b = 0;
    while (b < kProcessingBuckets - 1 && ns > kProcessingBucketsNs[b]) ++b;
    return b;
  }

  // A burst's processing times, added to the histogram by runs of answers
  // that fall in one bucket; flush() once at the end of the burst.
  class ProcessingRun {
   public:
    void observe(WorkerCounters& c, uint64_t ns) noexcept {
      sum_ns_ += ns;
      // Most answers of a burst land in the bucket of the one before.
      if (ns >= lower_ && ns <= upper_) {
        ++in_bucket_;
        return;
      }
      if (in_bucket_ != 0) c.processing_bucket[bucket_].add(in_bucket_);
      bucket_ = processing_bucket_of(ns);
      lower_ = bucket_ == 0 ? 0 : kProcessingBucketsNs[bucket_ - 1] + 1;
      upper_ = bucket_ == kProcessingBuckets - 1 ? UINT64_MAX : kProcessingBucketsNs[bucket_];
      in_bucket_ = 1;
    }
    void flush(WorkerCounters& c) noexcept {
      if (in_bucket_ == 0) return;  // nothing observed
      c.processing_bucket[bucket_].add(in_bucket_);
      c.processing_sum_ns.add(sum_ns_);
    }

   private:
    uint64_t sum_ns_ = 0, in_bucket_ = 0;
    size_t bucket_ = 0;
    uint64_t lower_ = 1, upper_ = 0;  // an empty range: the first answer opens a run
  };
};

// A plain copy of a WorkerCounters block, read with relaxed loads (no lock,
// no write: the worker is not disturbed beyond sharing the cache lines).
struct WorkerCountersSnapshot {
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, tx_dropped = 0, busy_tsc = 0;
  uint64_t hw_timestamps = 0, arp_replies = 0, nd_advertisements = 0, icmp_echo_replies = 0;
  uint64_t icmpv6_echo_replies = 0, control_replies = 0, ratelimit_leaks = 0;
  uint64_t auth_signed = 0, auth_crypto_naks = 0, auth_failures = 0, interleaved = 0, interleaved_misses = 0;
  uint64_t replies[8][8] = {};  // by request mode and version
  uint64_t kod[core::kKissCodeCount] = {};
  uint64_t drops[core::kDropReasonCount] = {};
  uint64_t processing_sum_ns = 0;
  uint64_t processing_bucket[WorkerCounters::kProcessingBuckets] = {};
  uint64_t rx_burst_bucket[WorkerCounters::kBurstBuckets] = {};

  uint64_t ntp_answers() const noexcept {
    uint64_t n = 0;
    for (const auto& by_version : replies) {
      for (uint64_t v : by_version) n += v;
    }
    return n;
  }
  // Answers timed: the histogram's total.
  uint64_t processing_count() const noexcept {
    uint64_t n = 0;
    for (uint64_t b : processing_bucket) n += b;
    return n;
  }
  uint64_t dropped() const noexcept {
    uint64_t n = 0;
    for (uint64_t d : drops) n += d;
    return n;
  }
};

inline WorkerCountersSnapshot snapshot(const WorkerCounters& c) noexcept {
  WorkerCountersSnapshot s;
  s.rx_packets = c.rx_packets.load();
  s.rx_bytes = c.rx_bytes.load();
  s.tx_packets = c.tx_packets.load();
  s.tx_bytes = c.tx_bytes.load();
  s.tx_dropped = c.tx_dropped.load();
  s.busy_tsc = c.busy_tsc.load();
  s.hw_timestamps = c.hw_timestamps.load();
  s.arp_replies = c.arp_replies.load();
  s.nd_advertisements = c.nd_advertisements.load();
  s.icmp_echo_replies = c.icmp_echo_replies.load();
  s.icmpv6_echo_replies = c.icmpv6_echo_replies.load();
  s.control_replies = c.control_replies.load();
  s.ratelimit_leaks = c.ratelimit_leaks.load();
  s.auth_signed = c.auth_signed.load();
  s.auth_crypto_naks = c.auth_crypto_naks.load();
  s.auth_failures = c.auth_failures.load();
  s.interleaved = c.interleaved.load();
  s.interleaved_misses = c.interleaved_misses.load();
  for (size_t m = 0; m < 8; ++m) {
    for (size_t v = 0; v < 8; ++v) s.replies[m][v] = c.ntp.replies[m][v].load();
  }
  for (size_t k = 0; k < core::kKissCodeCount; ++k) s.kod[k] = c.ntp.kod[k].load();
  for (size_t r = 0; r < core::kDropReasonCount; ++r) s.drops[r] = c.ntp.drops[r].load();
  s.processing_sum_ns = c.processing_sum_ns.load();
  for (size_t b = 0; b < WorkerCounters::kProcessingBuckets; ++b) s.processing_bucket[b] = c.processing_bucket[b].load();
  for (size_t b = 0; b < WorkerCounters::kBurstBuckets; ++b) s.rx_burst_bucket[b] = c.rx_burst_bucket[b].load();
  return s;
}

}  // namespace tachyon::dp
