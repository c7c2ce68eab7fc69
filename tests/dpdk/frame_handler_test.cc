#include "dpdk/frame_handler.h"

#include "core/responder.h"
#include "dpdk/checksum.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>
#include <vector>

#include "tests/support/frames.h"
#include "tests/support/scenarios.h"

namespace tachyon::dp {
namespace {

using namespace tachyon::testing;

constexpr core::NtpTimestamp kRx{0xeeab'a4cc'1000'0000ull};
constexpr core::NtpTimestamp kTx{0xeeab'a4cc'1000'2000ull};
constexpr uint16_t kCapacity = 2048;

struct Outcome {
  FrameVerdict verdict;
  Bytes answer;
};

Outcome run(const Lab& lab, const PortIdentity& id, const Bytes& request, WorkerCounters& c, bool offload = false) {
  const core::AnswerTemplate answer(lab.state);
  FrameContext ctx{&id, &answer, kRx, offload};
  Bytes buf(kCapacity, 0);
  std::copy(request.begin(), request.end(), buf.begin());
  Outcome o;
  o.verdict = handle_frame(buf.data(), static_cast<uint16_t>(request.size()), kCapacity, ctx, c);
  if (o.verdict.action == FrameAction::kSendNtp) stamp_ntp_frame(buf.data(), o.verdict, kTx, offload);
  if (o.verdict.action != FrameAction::kDrop) o.answer.assign(buf.begin(), buf.begin() + o.verdict.length);
  return o;
}

void run_scenarios(uint16_t vlan, uint32_t seed) {
  const Lab lab = default_lab(vlan);
  const PortIdentity id = identity_for(lab);
  WorkerCounters c;
  std::map<core::DropReason, uint64_t> expected_drops;
  std::map<std::string, int> seen;
  for (const Scenario& s : varied_scenarios(lab, seed, 6000)) {
    ++seen[s.name];
    const Outcome o = run(lab, id, s.request, c);
    if (!s.answered) {
      EXPECT_EQ(o.verdict.action, FrameAction::kDrop) << s.name;
      EXPECT_EQ(o.verdict.reason, s.reason)
          << s.name << ": dropped as " << core::drop_reason_name(o.verdict.reason) << ", expected "
          << core::drop_reason_name(s.reason);
      ++expected_drops[s.reason];
      continue;
    }
    ASSERT_NE(o.verdict.action, FrameAction::kDrop)
        << s.name << " dropped as " << core::drop_reason_name(o.verdict.reason);
    EXPECT_EQ(o.verdict.action == FrameAction::kSendNtp, s.ntp) << s.name;
    const std::string why = check_answer(s, o.answer, kRx, kTx);
    EXPECT_EQ(why, "") << s.name;
    EXPECT_LE(o.answer.size(), s.request.size()) << s.name;
  }
  for (size_t r = 0; r < core::kDropReasonCount; ++r) {
    const auto reason = static_cast<core::DropReason>(r);
    EXPECT_EQ(c.ntp.drops[r].load(), expected_drops[reason]) << core::drop_reason_name(reason);
  }
  // The generator must have produced every kind of frame.
  for (const char* kind : {"ntpv1", "ntpv2", "ntpv3", "ntpv4", "ntpv4+mac", "mode1", "arp", "ns-multicast",
                           "ns-unicast-no-slla", "icmp-echo", "icmpv6-echo", "mode7", "foreign-vlan",
                           "ntpv4+partial-checksum"}) {
    EXPECT_GT(seen[kind], 0) << kind;
  }
  EXPECT_GT(c.arp_replies.load(), 0u);
  EXPECT_GT(c.nd_advertisements.load(), 0u);
  EXPECT_GT(c.icmp_echo_replies.load(), 0u);
  EXPECT_GT(c.icmpv6_echo_replies.load(), 0u);
}

TEST(FrameHandler, AnswersEveryVariedFrameExactlyAndDropsJunkByReason) { run_scenarios(0, 1); }

TEST(FrameHandler, KeepsTheVlanTagOnAnswers) { run_scenarios(100, 2); }

TEST(FrameHandler, UntaggedFrameOnTaggedPortIsAVlanMismatch) {
  const Lab tagged = default_lab(100);
  const PortIdentity id = identity_for(tagged);
  Lab untagged = default_lab(0);
  WorkerCounters c;
  const Bytes req = udp_frame(untagged.client, untagged.server, false, 0, Bytes(48, 0x23));
  EXPECT_EQ(run(tagged, id, req, c).verdict.reason, core::DropReason::kVlanMismatch);
}

// What the worker prefetches rate-limit records by: the source address,
// the same IpAddress admission builds (IPv4 in the first 4 bytes).
TEST(FrameHandler, PeekSourceFindsTheClientAddressUntaggedAndTagged) {
  const Lab lab = default_lab(0);
  for (uint16_t vlan : {0, 100}) {
    core::IpAddress a;
    const Bytes v4 = udp_frame(lab.client, lab.server, false, vlan, Bytes(48, 0x23));
    ASSERT_TRUE(peek_source(v4.data(), static_cast<uint16_t>(v4.size()), a)) << vlan;
    EXPECT_EQ(a, core::IpAddress::ipv4(lab.client.ipv4)) << vlan;
    const Bytes v6 = udp_frame(lab.client, lab.server, true, vlan, Bytes(48, 0x23));
    ASSERT_TRUE(peek_source(v6.data(), static_cast<uint16_t>(v6.size()), a)) << vlan;
    EXPECT_EQ(a, core::IpAddress::ipv6(lab.client.ipv6.data())) << vlan;
  }
  core::IpAddress a;
  const Bytes v4 = udp_frame(lab.client, lab.server, false, 0, Bytes(48, 0x23));
  EXPECT_FALSE(peek_source(v4.data(), 14 + 39, a)) << "shorter than an IPv6 header";
  Bytes arp = v4;
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_FALSE(peek_source(arp.data(), static_cast<uint16_t>(arp.size()), a));
}

// What the worker prefetches an interleaved request's record by: the NTP
// origin field, found past a VLAN tag and IPv4 options.
TEST(FrameHandler, PeekOriginFindsTheNtpOriginBehindAnyHeaders) {
  const Lab lab = default_lab(0);
  Bytes ntp(48, 0x23);
  core::store_be64(ntp.data() + core::off::kOrigin, 0x0102'0304'0506'0708ull);
  for (uint16_t vlan : {0, 100}) {
    for (bool v6 : {false, true}) {
      core::NtpTimestamp origin;
      const Bytes frame = udp_frame(lab.client, lab.server, v6, vlan, ntp);
      ASSERT_TRUE(peek_origin(frame.data(), static_cast<uint16_t>(frame.size()), origin)) << vlan << v6;
      EXPECT_EQ(origin.raw, 0x0102'0304'0506'0708ull) << vlan << v6;
      EXPECT_FALSE(peek_origin(frame.data(), static_cast<uint16_t>(frame.size() - 48 + 31), origin))
          << "ends inside the origin field " << vlan << v6;
    }
  }
  // IPv4 with 4 bytes of options (IHL 6).
  Bytes options = udp_frame(lab.client, lab.server, false, 0, ntp);
  options.insert(options.begin() + 14 + 20, {1, 1, 1, 0});
  options[14] = 0x46;
  core::NtpTimestamp origin;
  ASSERT_TRUE(peek_origin(options.data(), static_cast<uint16_t>(options.size()), origin));
  EXPECT_EQ(origin.raw, 0x0102'0304'0506'0708ull);
  Bytes arp = udp_frame(lab.client, lab.server, false, 0, ntp);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_FALSE(peek_origin(arp.data(), static_cast<uint16_t>(arp.size()), origin));
  EXPECT_FALSE(peek_origin(arp.data(), 14 + 19, origin));
}

TEST(FrameHandler, ChecksumOffloadLeavesPseudoHeaderSumForTheNic) {
  const Lab lab = default_lab();
  const PortIdentity id = identity_for(lab);
  WorkerCounters c;
  for (bool v6 : {false, true}) {
    Bytes ntp(48, 0);
    ntp[0] = 0x23;
    ntp[47] = 1;  // a transmit timestamp: zero is dropped
    const Bytes req = udp_frame(lab.client, lab.server, v6, 0, ntp);
    const Outcome o = run(lab, id, req, c, /*offload=*/true);
    ASSERT_EQ(o.verdict.action, FrameAction::kSendNtp);
    EXPECT_TRUE(o.verdict.udp);
    EXPECT_EQ(o.verdict.ipv6, v6);
    EXPECT_EQ(o.verdict.l2_length, 14);
    EXPECT_EQ(o.verdict.l3_length, v6 ? 40 : 20);
    const size_t ip = 14;
    const size_t udp = ip + (v6 ? 40 : 20);
    if (!v6) {
      EXPECT_EQ(o.answer[ip + 10] << 8 | o.answer[ip + 11], 0);
    }
    // The NIC adds the UDP header and payload to this and complements it.
    uint32_t pseudo = 17 + 56;
    if (v6) {
      for (size_t i = 0; i < 32; i += 2) pseudo += static_cast<uint32_t>(o.answer[ip + 8 + i] << 8 | o.answer[ip + 9 + i]);
    } else {
      for (size_t i = 0; i < 8; i += 2) pseudo += static_cast<uint32_t>(o.answer[ip + 12 + i] << 8 | o.answer[ip + 13 + i]);
    }
    while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
    EXPECT_EQ(static_cast<uint32_t>(o.answer[udp + 6] << 8 | o.answer[udp + 7]), pseudo);
  }
}

TEST(FrameHandler, IncrementalChecksumAfterStampingEqualsAFullRecomputation) {
  const Lab lab = default_lab();
  const PortIdentity id = identity_for(lab);
  const core::AnswerTemplate answer(lab.state);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    const bool v6 = i % 2;
    Bytes ntp(48, 0);
    ntp[0] = 0x23;
    for (size_t k = 40; k < 48; ++k) ntp[k] = static_cast<uint8_t>(rng());
    Host client = lab.client;
    client.port = static_cast<uint16_t>(rng() | 1);
    Bytes buf = udp_frame(client, lab.server, v6, 0, ntp);
    buf.resize(kCapacity);
    WorkerCounters c;
    FrameContext ctx{&id, &answer, core::NtpTimestamp{rng()}, false};
    const FrameVerdict v = handle_frame(buf.data(), static_cast<uint16_t>(14 + (v6 ? 40 : 20) + 56), kCapacity, ctx, c);
    ASSERT_EQ(v.action, FrameAction::kSendNtp);
    stamp_ntp_frame(buf.data(), v, core::NtpTimestamp{rng()}, false);
    buf.resize(v.length);
    const size_t ip = 14;
    const size_t udp = ip + (v6 ? 40 : 20);
    Bytes copy = buf;
    patch_ntp_timestamp(copy, v6, 0, 40, core::load_be64(&buf[udp + 8 + 40]));  // full recomputation
    EXPECT_EQ(buf[udp + 6], copy[udp + 6]);
    EXPECT_EQ(buf[udp + 7], copy[udp + 7]);
  }
}

TEST(FrameHandler, NoAnswerIsLongerThanItsRequestForRandomFrames) {
  // Property over random mutations of valid requests of every kind.
  const Lab lab = default_lab();
  const PortIdentity id = identity_for(lab);
  std::mt19937 rng(11);
  WorkerCounters c;
  for (const Scenario& s : varied_scenarios(lab, 3, 3000)) {
    for (int m = 0; m < 20; ++m) {
      Bytes req = s.request;
      if (req.empty()) continue;
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) req[rng() % req.size()] = static_cast<uint8_t>(rng());
      if (rng() % 4 == 0) req.resize(rng() % (req.size() + 1));
      const Outcome o = run(lab, id, req, c);
      if (o.verdict.action != FrameAction::kDrop) {
        ASSERT_LE(o.answer.size(), req.size()) << s.name;
      }
    }
  }
}

TEST(FrameHandler, FastPathAnswersExactlyLikeTheGeneralPath) {
  // Every frame (valid or mutated) gets the same verdict and bytes from
  // handle_frame() (inlined fast path first) and handle_frame_general().
  std::mt19937 rng(17);
  for (uint16_t vlan : {uint16_t{0}, uint16_t{42}}) {
    const Lab lab = default_lab(vlan);
    const PortIdentity id = identity_for(lab);
    const core::AnswerTemplate answer(lab.state);
    size_t fast_answers = 0;
    for (const Scenario& s : varied_scenarios(lab, 31 + vlan, 4000)) {
      for (int m = 0; m < 4; ++m) {
        Bytes req = s.request;
        if (m > 0 && !req.empty()) req[rng() % req.size()] = static_cast<uint8_t>(rng());
        for (bool offload : {false, true}) {
          const FrameContext ctx(&id, &answer, kRx, offload);
          Bytes a(kCapacity, 0), b(kCapacity, 0);
          std::copy(req.begin(), req.end(), a.begin());
          std::copy(req.begin(), req.end(), b.begin());
          WorkerCounters ca, cb;
          const auto len = static_cast<uint16_t>(req.size());
          const FrameVerdict va = handle_frame(a.data(), len, kCapacity, ctx, ca);
          const FrameVerdict vb = handle_frame_general(b.data(), len, kCapacity, ctx, cb);
          ASSERT_EQ(va.action, vb.action) << s.name;
          if (va.action == FrameAction::kDrop) {
            ASSERT_EQ(va.reason, vb.reason) << s.name;
          }
          ASSERT_EQ(va.length, vb.length) << s.name;
          ASSERT_EQ(va.ntp_offset, vb.ntp_offset) << s.name;
          ASSERT_EQ(va.l2_length, vb.l2_length) << s.name;
          ASSERT_EQ(va.l3_length, vb.l3_length) << s.name;
          if (va.action == FrameAction::kDrop) continue;
          if (va.action == FrameAction::kSendNtp) {
            stamp_ntp_frame(a.data(), va, kTx, offload);
            stamp_ntp_frame(b.data(), vb, kTx, offload);
            ++fast_answers;
          }
          ASSERT_EQ(Bytes(a.begin(), a.begin() + va.length), Bytes(b.begin(), b.begin() + vb.length))
              << s.name << (offload ? " offload" : "");
        }
      }
    }
    EXPECT_GT(fast_answers, 1000u);
  }
}

TEST(FrameHandler, LinkLocalAddressIsTheModifiedEui64OfTheMac) {
  PortIdentity id;
  id.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  EXPECT_EQ(id.link_local(), ipv6_from_string("fe80::5054:ff:fe12:3456"));
}

// csum::fold() against the fold by masks and shifts, step by step, on the
// sums where end-around carries chain (all ones, carries out of either
// half) and on random ones.
TEST(Checksum, FoldMatchesTheStepByStepFold) {
  const auto reference = [](uint64_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return __builtin_bswap16(static_cast<uint16_t>(s));
  };
  std::vector<uint64_t> sums = {0,           1,           0xffff,      0x10000,           0x1'fffe,
                                0xffff'ffff, 0x1'0000'0000ull, 0x1'ffff'fffeull, 0xffff'ffff'ffff'ffffull,
                                0xffff'0000'0000'ffffull, 0x8000'0000'8000'0000ull, 0x0000'ffff'ffff'0001ull};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) sums.push_back(i % 2 ? rng() : rng() >> (rng() % 64));
  for (uint64_t s : sums) EXPECT_EQ(csum::fold(s), reference(s)) << std::hex << s;
}

TEST(FrameHandler, OnesSumMatchesTheNaiveChecksum) {
  std::mt19937 rng(3);
  for (size_t n = 0; n < 300; ++n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    EXPECT_EQ(fold_checksum(ones_sum(b.data(), b.size(), 0)), internet_checksum(b, 0, b.size())) << n;
  }
}

}  // namespace
}  // namespace tachyon::dp

namespace tachyon::dp {
namespace {

using namespace tachyon::testing;

struct PolicyRig {
  Lab lab = default_lab();
  PortIdentity id = identity_for(lab);
  core::AnswerTemplate answer{lab.state};
  core::ServicePolicy policy;
  core::RateLimitOptions rate;
  std::unique_ptr<core::NtpService> service;
  core::SeqlockCell<core::SystemVariables> control;
  WorkerCounters c;

  void start() {
    policy.access.build();
    policy.control_allow.build();
    rate.table_entries = 1024;
    rate.seed = 9;
    policy.rate = core::RateLimitParams::from(rate);
    service = std::make_unique<core::NtpService>(rate);
    service->use(&policy);
  }
  // Runs one frame through handle_frame (fast path first) or the general
  // path; returns the answer bytes (empty when dropped).
  Bytes run(const Bytes& request, bool general, FrameVerdict* out = nullptr) {
    FrameContext ctx(&id, &answer, kRx, false);
    ctx.service = service.get();
    ctx.control = &control;
    Bytes buf(kCapacity, 0);
    std::copy(request.begin(), request.end(), buf.begin());
    const auto len = static_cast<uint16_t>(request.size());
    const FrameVerdict v = general ? handle_frame_general(buf.data(), len, kCapacity, ctx, c)
                                   : handle_frame(buf.data(), len, kCapacity, ctx, c);
    if (out != nullptr) *out = v;
    if (v.action == FrameAction::kDrop) return {};
    return Bytes(buf.begin(), buf.begin() + v.length);
  }
  Bytes request(const std::string& client_ip, uint8_t first_byte = 0x23) {
    Host h = lab.client;
    h.ipv4 = ipv4_from_string(client_ip);
    Bytes ntp(48, 0);
    ntp[0] = first_byte;
    for (size_t i = 40; i < 48; ++i) ntp[i] = static_cast<uint8_t>(0xa0 + i);
    return udp_frame(h, lab.server, false, 0, ntp);
  }
};

core::NtpHeader ntp_of(const Bytes& frame) {
  return core::decode_header(std::span<const uint8_t>(frame.data() + ntp_offset(false, 0), 48));
}

class Policies : public ::testing::TestWithParam<bool> {};  // general path or not

TEST_P(Policies, DeniedClientIsDroppedAndCounted) {
  PolicyRig rig;
  const auto p = core::parse_prefix("192.0.2.128/25");
  rig.policy.access.add(p->address, p->length, core::Rule::kDeny);
  rig.start();
  EXPECT_TRUE(rig.run(rig.request("192.0.2.200"), GetParam()).empty());
  EXPECT_EQ(rig.c.ntp.drops[static_cast<size_t>(core::DropReason::kAccessDenied)].load(), 1u);
  EXPECT_FALSE(rig.run(rig.request("192.0.2.20"), GetParam()).empty());  // outside the denied prefix
}

TEST_P(Policies, DefaultDenyWithAllowExceptionAndKodDeny) {
  PolicyRig rig;
  rig.policy.default_allow = false;
  rig.policy.denied = core::Refusal::kKod;
  const auto p = core::parse_prefix("192.0.2.0/28");
  rig.policy.access.add(p->address, p->length, core::Rule::kAllow);
  rig.start();
  const Bytes req = rig.request("192.0.2.99");
  FrameVerdict v;
  const Bytes kod = rig.run(req, GetParam(), &v);
  ASSERT_FALSE(kod.empty());
  EXPECT_EQ(v.action, FrameAction::kSend);  // a KoD is not stamped
  EXPECT_LE(kod.size(), req.size());
  const core::NtpHeader h = ntp_of(kod);
  EXPECT_EQ(h.stratum, 0);
  EXPECT_EQ(h.leap, core::Leap::kUnsync);
  EXPECT_EQ(h.refid, core::kiss_refid(core::KissCode::kDeny));
  EXPECT_EQ(h.origin, ntp_of(req).transmit);
  EXPECT_EQ(h.receive, ntp_of(req).transmit);  // no time given away
  EXPECT_EQ(rig.c.ntp.kod[static_cast<size_t>(core::KissCode::kDeny)].load(), 1u);
  // The checksums of the KoD are right.
  const size_t udp = 14 + 20;
  Bytes copy = kod;
  patch_ntp_timestamp(copy, false, 0, 40, core::load_be64(&kod[udp + 8 + 40]));
  EXPECT_EQ(copy, kod);
  // An allowed client is answered with time.
  EXPECT_EQ(ntp_of(rig.run(rig.request("192.0.2.3"), GetParam())).stratum, rig.lab.state.stratum);
}

TEST_P(Policies, RateLimitAnswersTheBurstThenSendsKodRate) {
  PolicyRig rig;
  rig.policy.rate_limit = true;
  rig.policy.limited = core::Refusal::kKod;
  rig.policy.kod_poll = 9;
  rig.rate.interval_log2 = 3;
  rig.rate.burst = 4;
  rig.rate.leak_log2 = 0;
  rig.start();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ntp_of(rig.run(rig.request("192.0.2.7"), GetParam())).stratum, 1);
  const core::NtpHeader kod = ntp_of(rig.run(rig.request("192.0.2.7"), GetParam()));
  EXPECT_EQ(kod.stratum, 0);
  EXPECT_EQ(kod.refid, core::kiss_refid(core::KissCode::kRate));
  EXPECT_EQ(kod.poll, 9);  // back off to 2^9 s
  EXPECT_EQ(rig.c.ntp.kod[static_cast<size_t>(core::KissCode::kRate)].load(), 1u);
  EXPECT_EQ(ntp_of(rig.run(rig.request("192.0.2.8"), GetParam())).stratum, 1);  // another client
}

TEST_P(Policies, RateLimitDropIsCounted) {
  PolicyRig rig;
  rig.policy.rate_limit = true;
  rig.policy.limited = core::Refusal::kDrop;
  rig.rate.burst = 1;
  rig.rate.leak_log2 = 0;
  rig.start();
  EXPECT_FALSE(rig.run(rig.request("192.0.2.7"), GetParam()).empty());
  EXPECT_TRUE(rig.run(rig.request("192.0.2.7"), GetParam()).empty());
  EXPECT_EQ(rig.c.ntp.drops[static_cast<size_t>(core::DropReason::kRateLimited)].load(), 1u);
}

TEST_P(Policies, ControlAnsweredOnlyToTheAllowList) {
  PolicyRig rig;
  const auto p = core::parse_prefix("192.0.2.0/30");
  rig.policy.control_allow.add(p->address, p->length, core::Rule::kAllow);
  rig.start();
  Host h = rig.lab.client;
  const Bytes readstat{0x16, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};  // ntpq's READSTAT
  h.ipv4 = ipv4_from_string("192.0.2.2");
  FrameVerdict v;
  const Bytes answer = rig.run(udp_frame(h, rig.lab.server, false, 0, readstat), GetParam(), &v);
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(v.action, FrameAction::kSend);
  EXPECT_EQ(answer[ntp_offset(false, 0)] & 0x07, 6);     // mode 6
  EXPECT_EQ(answer[ntp_offset(false, 0) + 1] & 0x80, 0x80);  // response bit
  EXPECT_EQ(rig.c.control_replies.load(), 1u);
  h.ipv4 = ipv4_from_string("192.0.2.9");
  EXPECT_TRUE(rig.run(udp_frame(h, rig.lab.server, false, 0, readstat), GetParam()).empty());
  EXPECT_EQ(rig.c.ntp.drops[static_cast<size_t>(core::DropReason::kNtpModeControl)].load(), 1u);
}

INSTANTIATE_TEST_SUITE_P(FastAndGeneralPath, Policies, ::testing::Values(false, true));

TEST(PolicyBox, ReplacedPolicyIsFreedOnlyAfterEveryWorkerMovedOn) {
  auto first = std::make_unique<core::ServicePolicy>();
  const core::ServicePolicy* first_ptr = first.get();
  core::PolicyBox box(std::move(first), 2);
  EXPECT_EQ(box.enter(0), first_ptr);
  EXPECT_EQ(box.enter(1), first_ptr);
  // Worker 1 never comes back: the replacement times out and keeps the old
  // policy alive rather than freeing it under the worker.
  EXPECT_FALSE(box.replace(std::make_unique<core::ServicePolicy>(), 50));
  const core::ServicePolicy* second = box.current();
  EXPECT_NE(second, first_ptr);
  EXPECT_EQ(box.enter(0), second);
  EXPECT_EQ(box.enter(1), second);
  box.leave(1);  // offline workers are not waited for
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop.load()) box.enter(0);
  });
  EXPECT_TRUE(box.replace(std::make_unique<core::ServicePolicy>(), 1000));
  stop = true;
  worker.join();
}

}  // namespace
}  // namespace tachyon::dp
