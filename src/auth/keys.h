// Symmetric keys for NTP authentication and the immutable set of them a
// server answers with.
//
// A Key is what one line of a keys file defines (key_file.h): a key id, an
// algorithm and the secret. NTP's legacy MACs (RFC 5905 section 7.3) are
// keyed digests, MD5 or SHA1 over key || packet; RFC 8573 replaces them with
// AES-128-CMAC over the packet. On the wire a MAC is the 4-byte key id
// followed by the 16-byte (MD5, AES-CMAC) or 20-byte (SHA1) digest.
//
// A KeyStore is built once on the control path, never changes afterwards
// and is replaced as a whole on reload. find() is O(log n), noexcept and
// allocation-free, and any number of workers may call it concurrently.
// Key material is wiped when the store is destroyed and never appears in a
// message or a log line.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tachyon::auth {

enum class Algorithm : uint8_t {
  kMd5,         // RFC 5905 section 7.3: MD5(key || packet), legacy
  kSha1,        // SHA1(key || packet), legacy (ntpd, NTPsec, chrony)
  kAes128Cmac,  // RFC 8573: AES-128-CMAC(key, packet), full 16 bytes
};

inline constexpr size_t kKeyIdSize = 4;
// Longest secret accepted: chrony's HEX: keys can be long, ntpd reads at
// most 32 bytes; 64 covers both and keeps a Key a fixed size.
inline constexpr size_t kMaxKeySize = 64;
inline constexpr size_t kCmacKeySize = 16;  // AES-128
inline constexpr uint32_t kCryptoNakKeyId = 0;  // never a key: marks a crypto-NAK

constexpr size_t digest_size(Algorithm a) noexcept { return a == Algorithm::kSha1 ? 20 : 16; }
// Key id + digest: 20 or 24 bytes, what core::parse_trailer() recognises.
constexpr size_t mac_size(Algorithm a) noexcept { return kKeyIdSize + digest_size(a); }

// "MD5", "SHA1", "AES128CMAC" (ntpd's spelling).
const char* algorithm_name(Algorithm a) noexcept;

struct Key {
  uint32_t id = 0;  // 1..2^32-1
  Algorithm algorithm = Algorithm::kMd5;
  uint8_t size = 0;  // bytes of `bytes` in use, 1..kMaxKeySize (16 for AES-CMAC)
  std::array<uint8_t, kMaxKeySize> bytes{};

  std::span<const uint8_t> secret() const noexcept { return {bytes.data(), size}; }
  size_t mac_size() const noexcept { return auth::mac_size(algorithm); }
};

// Wipes a key's secret in a way the compiler may not optimise away.
void wipe(Key& key) noexcept;

class KeyStore {
 public:
  // Empty: every key id is unknown.
  KeyStore() noexcept;
  // REQUIRES: ids unique and non-zero, each size valid for its algorithm
  // (key_file.h checks this). The keys are moved in and sorted by id.
  explicit KeyStore(std::vector<Key> keys);
  KeyStore(KeyStore&& other) noexcept;
  KeyStore& operator=(KeyStore&& other) noexcept;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;
  ~KeyStore();

  // The key with this id, or null. The pointer stays valid as long as the
  // store (moving the store keeps it valid too).
  const Key* find(uint32_t id) const noexcept;

  size_t size() const noexcept { return keys_.size(); }
  bool empty() const noexcept { return keys_.empty(); }
  std::span<const Key> keys() const noexcept { return keys_; }  // sorted by id
  size_t count(Algorithm a) const noexcept;

  // Unique among all stores built by this process (never 0), so a worker
  // can tell a reloaded store from the one it cached state for.
  uint64_t serial() const noexcept { return serial_; }

 private:
  void wipe_all() noexcept;

  std::vector<Key> keys_;
  uint64_t serial_;
};

}  // namespace tachyon::auth
