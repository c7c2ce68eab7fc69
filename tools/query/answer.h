// One NTP exchange seen from the client side: the request tachyon-query
// sends, the checks an answer passes before it is believed, and the on-wire
// offset and delay computed from the four timestamps (RFC 5905 section 8).
//
// Pure functions over bytes and timestamps: no sockets, no clock reads; the
// caller (ntp_client) does the I/O and supplies the local send and receive
// times. Thread-compatible.
#pragma once

#include <cstdint>
#include <span>

#include "core/ntp_packet.h"
#include "core/ntp_time.h"

namespace tachyon::query {

// What a request said, to check its answer against.
struct Request {
  uint8_t version = 4;                    // 1 to 4
  core::Mode mode = core::Mode::kClient;  // kClient or kSymmetricActive
  core::NtpTimestamp xmt;                 // the answer's origin must equal it
};

// Writes the 48-byte request: LI=3 (we are not a time source), stratum 0,
// every field zero but the transmit timestamp, as ntpdig does.
// REQUIRES: out.size() >= kNtpHeaderSize.
void encode_request(const Request& request, std::span<uint8_t> out) noexcept;

// The mode an answer to `request_mode` carries: 4 (server) for 3 (client),
// 2 (symmetric passive) for 1 (symmetric active).
core::Mode answer_mode_for(core::Mode request_mode) noexcept;

enum class AnswerVerdict : uint8_t {
  kOk,
  // Not an answer to this request (stale, duplicated or forged): ignored,
  // the client keeps waiting. RFC 5905 section 8 "bogus" packet test.
  kTooShort,       // fewer than 48 bytes
  kBogusOrigin,    // origin is not our transmit timestamp
  // An answer to this request that gives no usable time.
  kWrongMode,      // not mode 4 (2 for a symmetric request)
  kWrongVersion,   // the server did not echo our version
  kKissOfDeath,    // stratum 0: a kiss code in the refid (RFC 5905 section 7.4)
  kZeroTimestamp,  // receive or transmit timestamp is zero
  kUnsynchronized, // LI=3 or stratum 16 and above: the server's clock is not synchronized
};

const char* answer_verdict_name(AnswerVerdict v) noexcept;

// True for verdicts that mean "not our answer": drop it and keep waiting.
constexpr bool is_ignorable(AnswerVerdict v) noexcept {
  return v == AnswerVerdict::kTooShort || v == AnswerVerdict::kBogusOrigin;
}

// Checks an answer received from the server's address and port, in this
// order: length, origin, mode, version, kiss-o'-death, zero timestamps,
// synchronization. The order matters: only a packet that echoes our origin
// can be believed, so a forged KoD is ignored rather than obeyed.
AnswerVerdict check_answer(std::span<const uint8_t> bytes, const Request& request) noexcept;

// The four timestamps of one exchange, with their RFC 5905 names:
// t1 = org (client transmit), t2 = rec (server receive),
// t3 = xmt (server transmit), t4 = dst (client receive).
struct Exchange {
  core::NtpTimestamp t1, t2, t3, t4;
};

// RFC 5905 section 8:
//   offset = ((t2 - t1) + (t3 - t4)) / 2     server clock minus client clock
//   delay  =  (t4 - t1) - (t3 - t2)          round trip minus server hold time
// Differences are taken on the wire format modulo 2^64, so an exchange that
// straddles an era rollover (2036-02-07) is computed correctly.
struct OnWire {
  int64_t offset_ns = 0;
  int64_t delay_ns = 0;
};
OnWire on_wire(const Exchange& e) noexcept;

// One answered request.
struct Sample {
  AnswerVerdict verdict = AnswerVerdict::kOk;  // never an ignorable one
  core::NtpHeader answer;
  int64_t t1_unix_ns = 0;  // local clock right before sending
  int64_t t4_unix_ns = 0;  // local (kernel) receive time of the answer
  OnWire measured;         // zero unless the timestamps are usable

  // True if offset and delay mean something: kOk or kUnsynchronized.
  bool has_time() const noexcept {
    return verdict == AnswerVerdict::kOk || verdict == AnswerVerdict::kUnsynchronized;
  }
  // Root distance of the offset as seen here: the server's root delay and
  // dispersion plus half our round trip (RFC 5905 section 11.2.1 without
  // the local jitter terms): how far the offset can be from true time.
  int64_t root_distance_ns() const noexcept;
};

// Decodes a checked answer and computes offset and delay against our own
// send and receive times.
// REQUIRES: !is_ignorable(verdict) (so bytes.size() >= kNtpHeaderSize).
Sample make_sample(std::span<const uint8_t> bytes, AnswerVerdict verdict, int64_t t1_unix_ns,
                   int64_t t4_unix_ns) noexcept;

}  // namespace tachyon::query
