#include "dpdk/tsc.h"

#include <rte_cycles.h>
#include <time.h>

#include <cmath>

namespace tachyon::dp {
namespace {

// DPDK's TSC rate comes from CPUID or a short sleep; on virtual machines it
// is often the CPU's nominal frequency, off from the TSC's real rate by
// 0.1-0.3 %. The servo corrects any rate error, but every figure derived
// from the nominal rate (the frequency error it reports, durations in
// logs) would carry it. So the rate is measured once against the kernel's
// raw monotonic clock (not slewed by NTP) over 100 ms: a few ppm.
uint64_t calibrated_hz() noexcept {
  const uint64_t dpdk_hz = rte_get_tsc_hz();
  timespec a{}, b{};
  clock_gettime(CLOCK_MONOTONIC_RAW, &a);
  const uint64_t t0 = rte_rdtsc();
  const timespec pause{0, 100'000'000};
  nanosleep(&pause, nullptr);
  clock_gettime(CLOCK_MONOTONIC_RAW, &b);
  const uint64_t t1 = rte_rdtsc();
  const double ns = static_cast<double>(b.tv_sec - a.tv_sec) * 1e9 + static_cast<double>(b.tv_nsec - a.tv_nsec);
  if (ns < 50e6) return dpdk_hz;
  const double hz = static_cast<double>(t1 - t0) * 1e9 / ns;
  // Far from DPDK's figure: something else is wrong (a TSC that stops or
  // a clock that jumped); keep DPDK's.
  if (std::fabs(hz / static_cast<double>(dpdk_hz) - 1.0) > 0.02) return dpdk_hz;
  return static_cast<uint64_t>(std::llround(hz));
}

}  // namespace

uint64_t read_tsc() noexcept { return rte_rdtsc(); }

uint64_t tsc_hz() noexcept {
  static const uint64_t hz = calibrated_hz();
  return hz;
}

}  // namespace tachyon::dp
