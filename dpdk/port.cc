#include "dpdk/port.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace tachyon::dp {
namespace {

constexpr unsigned kPoolCache = 256;
constexpr unsigned kBurst = 32;

std::string dpdk_error(const char* what, int rc) {
  return std::string(what) + ": " + rte_strerror(rc < 0 ? -rc : rc);
}

// Enough mbufs for every descriptor of the queues on a socket, the bursts
// in flight and the per-lcore caches, rounded up to 2^n - 1 (the mempool's
// most efficient size).
unsigned pool_size(unsigned queues, unsigned rx_descriptors, unsigned tx_descriptors) {
  const unsigned need = queues * (rx_descriptors + tx_descriptors + 2 * kBurst + kPoolCache) + 1024;
  unsigned n = 1;
  while (n - 1 < need) n <<= 1;
  return n - 1;
}

}  // namespace

Result<uint16_t> find_single_port(const std::string& device) {
  const uint16_t count = rte_eth_dev_count_avail();
  if (count == 0) {
    return Result<uint16_t>::error("device \"" + device +
                                   "\" did not probe: no Ethernet port available (is the interface or PCI device "
                                   "present, and a PCI NIC bound to vfio-pci? eal.log_level = \"info\" shows how "
                                   "DPDK probed it)");
  }
  if (count > 1) return Result<uint16_t>::error("expected one Ethernet port, the EAL probed " + std::to_string(count));
  uint16_t id = 0;
  RTE_ETH_FOREACH_DEV(id) { return id; }
  return Result<uint16_t>::error("no port");
}

Result<Port> Port::open(uint16_t port_id, const PortOptions& o) {
  Port p;
  p.id_ = port_id;
  p.queues_ = o.queues;

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port_id, &info); rc != 0) return Result<Port>::error(dpdk_error("dev_info", rc));
  p.caps_.driver = info.driver_name ? info.driver_name : "?";
  if (o.queues > info.max_rx_queues || o.queues > info.max_tx_queues) {
    return Result<Port>::error("port.queues = " + std::to_string(o.queues) + " but " + p.caps_.driver +
                               " offers at most " + std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)));
  }

  rte_eth_conf conf{};
  if (o.queues > 1) {
    // Hash the IP addresses only, never the UDP ports: a client always
    // lands on the same worker even when it picks a new source port per
    // request (chronyd does by default), so its per-client state (rate
    // limit, interleaved-mode timestamps) is in one place. Where the NIC
    // can hash the source address alone, it does.
    uint64_t hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
    if (info.flow_type_rss_offloads & RTE_ETH_RSS_L3_SRC_ONLY) hf |= RTE_ETH_RSS_L3_SRC_ONLY;
    if (hf == 0) {
      return Result<Port>::error("port.queues = " + std::to_string(o.queues) + " needs RSS, which " +
                                 p.caps_.driver + " does not offer: use one queue");
    }
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = hf;
    p.caps_.rss = true;
  }

  // RX timestamps: the dynfield is registered whether or not the port
  // offers the offload, because net_pcap fills it from the capture without
  // announcing it.
  if (o.hw_timestamps) {
    int offset = -1;
    uint64_t flag = 0;
    if (rte_mbuf_dyn_rx_timestamp_register(&offset, &flag) == 0) {
      p.caps_.rx_timestamp_offset = offset;
      p.caps_.rx_timestamp_flag = flag;
    }
    if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
  }
  const uint64_t checksum_offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  if (o.checksum_offload && (info.tx_offload_capa & checksum_offloads) == checksum_offloads) {
    conf.txmode.offloads |= checksum_offloads;
    p.caps_.checksum_offload = true;
  }
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
    p.caps_.fast_free = true;
  }

  if (int rc = rte_eth_dev_configure(port_id, o.queues, o.queues, &conf); rc != 0) {
    return Result<Port>::error(dpdk_error("rte_eth_dev_configure", rc));
  }
  uint16_t rx_desc = o.rx_descriptors != 0 ? o.rx_descriptors : auto_rx_descriptors(p.caps_.driver);
  uint16_t tx_desc = o.tx_descriptors;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc); rc != 0) {
    return Result<Port>::error(dpdk_error("rte_eth_dev_adjust_nb_rx_tx_desc", rc));
  }
  p.caps_.rx_descriptors = rx_desc;

  // One pool per NUMA socket that hosts a worker of this port. Virtual
  // devices report SOCKET_ID_ANY; they take the worker's socket.
  std::map<int, unsigned> queues_per_socket;
  std::vector<int> queue_socket(o.queues);
  for (uint16_t q = 0; q < o.queues; ++q) {
    const unsigned lcore = q < o.worker_lcores.size() ? o.worker_lcores[q] : rte_lcore_id();
    int socket = static_cast<int>(rte_lcore_to_socket_id(lcore));
    if (socket < 0 || static_cast<unsigned>(socket) >= RTE_MAX_NUMA_NODES) socket = 0;
    queue_socket[q] = socket;
    ++queues_per_socket[socket];
  }
  std::map<int, rte_mempool*> pool_of_socket;
  for (const auto& [socket, n] : queues_per_socket) {
    // Unique per process: a port may be opened again after a stop (tests).
    static unsigned generation = 0;
    const std::string name = "tachyon_p" + std::to_string(port_id) + "_s" + std::to_string(socket) + "_" +
                             std::to_string(generation++);
    rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), pool_size(n, rx_desc, tx_desc), kPoolCache, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (pool == nullptr) {
      return Result<Port>::error(dpdk_error(("mbuf pool on socket " + std::to_string(socket) +
                                             " (raise eal.memory_mb?)").c_str(),
                                            rte_errno));
    }
    pool_of_socket[socket] = pool;
    p.owned_pools_.push_back(pool);
  }

  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  rte_eth_rxconf rxconf = info.default_rxconf;
  rxconf.offloads = conf.rxmode.offloads;
  for (uint16_t q = 0; q < o.queues; ++q) {
    rte_mempool* pool = pool_of_socket[queue_socket[q]];
    p.pools_.push_back(pool);
    const auto socket = static_cast<unsigned>(queue_socket[q]);
    if (int rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket, &rxconf, pool); rc != 0) {
      return Result<Port>::error(dpdk_error(("RX queue " + std::to_string(q)).c_str(), rc));
    }
    if (int rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket, &txconf); rc != 0) {
      return Result<Port>::error(dpdk_error(("TX queue " + std::to_string(q)).c_str(), rc));
    }
  }

  rte_ether_addr mac{};
  if (int rc = rte_eth_macaddr_get(port_id, &mac); rc != 0) return Result<Port>::error(dpdk_error("MAC address", rc));
  std::memcpy(p.caps_.mac.data(), mac.addr_bytes, 6);

  // What the RX timestamps count. net_pcap replays capture times in
  // microseconds since the Unix epoch (drivers/net/pcap, DPDK 22.11). Other
  // NICs count their own clock: usable when rte_eth_read_clock() lets us
  // calibrate it against the reference.
  uint64_t ticks = 0;
  p.caps_.read_clock = rte_eth_read_clock(port_id, &ticks) == 0;
  if (p.caps_.rx_timestamp_flag != 0) {
    if (p.caps_.driver == "net_pcap") {
      p.caps_.hw_clock = core::HwClock::kUnixMicros;
    } else if ((conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TIMESTAMP) && p.caps_.read_clock) {
      p.caps_.hw_clock = core::HwClock::kRawTicks;
    }
  }
  return p;
}

Status Port::start() {
  if (int rc = rte_eth_dev_start(id_); rc != 0) return Status::error(dpdk_error("rte_eth_dev_start", rc));
  started_ = true;
  // Answers go to unicast MACs we saw; neighbor solicitations arrive on
  // multicast MACs. Promiscuous mode keeps virtual ports (af_packet, tap)
  // from filtering what we need; the frame handler checks the MAC itself.
  rte_eth_promiscuous_enable(id_);
  rte_eth_allmulticast_enable(id_);
  return Status();
}

void Port::stop() noexcept {
  if (started_) {
    rte_eth_dev_stop(id_);
    rte_eth_dev_close(id_);
    started_ = false;
  }
  for (rte_mempool* pool : owned_pools_) rte_mempool_free(pool);
  owned_pools_.clear();
  pools_.clear();
}

uint64_t Port::mbufs_in_use() const noexcept {
  uint64_t n = 0;
  for (const rte_mempool* pool : owned_pools_) n += rte_mempool_in_use_count(pool);
  return n;
}

uint64_t Port::mbufs_total() const noexcept {
  uint64_t n = 0;
  for (const rte_mempool* pool : owned_pools_) n += pool->size;
  return n;
}

}  // namespace tachyon::dp

namespace tachyon::dp {

std::vector<std::pair<std::string, uint64_t>> Port::xstats() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  const int n = rte_eth_xstats_get_names(id_, nullptr, 0);
  if (n <= 0) return out;
  std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
  std::vector<rte_eth_xstat> values(static_cast<size_t>(n));
  if (rte_eth_xstats_get_names(id_, names.data(), static_cast<unsigned>(n)) != n) return out;
  const int got = rte_eth_xstats_get(id_, values.data(), static_cast<unsigned>(n));
  if (got != n) return out;
  for (const auto& v : values) {
    if (v.id < names.size()) out.emplace_back(names[v.id].name, v.value);
  }
  return out;
}

}  // namespace tachyon::dp
