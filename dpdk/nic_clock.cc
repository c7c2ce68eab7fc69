#include "dpdk/nic_clock.h"

#include <rte_errno.h>
#include <rte_ethdev.h>

#include <ctime>

namespace tachyon::dp {
namespace {

std::string call_error(const char* call, int rc) { return std::string(call) + ": " + rte_strerror(rc < 0 ? -rc : rc); }

}  // namespace

Result<NicClock> NicClock::open(uint16_t port_id, bool timesync) {
  rte_eth_dev_info info{};
  std::string driver = "?";
  if (rte_eth_dev_info_get(port_id, &info) == 0 && info.driver_name != nullptr) driver = info.driver_name;
  NicClock clock(port_id, "port " + std::to_string(port_id) + " (" + driver + ")");
  const auto fail = [&](const std::string& what) {
    return Result<NicClock>::error(clock.describe() + " cannot read its clock: " + what);
  };
  if (auto t = clock.read_ticks(); !t) return fail(t.message());
  if (timesync) {
    if (int rc = rte_eth_timesync_enable(port_id); rc != 0) return fail(call_error("rte_eth_timesync_enable", rc));
    if (auto t = clock.read_time_ns(); !t) return fail(t.message());
  }
  return clock;
}

Result<uint64_t> NicClock::read_ticks() const {
  uint64_t ticks = 0;
  if (int rc = rte_eth_read_clock(port_id_, &ticks); rc != 0) {
    return Result<uint64_t>::error(call_error("rte_eth_read_clock", rc));
  }
  return ticks;
}

Result<int64_t> NicClock::read_time_ns() const {
  timespec ts{};
  if (int rc = rte_eth_timesync_read_time(port_id_, &ts); rc != 0) {
    return Result<int64_t>::error(call_error("rte_eth_timesync_read_time", rc));
  }
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace tachyon::dp
