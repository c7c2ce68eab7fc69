#include "tools/gen/worker.h"

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <sched.h>

#include <algorithm>
#include <cstring>

#include "tools/gen/rate_plan.h"

namespace tachyon::gen {

Worker::Worker(const WorkerSetup& setup, std::optional<auth::MacEngine> engine)
    : s_(setup),
      engine_(std::move(engine)),
      me_(setup.shared[setup.index]),
      table_(setup.table_capacity, setup.flows != nullptr),
      stats_(std::make_unique<StepStats>()) {
  for (size_t t = 0; t < s_.builder->template_count(); ++t) {
    first_byte_[t] = s_.builder->request_template(t).bytes[s_.builder->ntp_offset()];
  }
  source_port_span_ = uint32_t{s_.source_port_max} - s_.source_port_min + 1;
  rng_ = s_.seed | 1;
  remaining_ = s_.count_limit ? s_.count_limit : UINT64_MAX;
  // Spread the workers over the client list.
  next_client_ = static_cast<uint32_t>(uint64_t{s_.builder->client_count()} * s_.index / s_.count);
}

int Worker::lcore_main(void* arg) {
  static_cast<Worker*>(arg)->run();
  return 0;
}

void Worker::run() noexcept {
  uint64_t seen = 0;
  Phase phase = Phase::kIdle;
  uint64_t next_yield = rte_rdtsc() + s_.yield_ticks;
  while (true) {
    const uint64_t command = s_.control->command.load(std::memory_order_acquire);
    if (unlikely(command != seen)) {
      seen = command;
      phase = static_cast<Phase>(command & 0xff);
      on_command(phase, command >> 8);
      if (phase == Phase::kExit) return;
    }
    const uint64_t now = rte_rdtsc();
    if (unlikely(s_.yield_ticks != 0 && now >= next_yield)) {
      // Lets the kernel's softirq thread on this CPU run: on a veth, the
      // frames we send are moved to the peer by NET_RX softirq work on our
      // CPU, which a busy-polling loop would otherwise starve (each frame
      // then waits for ksoftirqd's turn). Free when nothing else is runnable.
      sched_yield();
      next_yield = now + s_.yield_ticks;
    }
    if (unlikely(halted_)) {
      rte_pause();
      continue;
    }
    if (sending_) send(now);
    receive();
    if (s_.count > 1) drain_inbox();
  }
}

void Worker::on_command(Phase phase, uint64_t sequence) noexcept {
  const uint64_t now = rte_rdtsc();
  if (sending_ && phase != Phase::kSend) {
    stats_->c.active_ticks = now - step_start_;
    sending_ = false;
  }
  if (phase != Phase::kSend) release_pending();
  switch (phase) {
    case Phase::kSend: {
      stats_->reset();
      const double rate = s_.control->rate.load(std::memory_order_relaxed);
      unlimited_ = rate <= 0;
      counted_ = s_.control->counted.load(std::memory_order_relaxed);
      rate_per_tick_ = unlimited_ ? 0 : rate / s_.tsc_hz;
      max_backlog_ = catch_up_limit(rate, s_.burst, static_cast<double>(s_.yield_ticks) / s_.tsc_hz);
      step_start_ = now;
      credit_ = 0;
      step_first_counter_ = next_counter_;
      sending_ = true;
      break;
    }
    case Phase::kCollect:
      me_.result = *stats_;
      me_.ack.store(sequence, std::memory_order_release);
      break;
    case Phase::kHalt:
      // memif's receive path may crash while its peer goes away: once the
      // link is down, the port is not polled again.
      halted_ = true;
      break;
    case Phase::kIdle:
    case Phase::kDrain:
    case Phase::kExit:
      break;
  }
}

void Worker::send(uint64_t now) noexcept {
  if (unlikely(pending_n_ != 0)) {
    // What the TX queue refused last time goes first, as built: those are
    // the next sequence numbers, due already; only their send time is new.
    transmit(pending_, pending_templates_, pending_n_, false);
    return;
  }
  uint64_t want = kBurst;
  if (!unlimited_) {
    const auto due = static_cast<uint64_t>(static_cast<double>(now - step_start_) * rate_per_tick_);
    if (due <= credit_) return;
    want = due - credit_;
    // --burst: wait until a whole burst is due (or all that --count leaves).
    if (want < s_.burst && (!counted_ || want < remaining_)) return;
    if (unlikely(want > max_backlog_)) {
      stats_->c.tx_skipped += want - max_backlog_;
      credit_ += want - max_backlog_;
      want = max_backlog_;
    }
    want = std::min<uint64_t>(want, kBurst);
  }
  if (counted_) {
    if (remaining_ == 0) {
      // --count reached: the step's offered load ends here.
      stats_->c.active_ticks = now - step_start_;
      sending_ = false;
      return;
    }
    want = std::min(want, remaining_);
  }
  const auto n = static_cast<uint16_t>(want);

  rte_mbuf* pkts[kBurst];
  if (unlikely(rte_pktmbuf_alloc_bulk(s_.pool, pkts, n) != 0)) {
    stats_->c.no_mbuf += n;
    credit_ += n;
    return;
  }
  uint8_t templates[kBurst];
  const uint32_t clients = s_.builder->client_count();
  for (uint16_t i = 0; i < n; ++i) {
    const uint64_t counter = next_counter_ + i;
    const uint8_t t = s_.schedule[counter & (kScheduleSize - 1)];
    templates[i] = t;
    const uint32_t client = next_client_;
    if (++next_client_ == clients) next_client_ = 0;
    const uint64_t sequence = make_sequence(s_.index, counter);
    const uint64_t xmt = transmit_field_stamp(s_.codec, sequence);
    uint16_t port;
    uint64_t org = 0, rec = 0;
    if (s_.flows == nullptr) {
      // Lemire's multiply-shift: a uniform port in the range without a division.
      port = static_cast<uint16_t>(s_.source_port_min + ((next_random() >> 32) * source_port_span_ >> 32));
    } else {
      // Interleaved mode (draft-ietf-ntp-interleaved-modes): origin = the
      // server's receive timestamp of this client's last answer (0 before
      // the first: a basic answer), receive field != transmit field. The
      // mbuf keeps its counter if the TX queue refuses it, so the record
      // stays right.
      port = flow_port(client);
      org = s_.flows[client].load(std::memory_order_relaxed);
      rec = receive_field_stamp(s_.codec, sequence);
      table_.record_flow(counter, FlowRecord{org, client});
    }
    rte_mbuf* m = pkts[i];
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const uint16_t length = s_.builder->build(frame, t, client, port, xmt, org, rec);
    // A signed request's MAC covers its transmit timestamp: computed here,
    // before the send time is taken. (If OpenSSL failed, the request goes
    // out with a zero digest, to be refused: never seen.)
    if (engine_) s_.builder->sign(frame, t, *engine_);
    m->data_len = length;
    m->pkt_len = length;
  }
  transmit(pkts, templates, n, true);
}

void Worker::transmit(rte_mbuf** pkts, const uint8_t* templates, uint16_t n, bool fresh) noexcept {
  // One send time for the burst, taken as late as possible: the requests
  // leave with the rte_eth_tx_burst() below.
  const uint64_t tx_tsc = rte_rdtsc();
  for (uint16_t i = 0; i < n; ++i) table_.record(next_counter_ + i, templates[i], tx_tsc);
  const uint16_t sent = rte_eth_tx_burst(s_.port, s_.queue, pkts, n);
  if (unlikely(sent < n)) {
    // The TX queue is full. The unsent requests are the burst's tail and
    // keep their sequence numbers: the next call sends them first.
    const uint16_t left = n - sent;
    if (fresh) stats_->c.tx_full += left;
    std::memmove(pending_, pkts + sent, left * sizeof(rte_mbuf*));
    std::memmove(pending_templates_, templates + sent, left);
    pending_n_ = left;
  } else {
    pending_n_ = 0;
  }
  next_counter_ += sent;
  credit_ += sent;
  if (counted_) remaining_ -= sent;
  stats_->c.sent += sent;
  for (uint16_t i = 0; i < sent; ++i) ++stats_->c.by_kind[templates[i]].sent;
  me_.sent.add(sent);
}

void Worker::release_pending() noexcept {
  if (pending_n_ != 0) rte_pktmbuf_free_bulk(pending_, pending_n_);
  pending_n_ = 0;
}

void Worker::receive() noexcept {
  rte_mbuf* pkts[kBurst];
  const uint16_t n = rte_eth_rx_burst(s_.port, s_.queue, pkts, kBurst);
  if (n == 0) return;
  process(pkts, n, rte_rdtsc(), false);
}

void Worker::drain_inbox() noexcept {
  rte_mbuf* pkts[kBurst];
  const unsigned n = rte_ring_sc_dequeue_burst(me_.inbox, reinterpret_cast<void**>(pkts), kBurst, nullptr);
  if (n != 0) process(pkts, static_cast<uint16_t>(n), 0, true);
}

void Worker::process(rte_mbuf** pkts, uint16_t n, uint64_t rx_tsc, bool forwarded) noexcept {
  // Our clock for this burst: the latest published, copied only when a new
  // one came (in tachyond's workers the copy cost 370-400 cycles a burst).
  s_.clock->refresh(clock_, clock_seen_);
  const core::TimeMap& map = clock_.tsc;
  rte_mbuf* to_free[kBurst];
  rte_mbuf* replies[kBurst];
  uint16_t n_free = 0, n_replies = 0;
  uint64_t usable = 0, invalid = 0;
  StepCounters& c = stats_->c;

  constexpr uint16_t kPrefetchAhead = 4;
  for (uint16_t i = 0; i < n && i < kPrefetchAhead; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + kPrefetchAhead < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetchAhead], void*));
    rte_mbuf* m = pkts[i];
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    if (unlikely(m->nb_segs != 1)) {
      ++c.other_frames;
      to_free[n_free++] = m;
      continue;
    }
    const uint64_t tsc = forwarded ? *RTE_MBUF_DYNFIELD(m, s_.rx_tsc_offset, uint64_t*) : rx_tsc;
    const Classified k = classify(frame, m->data_len, s_.filter);
    switch (k.kind) {
      case FrameKind::kNtpAnswer:
        if (handle_answer(m, frame, k, tsc, map, forwarded, usable, invalid)) continue;
        break;
      case FrameKind::kIpChecksumBad:
        ++c.invalid[static_cast<size_t>(Invalid::kIpChecksum)];
        ++invalid;
        break;
      case FrameKind::kArpRequest: {
        const uint16_t length = answer_arp(frame, m->data_len, k, s_.filter.mac);
        m->data_len = m->pkt_len = length;
        replies[n_replies++] = m;
        ++c.arp_replies;
        continue;
      }
      case FrameKind::kNeighborSolicitation: {
        const auto capacity = static_cast<uint16_t>(m->buf_len - m->data_off);
        const uint16_t length = answer_neighbor_solicitation(frame, m->data_len, capacity, k, s_.filter.mac);
        if (length == 0) break;
        m->data_len = m->pkt_len = length;
        replies[n_replies++] = m;
        ++c.nd_replies;
        continue;
      }
      case FrameKind::kArpReply:
      case FrameKind::kNeighborAdvertisement:
      case FrameKind::kOther:
        ++c.other_frames;
        break;
    }
    to_free[n_free++] = m;
  }
  if (n_free) rte_pktmbuf_free_bulk(to_free, n_free);
  if (unlikely(n_replies != 0)) {
    const uint16_t sent = rte_eth_tx_burst(s_.port, s_.queue, replies, n_replies);
    if (sent < n_replies) rte_pktmbuf_free_bulk(replies + sent, n_replies - sent);
  }
  if (usable) me_.answered.add(usable);
  if (invalid) me_.invalid.add(invalid);
}

bool Worker::handle_answer(rte_mbuf* m, const uint8_t* frame, const Classified& k, uint64_t rx_tsc,
                           const core::TimeMap& map, bool forwarded, uint64_t& usable, uint64_t& invalid) noexcept {
  StepStats& st = *stats_;
  StepCounters& c = st.c;
  const uint8_t* ntp = frame + k.payload_offset;
  if (unlikely(k.payload_length < core::kNtpHeaderSize)) {
    ++c.invalid[static_cast<size_t>(Invalid::kTruncated)];
    ++invalid;
    return false;
  }
  // The answer's origin (a reflected request's own transmit timestamp)
  // names the request; in interleaved mode, a tagged one is our receive
  // field: an interleaved answer.
  const uint64_t key = core::load_be64(ntp + (s_.echo ? core::off::kTransmit : core::off::kOrigin));
  uint64_t sequence = s_.codec.decode(key);
  const bool interleaved = s_.flows != nullptr && is_receive_field(sequence);
  if (interleaved) sequence = untagged(sequence);
  const unsigned owner = worker_of(sequence);
  if (owner != s_.index) {
    if (owner < s_.count && !forwarded) {
      *RTE_MBUF_DYNFIELD(m, s_.rx_tsc_offset, uint64_t*) = rx_tsc;
      if (rte_ring_mp_enqueue(s_.shared[owner].inbox, m) == 0) {
        ++c.forwarded;
        return true;
      }
    }
    ++c.invalid[static_cast<size_t>(Invalid::kUnknownOrigin)];
    ++invalid;
    return false;
  }
  const uint64_t counter = counter_of(sequence);
  uint8_t t = 0;
  uint64_t tx_tsc = 0;
  switch (table_.match(counter, next_counter_, t, tx_tsc)) {
    case Match::kOk:
      break;
    case Match::kUnknown:
      ++c.invalid[static_cast<size_t>(Invalid::kUnknownOrigin)];
      ++invalid;
      return false;
    case Match::kLate:
      ++c.late;
      return false;
    case Match::kDuplicate:
      ++c.duplicates;
      return false;
  }
  const uint64_t rtt = rx_tsc - tx_tsc;
  if (unlikely(rtt > s_.timeout_ticks || counter < step_first_counter_)) {
    ++c.late;
    return false;
  }

  if (s_.echo) {
    // A reflector returns the request itself: same length, same first byte.
    const RequestTemplate& rt = s_.builder->request_template(t);
    if (k.payload_length != rt.ntp_length || ntp[0] != first_byte_[t]) {
      ++c.invalid[static_cast<size_t>(Invalid::kMode)];
      ++c.by_kind[t].invalid;
      ++invalid;
      return false;
    }
    ++c.good;
    ++c.by_kind[t].usable;
    ++usable;
    st.rtt_ticks.record(rtt);
    return false;
  }

  const RequestTemplate& rt = s_.builder->request_template(t);
  Expectation e{rt.version, rt.reply_mode, key};
  const FlowRecord* flow = nullptr;
  if (s_.flows != nullptr) {
    flow = &table_.flow_of(counter);
    e.interleaved = interleaved;
    e.previous_receive = flow->origin;
  }
  const LocalTimes local{map.to_ntp(tx_tsc), map.to_ntp(rx_tsc)};
  AnswerCheck check = check_answer({ntp, k.payload_length}, e, local, s_.validator);
  if (rt.is_signed()) {
    check = check_answer_mac(check, {ntp, k.payload_length}, s_.builder->mac_key()->id, *engine_, *s_.keys);
  }
  switch (check.verdict) {
    case Verdict::kGood:
    case Verdict::kUnsynchronized:
      if (check.verdict == Verdict::kGood) {
        ++c.good;
      } else {
        ++c.unsync;
      }
      ++c.by_kind[t].usable;
      ++usable;
      st.rtt_ticks.record(rtt);
      st.processing_ns.record(static_cast<uint64_t>(check.processing_ns));
      if (interleaved) {
        ++c.interleaved;
      } else {
        st.xmt_offset_ns.record(check.xmt_offset_ns);
        st.offset_ns.record(check.offset_ns);
      }
      // The next request of this client asks for the transmit time of
      // this answer, by its receive timestamp.
      if (flow != nullptr) {
        s_.flows[flow->flow].store(core::load_be64(ntp + core::off::kReceive), std::memory_order_relaxed);
      }
      break;
    case Verdict::kKissOfDeath:
      ++c.kod[static_cast<size_t>(check.kiss)];
      ++c.by_kind[t].refused;
      st.rtt_ticks.record(rtt);
      break;
    case Verdict::kCryptoNak:
      ++c.crypto_nak;
      ++c.by_kind[t].refused;
      st.rtt_ticks.record(rtt);
      break;
    case Verdict::kInvalid:
      ++c.invalid[static_cast<size_t>(check.invalid)];
      ++c.by_kind[t].invalid;
      ++invalid;
      break;
  }
  return false;
}

}  // namespace tachyon::gen
