// Matching answers to requests: the origin codec is a bijection that looks
// random, and the flight table tells answered, late, duplicate and unknown
// requests apart.
#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <set>

#include "tools/gen/flight_table.h"

namespace tachyon::gen {
namespace {

TEST(OriginCodec, DecodeUndoesEncode) {
  std::mt19937_64 rng(7);
  for (uint64_t key : {uint64_t{0}, uint64_t{1}, rng(), rng()}) {
    const OriginCodec codec(key);
    for (uint64_t s : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}, make_sequence(3, 12345), make_sequence(255, kCounterMask)}) {
      EXPECT_EQ(codec.decode(codec.encode(s)), s);
    }
    for (int i = 0; i < 100000; ++i) {
      const uint64_t s = rng();
      ASSERT_EQ(codec.decode(codec.encode(s)), s);
      ASSERT_EQ(codec.encode(codec.decode(s)), s);
    }
  }
}

TEST(OriginCodec, ConsecutiveSequenceNumbersLookRandom) {
  // RFC 9109 section 3: the transmit timestamp a client sends should be
  // unpredictable. Neighbouring sequence numbers differ in about half of
  // the 64 bits, and the top (seconds) bits are spread out.
  const OriginCodec codec(0x1234'5678'9abc'def0ull);
  double flipped = 0;
  std::set<uint64_t> top_bytes;
  constexpr int kN = 10000;
  for (uint64_t s = 0; s < kN; ++s) {
    flipped += std::popcount(codec.encode(s) ^ codec.encode(s + 1));
    top_bytes.insert(codec.encode(s) >> 56);
  }
  EXPECT_NEAR(flipped / kN, 32.0, 1.0);
  EXPECT_EQ(top_bytes.size(), 256u);
}

TEST(OriginCodec, KeysGiveDifferentSequences) {
  EXPECT_NE(OriginCodec(1).encode(0), OriginCodec(2).encode(0));
}

TEST(Sequence, CarriesTheWorkerInTheTopBits) {
  const uint64_t s = make_sequence(5, 987654321);
  EXPECT_EQ(worker_of(s), 5u);
  EXPECT_EQ(counter_of(s), 987654321u);
  EXPECT_EQ(worker_of(make_sequence(255, kCounterMask)), 255u);
  EXPECT_EQ(counter_of(make_sequence(255, kCounterMask)), kCounterMask);
}

TEST(InterleavedStamps, BothFieldsLeadBackToTheRequestAndTellWhichWasEchoed) {
  const OriginCodec codec(0x0123'4567'89ab'cdefull);
  for (uint64_t s : {make_sequence(0, 0), make_sequence(0, 1), make_sequence(63, kCounterMask), make_sequence(7, 99)}) {
    const uint64_t rec = receive_field_stamp(codec, s);
    const uint64_t xmt = transmit_field_stamp(codec, s);
    EXPECT_NE(rec, xmt);  // the draft: a request asking for interleaved mode has them differ
    EXPECT_EQ(xmt, codec.encode(s));  // basic mode's stamp: the same answers match the same way
    // A basic answer echoes the transmit field, an interleaved one the receive field.
    EXPECT_FALSE(is_receive_field(codec.decode(xmt)));
    EXPECT_TRUE(is_receive_field(codec.decode(rec)));
    EXPECT_EQ(untagged(codec.decode(rec)), s);
    EXPECT_EQ(untagged(codec.decode(xmt)), s);
    // Without --interleaved, a tagged number names no worker: unknown origin.
    EXPECT_GE(worker_of(codec.decode(rec)), 128u);
  }
}

TEST(FlightTable, KeepsEachRequestsFlowInInterleavedMode) {
  FlightTable t(16, true);
  for (uint64_t c = 0; c < 20; ++c) {
    t.record_flow(c, FlowRecord{c == 3 ? 0 : 0xe000'0000'0000'0001ull + c, static_cast<uint32_t>(c % 5)});
    t.record(c, 0, c);
  }
  uint8_t tmpl = 0;
  uint64_t tsc = 0;
  ASSERT_EQ(t.match(17, 20, tmpl, tsc), Match::kOk);
  EXPECT_EQ(t.flow_of(17).flow, 2u);
  EXPECT_EQ(t.flow_of(17).origin, 0xe000'0000'0000'0001ull + 17);
  ASSERT_EQ(t.match(19, 20, tmpl, tsc), Match::kOk);
  EXPECT_EQ(t.flow_of(19).flow, 4u);
}

TEST(FlightTable, MatchesEachAnswerOnceAndReturnsItsSendTime) {
  FlightTable t(1000);
  EXPECT_EQ(t.capacity(), 1024u);
  for (uint64_t c = 0; c < 100; ++c) t.record(c, static_cast<uint8_t>(c % 7), 5000 + c);
  uint8_t tmpl = 0;
  uint64_t tsc = 0;
  // Answers out of order.
  for (uint64_t c : {uint64_t{42}, uint64_t{0}, uint64_t{99}, uint64_t{7}}) {
    ASSERT_EQ(t.match(c, 100, tmpl, tsc), Match::kOk) << c;
    EXPECT_EQ(tmpl, c % 7);
    EXPECT_EQ(tsc, 5000 + c);
  }
  EXPECT_EQ(t.match(42, 100, tmpl, tsc), Match::kDuplicate);
  EXPECT_EQ(t.match(100, 100, tmpl, tsc), Match::kUnknown);  // never sent
  EXPECT_EQ(t.match(kCounterMask, 100, tmpl, tsc), Match::kUnknown);
}

TEST(FlightTable, RequestsOlderThanTheTableAreLate) {
  FlightTable t(16);
  for (uint64_t c = 0; c < 40; ++c) t.record(c, 1, c);
  uint8_t tmpl = 0;
  uint64_t tsc = 0;
  EXPECT_EQ(t.match(3, 40, tmpl, tsc), Match::kLate);   // slot reused by 19 and 35
  EXPECT_EQ(t.match(23, 40, tmpl, tsc), Match::kLate);  // reused by 39
  EXPECT_EQ(t.match(24, 40, tmpl, tsc), Match::kOk);    // the oldest still remembered
  EXPECT_EQ(tsc, 24u);
}

}  // namespace
}  // namespace tachyon::gen
