// The answer validator: good answers pass, and each way an answer can be
// wrong (or a Kiss-o'-Death, or an unsynchronized server) is told apart.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "auth/key_file.h"
#include "core/ntp_packet.h"
#include "tests/gen/reference_mac.h"
#include "tools/gen/validator.h"

namespace tachyon::gen {
namespace {

using core::Leap;
using core::Mode;
using core::NtpTimestamp;

constexpr int64_t kSecond = 1'000'000'000;
// Our clock: the request left at T1, the answer came back 100 us later.
const NtpTimestamp kT1 = core::ntp_from_unix_nanos(1'700'000'000 * kSecond);
const NtpTimestamp kT4 = core::ntp_from_unix_nanos(1'700'000'000 * kSecond + 100'000);
constexpr uint64_t kOrigin = 0x8d3c'5a1f'0e2b'7764ull;  // the request's random transmit timestamp

NtpTimestamp at(int64_t ns_after_t1) { return core::ntp_from_unix_nanos(1'700'000'000 * kSecond + ns_after_t1); }

// A correct answer from a stratum-2 server: received 40 us after T1, sent
// 1 us later.
core::NtpHeader good_header() {
  core::NtpHeader h;
  h.leap = Leap::kNone;
  h.version = 4;
  h.mode = Mode::kServer;
  h.stratum = 2;
  h.poll = 6;
  h.precision = -24;
  h.refid = core::refid_from_ascii("GPS\0");
  h.reference = at(-16 * kSecond);
  h.origin = NtpTimestamp{kOrigin};
  h.receive = at(40'000);
  h.transmit = at(41'000);
  return h;
}

std::vector<uint8_t> encode(const core::NtpHeader& h, size_t extra = 0) {
  std::vector<uint8_t> b(48 + extra, 0);
  core::encode_header(h, b);
  return b;
}

const Expectation kV4Client{4, Mode::kServer, kOrigin};
const LocalTimes kLocal{kT1, kT4};
const ValidatorOptions kDefaults{};

AnswerCheck check(const std::vector<uint8_t>& b, const Expectation& e = kV4Client,
                  const ValidatorOptions& o = kDefaults) {
  return check_answer(b, e, kLocal, o);
}

TEST(Validator, GoodAnswerPassesWithItsTimings) {
  const AnswerCheck c = check(encode(good_header()));
  ASSERT_EQ(c.verdict, Verdict::kGood);
  EXPECT_EQ(c.processing_ns, 1000);
  EXPECT_EQ(c.xmt_offset_ns, 41'000 - 100'000);
  // Symmetric path, server 10 us behind the midpoint: ((40 - 0) + (41 - 100)) / 2.
  EXPECT_EQ(c.offset_ns, (40'000 + (41'000 - 100'000)) / 2);
}

TEST(Validator, SymmetricActiveGetsPassiveAndVersionsAreEchoed) {
  for (uint8_t v = 1; v <= 4; ++v) {
    core::NtpHeader h = good_header();
    h.version = v;
    h.mode = Mode::kSymmetricPassive;
    EXPECT_EQ(check(encode(h), Expectation{v, Mode::kSymmetricPassive, kOrigin}).verdict, Verdict::kGood);
    EXPECT_EQ(check(encode(h), Expectation{v, Mode::kServer, kOrigin}).invalid, Invalid::kMode);
  }
}

TEST(Validator, WrongOriginIsInvalid) {
  core::NtpHeader h = good_header();
  h.origin = NtpTimestamp{kOrigin ^ 1};
  const AnswerCheck c = check(encode(h));
  EXPECT_EQ(c.verdict, Verdict::kInvalid);
  EXPECT_EQ(c.invalid, Invalid::kOriginMismatch);
}

TEST(Validator, WrongModeIsInvalid) {
  for (Mode m : {Mode::kClient, Mode::kSymmetricActive, Mode::kSymmetricPassive, Mode::kBroadcast, Mode::kControl,
                 Mode::kPrivate, Mode::kReserved}) {
    core::NtpHeader h = good_header();
    h.mode = m;
    EXPECT_EQ(check(encode(h)).invalid, Invalid::kMode) << static_cast<int>(m);
  }
}

TEST(Validator, VersionNotEchoedIsInvalid) {
  core::NtpHeader h = good_header();
  h.version = 3;
  EXPECT_EQ(check(encode(h)).invalid, Invalid::kVersion);
}

TEST(Validator, TransmitBeforeReceiveIsInvalid) {
  core::NtpHeader h = good_header();
  h.transmit = at(39'999);
  const AnswerCheck c = check(encode(h));
  EXPECT_EQ(c.verdict, Verdict::kInvalid);
  EXPECT_EQ(c.invalid, Invalid::kReceiveAfterTransmit);
}

// Interleaved mode: the request (sent at T1) carried origin = the server's
// receive timestamp of the previous answer, 2 s ago; the answer's origin is
// the request's receive field, its transmit timestamp the previous
// answer's, 3 us after that.
constexpr uint64_t kReceiveField = 0x5e1f'0c3a'9b2d'4871ull;
const NtpTimestamp kPreviousReceive = at(-2 * kSecond);
const Expectation kInterleaved{4, Mode::kServer, kReceiveField, true, kPreviousReceive.raw};

core::NtpHeader interleaved_header() {
  core::NtpHeader h = good_header();
  h.origin = NtpTimestamp{kReceiveField};
  h.receive = at(40'000);
  h.transmit = at(-2 * kSecond + 3000);
  return h;
}

TEST(Validator, InterleavedAnswerPassesWithThePreviousAnswersProcessingTime) {
  const AnswerCheck c = check(encode(interleaved_header()), kInterleaved);
  ASSERT_EQ(c.verdict, Verdict::kGood);
  EXPECT_EQ(c.processing_ns, 3000);
  // T3 is not this exchange's: no offsets.
  EXPECT_EQ(c.xmt_offset_ns, 0);
  EXPECT_EQ(c.offset_ns, 0);
  // The same answer taken as basic: its transmit timestamp precedes its receive timestamp.
  EXPECT_EQ(check(encode(interleaved_header()), Expectation{4, Mode::kServer, kReceiveField}).invalid,
            Invalid::kReceiveAfterTransmit);
}

TEST(Validator, InterleavedAnswerToARequestWithoutOriginIsInvalid) {
  Expectation e = kInterleaved;
  e.previous_receive = 0;
  EXPECT_EQ(check(encode(interleaved_header()), e).invalid, Invalid::kOriginMismatch);
  core::NtpHeader h = interleaved_header();
  h.origin = NtpTimestamp{kReceiveField ^ 1};
  EXPECT_EQ(check(encode(h), kInterleaved).invalid, Invalid::kOriginMismatch);
}

TEST(Validator, InterleavedTransmitBeforeThePreviousReceiveIsInvalid) {
  core::NtpHeader h = interleaved_header();
  h.transmit = at(-2 * kSecond - 1);
  EXPECT_EQ(check(encode(h), kInterleaved).invalid, Invalid::kReceiveAfterTransmit);
  h.transmit = NtpTimestamp{0};
  EXPECT_EQ(check(encode(h), kInterleaved).invalid, Invalid::kZeroTimestamp);
}

TEST(Validator, InterleavedTimestampsAreStillBounded) {
  ValidatorOptions o;
  o.max_offset_ns = kSecond;
  core::NtpHeader h = interleaved_header();
  // The receive timestamp 2 s after T4: no longer bounded by the transmit timestamp.
  h.receive = at(100'000 + 2 * kSecond);
  EXPECT_EQ(check(encode(h), kInterleaved, o).invalid, Invalid::kOutOfBounds);
  h.receive = at(-2 * kSecond + 10'000);  // before T1 - 1 s
  EXPECT_EQ(check(encode(h), kInterleaved, o).invalid, Invalid::kOutOfBounds);
  h = interleaved_header();
  h.transmit = at(100'000 + 2 * kSecond);  // the previous answer left 2 s after this one came back
  EXPECT_EQ(check(encode(h), kInterleaved, o).invalid, Invalid::kOutOfBounds);
  // An unsynchronized server's clock is not bounded, but its order is checked.
  h = interleaved_header();
  h.stratum = core::kStratumUnsynchronized;
  h.receive = at(100'000 + 2 * kSecond);
  EXPECT_EQ(check(encode(h), kInterleaved, o).verdict, Verdict::kUnsynchronized);
}

TEST(Validator, ZeroTimestampsAreInvalid) {
  core::NtpHeader h = good_header();
  h.receive = NtpTimestamp{0};
  EXPECT_EQ(check(encode(h)).invalid, Invalid::kZeroTimestamp);
  h = good_header();
  h.transmit = NtpTimestamp{0};
  EXPECT_EQ(check(encode(h)).invalid, Invalid::kZeroTimestamp);
}

TEST(Validator, TimestampsFarFromOurClockAreInvalid) {
  ValidatorOptions o;
  o.max_offset_ns = kSecond;
  core::NtpHeader h = good_header();
  // 2 s fast: the transmit timestamp is beyond T4 + 1 s.
  h.receive = at(2 * kSecond);
  h.transmit = at(2 * kSecond + 1000);
  EXPECT_EQ(check(encode(h), kV4Client, o).invalid, Invalid::kOutOfBounds);
  // 2 s slow: the receive timestamp is before T1 - 1 s.
  h.receive = at(-2 * kSecond);
  h.transmit = at(-2 * kSecond + 1000);
  EXPECT_EQ(check(encode(h), kV4Client, o).invalid, Invalid::kOutOfBounds);
  // 0.5 s off is within the bound, and reported as such.
  h.receive = at(kSecond / 2);
  h.transmit = at(kSecond / 2 + 1000);
  const AnswerCheck c = check(encode(h), kV4Client, o);
  ASSERT_EQ(c.verdict, Verdict::kGood);
  EXPECT_NEAR(static_cast<double>(c.offset_ns), 0.5e9 - 50'000, 1000);
  // Years off (another era of the 32-bit seconds) is caught too.
  h.receive = NtpTimestamp{good_header().receive.raw + (uint64_t{1} << 62)};
  h.transmit = NtpTimestamp{h.receive.raw + 10};
  EXPECT_EQ(check(encode(h), kV4Client, o).invalid, Invalid::kOutOfBounds);
}

TEST(Validator, LeapIndicatorThreeIsAnUnsynchronizedServer) {
  core::NtpHeader h = good_header();
  h.leap = Leap::kUnsync;
  const AnswerCheck c = check(encode(h));
  EXPECT_EQ(c.verdict, Verdict::kUnsynchronized);
  EXPECT_EQ(c.processing_ns, 1000);
  ValidatorOptions strict;
  strict.reject_unsync = true;
  EXPECT_EQ(check(encode(h), kV4Client, strict).invalid, Invalid::kUnsynchronized);
}

TEST(Validator, StratumSixteenIsAnUnsynchronizedServerWhoseClockIsNotBounded) {
  core::NtpHeader h = good_header();
  h.leap = Leap::kUnsync;
  h.stratum = 16;
  h.receive = at(-3600 * kSecond);
  h.transmit = at(-3600 * kSecond + 500);
  EXPECT_EQ(check(encode(h)).verdict, Verdict::kUnsynchronized);
  // Still structurally checked.
  h.transmit = at(-3600 * kSecond - 500);
  EXPECT_EQ(check(encode(h)).invalid, Invalid::kReceiveAfterTransmit);
}

TEST(Validator, ReservedStratumIsInvalid) {
  for (int s : {17, 100, 255}) {
    core::NtpHeader h = good_header();
    h.stratum = static_cast<uint8_t>(s);
    EXPECT_EQ(check(encode(h)).invalid, Invalid::kStratum) << s;
  }
}

TEST(Validator, StratumZeroIsAKissOfDeathByCode) {
  const std::pair<const char(*)[5], Kiss> codes[] = {
      {&"RATE", Kiss::kRate}, {&"DENY", Kiss::kDeny}, {&"RSTR", Kiss::kRstr}, {&"INIT", Kiss::kOther}};
  for (const auto& [code, kiss] : codes) {
    // As tachyond and ntpd send it: LI=3, the timestamps echo the origin.
    core::NtpHeader h = good_header();
    h.leap = Leap::kUnsync;
    h.stratum = 0;
    h.refid = core::refid_from_ascii(*code);
    h.receive = NtpTimestamp{kOrigin};
    h.transmit = NtpTimestamp{kOrigin};
    const AnswerCheck c = check(encode(h));
    EXPECT_EQ(c.verdict, Verdict::kKissOfDeath) << *code;
    EXPECT_EQ(c.kiss, kiss) << *code;
  }
}

TEST(Validator, KissOfDeathWithTheWrongOriginIsInvalid) {
  // RFC 5905 section 7.4: a kiss is believed only if it answers our request.
  core::NtpHeader h = good_header();
  h.stratum = 0;
  h.refid = core::refid_from_ascii("RATE");
  h.origin = NtpTimestamp{1};
  EXPECT_EQ(check(encode(h)).invalid, Invalid::kOriginMismatch);
}

TEST(Validator, TruncatedAndMalformedTrailersAreInvalid) {
  const std::vector<uint8_t> full = encode(good_header());
  for (size_t n = 0; n < 48; ++n) {
    EXPECT_EQ(check(std::vector<uint8_t>(full.begin(), full.begin() + static_cast<long>(n))).invalid,
              Invalid::kTruncated);
  }
  // 8 extra bytes: neither a MAC nor an extension field.
  EXPECT_EQ(check(encode(good_header(), 8)).invalid, Invalid::kBadTrailer);
  // A well-formed MAC (20 bytes) and an extension field are fine.
  EXPECT_EQ(check(encode(good_header(), 20)).verdict, Verdict::kGood);
  std::vector<uint8_t> ef = encode(good_header(), 36);
  core::store_be16(ef.data() + 48, 0x0104);
  core::store_be16(ef.data() + 50, 36);
  EXPECT_EQ(check(ef).verdict, Verdict::kGood);
  core::store_be16(ef.data() + 50, 40);  // runs past the end
  EXPECT_EQ(check(ef).invalid, Invalid::kBadTrailer);
}

TEST(Validator, CryptoNakIsCountedApart) {
  std::vector<uint8_t> b = encode(good_header(), 4);  // key id 0
  EXPECT_EQ(check(b).verdict, Verdict::kCryptoNak);
}

// --keys: an answer to a signed request must carry a MAC under the
// request's key that verifies. The answers are signed here the plain way
// (tests/gen/reference_mac.h).
class AnswerMac : public ::testing::Test {
 protected:
  void SetUp() override {
    auth::KeyFileResult file = auth::parse_key_file(testing::kTestKeys, "test.keys");
    ASSERT_TRUE(file.ok());
    keys_ = std::move(file.keys);
    auto engine = auth::MacEngine::create();
    ASSERT_TRUE(engine) << engine.message();
    engine_.emplace(std::move(engine.value()));
  }

  // The answer `h` signed with key `id` (`digest` bytes of its digest kept).
  std::vector<uint8_t> signed_answer(const core::NtpHeader& h, uint32_t id, size_t digest = 0) {
    std::vector<uint8_t> b = encode(h);
    const std::vector<uint8_t> mac = testing::reference_mac(*keys_.find(id), b.data(), b.size());
    b.insert(b.end(), mac.begin(), digest ? mac.begin() + 4 + static_cast<long>(digest) : mac.end());
    return b;
  }

  AnswerCheck check_mac(const std::vector<uint8_t>& b, uint32_t key_id) {
    return check_answer_mac(check(b), b, key_id, *engine_, keys_);
  }

  auth::KeyStore keys_;
  std::optional<auth::MacEngine> engine_;
};

TEST_F(AnswerMac, AnAnswerSignedWithTheRequestsKeyPassesWithItsTimings) {
  for (uint32_t id : {1u, 2u, 3u}) {
    const AnswerCheck c = check_mac(signed_answer(good_header(), id), id);
    ASSERT_EQ(c.verdict, Verdict::kGood) << "key " << id;
    EXPECT_EQ(c.processing_ns, 1000);
    EXPECT_EQ(c.offset_ns, (40'000 + (41'000 - 100'000)) / 2);
  }
  core::NtpHeader unsync = good_header();
  unsync.stratum = 16;
  EXPECT_EQ(check_mac(signed_answer(unsync, 2), 2).verdict, Verdict::kUnsynchronized);
}

TEST_F(AnswerMac, AnAnswerWithoutAMacIsInvalid) {
  EXPECT_EQ(check_mac(encode(good_header()), 1).invalid, Invalid::kUnsignedAnswer);
  // An extension field alone is no MAC either.
  std::vector<uint8_t> ef = encode(good_header(), 28);
  core::store_be16(ef.data() + 48, 0x0104);
  core::store_be16(ef.data() + 50, 28);
  EXPECT_EQ(check_mac(ef, 1).invalid, Invalid::kUnsignedAnswer);
}

TEST_F(AnswerMac, AWrongOrForgedMacIsInvalid) {
  // Another of our keys, correctly computed: not the request's.
  EXPECT_EQ(check_mac(signed_answer(good_header(), 2), 1).invalid, Invalid::kBadMac);
  // A key id we do not have.
  std::vector<uint8_t> b = signed_answer(good_header(), 1);
  core::store_be32(b.data() + 48, 7);
  EXPECT_EQ(check_mac(b, 7).invalid, Invalid::kBadMac);
  for (uint32_t id : {1u, 2u, 3u}) {
    const std::vector<uint8_t> good = signed_answer(good_header(), id);
    // One bit of the digest, and one of the header (the transmit timestamp).
    b = good;
    b.back() ^= 1;
    EXPECT_EQ(check_mac(b, id).invalid, Invalid::kBadMac) << "key " << id;
    b = good;
    b[47] ^= 1;
    EXPECT_EQ(check_mac(b, id).invalid, Invalid::kBadMac) << "key " << id;
  }
  // SHA1's MAC cut to 16 bytes (a 20-byte MAC, as MD5 makes).
  EXPECT_EQ(check_mac(signed_answer(good_header(), 2, 16), 2).invalid, Invalid::kBadMac);
}

TEST_F(AnswerMac, OtherVerdictsAreLeftAsTheyAre) {
  // A crypto-NAK: the server could not authenticate the request.
  EXPECT_EQ(check_mac(encode(good_header(), 4), 1).verdict, Verdict::kCryptoNak);
  core::NtpHeader kod = good_header();
  kod.stratum = 0;
  kod.refid = core::refid_from_ascii("RATE");
  EXPECT_EQ(check_mac(encode(kod), 1).verdict, Verdict::kKissOfDeath);
  core::NtpHeader wrong = good_header();
  wrong.origin = NtpTimestamp{1};
  EXPECT_EQ(check_mac(signed_answer(wrong, 1), 1).invalid, Invalid::kOriginMismatch);
}

TEST(Validator, NamesAreDistinct) {
  for (size_t i = 0; i < kInvalidCount; ++i) {
    for (size_t j = i + 1; j < kInvalidCount; ++j) {
      EXPECT_STRNE(invalid_name(static_cast<Invalid>(i)), invalid_name(static_cast<Invalid>(j)));
    }
    EXPECT_STRNE(invalid_description(static_cast<Invalid>(i)), "unknown");
  }
}

}  // namespace
}  // namespace tachyon::gen
