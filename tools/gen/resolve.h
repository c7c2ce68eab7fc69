// Start-up on the port, before any worker runs: waiting for the link (a
// memif client is down until its server accepts it) and finding the
// server's MAC address with ARP (IPv4) or a neighbor solicitation (IPv6),
// as a host on the server's link would.
//
// Control path, main lcore only, while no worker polls the port.
#pragma once

#include <cstdint>

#include "core/result.h"
#include "tools/gen/addresses.h"
#include "tools/gen/frames.h"

struct rte_mempool;

namespace tachyon::gen {

// Waits until the port reports its link up. Error after `timeout_s`.
Status wait_for_link(uint16_t port, double timeout_s);

// True if the link is up now.
bool link_up(uint16_t port);

// Asks for `target`'s MAC from `source` (one of our clients), every 250 ms,
// polling every RX queue, until an answer comes or `timeout_s` passes. ARP
// requests and neighbor solicitations for our clients arriving meanwhile
// are answered.
Result<Mac> resolve_mac(uint16_t port, uint16_t queues, rte_mempool* pool, const RxFilter& filter,
                        const IpAddress& source, const IpAddress& target, double timeout_s);

}  // namespace tachyon::gen
