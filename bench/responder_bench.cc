// core::respond() over bursts of 32 real-client requests (the captures in
// tests/data/captures), stamped with a transmit timestamp per burst as a
// worker does it. Reports nanoseconds per request.
//
//   build/bench/responder_bench
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <vector>

#include "core/responder.h"
#include "tests/support/pcap_file.h"

namespace {

using namespace tachyon::core;

constexpr size_t kBurst = 32;

// Requests laid out like mbuf data: one cache-aligned slot each.
struct alignas(64) Slot {
  uint8_t bytes[128];
};

struct Burst {
  std::array<Slot, kBurst> slots{};
  std::array<uint16_t, kBurst> len{};
};

Burst real_client_burst() {
  std::vector<std::vector<uint8_t>> reqs;
  for (const char* f : {"ntpdig.pcap", "sntp.pcap", "chronyd-client.pcap", "chronyd-xleave.pcap"}) {
    for (const auto& frame : tachyon::testing::read_capture(tachyon::testing::captures_dir() + "/" + f)) {
      const auto udp = tachyon::testing::udp_of(frame.bytes);
      if (udp && udp->dst_port == kNtpPort) reqs.push_back(udp->payload);
    }
  }
  Burst b;
  for (size_t i = 0; i < kBurst && !reqs.empty(); ++i) {
    const auto& r = reqs[i % reqs.size()];
    std::memcpy(b.slots[i].bytes, r.data(), r.size());
    b.len[i] = static_cast<uint16_t>(r.size());
  }
  return b;
}

AnswerTemplate answer_template() {
  ServerState s;
  s.synchronized = true;
  s.leap = Leap::kNone;
  s.stratum = 1;
  s.precision = -24;
  s.refid = refid_from_ascii("GPS\0");
  return AnswerTemplate(s);
}

void set_rate(benchmark::State& st) {
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kBurst));
  st.counters["ns_per_request"] = benchmark::Counter(static_cast<double>(st.iterations() * kBurst),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Answers into separate buffers: respond() + stamp_transmit() alone.
void BM_RespondBurst(benchmark::State& st) {
  const Burst in = real_client_burst();
  Burst out;
  const AnswerTemplate answer = answer_template();
  uint64_t rx = 0xeeab'a4cc'0000'0000ull;
  for (auto _ : st) {
    for (size_t i = 0; i < kBurst; ++i) {
      const Request req{std::span<const uint8_t>(in.slots[i].bytes, in.len[i]), NtpTimestamp{rx}, 40000};
      const Verdict v = respond(req, answer, std::span<uint8_t>(out.slots[i].bytes, sizeof out.slots[i].bytes));
      benchmark::DoNotOptimize(v);
    }
    const NtpTimestamp tx{rx + 4000};
    for (size_t i = 0; i < kBurst; ++i) stamp_transmit(out.slots[i].bytes, tx);
    benchmark::ClobberMemory();
    rx += 1 << 20;
  }
  set_rate(st);
}
BENCHMARK(BM_RespondBurst);

// In place, as the worker answers inside the request's mbuf. Each request is
// first copied into its slot (as the NIC writes a new frame), and that copy
// is included in the figure.
void BM_RespondBurstInPlace(benchmark::State& st) {
  const Burst pristine = real_client_burst();
  Burst work;
  const AnswerTemplate answer = answer_template();
  uint64_t rx = 0xeeab'a4cc'0000'0000ull;
  for (auto _ : st) {
    for (size_t i = 0; i < kBurst; ++i) std::memcpy(work.slots[i].bytes, pristine.slots[i].bytes, 64);
    for (size_t i = 0; i < kBurst; ++i) {
      uint8_t* b = work.slots[i].bytes;
      const Request req{std::span<const uint8_t>(b, pristine.len[i]), NtpTimestamp{rx}, 40000};
      const Verdict v = respond(req, answer, std::span<uint8_t>(b, sizeof work.slots[i].bytes));
      benchmark::DoNotOptimize(v);
    }
    const NtpTimestamp tx{rx + 4000};
    for (size_t i = 0; i < kBurst; ++i) stamp_transmit(work.slots[i].bytes, tx);
    benchmark::ClobberMemory();
    rx += 1 << 20;
  }
  set_rate(st);
}
BENCHMARK(BM_RespondBurstInPlace);

// A mix that leaves the inlined fast path: NTPv3 mode 1 (w32time servers),
// requests with a MAC, and junk that is dropped.
void BM_RespondBurstMixed(benchmark::State& st) {
  Burst in = real_client_burst();
  for (size_t i = 0; i < kBurst; i += 4) in.slots[i].bytes[0] = pack_li_vn_mode(Leap::kNone, 3, Mode::kSymmetricActive);
  for (size_t i = 1; i < kBurst; i += 4) in.len[i] = static_cast<uint16_t>(kNtpHeaderSize + kMd5MacSize);
  for (size_t i = 2; i < kBurst; i += 8) in.slots[i].bytes[0] = pack_li_vn_mode(Leap::kNone, 2, Mode::kPrivate);
  Burst out;
  const AnswerTemplate answer = answer_template();
  uint64_t rx = 0xeeab'a4cc'0000'0000ull;
  for (auto _ : st) {
    for (size_t i = 0; i < kBurst; ++i) {
      const Request req{std::span<const uint8_t>(in.slots[i].bytes, in.len[i]), NtpTimestamp{rx}, 40000};
      const Verdict v = respond(req, answer, std::span<uint8_t>(out.slots[i].bytes, sizeof out.slots[i].bytes));
      benchmark::DoNotOptimize(v);
    }
    const NtpTimestamp tx{rx + 4000};
    for (size_t i = 0; i < kBurst; ++i) stamp_transmit(out.slots[i].bytes, tx);
    benchmark::ClobberMemory();
    rx += 1 << 20;
  }
  set_rate(st);
}
BENCHMARK(BM_RespondBurstMixed);

}  // namespace

BENCHMARK_MAIN();
