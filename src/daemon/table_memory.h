// Memory for the workers' hash tables (the rate limit's and the interleave
// table's: 1 MiB each per worker by default, a random line of which every
// request touches) on transparent huge pages.
//
// On 4 KiB pages each lookup in such a table is a TLB miss as well as a
// cache miss, and in a VM the page walk is a nested one: on the veth at
// 100k requests/s with the rate limit on, putting its 4 MiB table on huge
// pages took a burst of 17-32 requests from 7.0-8.7 us to 4.0-5.6 us
// (docs/performance.md, *Admission on the wire*). The tables are made at
// start-up, so this memory is mapped once, on the control path; it does
// not need hugepages reserved for DPDK, only the kernel's transparent huge
// pages, which Debian enables on request (`madvise`, the default).
#pragma once

#include <cstddef>
#include <memory_resource>
#include <string>
#include <vector>

namespace tachyon {

class TableMemory final : public std::pmr::memory_resource {
 public:
  static constexpr size_t kHugePage = size_t{2} << 20;
  // Smaller tables take ordinary memory (operator new): their pages fit
  // the TLB, and a huge page would be mostly empty.
  static constexpr size_t kMinimum = size_t{1} << 20;
  static constexpr const char* kModePath = "/sys/kernel/mm/transparent_hugepage/enabled";

  TableMemory() = default;
  TableMemory(const TableMemory&) = delete;
  TableMemory& operator=(const TableMemory&) = delete;
  ~TableMemory() override;

  struct Report {
    size_t table_bytes = 0;  // the tables placed here
    size_t bytes = 0;        // their mappings: whole huge pages, aligned and advised
    size_t huge_bytes = 0;   // of those, what the kernel backs with huge pages now
  };
  // Reads /proc/self/smaps (control path). Safe from any thread once the
  // tables are made: it only reads what allocation recorded.
  Report report() const;

 private:
  void* do_allocate(size_t bytes, size_t alignment) override;
  void do_deallocate(void* p, size_t bytes, size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  struct Region {
    char* start;
    size_t length;     // whole huge pages
    size_t requested;  // the table's bytes
  };
  std::vector<Region> regions_;
};

// The kernel's transparent huge page mode ("always", "madvise", "never"),
// the bracketed word of `path`; empty if it cannot be read.
std::string transparent_huge_pages_mode(const char* path = TableMemory::kModePath);

}  // namespace tachyon
