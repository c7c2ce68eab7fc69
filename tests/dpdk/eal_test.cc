// The EAL's argument vector and the hint for hugepage trouble: pure
// functions, no EAL started (linked into ring_tests, which has DPDK).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dpdk/eal.h"

namespace tachyon::dp {
namespace {

bool has(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

TEST(EalArguments, HugepagesAreUnlinkedSoTheyAreFreeOnExit) {
  EalOptions o;
  o.hugepages = true;
  o.memory_mb = 256;
  o.device = "net_af_xdp0,iface=veth0";
  const auto args = eal_arguments(o);
  EXPECT_TRUE(has(args, "--huge-unlink"));
  EXPECT_TRUE(has(args, "-m256"));
  EXPECT_FALSE(has(args, "--no-huge"));
  EXPECT_FALSE(has(args, "--no-shconf"));

  o.memory_mb = 0;  // DPDK decides
  const auto decided = eal_arguments(o);
  EXPECT_FALSE(std::any_of(decided.begin(), decided.end(), [](const std::string& a) { return a.rfind("-m", 0) == 0; }));
  EXPECT_TRUE(has(decided, "--huge-unlink"));
}

TEST(EalArguments, OrdinaryMemoryHasNoHugepageFiles) {
  EalOptions o;
  o.device = "0000:3b:00.0";
  const auto args = eal_arguments(o);
  EXPECT_TRUE(has(args, "--no-huge"));
  EXPECT_TRUE(has(args, "--no-shconf"));
  EXPECT_TRUE(has(args, "-m256"));
  EXPECT_FALSE(has(args, "--huge-unlink"));
  EXPECT_TRUE(has(args, "-a0000:3b:00.0"));
}

TEST(HugepagesHint, SaysWhatIsMissingAndHowToDoWithout) {
  EXPECT_EQ(hugepages_hint(true, 0, "set eal.memory = \"no-huge\""),
            "no free hugepages: reserve some (echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages); "
            "or run without hugepages: set eal.memory = \"no-huge\"");
  EXPECT_EQ(hugepages_hint(false, 512, "leave out --hugepages"),
            "no hugetlbfs is mounted: mount one (mount -t hugetlbfs nodev /dev/hugepages); "
            "or run without hugepages: leave out --hugepages");
  EXPECT_EQ(hugepages_hint(false, 0, "leave out --hugepages"),
            "no hugetlbfs is mounted: mount one (mount -t hugetlbfs nodev /dev/hugepages) and reserve pages "
            "(echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages); "
            "or run without hugepages: leave out --hugepages");
  // Mounted with free pages, or unknown: DPDK's own message stands.
  EXPECT_EQ(hugepages_hint(true, 128, "x"), "");
  EXPECT_EQ(hugepages_hint(true, -1, "x"), "");
  // Without hugepages there is nothing to check.
  EXPECT_EQ(hugepages_trouble(EalOptions{}), "");
}

}  // namespace
}  // namespace tachyon::dp
