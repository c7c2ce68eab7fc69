// NTP MACs computed the plain way, with OpenSSL's one-shot calls, to check
// tachyon-gen's signed requests and answer checks against something other
// than auth::MacEngine: key id, then MD5/SHA1(key || data) or
// AES-128-CMAC(key, data) (RFC 5905 section 7.3, RFC 8573).
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <vector>

#include "auth/keys.h"

namespace tachyon::testing {

inline std::vector<uint8_t> reference_mac(const auth::Key& key, const uint8_t* data, size_t size) {
  std::vector<uint8_t> mac = {static_cast<uint8_t>(key.id >> 24), static_cast<uint8_t>(key.id >> 16),
                              static_cast<uint8_t>(key.id >> 8), static_cast<uint8_t>(key.id)};
  uint8_t digest[EVP_MAX_MD_SIZE];
  size_t length = 0;
  if (key.algorithm == auth::Algorithm::kAes128Cmac) {
    if (EVP_Q_mac(nullptr, "CMAC", nullptr, "AES-128-CBC", nullptr, key.bytes.data(), key.size, data, size, digest,
                  sizeof digest, &length) == nullptr) {
      return {};
    }
  } else {
    std::vector<uint8_t> input(key.bytes.data(), key.bytes.data() + key.size);
    input.insert(input.end(), data, data + size);
    if (EVP_Q_digest(nullptr, key.algorithm == auth::Algorithm::kMd5 ? "MD5" : "SHA1", nullptr, input.data(),
                     input.size(), digest, &length) == 0) {
      return {};
    }
  }
  mac.insert(mac.end(), digest, digest + length);
  return mac;
}

// The keys the tests sign with: one of each algorithm.
inline constexpr const char* kTestKeys =
    "1 MD5 Tachyon_Gen_MD5\n"
    "2 SHA1 HEX:5e0a3b7c9d1f24680ace13579bdf02468ace1357\n"
    "3 AES128 HEX:00112233445566778899aabbccddeeff\n";

}  // namespace tachyon::testing
