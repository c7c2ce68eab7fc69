// A tachyon-gen worker: one lcore, one RX/TX queue pair, one poll loop
// that both offers load (paced on the TSC) and takes in the answers
// (matched, validated, measured). It also answers ARP requests and
// neighbor solicitations for the simulated clients.
//
// The main lcore steers the workers through Control (send at a rate,
// drain, hand over the step's statistics, exit); each worker owns its
// statistics and flight table and publishes the former through its
// WorkerShared block when told to. An answer received by a worker that
// did not send the request (RSS put it on another queue) is passed to the
// sender through the sender's inbox ring, its receive TSC in an mbuf
// dynamic field.
//
// Interleaved mode (--interleaved): each client (flow) keeps one source
// port, and the flows' state -- the server's receive timestamp of each
// client's last usable answer, the next request's origin -- is an array
// shared by the workers (relaxed atomics: a race only costs one basic
// answer).
//
// With --keys, each worker signs its +mac requests and checks their
// answers' MACs with a MacEngine of its own.
//
// Per packet: no allocation, system call, lock or log line; bursts of 32.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/clock_model.h"
#include "core/counters.h"
#include "tools/gen/flight_table.h"
#include "tools/gen/frames.h"
#include "tools/gen/request_builder.h"
#include "tools/gen/step_stats.h"
#include "tools/gen/validator.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace tachyon::gen {

inline constexpr uint16_t kBurst = 32;

enum class Phase : uint8_t {
  kIdle,     // poll, answer ARP/NDP, send nothing
  kSend,     // offer load at Control::rate (resets the step's statistics)
  kDrain,    // stop sending; keep matching answers
  kCollect,  // publish the step's statistics, then ack
  kHalt,     // stop touching the port at once (its link went down), still obey commands
  kExit,
};

// Commands from the main lcore. `command` is (sequence << 8 | phase); the
// main lcore writes `rate` before bumping it (release), workers read it
// after (acquire).
struct alignas(64) Control {
  std::atomic<uint64_t> command{0};
  std::atomic<double> rate{0};  // requests/s per worker; 0: as fast as possible
  std::atomic<bool> counted{true};  // false: a warm-up, not charged to --count

  void post(Phase p) noexcept {
    const uint64_t seq = (command.load(std::memory_order_relaxed) >> 8) + 1;
    command.store((seq << 8) | static_cast<uint8_t>(p), std::memory_order_release);
  }
  uint64_t sequence() const noexcept { return command.load(std::memory_order_relaxed) >> 8; }
};

// A worker's block read by the main lcore.
struct alignas(64) WorkerShared {
  // Live, cumulative over the run, for the progress line.
  core::Counter sent;
  core::Counter answered;  // usable time answers
  core::Counter invalid;
  // The sequence of the last kCollect handled; `result` is valid after it
  // equals the collect command's sequence (acquire).
  std::atomic<uint64_t> ack{0};
  StepStats result;
  rte_ring* inbox = nullptr;  // answers to this worker's requests received by others
};

struct WorkerSetup {
  unsigned index = 0;   // also the lcore's sequence-number tag
  unsigned count = 1;   // workers in the run
  uint16_t port = 0;
  uint16_t queue = 0;
  rte_mempool* pool = nullptr;
  const RequestBuilder* builder = nullptr;
  const auth::KeyStore* keys = nullptr;  // --keys: what answers' MACs are checked against
  const uint8_t* schedule = nullptr;  // kScheduleSize template indices
  OriginCodec codec;
  bool echo = false;
  const core::ClockPublisher* clock = nullptr;  // TSC -> our clock
  double tsc_hz = 0;
  uint64_t timeout_ticks = 0;
  uint64_t yield_ticks = 0;     // sched_yield() this often; 0: never
  uint16_t burst = 1;           // at a set rate, send once this many requests are due (1..kBurst)
  ValidatorOptions validator;
  RxFilter filter;
  uint16_t source_port_min = 1024;
  uint16_t source_port_max = 65535;
  uint64_t seed = 1;
  // Interleaved mode: builder->client_count() entries, zero at start; null
  // for basic mode.
  std::atomic<uint64_t>* flows = nullptr;
  uint64_t count_limit = 0;     // requests this worker may send in the run; 0: no limit
  size_t table_capacity = 1 << 20;
  int rx_tsc_offset = -1;       // mbuf dynfield for forwarded answers (count > 1)
  Control* control = nullptr;
  WorkerShared* shared = nullptr;  // array of `count`
};

class Worker {
 public:
  // `engine`: this worker's own, for signed requests (builder->mac_key()
  // set; then setup.keys too).
  explicit Worker(const WorkerSetup& setup, std::optional<auth::MacEngine> engine = std::nullopt);

  // Polls until told kExit.
  void run() noexcept;
  // lcore entry point for rte_eal_remote_launch(); `arg` is a Worker*.
  static int lcore_main(void* arg);

 private:
  void on_command(Phase phase, uint64_t sequence) noexcept;
  void send(uint64_t now) noexcept;
  // Records and sends requests (the next sequence numbers); keeps what the
  // TX queue refuses for the next call. `fresh`: built for this call.
  void transmit(rte_mbuf** pkts, const uint8_t* templates, uint16_t n, bool fresh) noexcept;
  void release_pending() noexcept;
  void receive() noexcept;
  void drain_inbox() noexcept;
  void process(rte_mbuf** pkts, uint16_t n, uint64_t rx_tsc, bool forwarded) noexcept;
  // Returns true if the mbuf was handed on (forwarded): not to be freed.
  bool handle_answer(rte_mbuf* m, const uint8_t* frame, const Classified& c, uint64_t rx_tsc,
                     const core::TimeMap& map, bool forwarded, uint64_t& usable, uint64_t& invalid) noexcept;
  // Interleaved mode: the source port of client `client`, fixed (a real
  // client keeps its socket; a server with several queues steers a flow to
  // one of them, and its interleave state with it).
  uint16_t flow_port(uint32_t client) const noexcept {
    const uint32_t h = client * 0x9e37'79b9u;  // Knuth's multiplicative hash: spreads neighbours
    return static_cast<uint16_t>(s_.source_port_min + (uint64_t{h} * source_port_span_ >> 32));
  }
  uint64_t next_random() noexcept {
    // xorshift64* (Vigna, "An experimental exploration of Marsaglia's
    // xorshift generators, scrambled", 2016).
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545'f491'4f6c'dd1dull;
  }

  WorkerSetup s_;
  std::optional<auth::MacEngine> engine_;  // signs requests and checks answers' MACs (--keys)
  WorkerShared& me_;
  FlightTable table_;
  std::unique_ptr<StepStats> stats_;
  uint8_t first_byte_[kMaxMixEntries] = {};  // per template, for --echo
  rte_mbuf* pending_[kBurst] = {};           // refused by the TX queue, sent first next time
  uint8_t pending_templates_[kBurst] = {};
  uint16_t pending_n_ = 0;

  bool sending_ = false;
  bool counted_ = true;
  bool halted_ = false;
  bool unlimited_ = false;
  double rate_per_tick_ = 0;
  uint64_t max_backlog_ = kBurst;  // the most requests sent at once to catch up: catch_up_limit()
  uint64_t step_start_ = 0;
  uint64_t credit_ = 0;        // requests accounted for in this step (sent or skipped)
  uint64_t next_counter_ = 0;
  uint64_t step_first_counter_ = 0;
  uint64_t remaining_ = 0;     // requests left under --count (UINT64_MAX: no limit)
  uint32_t next_client_ = 0;
  uint32_t source_port_span_ = 0;
  uint64_t rng_ = 1;
  // Our clock, copied from s_.clock only after the main lcore published a
  // new one (a sequence check per receive burst, as tachyond's workers do).
  core::ClockModel clock_{};
  uint64_t clock_seen_ = core::ClockPublisher::kNeverSeen;
};

}  // namespace tachyon::gen
