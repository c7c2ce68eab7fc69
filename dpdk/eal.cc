#include "dpdk/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <unistd.h>

#include <cctype>
#include <fstream>
#include <regex>
#include <string>

namespace tachyon::dp {

bool is_pci_address(const std::string& device) {
  static const std::regex kPci("^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]$");
  return std::regex_match(device, kPci);
}

std::vector<std::string> eal_arguments(const EalOptions& o) {
  std::vector<std::string> a{o.program};
  // --lcores maps lcore ids to CPUs: several lcores may share a CPU (the
  // control thread sleeps most of the time, a worker never does).
  std::string lcores = "0@" + std::to_string(o.control_cpu);
  for (size_t i = 0; i < o.worker_cpus.size(); ++i) {
    lcores += "," + std::to_string(i + 1) + "@" + std::to_string(o.worker_cpus[i]);
  }
  a.push_back("--lcores=" + lcores);
  a.push_back("--main-lcore=0");
  if (o.hugepages) {
    if (o.memory_mb != 0) a.push_back("-m" + std::to_string(o.memory_mb));
    // DPDK keeps a file per hugepage in hugetlbfs and removes it only at
    // the next start with the same prefix: until then the pages stay
    // taken. Unlinked once mapped, they go back to the system when the
    // process exits, however it exits (no secondary processes here).
    a.push_back("--huge-unlink");
  } else {
    // Without hugepages nothing is shared with other processes: no runtime
    // files are written, so nothing is left behind under /var/run/dpdk.
    a.push_back("--no-huge");
    a.push_back("--no-shconf");
    a.push_back("-m" + std::to_string(o.memory_mb));
  }
  a.push_back("--file-prefix=" + o.file_prefix);
  a.push_back("--no-telemetry");
  a.push_back("--log-level=" + o.log_level);
  if (is_pci_address(o.device)) {
    a.push_back("-a" + o.device);
  } else {
    a.push_back("--no-pci");
    a.push_back("--vdev=" + o.device);
  }
  a.insert(a.end(), o.extra_args.begin(), o.extra_args.end());
  return a;
}

namespace {

// HugePages_Free from /proc/meminfo; -1 if unknown.
long free_hugepages() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  long value = 0;
  while (meminfo >> key >> value) {
    if (key == "HugePages_Free:") return value;
    meminfo.ignore(256, '\n');
  }
  return -1;
}

bool hugetlbfs_mounted() {
  std::ifstream mounts("/proc/mounts");
  std::string device, mount_point, type;
  while (mounts >> device >> mount_point >> type) {
    if (type == "hugetlbfs") return true;
    mounts.ignore(4096, '\n');
  }
  return false;
}

}  // namespace

std::string hugepages_hint(bool hugetlbfs_mounted, long free_pages, const std::string& without_hugepages) {
  constexpr const char* kReserve = "echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
  std::string hint;
  if (!hugetlbfs_mounted) {
    hint = std::string("no hugetlbfs is mounted: mount one (mount -t hugetlbfs nodev /dev/hugepages)") +
           (free_pages == 0 ? std::string(" and reserve pages (") + kReserve + ")" : "");
  } else if (free_pages == 0) {
    hint = std::string("no free hugepages: reserve some (") + kReserve + ")";
  } else {
    return "";
  }
  return hint + "; or run without hugepages: " + without_hugepages;
}

std::string hugepages_trouble(const EalOptions& o) {
  return o.hugepages ? hugepages_hint(hugetlbfs_mounted(), free_hugepages(), o.without_hugepages) : "";
}

Status init_eal(const EalOptions& o) {
  std::vector<std::string> args = eal_arguments(o);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
    std::string message = std::string("rte_eal_init: ") + rte_strerror(rte_errno);
    if (const std::string hint = hugepages_trouble(o); !hint.empty()) message += " (" + hint + ")";
    return Status::error(message);
  }
  return Status();
}

}  // namespace tachyon::dp

namespace tachyon::dp {

void cleanup_eal() {
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  rmdir(runtime_dir.c_str());  // fails harmlessly if not empty
}

}  // namespace tachyon::dp
