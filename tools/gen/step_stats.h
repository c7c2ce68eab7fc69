// What one step measured: counters and histograms per lcore (StepStats,
// one writer: its lcore), merged by the main lcore once the step is over,
// then turned into rates and percentiles (StepResult) for the report.
#pragma once

#include <array>
#include <cstdint>

#include "tools/gen/histogram.h"
#include "tools/gen/rate_plan.h"
#include "tools/gen/request_mix.h"
#include "tools/gen/validator.h"

namespace tachyon::gen {

// One request kind's share (an entry of --mix): what was sent of it and
// what came back for it, counted once the answer is matched to its request.
// A kind a server never answers (chronyd drops requests with a MAC of a key
// it does not have) shows here as lost, where the totals hide it in the mix.
struct KindCounters {
  uint64_t sent = 0;
  uint64_t usable = 0;   // good and unsynchronized time answers
  uint64_t refused = 0;  // Kiss-o'-Death and crypto-NAK answers
  uint64_t invalid = 0;  // matched answers that failed a check

  uint64_t lost() const noexcept {
    const uint64_t matched = usable + refused + invalid;
    return sent > matched ? sent - matched : 0;
  }
  double lost_pct() const noexcept {
    return sent ? 100.0 * static_cast<double>(lost()) / static_cast<double>(sent) : 0.0;
  }
  void merge(const KindCounters& o) noexcept {
    sent += o.sent;
    usable += o.usable;
    refused += o.refused;
    invalid += o.invalid;
  }
};

struct StepCounters {
  uint64_t sent = 0;
  uint64_t tx_full = 0;         // requests the TX queue refused (not sent, not counted in `sent`)
  uint64_t tx_skipped = 0;      // requests due but skipped: the generator fell behind
  uint64_t no_mbuf = 0;         // requests not built: the mbuf pool was empty
  uint64_t good = 0;            // usable time answers
  uint64_t unsync = 0;          // answers from an unsynchronized server (valid unless --reject-unsync)
  uint64_t interleaved = 0;     // of good + unsync: interleaved answers (--interleaved); the others are basic
  uint64_t kod[kKissCount] = {};
  uint64_t crypto_nak = 0;
  uint64_t invalid[kInvalidCount] = {};
  uint64_t late = 0;            // answers after --timeout, or to an earlier step's request
  uint64_t duplicates = 0;
  uint64_t other_frames = 0;    // received frames that are not answers to us (ignored)
  uint64_t arp_replies = 0;     // ARP requests / neighbor solicitations we answered for clients
  uint64_t nd_replies = 0;
  uint64_t forwarded = 0;       // answers handed to the lcore that sent the request
  uint64_t active_ticks = 0;    // TSC ticks this lcore offered load during the step
  std::array<KindCounters, kMaxMixEntries> by_kind{};  // indexed by mix entry (= request template)

  uint64_t invalid_total() const noexcept {
    uint64_t n = 0;
    for (uint64_t v : invalid) n += v;
    return n;
  }
  uint64_t kod_total() const noexcept {
    uint64_t n = 0;
    for (uint64_t v : kod) n += v;
    return n;
  }
  // Answers matched to a request of this step in time (whatever they say).
  uint64_t matched() const noexcept {
    return good + unsync + kod_total() + crypto_nak + invalid_total() - invalid[static_cast<size_t>(Invalid::kUnknownOrigin)] -
           invalid[static_cast<size_t>(Invalid::kIpChecksum)];
  }
  void merge(const StepCounters& o) noexcept;
};

struct StepStats {
  StepCounters c;
  LogHistogram rtt_ticks;        // T4 - T1 on the TSC
  LogHistogram processing_ns;    // T3 - T2 of time answers (interleaved: of the previous answer)
  SignedHistogram xmt_offset_ns; // T3 - T4 (basic answers)
  SignedHistogram offset_ns;     // NTP offset (basic answers)

  void merge(const StepStats& o) noexcept;
  void reset() noexcept { *this = StepStats{}; }
};

struct Percentiles {
  uint64_t count = 0;
  double min = 0, mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;  // microseconds
};
Percentiles percentiles_us(const LogHistogram& h, double units_per_us);
Percentiles percentiles_us(const SignedHistogram& h, double units_per_us);

// A finished step, with its derived figures.
struct StepResult {
  unsigned number = 0;          // 1-based
  StepKind kind = StepKind::kFixed;
  double offered_rate = 0;      // what the step asked for (0: unlimited)
  double duration_s = 0;
  bool interrupted = false;     // cut short (duration, count, signal, link)
  StepCounters c;
  double sent_rate = 0;
  double answered_rate = 0;     // good + unsync per second
  uint64_t basic = 0;           // good + unsync - interleaved
  double interleaved_pct = 0;   // interleaved in % of good + unsync
  uint64_t lost = 0;            // sent without a matching answer in time
  double lost_pct = 0;
  uint64_t invalid = 0;
  double invalid_pct = 0;       // of the answers received
  double failed_pct = 0;        // sent without a usable time answer (the ramp's criterion)
  // Sent below 97 % of the offered rate, and not because the port refused
  // the requests: the generator's CPU was the limit.
  bool generator_limited = false;
  // The port's TX queue refused at least 1 % of the requests the step meant
  // to send: the link or the server did not take them (over memif, the
  // server's ring was full: a saturated server pushes back instead of
  // losing requests). The server's limit, not the generator's.
  bool back_pressure = false;
  bool passed = false;
  Percentiles rtt, processing, xmt_offset, offset;
};

// Derives a StepResult. `tsc_hz` converts the RTT histogram; with
// `reject_unsync`, unsynchronized answers are invalid already and not
// usable.
StepResult make_result(unsigned number, StepKind kind, double offered_rate, const StepStats& s, double tsc_hz,
                       bool interrupted, double max_loss_pct);

// Requests sent below this fraction of the offered rate: the generator,
// not the server, was the limit.
inline constexpr double kGeneratorLimitedBelow = 0.97;
inline constexpr double kBackPressureShare = 0.01;

}  // namespace tachyon::gen
