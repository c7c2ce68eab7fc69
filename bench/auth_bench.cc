// The per-request cost of symmetric-key authentication (src/auth): bursts
// of 32 authenticated client requests answered as a worker will answer them
// (classify(), check_request() before the answer overwrites the request,
// write_reply(), the transmit timestamp, sign()), for each algorithm, next
// to the same burst without MACs measured in the same run. Reports
// nanoseconds per request.
//
//   build/bench/auth_bench
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <vector>

#include "auth/mac_engine.h"
#include "auth/policy.h"
#include "core/responder.h"

namespace {

using namespace tachyon;
using namespace tachyon::core;
using auth::Algorithm;

constexpr size_t kBurst = 32;

struct alignas(64) Slot {
  uint8_t bytes[128];
};

auth::Key make_key(uint32_t id, Algorithm a) {
  auth::Key k;
  k.id = id;
  k.algorithm = a;
  k.size = a == Algorithm::kAes128Cmac ? 16 : 20;
  for (size_t i = 0; i < k.size; ++i) k.bytes[i] = static_cast<uint8_t>(id * 37 + i);
  return k;
}

auth::MacEngine engine() {
  Result<auth::MacEngine> e = auth::MacEngine::create();
  if (!e.ok()) std::abort();
  return std::move(e).value();
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

// 32 NTPv4 client requests as chronyd sends them, each MACed with the
// key of `keys_used` consecutive ids (1 = all with the same key), or none.
struct Burst {
  std::array<Slot, kBurst> slots{};
  std::array<uint16_t, kBurst> len{};
};

Burst make_burst(auth::MacEngine& e, const auth::KeyStore* keys, size_t keys_used) {
  Burst b;
  for (size_t i = 0; i < kBurst; ++i) {
    uint8_t* p = b.slots[i].bytes;
    p[0] = 0x23;
    p[2] = 6;
    p[3] = 0x20;
    store_be64(p + off::kTransmit, 0xeeab'c74a'0000'0000ull + i * 0x1234'5678ull);
    b.len[i] = kNtpHeaderSize;
    if (keys != nullptr) {
      const auth::Key& k = keys->keys()[i % keys_used];
      b.len[i] = static_cast<uint16_t>(
          kNtpHeaderSize + e.sign(k, std::span<const uint8_t>(p, kNtpHeaderSize), std::span<uint8_t>(p + kNtpHeaderSize, 24)));
    }
  }
  return b;
}

void set_rate(benchmark::State& st) {
  st.SetItemsProcessed(static_cast<int64_t>(st.iterations() * kBurst));
  st.counters["ns_per_request"] = benchmark::Counter(static_cast<double>(st.iterations() * kBurst),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The whole answer path for one burst, in place in copies of the requests.
void answer_burst(auth::MacEngine& e, const auth::KeyStore& keys, const Burst& in, Burst& work,
                  const AnswerTemplate& answer, uint64_t rx) {
  std::memcpy(&work, &in, sizeof work);
  std::array<auth::RequestCheck, kBurst> checks;
  for (size_t i = 0; i < kBurst; ++i) {
    const Request req{std::span<const uint8_t>(work.slots[i].bytes, work.len[i]), NtpTimestamp{rx}, 40000};
    const Verdict v = classify(req);
    checks[i] = e.check_request(req.packet, keys);
    const auth::AuthDecision d = auth::decide(checks[i].result, false);
    if (v.action != Action::kReply || d.action == auth::AuthAction::kDrop) std::abort();
    write_reply(req, v, answer, std::span<uint8_t>(work.slots[i].bytes, sizeof work.slots[i].bytes));
  }
  const NtpTimestamp tx{rx + 4000};
  for (size_t i = 0; i < kBurst; ++i) {
    uint8_t* p = work.slots[i].bytes;
    stamp_transmit(p, tx);
    if (checks[i].key != nullptr) {
      e.sign(*checks[i].key, std::span<const uint8_t>(p, kNtpHeaderSize),
             std::span<uint8_t>(p + kNtpHeaderSize, checks[i].key->mac_size()));
    }
  }
}

// Baseline: the same requests without MACs, the same code path.
void BM_AnswerNoMac(benchmark::State& st) {
  auth::MacEngine e = engine();
  const auth::KeyStore keys;
  const Burst in = make_burst(e, nullptr, 1);
  Burst work;
  const AnswerTemplate answer = answer_template();
  uint64_t rx = 0xeeab'a4cc'0000'0000ull;
  for (auto _ : st) {
    answer_burst(e, keys, in, work, answer, rx);
    benchmark::ClobberMemory();
    rx += 1 << 20;
  }
  set_rate(st);
}
BENCHMARK(BM_AnswerNoMac);

// verify + sign per request, all requests with one key of the algorithm
// (arg 0), with 32 keys, ids 1-32 (arg 1), or with 32 keys whose ids are
// 32 apart (arg 2): for AES-CMAC the worst case, where every key lands on
// the same slot of the engine's key-schedule cache and every verify and
// every sign re-keys AES.
void BM_AnswerWithMac(benchmark::State& st, Algorithm a) {
  auth::MacEngine e = engine();
  std::vector<auth::Key> list;
  const uint32_t stride = st.range(0) == 2 ? kBurst : 1;
  for (uint32_t i = 0; i < kBurst; ++i) list.push_back(make_key(1 + i * stride, a));
  const auth::KeyStore keys(std::move(list));
  const Burst in = make_burst(e, &keys, st.range(0) == 0 ? 1 : kBurst);
  Burst work;
  const AnswerTemplate answer = answer_template();
  uint64_t rx = 0xeeab'a4cc'0000'0000ull;
  for (auto _ : st) {
    answer_burst(e, keys, in, work, answer, rx);
    benchmark::ClobberMemory();
    rx += 1 << 20;
  }
  if (e.failures() != 0) st.SkipWithError("OpenSSL failures");
  set_rate(st);
}
BENCHMARK_CAPTURE(BM_AnswerWithMac, md5, Algorithm::kMd5)->Arg(0)->Arg(1);
BENCHMARK_CAPTURE(BM_AnswerWithMac, sha1, Algorithm::kSha1)->Arg(0)->Arg(1);
BENCHMARK_CAPTURE(BM_AnswerWithMac, aes_cmac, Algorithm::kAes128Cmac)->Arg(0)->Arg(1)->Arg(2);

// The two halves alone, one key.
void BM_Verify(benchmark::State& st, Algorithm a) {
  auth::MacEngine e = engine();
  const auth::KeyStore keys(std::vector<auth::Key>{make_key(1, a)});
  const Burst in = make_burst(e, &keys, 1);
  for (auto _ : st) {
    for (size_t i = 0; i < kBurst; ++i) {
      benchmark::DoNotOptimize(e.verify(std::span<const uint8_t>(in.slots[i].bytes, in.len[i]), kNtpHeaderSize,
                                        in.len[i] - kNtpHeaderSize, keys));
    }
  }
  set_rate(st);
}
BENCHMARK_CAPTURE(BM_Verify, md5, Algorithm::kMd5);
BENCHMARK_CAPTURE(BM_Verify, sha1, Algorithm::kSha1);
BENCHMARK_CAPTURE(BM_Verify, aes_cmac, Algorithm::kAes128Cmac);

void BM_Sign(benchmark::State& st, Algorithm a) {
  auth::MacEngine e = engine();
  const auth::Key key = make_key(1, a);
  Burst work = make_burst(e, nullptr, 1);
  uint64_t tx = 0xeeab'a4cc'0000'0000ull;
  for (auto _ : st) {
    for (size_t i = 0; i < kBurst; ++i) {
      uint8_t* p = work.slots[i].bytes;
      stamp_transmit(p, NtpTimestamp{tx + i});
      benchmark::DoNotOptimize(
          e.sign(key, std::span<const uint8_t>(p, kNtpHeaderSize), std::span<uint8_t>(p + kNtpHeaderSize, 24)));
    }
    tx += 1 << 20;
  }
  set_rate(st);
}
BENCHMARK_CAPTURE(BM_Sign, md5, Algorithm::kMd5);
BENCHMARK_CAPTURE(BM_Sign, sha1, Algorithm::kSha1);
BENCHMARK_CAPTURE(BM_Sign, aes_cmac, Algorithm::kAes128Cmac);

// A burst of requests with a key id the server does not have: the lookup
// fails before any MAC is computed, and each gets a crypto-NAK.
void BM_UnknownKey(benchmark::State& st) {
  auth::MacEngine e = engine();
  const auth::KeyStore server(std::vector<auth::Key>{make_key(99, Algorithm::kMd5)});
  const auth::KeyStore client(std::vector<auth::Key>{make_key(1, Algorithm::kMd5)});
  const Burst in = make_burst(e, &client, 1);
  for (auto _ : st) {
    for (size_t i = 0; i < kBurst; ++i) {
      benchmark::DoNotOptimize(e.check_request(std::span<const uint8_t>(in.slots[i].bytes, in.len[i]), server));
    }
  }
  set_rate(st);
}
BENCHMARK(BM_UnknownKey);

}  // namespace

BENCHMARK_MAIN();
