// The poll-mode worker: one per RX/TX queue pair, one lcore each, shaped
// like DPDK's l3fwd: rx_burst -> classify and answer in place -> stamp the
// transmit timestamps -> tx_burst, with unsent mbufs freed and counted.
//
// Per packet: no allocation, system call, lock, log line or virtual call.
// The clock model is checked once per burst (copied only after the control
// thread published a new one); software RX timestamps are taken
// once per burst right after rx_burst returns; the transmit timestamp is
// taken once per burst right before tx_burst.
//
// A Worker is owned and driven by exactly one lcore; its counters are read
// concurrently by the control thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "auth/mac_engine.h"
#include "auth/policy.h"
#include "core/clock_model.h"
#include "core/interleave.h"
#include "core/quiescent_box.h"
#include "dpdk/frame_handler.h"
#include "dpdk/port.h"
#include "dpdk/worker_counters.h"

struct rte_mbuf;

namespace tachyon::dp {

inline constexpr uint16_t kBurstSize = 32;

struct WorkerConfig {
  uint16_t port_id = 0;
  uint16_t queue = 0;
  const PortIdentity* identity = nullptr;
  const core::ClockPublisher* clock = nullptr;
  PortCapabilities caps;
  WorkerCounters* counters = nullptr;
  const std::atomic<bool>* stop = nullptr;
  // Admission (access list, rate limit, mode 6 allow-list): this worker's
  // service, the box its policy comes from, and its slot in that box.
  // Null service: every valid request is answered and mode 6 dropped.
  core::NtpService* service = nullptr;
  core::PolicyBox* policies = nullptr;
  size_t policy_slot = 0;
  const core::SeqlockCell<core::SystemVariables>* control = nullptr;
  // Authentication: this worker's MAC engine and the box its keys come
  // from (same slot as the policies). Null: MACs ignored.
  auth::MacEngine* mac = nullptr;
  core::QuiescentBox<auth::AuthPolicy>* auth = nullptr;
  // Interleaved mode: this worker's table. Null: basic mode only.
  core::InterleaveTable* interleave = nullptr;
  // Interleaved mode's transmit timestamp: taken right before tx_burst
  // instead of right after it returned (kernel-backed ports, whose
  // tx_burst is a system call that sends the frames itself).
  bool tx_timestamp_before_burst = false;
  // Yield the CPU this often (TSC ticks; 0: never). Ports backed by kernel
  // sockets (AF_XDP, AF_PACKET, TAP) need the kernel's softirq work on the
  // worker's CPU to move their frames; a loop that never yields starves it.
  uint64_t yield_interval_tsc = 0;
};

class Worker {
 public:
  explicit Worker(const WorkerConfig& config) noexcept;
  Worker(const Worker&) = delete;  // ctx_ points into model_
  Worker& operator=(const Worker&) = delete;

  // Polls until *config.stop becomes true, then returns after finishing the
  // burst in hand.
  void run() noexcept;

  // One rx_burst and everything that follows; returns the packets received.
  uint16_t poll_once() noexcept;

  // Handles a burst already received (tests feed frames through here):
  // answers are transmitted on the worker's queue, the rest freed.
  void process(rte_mbuf** pkts, uint16_t n, uint64_t rx_tsc) noexcept;

  // lcore entry point for rte_eal_remote_launch(); `arg` is a Worker*.
  static int lcore_main(void* arg);

 private:
  // A new clock model was published: the frame context follows it.
  void adopt_model() noexcept;

  WorkerConfig cfg_;
  const auth::AuthPolicy* auth_ = nullptr;  // taken at each quiescent point
  // The clock model in use, copied from cfg_.clock only when the control
  // thread has published a new one (a sequence check per burst, not a
  // copy), and the frame context built on it.
  core::ClockModel model_{};
  uint64_t model_seen_ = core::ClockPublisher::kNeverSeen;
  FrameContext ctx_;
  // Per-burst scratch whose element types have initialisers: kept here so
  // that a burst does not pay for clearing ~1 KiB of stack first.
  FrameVerdict ntp_verdicts_[kBurstSize];
  core::NtpTimestamp ntp_rx_[kBurstSize];
};

}  // namespace tachyon::dp
