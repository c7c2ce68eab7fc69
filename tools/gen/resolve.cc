#include "tools/gen/resolve.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>

namespace tachyon::gen {
namespace {

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

}  // namespace

bool link_up(uint16_t port) {
  rte_eth_link link{};
  return rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

Status wait_for_link(uint16_t port, double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (!link_up(port)) {
    if (std::chrono::steady_clock::now() >= end) {
      return Status::error("the port's link is still down after " + seconds(timeout_s) +
                           " (memif: is the server running and listening on that socket? a NIC: is the cable "
                           "in?) -- see --link-timeout");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status();
}

Result<Mac> resolve_mac(uint16_t port, uint16_t queues, rte_mempool* pool, const RxFilter& filter,
                        const IpAddress& source, const IpAddress& target, double timeout_s) {
  using Clock = std::chrono::steady_clock;
  const auto end = Clock::now() + std::chrono::duration<double>(timeout_s);
  auto next_request = Clock::now();
  while (Clock::now() < end) {
    if (Clock::now() >= next_request) {
      rte_mbuf* m = rte_pktmbuf_alloc(pool);
      if (m == nullptr) return Result<Mac>::error("no mbuf for the ARP/NDP request (raise --memory-mb)");
      const uint16_t length =
          build_resolve_request(rte_pktmbuf_mtod(m, uint8_t*), filter.mac, filter.vlan, source, target);
      m->data_len = length;
      m->pkt_len = length;
      if (rte_eth_tx_burst(port, 0, &m, 1) != 1) rte_pktmbuf_free(m);
      next_request += std::chrono::milliseconds(250);
    }
    for (uint16_t q = 0; q < queues; ++q) {
      rte_mbuf* pkts[32];
      const uint16_t n = rte_eth_rx_burst(port, q, pkts, 32);
      std::optional<Mac> found;
      for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        uint8_t* f = rte_pktmbuf_mtod(m, uint8_t*);
        const Classified c = classify(f, m->data_len, filter);
        Mac mac{};
        if (!found && resolved_mac(f, m->data_len, c, target, mac)) found = mac;
        uint16_t reply = 0;
        if (c.kind == FrameKind::kArpRequest) reply = answer_arp(f, m->data_len, c, filter.mac);
        if (c.kind == FrameKind::kNeighborSolicitation) {
          reply = answer_neighbor_solicitation(f, m->data_len, static_cast<uint16_t>(m->buf_len - m->data_off), c,
                                               filter.mac);
        }
        if (reply != 0) {
          m->data_len = reply;
          m->pkt_len = reply;
          if (rte_eth_tx_burst(port, q, &m, 1) == 1) continue;
        }
        rte_pktmbuf_free(m);
      }
      if (found) return *found;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Result<Mac>::error(std::string("no ") + (target.v6 ? "neighbor advertisement" : "ARP reply") + " from " +
                            to_string(target) + " within " + seconds(timeout_s) +
                            " (is the server up, on this link" + (filter.vlan ? " and VLAN" : "") +
                            ", and answering " + (target.v6 ? "NDP" : "ARP") +
                            "? give --server-mac to skip resolution)");
}

}  // namespace tachyon::gen
