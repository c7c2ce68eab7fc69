#include "tools/query/answer.h"

#include <gtest/gtest.h>

#include <array>

namespace tachyon::query {
namespace {

using core::Leap;
using core::Mode;
using core::NtpHeader;
using core::NtpTimestamp;
using core::ntp_from_unix_nanos;

constexpr int64_t kSec = core::kNanosPerSecond;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kUs = 1'000;
// 2036-02-07T06:28:16Z: NTP era 1 begins, the seconds field wraps to 0.
constexpr int64_t kEra1StartUnixNs = ((int64_t{1} << 32) - core::kNtpToUnixSeconds) * kSec;
constexpr int64_t kSomeTime = 1'750'000'000 * kSec;  // 2025-06-15

// The answer a well-behaved server sends to `request`, receiving at t2 and
// transmitting at t3 (Unix ns).
std::array<uint8_t, core::kNtpHeaderSize> answer_to(const Request& request, int64_t t2, int64_t t3) {
  NtpHeader h;
  h.leap = Leap::kNone;
  h.version = request.version;
  h.mode = answer_mode_for(request.mode);
  h.stratum = 2;
  h.poll = 6;
  h.precision = -20;
  h.refid = 0xC0000207;
  h.reference = ntp_from_unix_nanos(t2 - 10 * kSec);
  h.origin = request.xmt;
  h.receive = ntp_from_unix_nanos(t2);
  h.transmit = ntp_from_unix_nanos(t3);
  std::array<uint8_t, core::kNtpHeaderSize> out{};
  core::encode_header(h, out);
  return out;
}

template <typename F>
std::array<uint8_t, core::kNtpHeaderSize> edited(std::array<uint8_t, core::kNtpHeaderSize> packet, F edit) {
  NtpHeader h = core::decode_header(packet);
  edit(h);
  core::encode_header(h, packet);
  return packet;
}

Request client_request(int64_t t1) { return Request{4, Mode::kClient, ntp_from_unix_nanos(t1)}; }

// --- on-wire computation ---

TEST(OnWire, SymmetricPathGivesServerMinusClientAndRoundTrip) {
  // Server clock 3 ms ahead; 10 ms each way; 1 ms in the server.
  const int64_t t1 = kSomeTime;
  const int64_t t2 = t1 + 10 * kMs + 3 * kMs;  // server clock
  const int64_t t3 = t2 + 1 * kMs;
  const int64_t t4 = t1 + 21 * kMs;             // client clock
  const OnWire w = on_wire({ntp_from_unix_nanos(t1), ntp_from_unix_nanos(t2), ntp_from_unix_nanos(t3),
                            ntp_from_unix_nanos(t4)});
  EXPECT_NEAR(w.offset_ns, 3 * kMs, 1);
  EXPECT_NEAR(w.delay_ns, 20 * kMs, 1);
}

TEST(OnWire, ServerBehindGivesNegativeOffset) {
  const int64_t t1 = kSomeTime;
  const int64_t t2 = t1 + 50 * kUs - 250 * kUs;
  const int64_t t3 = t2 + 2 * kUs;
  const int64_t t4 = t1 + 102 * kUs;
  const OnWire w = on_wire({ntp_from_unix_nanos(t1), ntp_from_unix_nanos(t2), ntp_from_unix_nanos(t3),
                            ntp_from_unix_nanos(t4)});
  EXPECT_NEAR(w.offset_ns, -250 * kUs, 1);
  EXPECT_NEAR(w.delay_ns, 100 * kUs, 1);
}

TEST(OnWire, ExchangeAcrossThe2036EraRolloverIsComputedNormally) {
  // The request leaves in era 0 (seconds 0xffffffff), the server stamps in
  // era 1 (seconds 0): the wire seconds wrap, the differences must not.
  const int64_t t1 = kEra1StartUnixNs - 5 * kMs;
  const int64_t t2 = kEra1StartUnixNs + 2 * kMs;  // server 2 ms ahead, 5 ms path
  const int64_t t3 = t2 + 1 * kMs;
  const int64_t t4 = t1 + 11 * kMs;
  const Exchange e{ntp_from_unix_nanos(t1), ntp_from_unix_nanos(t2), ntp_from_unix_nanos(t3),
                   ntp_from_unix_nanos(t4)};
  ASSERT_EQ(e.t1.seconds(), 0xffff'ffffu);
  ASSERT_EQ(e.t2.seconds(), 0u);
  const OnWire w = on_wire(e);
  EXPECT_NEAR(w.offset_ns, 2 * kMs, 1);
  EXPECT_NEAR(w.delay_ns, 10 * kMs, 1);
}

TEST(OnWire, ServerInEraZeroClientInEraOneGivesLargeNegativeOffset) {
  // A server stuck 10 s before the rollover, a client 10 s after it.
  const int64_t client = kEra1StartUnixNs + 10 * kSec;
  const int64_t server = kEra1StartUnixNs - 10 * kSec;
  const OnWire w = on_wire({ntp_from_unix_nanos(client), ntp_from_unix_nanos(server), ntp_from_unix_nanos(server),
                            ntp_from_unix_nanos(client)});
  EXPECT_NEAR(w.offset_ns, -20 * kSec, 1);
  EXPECT_NEAR(w.delay_ns, 0, 1);
}

TEST(MakeSample, UsesTheEchoedOriginAndOurReceiveTime) {
  const int64_t t1 = kSomeTime;
  const Request r = client_request(t1);
  const auto packet = answer_to(r, t1 + 7 * kMs, t1 + 8 * kMs);  // server 2 ms ahead
  const Sample s = make_sample(packet, check_answer(packet, r), t1, t1 + 11 * kMs);
  EXPECT_EQ(s.verdict, AnswerVerdict::kOk);
  EXPECT_NEAR(s.measured.offset_ns, 2 * kMs, 1);
  EXPECT_NEAR(s.measured.delay_ns, 10 * kMs, 1);
  EXPECT_EQ(s.answer.stratum, 2);
  EXPECT_EQ(s.answer.refid, 0xC0000207u);
}

TEST(MakeSample, RootDistanceIsHalfRootDelayPlusDispersionPlusHalfDelay) {
  const int64_t t1 = kSomeTime;
  const Request r = client_request(t1);
  auto packet = edited(answer_to(r, t1 + 5 * kMs, t1 + 5 * kMs), [](NtpHeader& h) {
    h.root_delay = core::NtpShort{0x0000'0800};       // 2^-5 s = 31.25 ms
    h.root_dispersion = core::NtpShort{0x0000'0100};  // 2^-8 s = 3.90625 ms
  });
  const Sample s = make_sample(packet, AnswerVerdict::kOk, t1, t1 + 10 * kMs);
  EXPECT_NEAR(s.root_distance_ns(), 15'625'000 + 3'906'250 + 5 * kMs, 2);
}

TEST(MakeSample, KissOfDeathHasNoTime) {
  const Request r = client_request(kSomeTime);
  auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) {
    h.stratum = 0;
    h.receive = {};
    h.transmit = {};
  });
  const Sample s = make_sample(packet, check_answer(packet, r), kSomeTime, kSomeTime + kMs);
  EXPECT_EQ(s.verdict, AnswerVerdict::kKissOfDeath);
  EXPECT_FALSE(s.has_time());
  EXPECT_EQ(s.measured.offset_ns, 0);
}

// --- the request ---

TEST(Request, ClientRequestIsLi3Version4Mode3WithOurTransmitTimestamp) {
  const Request r = client_request(kSomeTime);
  std::array<uint8_t, core::kNtpHeaderSize> packet{};
  packet.fill(0xaa);
  encode_request(r, packet);
  EXPECT_EQ(packet[0], 0xe3);  // as ntpdig sends it
  const NtpHeader h = core::decode_header(packet);
  EXPECT_EQ(h.stratum, 0);
  EXPECT_EQ(h.refid, 0u);
  EXPECT_TRUE(h.origin.is_zero());
  EXPECT_TRUE(h.receive.is_zero());
  EXPECT_EQ(h.transmit, r.xmt);
}

TEST(Request, SymmetricVersion3IsMode1) {
  const Request r{3, Mode::kSymmetricActive, ntp_from_unix_nanos(kSomeTime)};
  std::array<uint8_t, core::kNtpHeaderSize> packet{};
  encode_request(r, packet);
  EXPECT_EQ(packet[0], 0xd9);  // LI 3, VN 3, mode 1
  EXPECT_EQ(answer_mode_for(Mode::kSymmetricActive), Mode::kSymmetricPassive);
  EXPECT_EQ(answer_mode_for(Mode::kClient), Mode::kServer);
}

// --- answer validation ---

TEST(CheckAnswer, GoodAnswerIsOk) {
  const Request r = client_request(kSomeTime);
  EXPECT_EQ(check_answer(answer_to(r, kSomeTime, kSomeTime), r), AnswerVerdict::kOk);
}

TEST(CheckAnswer, WrongOriginIsIgnoredAsStaleOrForged) {
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime),
                             [](NtpHeader& h) { h.origin.raw += 1; });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kBogusOrigin);
  EXPECT_TRUE(is_ignorable(AnswerVerdict::kBogusOrigin));
}

TEST(CheckAnswer, ZeroOriginIsIgnored) {
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) { h.origin = {}; });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kBogusOrigin);
}

TEST(CheckAnswer, ShortPacketIsIgnored) {
  const Request r = client_request(kSomeTime);
  const auto packet = answer_to(r, kSomeTime, kSomeTime);
  EXPECT_EQ(check_answer(std::span(packet).first(47), r), AnswerVerdict::kTooShort);
  EXPECT_TRUE(is_ignorable(AnswerVerdict::kTooShort));
}

TEST(CheckAnswer, LongerAnswerWithExtensionsIsOk) {
  const Request r = client_request(kSomeTime);
  const auto header = answer_to(r, kSomeTime, kSomeTime);
  std::array<uint8_t, 68> packet{};
  std::copy(header.begin(), header.end(), packet.begin());
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kOk);
}

TEST(CheckAnswer, ClientModeEchoedBackIsWrongMode) {
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) { h.mode = Mode::kClient; });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kWrongMode);
  EXPECT_FALSE(is_ignorable(AnswerVerdict::kWrongMode));
}

TEST(CheckAnswer, SymmetricRequestWantsMode2NotMode4) {
  const Request r{4, Mode::kSymmetricActive, ntp_from_unix_nanos(kSomeTime)};
  const auto passive = answer_to(r, kSomeTime, kSomeTime);
  EXPECT_EQ(check_answer(passive, r), AnswerVerdict::kOk);
  const auto server = edited(passive, [](NtpHeader& h) { h.mode = Mode::kServer; });
  EXPECT_EQ(check_answer(server, r), AnswerVerdict::kWrongMode);
}

TEST(CheckAnswer, VersionNotEchoedIsWrongVersion) {
  const Request r{3, Mode::kClient, ntp_from_unix_nanos(kSomeTime)};
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) { h.version = 4; });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kWrongVersion);
}

TEST(CheckAnswer, Stratum0IsKissOfDeathEvenWithLeap3AndZeroTimestamps) {
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) {
    h.leap = Leap::kUnsync;
    h.stratum = 0;
    h.refid = core::refid_from_ascii("RATE");
    h.receive = {};
    h.transmit = {};
  });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kKissOfDeath);
}

TEST(CheckAnswer, KissOfDeathWithWrongOriginIsIgnoredNotObeyed) {
  // RFC 5905 section 7.4: only a KoD that answers our request counts, or
  // anyone could silence a client with forged DENY packets.
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) {
    h.stratum = 0;
    h.refid = core::refid_from_ascii("DENY");
    h.origin.raw ^= 0x1000;
  });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kBogusOrigin);
}

TEST(CheckAnswer, Leap3IsUnsynchronized) {
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) { h.leap = Leap::kUnsync; });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kUnsynchronized);
  const Sample s = make_sample(packet, AnswerVerdict::kUnsynchronized, kSomeTime, kSomeTime + kMs);
  EXPECT_TRUE(s.has_time());  // printed, marked, and only used with --allow-unsync
}

TEST(CheckAnswer, Stratum16IsUnsynchronized) {
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) { h.stratum = 16; });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kUnsynchronized);
}

TEST(CheckAnswer, ZeroTransmitTimestampIsInvalid) {
  const Request r = client_request(kSomeTime);
  const auto packet = edited(answer_to(r, kSomeTime, kSomeTime), [](NtpHeader& h) { h.transmit = {}; });
  EXPECT_EQ(check_answer(packet, r), AnswerVerdict::kZeroTimestamp);
}

}  // namespace
}  // namespace tachyon::query
