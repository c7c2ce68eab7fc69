// The TSC as the rest of tachyond sees it, without DPDK headers.
#pragma once

#include <cstdint>

namespace tachyon::dp {

uint64_t read_tsc() noexcept;
uint64_t tsc_hz() noexcept;  // REQUIRES: the EAL is initialized

}  // namespace tachyon::dp
