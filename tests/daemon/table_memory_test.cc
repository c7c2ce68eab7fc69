// The memory of the workers' hash tables: whole huge pages, aligned, zeroed
// tables, backed by transparent huge pages wherever the kernel offers them
// (checked in /proc/self/smaps, as the daemon reports it), and given back.
#include "daemon/table_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/interleave.h"
#include "core/rate_limiter.h"

namespace tachyon {
namespace {

bool thp_offered() {
  const std::string mode = transparent_huge_pages_mode();
  return mode == "always" || mode == "madvise";
}

TEST(TableMemory, LargeTablesGetAlignedAdvisedMappingsBackedByHugePages) {
  TableMemory memory;
  constexpr size_t kBytes = size_t{4} << 20;
  void* p = memory.allocate(kBytes, 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % TableMemory::kHugePage, 0u);
  auto* bytes = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < kBytes; i += 4096) EXPECT_EQ(bytes[i], 0) << i;  // fresh anonymous memory
  for (size_t i = 0; i < kBytes; i += 4096) bytes[i] = 1;                 // as TableArray touches it
  const TableMemory::Report r = memory.report();
  EXPECT_EQ(r.table_bytes, kBytes);
  EXPECT_EQ(r.bytes, kBytes);
  if (thp_offered()) {
    EXPECT_EQ(r.huge_bytes, kBytes) << "transparent huge pages are " << transparent_huge_pages_mode();
  } else {
    EXPECT_EQ(r.huge_bytes, 0u);
  }
  memory.deallocate(p, kBytes, 64);
  EXPECT_EQ(memory.report().bytes, 0u);
}

// The stats endpoint reads report() at every scrape: it must see pages
// split after start-up (as memory pressure or khugepaged may do), not a
// figure kept from the first reading.
TEST(TableMemory, ReportSeesHugePagesSplitLater) {
  if (!thp_offered()) GTEST_SKIP() << "transparent huge pages are " << transparent_huge_pages_mode();
  TableMemory memory;
  constexpr size_t kBytes = size_t{4} << 20;
  auto* bytes = static_cast<unsigned char*>(memory.allocate(kBytes, 64));
  for (size_t i = 0; i < kBytes; i += 4096) bytes[i] = 1;
  ASSERT_EQ(memory.report().huge_bytes, kBytes);
  // Dropping one small page out of the second huge page splits that one.
  ASSERT_EQ(madvise(bytes + TableMemory::kHugePage + 4096, 4096, MADV_DONTNEED), 0);
  EXPECT_EQ(memory.report().huge_bytes, kBytes - TableMemory::kHugePage);
  EXPECT_EQ(memory.report().bytes, kBytes);
  memory.deallocate(bytes, kBytes, 64);
}

TEST(TableMemory, SizesRoundUpToWholeHugePages) {
  TableMemory memory;
  void* a = memory.allocate(TableMemory::kMinimum, 64);  // 1 MiB: one 2 MiB page
  void* b = memory.allocate(TableMemory::kHugePage + 4096, 64);
  EXPECT_EQ(memory.report().table_bytes, TableMemory::kMinimum + TableMemory::kHugePage + 4096);
  EXPECT_EQ(memory.report().bytes, 3 * TableMemory::kHugePage);
  memory.deallocate(a, TableMemory::kMinimum, 64);
  EXPECT_EQ(memory.report().bytes, 2 * TableMemory::kHugePage);
  memory.deallocate(b, TableMemory::kHugePage + 4096, 64);
  EXPECT_EQ(memory.report().bytes, 0u);
}

TEST(TableMemory, SmallTablesTakeOrdinaryMemory) {
  TableMemory memory;
  void* p = memory.allocate(64 * 1024, 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  EXPECT_EQ(memory.report().bytes, 0u);
  memory.deallocate(p, 64 * 1024, 64);
}

TEST(TableMemory, TheDaemonsTablesLiveInIt) {
  TableMemory memory;
  {
    core::RateLimitOptions o;
    o.table_entries = 262144;  // 4 MiB
    core::RateLimiter limiter(o, &memory);
    core::InterleaveTable interleave(65536, &memory);  // 1 MiB
    EXPECT_EQ(memory.report().table_bytes, 5u << 20);
    EXPECT_EQ(memory.report().bytes, 6u << 20);
    if (thp_offered()) {
      EXPECT_EQ(memory.report().huge_bytes, 6u << 20);
    }
    // The tables work from it: a new client is allowed, its record kept.
    core::IpAddress client{};
    client.bytes[0] = 192;
    client.bytes[3] = 7;
    EXPECT_EQ(limiter.check(client, core::NtpTimestamp{1ull << 32}, core::RateLimitParams::from(o)),
              core::RateLimiter::Decision::kAllow);
    EXPECT_EQ(limiter.clients(), 1u);
  }
  EXPECT_EQ(memory.report().bytes, 0u);  // both given back
}

TEST(TableMemory, ReadsTheKernelsModeFromItsBrackets) {
  const std::string path = ::testing::TempDir() + "/thp_enabled";
  for (const auto& [text, mode] : {std::pair<std::string, std::string>{"always [madvise] never\n", "madvise"},
                                   {"[always] madvise never\n", "always"},
                                   {"always madvise [never]\n", "never"},
                                   {"garbage\n", ""}}) {
    std::ofstream(path) << text;
    EXPECT_EQ(transparent_huge_pages_mode(path.c_str()), mode) << text;
  }
  std::remove(path.c_str());
  EXPECT_EQ(transparent_huge_pages_mode("/nonexistent/enabled"), "");
}

}  // namespace
}  // namespace tachyon
