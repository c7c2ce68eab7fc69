#include "dpdk/frame_handler.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

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

TEST(FrameHandler, ChecksumOffloadLeavesPseudoHeaderSumForTheNic) {
  const Lab lab = default_lab();
  const PortIdentity id = identity_for(lab);
  WorkerCounters c;
  for (bool v6 : {false, true}) {
    Bytes ntp(48, 0);
    ntp[0] = 0x23;
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
