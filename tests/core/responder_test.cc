#include "core/responder.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

namespace tachyon::core {
namespace {

ServerState synced_state() {
  ServerState s;
  s.synchronized = true;
  s.leap = Leap::kNone;
  s.stratum = 2;
  s.precision = -24;
  s.refid = 0xc0000263;
  s.root_delay = NtpShort{0x0000'0123};
  s.root_dispersion = NtpShort{0x0000'0456};
  s.reference_time = NtpTimestamp{0xeeab'a4c5'ec0b'98cbull};
  return s;
}

std::vector<uint8_t> request(uint8_t version, Mode mode, uint64_t xmt = 0x0102030405060708ull,
                             int8_t poll = 6) {
  NtpHeader h;
  h.leap = Leap::kUnsync;
  h.version = version;
  h.mode = mode;
  h.poll = poll;
  h.precision = -20;
  h.origin = NtpTimestamp{0xdeadbeef};
  h.receive = NtpTimestamp{0xfeedface};
  h.transmit = NtpTimestamp{xmt};
  std::vector<uint8_t> p(kNtpHeaderSize);
  encode_header(h, p);
  return p;
}

constexpr NtpTimestamp kRx{0xeeab'a4cc'c6b9'523full};

Verdict answer(const std::vector<uint8_t>& req, std::vector<uint8_t>& out, const ServerState& s = synced_state(),
               uint16_t client_port = 40000) {
  out.assign(kNtpHeaderSize, 0xee);
  return respond(Request{req, kRx, client_port}, AnswerTemplate(s), out);
}

TEST(Responder, ClientRequestGetsServerAnswerWithEveryField) {
  const auto req = request(4, Mode::kClient, 0xaabbccdd11223344ull, 10);
  std::vector<uint8_t> out;
  const Verdict v = answer(req, out);
  ASSERT_EQ(v.action, Action::kReply);
  EXPECT_EQ(v.length, kNtpHeaderSize);
  EXPECT_EQ(v.mode, 3);
  EXPECT_EQ(v.version, 4);
  const NtpHeader h = decode_header(out);
  const ServerState s = synced_state();
  EXPECT_EQ(h.leap, Leap::kNone);
  EXPECT_EQ(h.version, 4);
  EXPECT_EQ(h.mode, Mode::kServer);
  EXPECT_EQ(h.stratum, 2);
  EXPECT_EQ(h.poll, 10);
  EXPECT_EQ(h.precision, -24);
  EXPECT_EQ(h.root_delay, s.root_delay);
  EXPECT_EQ(h.root_dispersion, s.root_dispersion);
  EXPECT_EQ(h.refid, s.refid);
  EXPECT_EQ(h.reference, s.reference_time);
  EXPECT_EQ(h.origin.raw, 0xaabbccdd11223344ull);
  EXPECT_EQ(h.receive, kRx);
  EXPECT_EQ(h.transmit.raw, 0u);  // left for stamp_transmit()

  const NtpTimestamp tx{kRx.raw + 1000};
  stamp_transmit(out.data(), tx);
  EXPECT_EQ(decode_header(out).transmit, tx);
}

TEST(Responder, VersionsOneToFourAreAnsweredAndEchoed) {
  for (uint8_t v = 1; v <= 4; ++v) {
    std::vector<uint8_t> out;
    const Verdict verdict = answer(request(v, Mode::kClient), out);
    ASSERT_EQ(verdict.action, Action::kReply) << int{v};
    EXPECT_EQ(decode_header(out).version, v);
    EXPECT_EQ(decode_header(out).mode, Mode::kServer);
  }
}

TEST(Responder, VersionZeroAndAboveFourAreDropped) {
  for (uint8_t v : {0, 5, 6, 7}) {
    std::vector<uint8_t> out;
    const Verdict verdict = answer(request(v, Mode::kClient), out);
    EXPECT_EQ(verdict.action, Action::kDrop);
    EXPECT_EQ(verdict.reason, DropReason::kNtpBadVersion);
  }
}

TEST(Responder, SymmetricActiveGetsSymmetricPassive) {
  // A Windows w32time host that is itself a server sends NTPv3 mode 1.
  for (uint8_t v = 1; v <= 4; ++v) {
    std::vector<uint8_t> out;
    const Verdict verdict = answer(request(v, Mode::kSymmetricActive, 0x1234), out);
    ASSERT_EQ(verdict.action, Action::kReply);
    const NtpHeader h = decode_header(out);
    EXPECT_EQ(h.mode, Mode::kSymmetricPassive);
    EXPECT_EQ(h.version, v);
    EXPECT_EQ(h.origin.raw, 0x1234u);
  }
}

TEST(Responder, ModesThatAreNotRequestsAreDroppedByReason) {
  const std::pair<Mode, DropReason> cases[] = {
      {Mode::kReserved, DropReason::kNtpModeReserved},
      {Mode::kSymmetricPassive, DropReason::kNtpModeSymPassive},
      {Mode::kServer, DropReason::kNtpModeServer},
      {Mode::kBroadcast, DropReason::kNtpModeBroadcast},
      {Mode::kPrivate, DropReason::kNtpModePrivate},
  };
  for (const auto& [mode, reason] : cases) {
    for (uint8_t v = 1; v <= 4; ++v) {
      if (mode == Mode::kReserved && v == 1) continue;  // NTPv1 client, below
      std::vector<uint8_t> out;
      const Verdict verdict = answer(request(v, mode), out);
      EXPECT_EQ(verdict.action, Action::kDrop);
      EXPECT_EQ(verdict.reason, reason);
      EXPECT_EQ(verdict.mode, static_cast<uint8_t>(mode));
    }
  }
}

TEST(Responder, Ntpv1ClientIsToldApartFromPeerByPort) {
  std::vector<uint8_t> out;
  Verdict v = answer(request(1, Mode::kReserved), out, synced_state(), 40000);
  ASSERT_EQ(v.action, Action::kReply);
  EXPECT_EQ(decode_header(out).mode, Mode::kServer);
  EXPECT_EQ(decode_header(out).version, 1);
  v = answer(request(1, Mode::kReserved), out, synced_state(), kNtpPort);
  EXPECT_EQ(v.action, Action::kDrop);
  EXPECT_EQ(v.reason, DropReason::kNtpModeReserved);
}

TEST(Responder, ControlModeIsHandedToTheControlHandler) {
  std::vector<uint8_t> out;
  const Verdict v = answer(request(2, Mode::kControl), out);
  EXPECT_EQ(v.action, Action::kControl);
  EXPECT_EQ(v.length, 0);
}

TEST(Responder, UnsynchronizedServerSaysLeapThreeStratumSixteen) {
  ServerState s = synced_state();
  s.synchronized = false;
  s.leap = Leap::kInsert;
  std::vector<uint8_t> out;
  ASSERT_EQ(answer(request(4, Mode::kClient), out, s).action, Action::kReply);
  const NtpHeader h = decode_header(out);
  EXPECT_EQ(h.leap, Leap::kUnsync);
  EXPECT_EQ(h.stratum, kStratumUnsynchronized);
}

TEST(Responder, LeapWarningIsAnnouncedWhileSynchronized) {
  ServerState s = synced_state();
  s.leap = Leap::kDelete;
  std::vector<uint8_t> out;
  ASSERT_EQ(answer(request(4, Mode::kClient), out, s).action, Action::kReply);
  EXPECT_EQ(decode_header(out).leap, Leap::kDelete);
}

TEST(Responder, TruncatedRequestsAreDropped) {
  for (size_t n = 0; n < kNtpHeaderSize; ++n) {
    std::vector<uint8_t> req(n, 0x23);
    std::vector<uint8_t> out(kNtpHeaderSize);
    const Verdict v = respond(Request{req, kRx, 1000}, AnswerTemplate(synced_state()), out);
    EXPECT_EQ(v.action, Action::kDrop);
    EXPECT_EQ(v.reason, DropReason::kNtpTruncated);
  }
}

TEST(Responder, AnswersInPlace) {
  auto buf = request(3, Mode::kClient, 0x99887766);
  const Verdict v = respond(Request{buf, kRx, 1000}, AnswerTemplate(synced_state()), buf);
  ASSERT_EQ(v.action, Action::kReply);
  const NtpHeader h = decode_header(buf);
  EXPECT_EQ(h.mode, Mode::kServer);
  EXPECT_EQ(h.version, 3);
  EXPECT_EQ(h.origin.raw, 0x99887766u);
  EXPECT_EQ(h.receive, kRx);
}

TEST(Responder, ExtensionFieldsAndMacsAreAcceptedAnswerIsHeaderOnly) {
  auto req = request(4, Mode::kClient);
  std::vector<uint8_t> ef(28, 0);
  ef[0] = 0x09, ef[1] = 0x99, ef[3] = 28;  // unknown type: ignored
  req.insert(req.end(), ef.begin(), ef.end());
  req.insert(req.end(), kSha1MacSize, 0x11);
  std::vector<uint8_t> out(req.size());
  const Verdict v = respond(Request{req, kRx, 1000}, AnswerTemplate(synced_state()), out);
  ASSERT_EQ(v.action, Action::kReply);
  EXPECT_EQ(v.length, kNtpHeaderSize);
}

TEST(Responder, MalformedTrailerIsDropped) {
  auto req = request(4, Mode::kClient);
  req.insert(req.end(), 7, 0);
  std::vector<uint8_t> out(req.size());
  const Verdict v = respond(Request{req, kRx, 1000}, AnswerTemplate(synced_state()), out);
  EXPECT_EQ(v.action, Action::kDrop);
  EXPECT_EQ(v.reason, DropReason::kNtpBadTrailer);
}

TEST(Responder, AnswerIsNeverLongerThanRequest) {
  // Property: for any input, a reply fits in the request's own length.
  std::mt19937_64 rng(99);
  std::vector<uint8_t> out(2048);
  for (int i = 0; i < 300000; ++i) {
    std::vector<uint8_t> req(rng() % 120);
    for (auto& b : req) b = static_cast<uint8_t>(rng());
    if (!req.empty() && (rng() & 1)) req[0] = static_cast<uint8_t>((req[0] & 0xc0) | 0x23);
    const Verdict v = respond(Request{req, kRx, static_cast<uint16_t>(rng())}, AnswerTemplate(synced_state()), out);
    if (v.action == Action::kReply || v.action == Action::kReplyKod) {
      ASSERT_LE(v.length, req.size());
    }
  }
}

TEST(Responder, KissOfDeathCarriesCodeAndGivesNoTime) {
  const auto req = request(4, Mode::kClient, 0x5555666677778888ull, 4);
  for (KissCode code : {KissCode::kRate, KissCode::kDeny, KissCode::kRstr}) {
    std::vector<uint8_t> out(kNtpHeaderSize);
    const Verdict v = build_kod(req, code, 10, out);
    ASSERT_EQ(v.action, Action::kReplyKod);
    const NtpHeader h = decode_header(out);
    EXPECT_EQ(h.leap, Leap::kUnsync);
    EXPECT_EQ(h.mode, Mode::kServer);
    EXPECT_EQ(h.version, 4);
    EXPECT_EQ(h.stratum, 0);
    EXPECT_EQ(h.refid, kiss_refid(code));
    EXPECT_EQ(h.poll, 10);
    EXPECT_EQ(h.origin.raw, 0x5555666677778888ull);
    EXPECT_EQ(h.receive.raw, 0x5555666677778888ull);
    EXPECT_EQ(h.transmit.raw, 0x5555666677778888ull);
  }
  std::vector<uint8_t> out(kNtpHeaderSize);
  build_kod(request(3, Mode::kSymmetricActive, 1, 12), KissCode::kRate, 6, out);
  EXPECT_EQ(decode_header(out).mode, Mode::kSymmetricPassive);
  EXPECT_EQ(decode_header(out).poll, 12);  // the larger of the two
  EXPECT_EQ(kiss_refid(KissCode::kRate), 0x52415445u);
}

TEST(Responder, CountsAnswersByModeVersionAndDropsByReason) {
  NtpCounters c;
  std::vector<uint8_t> out;
  count(c, answer(request(4, Mode::kClient), out));
  count(c, answer(request(3, Mode::kSymmetricActive), out));
  count(c, answer(request(4, Mode::kPrivate), out));
  count(c, answer(request(7, Mode::kClient), out));
  EXPECT_EQ(c.replies[3][4].load(), 1u);
  EXPECT_EQ(c.replies[1][3].load(), 1u);
  EXPECT_EQ(c.drops[static_cast<size_t>(DropReason::kNtpModePrivate)].load(), 1u);
  EXPECT_EQ(c.drops[static_cast<size_t>(DropReason::kNtpBadVersion)].load(), 1u);
}

TEST(DropReason, EveryReasonHasADistinctName) {
  std::set<std::string> names;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    const std::string n = drop_reason_name(static_cast<DropReason>(i));
    EXPECT_TRUE(names.insert(n).second) << n;
    EXPECT_STRNE(drop_reason_help(static_cast<DropReason>(i)), "unknown");
  }
}

}  // namespace
}  // namespace tachyon::core
