// A cache-line prefetch the compiler cannot drop. GCC 12 at -O2 silently
// removed __builtin_prefetch() on addresses computed through a hash (the
// interleave table's buckets, in the worker's code), so on x86 the
// instruction is written out, as DPDK's rte_prefetch0() does; the core
// does not include DPDK headers.
#pragma once

namespace tachyon::core {

inline void prefetch_line(const void* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const volatile char*>(p)));
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

}  // namespace tachyon::core
