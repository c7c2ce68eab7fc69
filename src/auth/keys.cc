#include "auth/keys.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <utility>

namespace tachyon::auth {
namespace {

uint64_t next_serial() noexcept {
  static std::atomic<uint64_t> serial{0};
  return serial.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace

const char* algorithm_name(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::kMd5: return "MD5";
    case Algorithm::kSha1: return "SHA1";
    case Algorithm::kAes128Cmac: return "AES128CMAC";
  }
  return "?";
}

void wipe(Key& key) noexcept { OPENSSL_cleanse(key.bytes.data(), key.bytes.size()); }

KeyStore::KeyStore() noexcept : serial_(next_serial()) {}

KeyStore::KeyStore(std::vector<Key> keys) : keys_(std::move(keys)), serial_(next_serial()) {
  // Sorting swaps elements in place: no copy of a secret outlives the
  // buffer except std::swap's temporary, which is a stack slot reused at once.
  std::sort(keys_.begin(), keys_.end(), [](const Key& a, const Key& b) { return a.id < b.id; });
}

KeyStore::KeyStore(KeyStore&& other) noexcept : keys_(std::move(other.keys_)), serial_(other.serial_) {
  other.keys_.clear();
  other.serial_ = next_serial();
}

KeyStore& KeyStore::operator=(KeyStore&& other) noexcept {
  if (this != &other) {
    wipe_all();
    keys_ = std::move(other.keys_);
    serial_ = other.serial_;
    other.keys_.clear();
    other.serial_ = next_serial();
  }
  return *this;
}

KeyStore::~KeyStore() { wipe_all(); }

void KeyStore::wipe_all() noexcept {
  for (Key& k : keys_) wipe(k);
}

const Key* KeyStore::find(uint32_t id) const noexcept {
  const auto it = std::lower_bound(keys_.begin(), keys_.end(), id,
                                   [](const Key& k, uint32_t v) { return k.id < v; });
  return it != keys_.end() && it->id == id ? &*it : nullptr;
}

size_t KeyStore::count(Algorithm a) const noexcept {
  return static_cast<size_t>(std::count_if(keys_.begin(), keys_.end(), [a](const Key& k) { return k.algorithm == a; }));
}

}  // namespace tachyon::auth
