// dp::handle_frame() + stamp_ntp_frame() over bursts of 32 real-client NTP
// requests in Ethernet/IPv4 frames, in cache: the CPU cost of the whole
// frame path of one request, without the NIC or another core.
//
//   build/bench/frame_bench
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <vector>

#include "dpdk/frame_handler.h"
#include "tests/support/pcap_file.h"
#include "tests/support/scenarios.h"

namespace {

using namespace tachyon;
using namespace tachyon::testing;

constexpr size_t kBurst = 32;

struct alignas(64) Slot {
  uint8_t bytes[256];
};

void BM_FrameBurst(benchmark::State& st) {
  const bool v6 = st.range(0) != 0;
  const Lab lab = default_lab();
  const dp::PortIdentity id = identity_for(lab);
  const core::AnswerTemplate answer(lab.state);
  std::vector<Bytes> frames;
  for (const char* f : {"ntpdig.pcap", "sntp.pcap", "chronyd-client.pcap"}) {
    for (const auto& frame : read_capture(captures_dir() + "/" + f)) {
      const auto udp = udp_of(frame.bytes);
      if (udp && udp->dst_port == 123) frames.push_back(udp_frame(lab.client, lab.server, v6, 0, udp->payload));
    }
  }
  std::array<Slot, kBurst> pristine{}, work{};
  std::array<uint16_t, kBurst> len{};
  for (size_t i = 0; i < kBurst; ++i) {
    const Bytes& f = frames[i % frames.size()];
    std::memcpy(pristine[i].bytes, f.data(), f.size());
    len[i] = static_cast<uint16_t>(f.size());
  }
  dp::WorkerCounters counters;
  dp::FrameVerdict verdicts[kBurst];
  uint64_t rx = 0xeeab'a4cc'0000'0000ull;
  for (auto _ : st) {
    for (size_t i = 0; i < kBurst; ++i) std::memcpy(work[i].bytes, pristine[i].bytes, 128);
    const dp::FrameContext ctx{&id, &answer, core::NtpTimestamp{rx}, false};
    for (size_t i = 0; i < kBurst; ++i) verdicts[i] = dp::handle_frame(work[i].bytes, len[i], 256, ctx, counters);
    const core::NtpTimestamp tx{rx + 4000};
    for (size_t i = 0; i < kBurst; ++i) dp::stamp_ntp_frame(work[i].bytes, verdicts[i], tx, false);
    benchmark::ClobberMemory();
    rx += 1 << 20;
  }
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kBurst));
  st.counters["ns_per_request"] = benchmark::Counter(static_cast<double>(st.iterations() * kBurst),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_FrameBurst)->Arg(0)->Arg(1)->ArgName("ipv6");

}  // namespace

BENCHMARK_MAIN();
