// The port's own clock, read from the control thread: the free-running
// counter its RX hardware timestamps count (rte_eth_read_clock) and its PTP
// clock (rte_eth_timesync_read_time). The daemon hands it to the clock
// control through clock::NicClock (src/clock/nic_source.h), which maps the
// NIC's ticks onto the reference, or uses the PTP clock as the reference
// itself (reference.source = "nic").
//
// Thread-compatible: the control thread only; never per packet. No virtual
// port of DPDK 22.11 implements either call (all return -ENOTSUP).
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace tachyon::dp {

class NicClock {
 public:
  // Checks that the port can read its clock. With `timesync`, also enables
  // the port's timesync (PTP clock) and checks that its time can be read;
  // the error names the port, its driver and the failing call.
  static Result<NicClock> open(uint16_t port_id, bool timesync);

  // rte_eth_read_clock(): the counter RX timestamps are taken in.
  Result<uint64_t> read_ticks() const;
  // rte_eth_timesync_read_time(): the PTP clock, ns since 1970.
  Result<int64_t> read_time_ns() const;

  uint16_t port_id() const noexcept { return port_id_; }
  const std::string& describe() const noexcept { return name_; }  // "port 0 (net_ice)"

 private:
  NicClock(uint16_t port_id, std::string name) : port_id_(port_id), name_(std::move(name)) {}

  uint16_t port_id_;
  std::string name_;
};

}  // namespace tachyon::dp
