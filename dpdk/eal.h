// Starting DPDK's Environment Abstraction Layer from tachyond's settings.
// One EAL per process (a second rte_eal_init fails even after cleanup).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace tachyon::dp {

struct EalOptions {
  std::string program = "tachyond";
  bool hugepages = false;      // false: --no-huge -m memory_mb
  uint32_t memory_mb = 256;    // 0 with hugepages: let DPDK decide
  std::string file_prefix = "tachyond";
  uint32_t control_cpu = 0;    // lcore 0 (main) runs here
  std::vector<uint32_t> worker_cpus;  // lcores 1..N run here
  std::string device;          // PCI address or vdev string
  std::string log_level = "error";
  std::vector<std::string> extra_args;
  // How this program runs without hugepages, for the hint when DPDK
  // cannot use them (tachyon-gen: "leave out --hugepages").
  std::string without_hugepages = "set eal.memory = \"no-huge\"";
};

// The argument vector rte_eal_init() gets: lcore map, memory, file prefix,
// the one device (PCI allow-list, or vdev with PCI probing off so the EAL
// never touches another NIC), then the extra arguments.
std::vector<std::string> eal_arguments(const EalOptions& o);

// What keeps DPDK from using hugepages, and the fix, given whether a
// hugetlbfs is mounted and how many pages are free (-1: unknown); "" when
// neither is the problem. (DPDK itself only says "Permission denied" or
// "Cannot allocate memory".)
std::string hugepages_hint(bool hugetlbfs_mounted, long free_pages, const std::string& without_hugepages);

// The same for this machine now, if o asks for hugepages ("" otherwise).
// init_eal() adds it to its error.
std::string hugepages_trouble(const EalOptions& o);

// True for "0000:3b:00.0" or "3b:00.0".
bool is_pci_address(const std::string& device);

// rte_eal_init() with eal_arguments(o). Worker lcore i (1-based) runs on
// worker_cpus[i-1].
Status init_eal(const EalOptions& o);

// rte_eal_cleanup(), then removes the EAL's runtime directory if it is
// empty (it is, without hugepages: see --no-shconf above).
void cleanup_eal();

}  // namespace tachyon::dp
