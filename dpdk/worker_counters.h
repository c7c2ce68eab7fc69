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
  Counter rx_bursts;        // non-empty bursts
  Counter hw_timestamps;    // requests stamped with the NIC's RX timestamp
  Counter arp_replies;
  Counter nd_advertisements;
  Counter icmp_echo_replies;
  Counter icmpv6_echo_replies;
  Counter control_replies;  // mode 6 answers
  core::NtpCounters ntp;    // answers by mode/version, KoD, drops by reason

  // Server processing time (RX timestamp -> TX timestamp) histogram, in
  // buckets whose upper bounds are kProcessingBucketsNs; the last is +Inf.
  static constexpr uint64_t kProcessingBucketsNs[] = {250, 500, 1000, 2000, 5000, 10000, 50000, 100000, 1000000};
  static constexpr size_t kProcessingBuckets = sizeof kProcessingBucketsNs / sizeof kProcessingBucketsNs[0] + 1;
  Counter processing_count;
  Counter processing_sum_ns;
  Counter processing_bucket[kProcessingBuckets];

  void observe_processing(uint64_t ns, uint64_t n) noexcept {
    size_t b = 0;
    while (b < kProcessingBuckets - 1 && ns > kProcessingBucketsNs[b]) ++b;
    processing_bucket[b].add(n);
    processing_count.add(n);
    processing_sum_ns.add(ns * n);
  }
};

}  // namespace tachyon::dp
