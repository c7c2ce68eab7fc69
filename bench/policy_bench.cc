// The per-request cost of the access list (longest-prefix match) and of the
// rate limiter (one table lookup and update), as a worker pays it.
//
//   build/bench/policy_bench
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "core/prefix_set.h"
#include "core/rate_limiter.h"

namespace {

using namespace tachyon::core;

std::vector<IpAddress> clients(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<IpAddress> out;
  for (size_t i = 0; i < n; ++i) out.push_back(IpAddress::ipv4(static_cast<uint32_t>(rng())));
  return out;
}

// Access list: `range(0)` prefixes over 8 distinct lengths.
void BM_AccessListLookup(benchmark::State& st) {
  PrefixSet<uint8_t> acl;
  std::mt19937 rng(1);
  const uint8_t lengths[] = {8, 12, 16, 20, 24, 28, 30, 32};
  for (int64_t i = 0; i < st.range(0); ++i) {
    acl.add(IpAddress::ipv4(static_cast<uint32_t>(rng())), lengths[i % 8], static_cast<uint8_t>(i & 1));
  }
  acl.build();
  const auto queries = clients(4096, 2);
  size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(acl.lookup(queries[i++ & 4095]));
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
}
BENCHMARK(BM_AccessListLookup)->Arg(10)->Arg(1000);

// Rate limiter: table of `range(0)` entries, `range(1)` distinct clients.
void BM_RateLimiterCheck(benchmark::State& st) {
  RateLimitOptions o;
  o.table_entries = static_cast<uint32_t>(st.range(0));
  o.seed = 7;
  RateLimiter limiter(o);
  const RateLimitParams limits = RateLimitParams::from(o);
  const auto pool = clients(static_cast<size_t>(st.range(1)), 3);
  uint64_t t = 0xeeab'0000'0000'0000ull;
  size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(limiter.check(pool[i++ % pool.size()], NtpTimestamp{t}, limits));
    t += 1 << 20;
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations()));
  st.counters["table_MB"] = static_cast<double>(limiter.memory_bytes()) / (1 << 20);
}
BENCHMARK(BM_RateLimiterCheck)->Args({65536, 1000})->Args({65536, 60000})->Args({1 << 20, 1000000})->Args({1 << 22, 4000000});

}  // namespace

BENCHMARK_MAIN();
