// What the server does with a request, given what its authentication
// turned out to be (docs/authentication.md has the table and its sources).
//
// Pure functions of two values: the dataplane asks MacEngine::check_request()
// (mac_engine.h) what the request carries, then decide() what to send. All
// constexpr/noexcept, no state.
//
//   request                           require = false       require = true
//   no MAC                            answer                drop (auth_required)
//   MAC verified with a known key     answer signed with that key
//   unknown key id, or wrong MAC      crypto-NAK answer     drop (auth_failed)
//   crypto-NAK (4-byte MAC)           drop (auth_failed)
//   MS-SNTP (Windows domain)          drop (auth_failed): needs Samba's ntp_signd
//   malformed trailer                 drop (ntp_bad_trailer)
//
// The crypto-NAK is RFC 5905's (appendix A.5.1.1, receive(), case FXMIT:
// "If authentication succeeds, return a server mode packet; if not and the
// key ID is nonzero, return a crypto-NAK", as ntpd does). It is a full
// answer, time included, with a 4-byte zero MAC, so it is only sent when an
// unauthenticated request would have got that time anyway; with
// require = true a failed request gets nothing, as chrony and NTPsec do for
// every failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "auth/keys.h"
#include "core/drop_reason.h"
#include "core/ntp_packet.h"

namespace tachyon::auth {

// What a request carries after its header and extension fields.
enum class RequestAuth : uint8_t {
  kNone,        // no MAC
  kValid,       // a MAC that verifies with a known key
  kUnknownKey,  // a MAC whose key id is not in the key store
  kBadMac,      // a MAC that does not verify (wrong digest, or a length the key's algorithm does not make)
  kCryptoNak,   // a 4-byte MAC (crypto-NAK): nothing to authenticate
  kMsSntp,      // NTPv3 with a key id (the client's RID) and a zero digest: Microsoft's MS-SNTP
  kMalformed,   // extension fields or MAC that do not parse (core::parse_trailer())
};

const char* request_auth_name(RequestAuth r) noexcept;

enum class AuthAction : uint8_t {
  kAnswer,           // answer as usual, no MAC
  kAnswerSigned,     // answer, then append key id + MAC with the request's key
  kAnswerCryptoNak,  // answer, then append a crypto-NAK (4 zero bytes)
  kDrop,             // no answer; count `reason`
};

struct AuthDecision {
  AuthAction action = AuthAction::kDrop;
  core::DropReason reason = core::DropReason::kAuthFailed;  // for kDrop
};

constexpr AuthDecision decide(RequestAuth r, bool require) noexcept {
  using core::DropReason;
  switch (r) {
    case RequestAuth::kNone:
      return require ? AuthDecision{AuthAction::kDrop, DropReason::kAuthRequired} : AuthDecision{AuthAction::kAnswer, {}};
    case RequestAuth::kValid:
      return {AuthAction::kAnswerSigned, {}};
    case RequestAuth::kUnknownKey:
    case RequestAuth::kBadMac:
      return require ? AuthDecision{AuthAction::kDrop, DropReason::kAuthFailed}
                     : AuthDecision{AuthAction::kAnswerCryptoNak, {}};
    case RequestAuth::kCryptoNak:
    case RequestAuth::kMsSntp:
      return {AuthAction::kDrop, DropReason::kAuthFailed};
    case RequestAuth::kMalformed:
      return {AuthAction::kDrop, DropReason::kNtpBadTrailer};
  }
  return {AuthAction::kDrop, DropReason::kAuthFailed};
}

inline constexpr size_t kCryptoNakSize = core::kCryptoNakSize;  // 4

// Bytes the answer's MAC adds after the 48-byte header: 0, 4 (crypto-NAK),
// or key->mac_size() (20 or 24). Never more than the request's own MAC, so
// an answer is never longer than its request. REQUIRES: key != null for
// kAnswerSigned.
constexpr size_t answer_mac_size(AuthAction a, const Key* key) noexcept {
  switch (a) {
    case AuthAction::kAnswerSigned: return key->mac_size();
    case AuthAction::kAnswerCryptoNak: return kCryptoNakSize;
    case AuthAction::kAnswer:
    case AuthAction::kDrop: break;
  }
  return 0;
}

// Writes a crypto-NAK (key id 0, RFC 5905 section 7.3) at `out`; returns
// its size, or 0 if `out` is too small.
inline size_t write_crypto_nak(std::span<uint8_t> out) noexcept {
  if (out.size() < kCryptoNakSize) return 0;
  core::store_be32(out.data(), kCryptoNakKeyId);
  return kCryptoNakSize;
}

// What workers authenticate with: the keys, and whether a request must
// carry a valid MAC. Immutable once built; replaced as a whole on reload.
struct AuthPolicy {
  KeyStore keys;
  bool required = false;
};

}  // namespace tachyon::auth
