// One DPDK Ethernet port as tachyond uses it: N RX/TX queue pairs (one per
// worker), RSS across them, mbuf pools on the NUMA sockets the queues live
// on, and the offloads the port has that we want (RX hardware timestamps,
// TX checksums, fast mbuf free).
//
// Control path only: opened, started and stopped by the main thread.
// Workers use the port id and what `capabilities()` reports.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/clock_model.h"
#include "core/result.h"
#include "dpdk/frame_handler.h"

struct rte_mempool;

namespace tachyon::dp {

// RX descriptors when PortOptions::rx_descriptors is 0 (auto). On AF_XDP
// the socket's receive ring is the only buffer between the kernel and a
// worker that yields its CPU to the kernel once a millisecond; 1024 of them
// overflowed there in VM stalls of a few milliseconds at 150k requests/s
// (docs/performance.md, veth).
inline constexpr uint16_t kDefaultRxDescriptors = 1024;
inline constexpr uint16_t kAfXdpRxDescriptors = 4096;
inline uint16_t auto_rx_descriptors(const std::string& driver) noexcept {
  return driver == "net_af_xdp" ? kAfXdpRxDescriptors : kDefaultRxDescriptors;
}

struct PortOptions {
  uint16_t queues = 1;
  uint16_t rx_descriptors = 0;  // 0: auto_rx_descriptors() for the driver
  uint16_t tx_descriptors = 1024;
  bool hw_timestamps = true;     // use the NIC's RX timestamps when it has them
  bool checksum_offload = true;  // let the NIC compute IPv4/UDP checksums when it can
  std::vector<unsigned> worker_lcores;  // one per queue: decides each queue's NUMA socket
};

struct PortCapabilities {
  std::string driver;
  MacAddress mac{};
  uint16_t rx_descriptors = 0;    // per RX queue, as configured (after the driver's adjustment)
  bool checksum_offload = false;  // IPv4 + UDP TX checksum offload enabled
  bool rss = false;               // RSS enabled across the queues
  bool fast_free = false;
  core::HwClock hw_clock = core::HwClock::kNone;
  uint64_t rx_timestamp_flag = 0;  // ol_flags bit set when the dynfield holds an RX timestamp
  int rx_timestamp_offset = -1;    // mbuf dynfield offset of the RX timestamp
  bool read_clock = false;         // rte_eth_read_clock() works (raw NIC ticks)
};

class Port {
 public:
  // Configures `port_id` (already probed by the EAL). Does not start it.
  static Result<Port> open(uint16_t port_id, const PortOptions& options);

  Status start();
  // Stops and closes the port. Workers must have stopped polling first.
  void stop() noexcept;

  uint16_t id() const noexcept { return id_; }
  uint16_t queues() const noexcept { return queues_; }
  const PortCapabilities& capabilities() const noexcept { return caps_; }
  // The pool the mbufs of `queue` come from.
  rte_mempool* pool(uint16_t queue) const noexcept { return pools_[queue]; }
  // mbufs in use across all pools (for /metrics and leak checks).
  uint64_t mbufs_in_use() const noexcept;
  uint64_t mbufs_total() const noexcept;
  // The NIC's extended statistics (rte_eth_xstats_get), name and value.
  // Callable from any thread.
  std::vector<std::pair<std::string, uint64_t>> xstats() const;

 private:
  uint16_t id_ = 0;
  uint16_t queues_ = 0;
  bool started_ = false;
  PortCapabilities caps_;
  std::vector<rte_mempool*> pools_;  // per queue (shared per socket)
  std::vector<rte_mempool*> owned_pools_;
};

// The port id of the only Ethernet device the EAL probed. Tachyon passes
// the configured device alone to the EAL (--vdev with --no-pci, or -a for
// PCI), so exactly one must exist.
Result<uint16_t> find_single_port(const std::string& device);

}  // namespace tachyon::dp
