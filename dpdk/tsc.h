// The TSC as the rest of tachyond sees it, without DPDK headers.
#pragma once

#include <cstdint>

namespace tachyon::dp {

uint64_t read_tsc() noexcept;
// The TSC rate, measured once against CLOCK_MONOTONIC_RAW on first use
// (100 ms). REQUIRES: the EAL is initialized.
uint64_t tsc_hz() noexcept;

}  // namespace tachyon::dp
