#include "auth/policy.h"

namespace tachyon::auth {

const char* request_auth_name(RequestAuth r) noexcept {
  switch (r) {
    case RequestAuth::kNone: return "none";
    case RequestAuth::kValid: return "valid";
    case RequestAuth::kUnknownKey: return "unknown_key";
    case RequestAuth::kBadMac: return "bad_mac";
    case RequestAuth::kCryptoNak: return "crypto_nak";
    case RequestAuth::kMsSntp: return "ms_sntp";
    case RequestAuth::kMalformed: return "malformed";
  }
  return "?";
}

}  // namespace tachyon::auth
