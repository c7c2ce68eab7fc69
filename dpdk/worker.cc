#include "dpdk/worker.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <sched.h>

#include <new>

namespace tachyon::dp {

namespace {

// The first and the last cache line of a frame. An NTP request over IPv4
// is 90 bytes, so its request fields (the transmit timestamp the answer
// echoes first of all) and half the answer lie in the second line: with
// only the first one fetched ahead, a burst that came from another core
// (on a veth, the kernel copies the frames on the sender's CPU) missed on
// every frame's second line in turn. Fetching both cut the time to answer
// bursts of 17-32 requests by 14-26 % on the veth (six runs,
// docs/performance.md).
inline void prefetch_frame(const rte_mbuf* m) noexcept {
  const auto* data = rte_pktmbuf_mtod(m, const char*);
  rte_prefetch0(data);
  rte_prefetch0(data + m->data_len - 1);  // a prefetch never faults, even for an empty frame
}

}  // namespace

Worker::Worker(const WorkerConfig& config) noexcept
    : cfg_(config), ctx_(config.identity, &model_.answer, core::NtpTimestamp{}, config.caps.checksum_offload) {
  adopt_model();
}

void Worker::adopt_model() noexcept {
  ctx_ = FrameContext(cfg_.identity, &model_.answer, core::NtpTimestamp{}, cfg_.caps.checksum_offload);
  ctx_.service = cfg_.service;
  ctx_.control = cfg_.control;
  ctx_.interleave = cfg_.interleave;
  if (cfg_.auth != nullptr) ctx_.mac = cfg_.mac;  // ctx_.auth follows auth_ burst by burst
}

int Worker::lcore_main(void* arg) {
  static_cast<Worker*>(arg)->run();
  return 0;
}

void Worker::run() noexcept {
  const uint64_t interval = cfg_.yield_interval_tsc;
  uint64_t next_yield = rte_rdtsc() + interval;
  WorkerCounters& c = *cfg_.counters;
  while (!cfg_.stop->load(std::memory_order_relaxed)) {
    // Busy time: what the polls that found frames took, from rx_burst to
    // the end of tx_burst. Against the frames received, it is what a
    // request costs this worker, whatever the load (its capacity is
    // about one over that).
    const uint64_t t0 = rte_rdtsc();
    uint64_t now = t0;
    if (poll_once() == 0) {
      rte_pause();
    } else {
      now = rte_rdtsc();
      c.busy_tsc.add(now - t0);
    }
    if (interval != 0 && now >= next_yield) {
      sched_yield();  // once per interval, never per packet
      next_yield = rte_rdtsc() + interval;
    }
  }
  if (cfg_.policies != nullptr) cfg_.policies->leave(cfg_.policy_slot);
  if (cfg_.auth != nullptr) cfg_.auth->leave(cfg_.policy_slot);
}

uint16_t Worker::poll_once() noexcept {
  // A quiescent point: no policy pointer is held across it, so a reload
  // can free the old policy once every worker has passed one.
  if (cfg_.policies != nullptr) cfg_.service->use(cfg_.policies->enter(cfg_.policy_slot));
  if (cfg_.auth != nullptr) auth_ = cfg_.auth->enter(cfg_.policy_slot);
  rte_mbuf* pkts[kBurstSize];
  const uint16_t n = rte_eth_rx_burst(cfg_.port_id, cfg_.queue, pkts, kBurstSize);
  if (n == 0) return 0;
  // The software RX timestamp of the whole burst: the closest we get to
  // the wire without NIC timestamps.
  const uint64_t rx_tsc = rte_rdtsc();
  process(pkts, n, rx_tsc);
  return n;
}

void Worker::process(rte_mbuf** pkts, uint16_t n, uint64_t rx_tsc) noexcept {
  WorkerCounters& c = *cfg_.counters;
  if (unlikely(cfg_.clock->refresh(model_, model_seen_))) adopt_model();
  const core::ClockModel& model = model_;
  const core::NtpTimestamp software_rx = model.tsc.to_ntp(rx_tsc);
  const bool hw_usable = cfg_.caps.rx_timestamp_flag != 0 && model.nic.valid();
  const bool offload = cfg_.caps.checksum_offload;

  FrameContext& ctx = ctx_;
  if (ctx.mac != nullptr) {
    if (auth_ == nullptr) auth_ = cfg_.auth->current();  // process() called directly (tests)
    ctx.auth = auth_;
  }
  core::InterleaveTable* const interleave = cfg_.interleave;

  rte_mbuf* tx[kBurstSize];
  FrameVerdict* const ntp_verdicts = ntp_verdicts_;
  core::NtpTimestamp* const ntp_rx = ntp_rx_;
  rte_mbuf* ntp_mbufs[kBurstSize];
  rte_mbuf* dropped[kBurstSize];
  uint16_t ntp_tx_index[kBurstSize];  // where each NTP answer sits in tx[]
  uint64_t sign_ns = 0;               // what signing the burst's answers will take
  uint16_t n_tx = 0, n_ntp = 0, n_dropped = 0, n_remember = 0;  // n_remember: answers to interleaved clients
  uint64_t rx_bytes = 0, tx_bytes = 0;

  // As l3fwd: the frames were just written by the NIC (or another core),
  // so fetch a few ahead of the one being handled, both ends of each
  // (prefetch_frame()).
  //
  // With an access list or a rate limit, each client's rate-limit record
  // is a likely cache miss too: it is fetched kRecordAhead frames ahead,
  // from the source address of a frame fetched kRecordAhead before that.
  // Until 2026-11-22 every frame's source was read and every record
  // fetched before the first frame, so the burst waited for all of those
  // misses before any answer was built; fetched in the loop, they overlap
  // the work on the frames before them (bursts of 17-32 on the veth, the
  // table on huge pages: 3.5-5.1 us against 4.0-5.6 us;
  // docs/performance.md, *Admission on the wire*). In interleaved mode the
  // record an interleaved request's origin names (take()) is fetched the
  // same way (100k/s of interleaved clients on the veth: stated p99
  // 4.8-7.4 us before, 2.8-2.9 after).
  constexpr uint16_t kPrefetchAhead = 4;
  constexpr uint16_t kRecordAhead = 4;
  core::NtpService* const admission =
      ctx.service != nullptr && !ctx.service->admits_everyone() ? ctx.service : nullptr;
  const bool records = admission != nullptr || interleave != nullptr;
  const uint16_t frame_ahead = records ? kPrefetchAhead + kRecordAhead : kPrefetchAhead;
  const auto prefetch_records = [admission, interleave](const rte_mbuf* m) {
    const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    if (admission != nullptr) {
      core::IpAddress client;
      if (peek_source(frame, m->data_len, client)) admission->prefetch(client);
    }
    core::NtpTimestamp origin;
    if (interleave != nullptr && peek_origin(frame, m->data_len, origin) &&
        core::InterleaveTable::was_remembered(origin)) {
      interleave->prefetch(origin);
    }
  };
  for (uint16_t i = 0; i < n && i < frame_ahead; ++i) prefetch_frame(pkts[i]);
  if (records) {
    for (uint16_t i = 0; i < n && i < kRecordAhead; ++i) prefetch_records(pkts[i]);
  }
  for (uint16_t i = 0; i < n; ++i) {
    if (i + frame_ahead < n) prefetch_frame(pkts[i + frame_ahead]);
    if (records && i + kRecordAhead < n) prefetch_records(pkts[i + kRecordAhead]);
    rte_mbuf* m = pkts[i];
    rx_bytes += m->pkt_len;
    if (unlikely(m->nb_segs != 1)) {
      c.ntp.drop(core::DropReason::kFrameSegmented);
      dropped[n_dropped++] = m;
      continue;
    }
    // Only a NIC that checked says "bad"; veth, af_xdp and af_packet say
    // "unknown", also for the partial checksums of locally sent frames.
    if (unlikely((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
                 (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)) {
      c.ntp.drop(core::DropReason::kChecksumBad);
      dropped[n_dropped++] = m;
      continue;
    }
    ctx.rx = software_rx;
    if (hw_usable && (m->ol_flags & cfg_.caps.rx_timestamp_flag)) {
      const uint64_t ticks = *RTE_MBUF_DYNFIELD(m, cfg_.caps.rx_timestamp_offset, rte_mbuf_timestamp_t*);
      ctx.rx = model.nic.to_ntp(ticks);
      c.hw_timestamps.add();
    }
    // Interleaved mode keys its table by the receive timestamps it hands
    // out: unique and marked (their lowest bit, 233 ps, set).
    if (interleave != nullptr) ctx.rx = interleave->mark_unique(ctx.rx);
    auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const auto capacity = static_cast<uint16_t>(m->buf_len - m->data_off);
    // The verdict is built straight into the next NTP slot (guaranteed copy
    // elision): copying it there afterwards reloaded, 16 bytes wide, what
    // handle_frame() had just stored field by field, a store-forwarding
    // stall on every frame. Kept only if it is an NTP answer.
    const FrameVerdict& v =
        *new (&ntp_verdicts[n_ntp]) FrameVerdict(handle_frame(frame, m->data_len, capacity, ctx, c));
    if (v.action == FrameAction::kDrop) {
      dropped[n_dropped++] = m;
      continue;
    }
    m->data_len = v.length;
    m->pkt_len = v.length;
    tx_bytes += v.length;
    m->ol_flags = 0;
    if (offload && v.udp) {
      m->l2_len = v.l2_length;
      m->l3_len = v.l3_length;
      m->ol_flags = v.ipv6 ? (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM)
                           : (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
    }
    if (v.action == FrameAction::kSendNtp) {
      ntp_rx[n_ntp] = ctx.rx;
      ntp_tx_index[n_ntp] = n_tx;
      ntp_mbufs[n_ntp++] = m;
      n_remember += v.remember ? 1 : 0;
      if (v.sign_key != nullptr) sign_ns += cfg_.mac->sign_cost_ns(v.sign_key->algorithm);
    }
    tx[n_tx++] = m;
  }
  c.rx_packets.add(n);
  c.rx_bytes.add(rx_bytes);
  c.observe_burst(n);
  if (n_dropped != 0) rte_pktmbuf_free_bulk(dropped, n_dropped);
  if (n_tx == 0) return;

  // The transmit timestamp, as late as we can take it before the frames
  // go to the NIC (RFC 5905 section 8: T3 is when the answer leaves),
  // plus the time the MACs still to compute will take. Its lowest bit is
  // cleared: a client echoing it as its origin never looks interleaved.
  core::NtpTimestamp xmt = model.tsc.to_ntp(rte_rdtsc());
  if (sign_ns != 0) xmt = core::ntp_add_nanos(xmt, sign_ns);
  xmt.raw &= ~uint64_t{1};
  if (n_remember != 0) {
    // remember() writes the records of interleaved clients' answers after
    // tx_burst; start the (likely missing) lines now, outside the
    // receive-to-transmit window, where they would compete with the
    // frames' own loads.
    for (uint16_t i = 0; i < n_ntp; ++i) {
      if (ntp_verdicts[i].remember) interleave->prefetch(core::InterleaveTable::as_remembered(ntp_rx[i]));
    }
  }
  bool unsigned_answers = false;
  // The processing time histogram, counted per run of answers in the same
  // bucket (a burst's answers share their receive time, or nearly): a few
  // counter updates per burst instead of three per answer.
  WorkerCounters::ProcessingRun run;
  for (uint16_t i = 0; i < n_ntp; ++i) {
    if (unlikely(!stamp_ntp_frame(rte_pktmbuf_mtod(ntp_mbufs[i], uint8_t*), ntp_verdicts[i], xmt, offload,
                                  cfg_.mac))) {
      c.auth_failures.add();
      tx_bytes -= ntp_mbufs[i]->pkt_len;
      tx[ntp_tx_index[i]] = nullptr;  // never sent unsigned
      unsigned_answers = true;
      continue;
    }
    const int64_t processing = core::ntp_diff_nanos(xmt, ntp_rx[i]);
    run.observe(c, processing > 0 ? static_cast<uint64_t>(processing) : 0);
  }
  run.flush(c);
  if (unlikely(unsigned_answers)) {
    uint16_t kept = 0;
    for (uint16_t i = 0, k = 0; i < n_tx; ++i) {
      if (k < n_ntp && ntp_tx_index[k] == i) {
        ntp_tx_index[k++] = tx[i] != nullptr ? kept : kBurstSize;
      }
      if (tx[i] != nullptr) {
        tx[kept++] = tx[i];
      } else {
        rte_pktmbuf_free(ntp_mbufs[k - 1]);
      }
    }
    n_tx = kept;
    if (n_tx == 0) return;
  }
  const bool stamp_before = n_remember != 0 && cfg_.tx_timestamp_before_burst;
  const uint64_t before_tx_burst = stamp_before ? rte_rdtsc() : 0;
  const uint16_t sent = rte_eth_tx_burst(cfg_.port_id, cfg_.queue, tx, n_tx);
  c.tx_packets.add(sent);
  if (unlikely(sent < n_tx)) {
    for (uint16_t i = sent; i < n_tx; ++i) tx_bytes -= tx[i]->pkt_len;
    rte_pktmbuf_free_bulk(tx + sent, n_tx - sent);
    c.tx_dropped.add(n_tx - sent);
  }
  c.tx_bytes.add(tx_bytes);
  if (n_remember != 0) {
    // The precise transmit timestamp, for the next (interleaved) answer to
    // each client: right after the frames went to the NIC's ring (DPDK has
    // no per-packet TX timestamps). A kernel-backed port transmits inside
    // tx_burst (a system call that may deliver the frames, or be
    // preempted): there the moment it was called is the closer one.
    core::NtpTimestamp precise = model.tsc.to_ntp(stamp_before ? before_tx_burst : rte_rdtsc());
    precise.raw &= ~uint64_t{1};
    for (uint16_t i = 0; i < n_ntp; ++i) {
      if (ntp_verdicts[i].remember && ntp_tx_index[i] < sent) {
        interleave->remember(core::InterleaveTable::as_remembered(ntp_rx[i]), precise);
      }
    }
  }
}

}  // namespace tachyon::dp
