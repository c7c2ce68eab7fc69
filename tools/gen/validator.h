// Validation of one NTP answer against the request it answers (RFC 5905
// sections 7.3, 7.4 and 8; RFC 7822 for what follows the header).
//
// The checks, in order:
//   length >= 48 and a well-formed trailer (extension fields, MAC, NAK)
//   origin timestamp == the request's transmit timestamp
//   mode: 4 for a mode-3 request, 2 for a mode-1 request; version echoed
//   stratum 0: a Kiss-o'-Death (RATE, DENY, RSTR or another code); no time
//   stratum 17-255: invalid; LI = 3 or stratum 16: an unsynchronized server
//   receive and transmit timestamps non-zero, receive <= transmit, both
//   within max_offset of the client's clock ([T1 - bound, T4 + bound])
//
// An interleaved answer (draft-ietf-ntp-interleaved-modes: its origin is
// the request's receive field) must answer a request that asked for one
// (carried an origin), and its transmit timestamp is the server's previous
// answer's: it is checked against that answer's receive timestamp (the
// request's origin) instead of this one's, and its processing time is the
// previous answer's. Its receive timestamp is held to the bounds on both
// sides; its transmit timestamp only to the upper one.
//
// An unsynchronized server's answer is well-formed but gives no usable
// time: it is counted apart (and as invalid with reject_unsync), and its
// timestamps are not held to the bound, since such a server's clock may be
// anywhere. A 4-byte crypto-NAK trailer (RFC 5905 section 7.4: the server
// could not authenticate the request) is counted apart too.
//
// An answer to a signed request (--keys) must carry a MAC under the
// request's key that verifies: check_answer_mac(), after check_answer().
//
// check_answer() is a pure function: noexcept, allocation-free; so is
// check_answer_mac() but for the caller's MacEngine.
#pragma once

#include <cstdint>
#include <span>

#include "auth/keys.h"
#include "auth/mac_engine.h"
#include "core/ntp_packet.h"
#include "core/ntp_time.h"

namespace tachyon::gen {

enum class Verdict : uint8_t {
  kGood,            // a usable time answer
  kUnsynchronized,  // well-formed, LI=3 or stratum 16
  kKissOfDeath,     // stratum 0
  kCryptoNak,       // the server could not authenticate the request
  kInvalid,
};

// Why an answer is invalid. kUnknownOrigin, kIpChecksum and kUnsynchronized
// are decided outside check_answer() (by matching and options).
enum class Invalid : uint8_t {
  kTruncated,             // shorter than the 48-byte header
  kBadTrailer,            // malformed extension fields or MAC after the header
  kOriginMismatch,        // origin timestamp is not the request's transmit (or, interleaved, receive) timestamp
  kUnknownOrigin,         // origin matches no request this run sent
  kMode,                  // not mode 4 (or 2 for a mode-1 request)
  kVersion,               // version not echoed
  kStratum,               // stratum 17-255 (reserved)
  kZeroTimestamp,         // receive or transmit timestamp is zero
  kReceiveAfterTransmit,  // receive timestamp later than transmit timestamp
  kOutOfBounds,           // receive or transmit timestamp beyond max_offset of the client's clock
  kIpChecksum,            // IPv4 header checksum wrong
  kUnsynchronized,        // LI=3 or stratum 16, with --reject-unsync
  kUnsignedAnswer,        // a signed request's answer carries no MAC
  kBadMac,                // a signed request's answer's MAC is not the request's key's, or does not verify
  kCount_,
};
inline constexpr size_t kInvalidCount = static_cast<size_t>(Invalid::kCount_);
const char* invalid_name(Invalid i) noexcept;         // "origin_mismatch"
const char* invalid_description(Invalid i) noexcept;  // one line for humans

enum class Kiss : uint8_t { kRate, kDeny, kRstr, kOther, kCount_ };
inline constexpr size_t kKissCount = static_cast<size_t>(Kiss::kCount_);
const char* kiss_name(Kiss k) noexcept;  // "RATE", ..., "other"

struct Expectation {
  uint8_t version = 4;
  core::Mode reply_mode = core::Mode::kServer;
  uint64_t origin = 0;  // the request's transmit timestamp (interleaved: its receive timestamp)
  // The answer's origin is the request's receive field: an interleaved
  // answer, whose transmit timestamp is that of the server's previous
  // answer. `previous_receive`: the origin the request carried, the
  // server's receive timestamp of that previous answer (0: none).
  bool interleaved = false;
  uint64_t previous_receive = 0;
};

// The client's own times of the exchange, on its clock.
struct LocalTimes {
  core::NtpTimestamp sent;      // T1: the request left
  core::NtpTimestamp received;  // T4: the answer arrived
};

struct AnswerCheck {
  Verdict verdict = Verdict::kInvalid;
  Invalid invalid = Invalid::kTruncated;  // for kInvalid
  Kiss kiss = Kiss::kOther;               // for kKissOfDeath
  // For kGood and kUnsynchronized:
  int64_t processing_ns = 0;  // T3 - T2: the server's own processing time, as it states it
                              // (interleaved: of its previous answer)
  // Basic answers only (0 for interleaved ones, whose T3 is not this
  // exchange's):
  int64_t xmt_offset_ns = 0;  // T3 - T4: server transmit time against the client's receive time
  int64_t offset_ns = 0;      // ((T2 - T1) + (T3 - T4)) / 2: the NTP clock offset (RFC 5905 section 8)
};

struct ValidatorOptions {
  int64_t max_offset_ns = 1'000'000'000;
  bool reject_unsync = false;
};

AnswerCheck check_answer(std::span<const uint8_t> ntp, const Expectation& expected, const LocalTimes& local,
                         const ValidatorOptions& options) noexcept;

// For an answer to a request signed with key `key_id` that check_answer()
// found usable (kGood or kUnsynchronized; any other verdict is returned as
// it is): the answer must end in a MAC with that key id which verifies with
// `keys`, else it is invalid (kUnsignedAnswer, kBadMac).
AnswerCheck check_answer_mac(const AnswerCheck& check, std::span<const uint8_t> ntp, uint32_t key_id,
                             auth::MacEngine& engine, const auth::KeyStore& keys) noexcept;

}  // namespace tachyon::gen
