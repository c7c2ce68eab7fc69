// NTP MACs, computed and checked with OpenSSL 3 on the per-packet path.
//
//   MD5, SHA1    digest(key || bytes)       RFC 5905 section 7.3, ntpd, NTPsec, chrony
//   AES-CMAC     AES-128-CMAC(key, bytes)   RFC 8573 (all 16 bytes, no truncation)
//
// where `bytes` is the packet up to the MAC: the 48-byte header and any
// extension fields before it. On the wire the MAC is the 4-byte key id and
// then the digest (16 or 20 bytes).
//
// One MacEngine per worker: it owns that worker's OpenSSL contexts and is
// not thread-safe. create() allocates them (control path); after that
// verify(), sign() and check_request() are noexcept and make no heap
// allocation, no system call and take no lock (mac_engine.cc says how, on
// OpenSSL 3.0; tests/auth/hot_path_test.cc checks it). Received digests are
// compared in constant time (CRYPTO_memcmp()).
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "auth/keys.h"
#include "auth/policy.h"
#include "core/result.h"

namespace tachyon::auth {

enum class MacStatus : uint8_t {
  kValid,
  kUnknownKey,  // the key id is not in the store
  kBadMac,      // wrong digest, or a MAC length the key's algorithm does not make
};

struct MacCheck {
  MacStatus status = MacStatus::kBadMac;
  const Key* key = nullptr;  // the key that verified (kValid only)
};

// What check_request() found: the verdict for decide(), the key to sign
// the answer with, and where the request's MAC was.
struct RequestCheck {
  RequestAuth result = RequestAuth::kNone;
  const Key* key = nullptr;  // kValid: sign the answer with it
  uint32_t key_id = 0;       // as sent (every result with a MAC)
  uint16_t mac_offset = 0;   // bytes the MAC covers (every result with a MAC)
  uint16_t mac_size = 0;     // key id + digest, or 4 for a crypto-NAK
};

class MacEngine {
 public:
  // Fetches OpenSSL's MD5, SHA1 and AES-128-CMAC and creates this engine's
  // contexts. Fails (with a message) if OpenSSL lacks one, e.g. MD5 under a
  // FIPS-only configuration.
  static Result<MacEngine> create();

  MacEngine(MacEngine&& other) noexcept;
  MacEngine& operator=(MacEngine&& other) noexcept;
  MacEngine(const MacEngine&) = delete;
  MacEngine& operator=(const MacEngine&) = delete;
  ~MacEngine();

  // Checks the MAC at packet[mac_offset, mac_offset + mac_size) over
  // packet[0, mac_offset). REQUIRES: the span holds the MAC (a MAC that
  // does not fit, or is not 20 or 24 bytes, is kBadMac).
  MacCheck verify(std::span<const uint8_t> packet, size_t mac_offset, size_t mac_size,
                  const KeyStore& keys) noexcept;

  // Writes key.id and the MAC of `data` with `key` to `out`. Returns the
  // bytes written (key.mac_size(): 20 or 24), or 0 if `out` is too small
  // or OpenSSL failed (then send nothing). `out` may directly follow `data`
  // in one buffer (the answer's header, then its MAC).
  size_t sign(const Key& key, std::span<const uint8_t> data, std::span<uint8_t> out) noexcept;

  // Everything decide() needs about a request: parses what follows the
  // header (core::parse_trailer()), tells MS-SNTP and crypto-NAKs apart and
  // verifies a MAC. Call it before the answer overwrites the request.
  RequestCheck check_request(std::span<const uint8_t> request, const KeyStore& keys) noexcept;

  // Nanoseconds one sign() of a 48-byte answer took when create() measured
  // it (the median of a few runs): what a worker adds to the transmit
  // timestamp for the answers it still has to sign before they leave.
  uint32_t sign_cost_ns(Algorithm a) const noexcept { return sign_cost_ns_[static_cast<size_t>(a)]; }

  // OpenSSL calls that failed on the per-packet path (never expected; each
  // made the MAC count as bad or the answer unsent).
  uint64_t failures() const noexcept { return failures_; }

 private:
  struct Digest {
    EVP_MD* md = nullptr;  // keeps the provider (and its functions) loaded
    void* ctx = nullptr;   // the provider's own digest context
    int (*init)(void*, const OSSL_PARAM*) = nullptr;
    int (*update)(void*, const unsigned char*, size_t) = nullptr;
    int (*final)(void*, unsigned char*, size_t*, size_t) = nullptr;
    void (*freectx)(void*) = nullptr;
  };

  // One AES-128 key schedule and its CMAC subkeys. `key` is compared in
  // constant time on every use: a reloaded store may reuse an id (or an
  // address) for other bytes.
  struct CmacSlot {
    EVP_CIPHER_CTX* aes = nullptr;  // AES-128-ECB under `key`
    std::array<uint8_t, kCmacKeySize> key{};
    std::array<uint8_t, 16> k1{};
    std::array<uint8_t, 16> k2{};
    bool keyed = false;
  };
  static constexpr size_t kCmacSlots = 32;  // a burst's worth

  MacEngine() = default;
  void release() noexcept;
  // The digest of `data` under `key` into out[0, digest_size(key.algorithm)).
  bool compute(const Key& key, std::span<const uint8_t> data, uint8_t* out) noexcept;
  bool compute_digest(Digest& d, const Key& key, std::span<const uint8_t> data, uint8_t* out) noexcept;
  bool compute_cmac(const Key& key, std::span<const uint8_t> data, uint8_t* out) noexcept;
  Status check_cmac_against_openssl();
  void calibrate() noexcept;
  void forget_cmac_keys() noexcept;

  Digest md5_;
  Digest sha1_;
  EVP_CIPHER* aes_ = nullptr;
  std::array<CmacSlot, kCmacSlots> cmac_{};
  uint64_t failures_ = 0;
  std::array<uint32_t, 3> sign_cost_ns_{};
};

}  // namespace tachyon::auth
