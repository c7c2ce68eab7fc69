// The frame handler with authentication and interleaved mode on: signed
// answers and crypto-NAKs on the wire (lengths, MACs, checksums), require,
// and the interleaved exchange as chronyd runs it, on both paths.
#include <gtest/gtest.h>

#include <optional>

#include "auth/mac_engine.h"
#include "auth/policy.h"
#include "core/interleave.h"
#include "core/ntp_packet.h"
#include "dpdk/frame_handler.h"
#include "tests/support/frames.h"
#include "tests/support/scenarios.h"

namespace tachyon::dp {
namespace {

using namespace tachyon::testing;

constexpr uint16_t kCapacity = 2048;
constexpr core::NtpTimestamp kXmt{0xeeab'a4cc'2000'0000ull};

auth::Key make_key(uint32_t id, auth::Algorithm a, size_t size, uint8_t fill) {
  auth::Key k;
  k.id = id;
  k.algorithm = a;
  k.size = static_cast<uint8_t>(size);
  for (size_t i = 0; i < size; ++i) k.bytes[i] = static_cast<uint8_t>(fill + i);
  return k;
}

struct Rig {
  Lab lab = default_lab();
  PortIdentity id = identity_for(lab);
  core::AnswerTemplate answer{lab.state};
  auth::MacEngine mac = auth::MacEngine::create().value();
  auth::AuthPolicy policy;
  WorkerCounters c;

  Rig() {
    std::vector<auth::Key> keys;
    keys.push_back(make_key(1, auth::Algorithm::kMd5, 20, 0x41));
    keys.push_back(make_key(2, auth::Algorithm::kSha1, 20, 0x61));
    keys.push_back(make_key(3, auth::Algorithm::kAes128Cmac, 16, 0x11));
    policy.keys = auth::KeyStore(std::move(keys));
  }

  // A client request: `origin`, `receive`, `transmit`, and a MAC with key
  // `key_id` (0: none; a key the store lacks gets a zero digest).
  Bytes request(bool v6, uint64_t origin, uint64_t receive, uint64_t transmit, uint32_t key_id = 0,
                bool corrupt = false) {
    Bytes ntp(48, 0);
    ntp[0] = 0x23;
    core::store_be64(&ntp[24], origin);
    core::store_be64(&ntp[32], receive);
    core::store_be64(&ntp[40], transmit);
    if (key_id != 0) {
      const auth::Key* k = policy.keys.find(key_id);
      const size_t size = k != nullptr ? k->mac_size() : 20;
      ntp.resize(48 + size, 0);
      if (k != nullptr) {
        EXPECT_EQ(mac.sign(*k, std::span<const uint8_t>(ntp.data(), 48), std::span<uint8_t>(ntp.data() + 48, size)),
                  size);
      } else {
        core::store_be32(&ntp[48], key_id);
      }
      if (corrupt) ntp.back() ^= 1;
    }
    return udp_frame(lab.client, lab.server, v6, 0, ntp);
  }

  struct Answer {
    FrameVerdict v;
    Bytes frame;
    bool stamped = false;
  };

  Answer handle(const Bytes& req, core::NtpTimestamp rx, core::InterleaveTable* table, bool general = false,
                bool offload = false) {
    FrameContext ctx{&id, &answer, rx, offload};
    ctx.mac = &mac;
    ctx.auth = &policy;
    ctx.interleave = table;
    Bytes buf(kCapacity, 0);
    std::copy(req.begin(), req.end(), buf.begin());
    Answer a;
    const auto length = static_cast<uint16_t>(req.size());
    a.v = general ? handle_frame_general(buf.data(), length, kCapacity, ctx, c)
                  : handle_frame(buf.data(), length, kCapacity, ctx, c);
    if (a.v.action == FrameAction::kSendNtp) a.stamped = stamp_ntp_frame(buf.data(), a.v, kXmt, offload, &mac);
    if (a.v.action != FrameAction::kDrop) a.frame.assign(buf.begin(), buf.begin() + a.v.length);
    return a;
  }
};

size_t ntp_at(bool v6) { return ntp_offset(v6, 0); }

// The UDP checksum in `frame` equals a naive full recomputation.
void expect_checksum_valid(const Bytes& frame, bool v6) {
  const size_t udp = ntp_at(v6) - 8;
  Bytes copy = frame;
  patch_ntp_timestamp(copy, v6, 0, 40, core::load_be64(&frame[ntp_at(v6) + 40]));
  EXPECT_EQ(frame[udp + 6], copy[udp + 6]);
  EXPECT_EQ(frame[udp + 7], copy[udp + 7]);
}

TEST(FrameAuth, ValidMacGetsAnAnswerSignedWithTheSameKey) {
  Rig r;
  for (bool v6 : {false, true}) {
    for (uint32_t id : {1u, 2u, 3u}) {
      const Bytes req = r.request(v6, 0, 0, 0x1234'5678'9abc'def0ull, id);
      const auto a = r.handle(req, core::NtpTimestamp{0xeeab'a4cc'1000'0000ull}, nullptr);
      ASSERT_EQ(a.v.action, FrameAction::kSendNtp) << id;
      ASSERT_TRUE(a.stamped);
      const auth::Key* k = r.policy.keys.find(id);
      const size_t ntp = ntp_at(v6);
      ASSERT_EQ(a.frame.size(), ntp + 48 + k->mac_size()) << "an answer as long as its request";
      EXPECT_EQ(a.frame.size(), req.size());
      EXPECT_EQ(core::load_be64(&a.frame[ntp + 40]), kXmt.raw);
      EXPECT_EQ(core::load_be64(&a.frame[ntp + 24]), 0x1234'5678'9abc'def0ull);
      const auth::MacCheck check =
          r.mac.verify(std::span<const uint8_t>(&a.frame[ntp], 48 + k->mac_size()), 48, k->mac_size(), r.policy.keys);
      EXPECT_EQ(check.status, auth::MacStatus::kValid) << "key " << id;
      expect_checksum_valid(a.frame, v6);
    }
  }
  EXPECT_EQ(r.c.auth_signed.load(), 6u);
}

TEST(FrameAuth, WrongMacOrUnknownKeyGetsACryptoNak) {
  Rig r;
  for (const auto& [id, corrupt] : {std::pair{1u, true}, std::pair{3u, true}, std::pair{9u, false}}) {
    const Bytes req = r.request(false, 0, 0, 42, id, corrupt);
    const auto a = r.handle(req, core::NtpTimestamp{0xeeab'a4cc'1000'0000ull}, nullptr);
    ASSERT_EQ(a.v.action, FrameAction::kSendNtp);
    const size_t ntp = ntp_at(false);
    ASSERT_EQ(a.frame.size(), ntp + 52);
    EXPECT_EQ(core::load_be32(&a.frame[ntp + 48]), 0u) << "key id 0: a crypto-NAK";
    expect_checksum_valid(a.frame, false);
  }
  EXPECT_EQ(r.c.auth_crypto_naks.load(), 3u);
}

TEST(FrameAuth, RequireDropsWhatIsNotAuthenticatedOnBothPaths) {
  Rig r;
  r.policy.required = true;
  for (bool general : {false, true}) {
    const auto none = r.handle(r.request(false, 0, 0, 42), core::NtpTimestamp{1}, nullptr, general);
    EXPECT_EQ(none.v.reason, core::DropReason::kAuthRequired);
    const auto bad = r.handle(r.request(false, 0, 0, 42, 2, true), core::NtpTimestamp{1}, nullptr, general);
    EXPECT_EQ(bad.v.reason, core::DropReason::kAuthFailed);
    const auto good = r.handle(r.request(false, 0, 0, 42, 2), core::NtpTimestamp{1}, nullptr, general);
    EXPECT_EQ(good.v.action, FrameAction::kSendNtp);
  }
}

TEST(FrameAuth, SigningCostMovesNothingButTheTransmitTimestampTheWorkerChose) {
  // stamp_ntp_frame() signs after writing the transmit timestamp: the MAC
  // covers the timestamp the client reads.
  Rig r;
  const auto a = r.handle(r.request(false, 0, 0, 42, 1), core::NtpTimestamp{5}, nullptr);
  Bytes tampered = a.frame;
  tampered[ntp_at(false) + 47] ^= 1;
  const auth::MacCheck check =
      r.mac.verify(std::span<const uint8_t>(&tampered[ntp_at(false)], 68), 48, 20, r.policy.keys);
  EXPECT_EQ(check.status, auth::MacStatus::kBadMac);
}

// chronyd's interleaved exchange (tests/data/chronyd-xleave.pcap):
// request 1 basic; request 2 carries origin = answer 1's receive
// timestamp and random receive/transmit fields; answer 2 has origin =
// request 2's receive field and transmit = answer 1's precise transmit.
// Answer 1 is not remembered (a basic request, as nearly every client
// sends), so, as with chronyd's server, answer 2 is basic and answer 3 is
// the first interleaved one.
class Interleave : public ::testing::TestWithParam<bool> {};  // general path only, or handle_frame()

TEST_P(Interleave, ThirdAnswerGetsThePreciseTransmitTimestampOfTheSecond) {
  Rig r;
  core::InterleaveTable table(1024);
  for (bool v6 : {false, true}) {
    const size_t ntp = ntp_at(v6);
    const core::NtpTimestamp rx1 = table.mark_unique(core::NtpTimestamp{0xeeab'a4cc'1000'0000ull});
    const auto a1 = r.handle(r.request(v6, 0, 0, 0x1111'2222'3333'4444ull), rx1, &table, GetParam());
    ASSERT_EQ(a1.v.action, FrameAction::kSendNtp);
    EXPECT_FALSE(a1.v.transmit_written);
    EXPECT_FALSE(a1.v.remember) << "a basic request's answer costs no record";
    EXPECT_EQ(core::load_be64(&a1.frame[ntp + 32]), rx1.raw) << "the marked receive timestamp goes out";

    // The client starts interleaved mode: a basic answer, remembered, and
    // no miss counted.
    const core::NtpTimestamp rx2 = table.mark_unique(core::NtpTimestamp{0xeeab'a4cc'1100'0000ull});
    const auto a2 = r.handle(r.request(v6, rx1.raw, 0x7777'0000'0000'0000ull, 0x5555'0000'0000'0000ull), rx2,
                             &table, GetParam());
    ASSERT_EQ(a2.v.action, FrameAction::kSendNtp);
    EXPECT_FALSE(a2.v.transmit_written);
    EXPECT_TRUE(a2.v.remember);
    const core::NtpTimestamp key2 = core::InterleaveTable::as_remembered(rx2);
    EXPECT_EQ(core::load_be64(&a2.frame[ntp + 32]), key2.raw) << "the receive field says it was remembered";
    EXPECT_EQ(core::load_be64(&a2.frame[ntp + 24]), 0x5555'0000'0000'0000ull) << "basic: origin = transmit";
    expect_checksum_valid(a2.frame, v6);
    const core::NtpTimestamp precise2{kXmt.raw + 0x1000};
    table.remember(key2, precise2);  // what the worker does after tx_burst

    const core::NtpTimestamp rx3 = table.mark_unique(core::NtpTimestamp{0xeeab'a4cc'1200'0000ull});
    const uint64_t client_rx_field = 0x9999'8888'7777'6666ull;
    const auto a3 = r.handle(r.request(v6, key2.raw, client_rx_field, 0x5555'4444'3333'2222ull), rx3, &table,
                             GetParam());
    ASSERT_EQ(a3.v.action, FrameAction::kSendNtp);
    EXPECT_TRUE(a3.v.transmit_written);
    EXPECT_TRUE(a3.v.remember);
    EXPECT_EQ(core::load_be64(&a3.frame[ntp + 24]), client_rx_field) << "origin = the request's receive field";
    EXPECT_EQ(core::load_be64(&a3.frame[ntp + 32]), core::InterleaveTable::as_remembered(rx3).raw);
    EXPECT_EQ(core::load_be64(&a3.frame[ntp + 40]), precise2.raw) << "transmit = the previous answer's precise one";
    expect_checksum_valid(a3.frame, v6);

    // The same origin again (a replay): the entry was handed out once, so
    // this one is a miss.
    const auto a4 = r.handle(r.request(v6, key2.raw, client_rx_field, 0x5555'4444'3333'2223ull),
                             table.mark_unique(rx3), &table, GetParam());
    ASSERT_EQ(a4.v.action, FrameAction::kSendNtp);
    EXPECT_FALSE(a4.v.transmit_written);
    EXPECT_EQ(core::load_be64(&a4.frame[ntp + 24]), 0x5555'4444'3333'2223ull) << "basic: origin = transmit";
    EXPECT_EQ(core::load_be64(&a4.frame[ntp + 40]), kXmt.raw);
    expect_checksum_valid(a4.frame, v6);
  }
  EXPECT_EQ(r.c.interleaved.load(), 2u);
  EXPECT_EQ(r.c.interleaved_misses.load(), 2u);
}

TEST_P(Interleave, BasicLookingRequestsAreNeverInterleaved) {
  Rig r;
  core::InterleaveTable table(1024);
  const core::NtpTimestamp rx1 =
      core::InterleaveTable::as_remembered(table.mark_unique(core::NtpTimestamp{0xeeab'a4cc'1000'0000ull}));
  table.remember(rx1, kXmt);
  // Receive field == transmit field: basic (the draft's test).
  const auto a = r.handle(r.request(false, rx1.raw, 77, 77), table.mark_unique(rx1), &table, GetParam());
  EXPECT_FALSE(a.v.transmit_written);
  EXPECT_FALSE(a.v.remember);
  EXPECT_EQ(r.c.interleaved.load(), 0u);
  // An unmarked origin (e.g. our own transmit timestamp, echoed by ntpd):
  // not even looked up.
  const auto b = r.handle(r.request(false, rx1.raw & ~1ull, 1, 2), table.mark_unique(rx1), &table, GetParam());
  EXPECT_FALSE(b.v.transmit_written);
  EXPECT_FALSE(b.v.remember);
  EXPECT_EQ(r.c.interleaved_misses.load(), 0u);
  // The entry is still there for the real interleaved request.
  const auto c = r.handle(r.request(false, rx1.raw, 1, 2), table.mark_unique(rx1), &table, GetParam());
  EXPECT_TRUE(c.v.transmit_written);
}

TEST_P(Interleave, SignedInterleavedAnswerCoversThePreviousTransmitTimestamp) {
  Rig r;
  core::InterleaveTable table(64);
  const core::NtpTimestamp rx1 =
      core::InterleaveTable::as_remembered(table.mark_unique(core::NtpTimestamp{0xeeab'a4cc'1000'0000ull}));
  const core::NtpTimestamp precise{0xeeab'a4cc'1000'8000ull};
  table.remember(rx1, precise);
  const auto a = r.handle(r.request(false, rx1.raw, 3, 4, 3), table.mark_unique(rx1), &table, GetParam());
  ASSERT_TRUE(a.stamped);
  const size_t ntp = ntp_at(false);
  EXPECT_EQ(core::load_be64(&a.frame[ntp + 40]), precise.raw);
  EXPECT_EQ(r.mac.verify(std::span<const uint8_t>(&a.frame[ntp], 68), 48, 20, r.policy.keys).status,
            auth::MacStatus::kValid);
  expect_checksum_valid(a.frame, false);
}

INSTANTIATE_TEST_SUITE_P(Paths, Interleave, ::testing::Bool());

}  // namespace
}  // namespace tachyon::dp
