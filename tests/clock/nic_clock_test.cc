// dp::NicClock on a port that cannot read its clock (every virtual port of
// DPDK 22.11): the error tachyond stops with when reference.source = "nic".
#include "dpdk/nic_clock.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include <string>

namespace tachyon::dp {
namespace {

TEST(NicClock, VirtualPortCannotReadItsClockAndSaysWhy) {
  rte_ring* ring = rte_ring_create("nic_clock_r0", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_NE(ring, nullptr);
  const int port = rte_eth_from_rings("nic_clock", &ring, 1, &ring, 1, 0);
  ASSERT_GE(port, 0);
  const auto id = static_cast<uint16_t>(port);
  for (const bool timesync : {false, true}) {
    const auto c = NicClock::open(id, timesync);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.message().find("port " + std::to_string(id) + " (net_ring) cannot read its clock: rte_eth_read_clock: "),
              std::string::npos)
        << c.message();
  }
}

}  // namespace
}  // namespace tachyon::dp

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const char* eal[] = {"nic_clock_tests", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--log-level=4",
                       "--no-telemetry", "--file-prefix=tachyon_nic_clock"};
  if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
