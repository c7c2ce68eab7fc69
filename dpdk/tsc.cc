#include "dpdk/tsc.h"

#include <rte_cycles.h>

namespace tachyon::dp {

uint64_t read_tsc() noexcept { return rte_rdtsc(); }
uint64_t tsc_hz() noexcept { return rte_get_tsc_hz(); }

}  // namespace tachyon::dp
