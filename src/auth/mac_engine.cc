#include "auth/mac_engine.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "core/ntp_packet.h"

// How the per-packet calls stay free of allocations, locks and system calls
// with OpenSSL 3.0:
//  - MD5/SHA1: EVP_DigestInit_ex2() frees and re-creates the provider's
//    digest context on every call (crypto/evp/digest.c,
//    evp_md_init_internal()): one malloc per MAC, and EVP_MD_CTX_copy_ex()
//    of a pre-keyed context allocates too (dupctx). So create() takes the
//    digest's functions from its provider once, through the documented
//    provider interface (OSSL_PROVIDER_query_operation(), provider(7)),
//    creates one context per algorithm, and every MAC re-initialises it in
//    place: OpenSSL's code, minus the allocation.
//  - AES-CMAC: OpenSSL's CMAC (EVP_MAC) allocates nothing once keyed, but
//    spends most of its ~200 ns finding OSSL_PARAMs by name (EVP_MAC_final()
//    asks for the MAC size, CMAC_Init() for the IV length). RFC 4493's
//    algorithm is a few lines over one AES block at a time (EVP, ECB, AES-NI
//    where the CPU has it), about 4x faster; create() checks it against
//    EVP_MAC. Key schedules and subkeys are cached per engine in kCmacSlots
//    slots indexed by key id, so a verify + sign pair, or a burst with few
//    keys, schedules each key once; a slot is re-keyed (no allocation) when
//    another key needs it.

namespace tachyon::auth {
namespace {

bool all_zero(const uint8_t* p, size_t n) noexcept {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc |= p[i];
  return acc == 0;
}

// "MD5:SSL3-MD5:1.2.840.113549.2.5" names MD5.
bool names_include(std::string_view names, std::string_view want) noexcept {
  while (true) {
    const size_t colon = names.find(':');
    const std::string_view name = names.substr(0, colon);
    if (name.size() == want.size() &&
        std::equal(name.begin(), name.end(), want.begin(), [](char a, char b) {
          auto up = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
          return up(a) == up(b);
        })) {
      return true;
    }
    if (colon == std::string_view::npos) return false;
    names.remove_prefix(colon + 1);
  }
}

std::string openssl_missing(const char* what) {
  return std::string("OpenSSL provides no ") + what +
         " (is OpenSSL configured FIPS-only? NTP's legacy MACs need the default provider)";
}

}  // namespace

// ---------------------------------------------------------------------------
// Set-up (control path).

Result<MacEngine> MacEngine::create() {
  MacEngine e;

  // The digest's functions, as its provider hands them to EVP (provider(7),
  // OSSL_PROVIDER_query_operation(3)): newctx once here, then init/update/
  // final on that context for every MAC.
  auto load_digest = [](const char* name, Digest& d) -> Status {
    d.md = EVP_MD_fetch(nullptr, name, nullptr);
    if (d.md == nullptr) return Status::error(openssl_missing(name));
    const OSSL_PROVIDER* prov = EVP_MD_get0_provider(d.md);
    int no_store = 0;
    const OSSL_ALGORITHM* algs = OSSL_PROVIDER_query_operation(prov, OSSL_OP_DIGEST, &no_store);
    OSSL_FUNC_digest_newctx_fn* newctx = nullptr;
    for (const OSSL_ALGORITHM* a = algs; a != nullptr && a->algorithm_names != nullptr; ++a) {
      if (!names_include(a->algorithm_names, name)) continue;
      for (const OSSL_DISPATCH* f = a->implementation; f->function_id != 0; ++f) {
        switch (f->function_id) {
          case OSSL_FUNC_DIGEST_NEWCTX: newctx = OSSL_FUNC_digest_newctx(f); break;
          case OSSL_FUNC_DIGEST_INIT: d.init = OSSL_FUNC_digest_init(f); break;
          case OSSL_FUNC_DIGEST_UPDATE: d.update = OSSL_FUNC_digest_update(f); break;
          case OSSL_FUNC_DIGEST_FINAL: d.final = OSSL_FUNC_digest_final(f); break;
          case OSSL_FUNC_DIGEST_FREECTX: d.freectx = OSSL_FUNC_digest_freectx(f); break;
          default: break;
        }
      }
      break;
    }
    if (algs != nullptr) OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_DIGEST, algs);
    if (newctx == nullptr || d.init == nullptr || d.update == nullptr || d.final == nullptr || d.freectx == nullptr) {
      return Status::error(std::string("OpenSSL's provider does not expose the ") + name + " digest functions");
    }
    d.ctx = newctx(OSSL_PROVIDER_get0_provider_ctx(prov));
    if (d.ctx == nullptr) return Status::error(std::string("cannot create an OpenSSL ") + name + " context");
    return Status();
  };
  if (Status s = load_digest("MD5", e.md5_); !s.ok()) return s;
  if (Status s = load_digest("SHA1", e.sha1_); !s.ok()) return s;

  e.aes_ = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  if (e.aes_ == nullptr) return Result<MacEngine>::error(openssl_missing("AES-128-ECB"));
  for (CmacSlot& slot : e.cmac_) {
    slot.aes = EVP_CIPHER_CTX_new();
    if (slot.aes == nullptr || EVP_EncryptInit_ex2(slot.aes, e.aes_, nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(slot.aes, 0) != 1) {
      return Result<MacEngine>::error("cannot create an OpenSSL AES-128-ECB context");
    }
  }

  // Self-test: the provider calls must give what EVP gives.
  const uint8_t data[] = {'t', 'a', 'c', 'h', 'y', 'o', 'n'};
  Key k;
  k.size = 3;
  k.bytes[0] = 'k';
  for (const auto& [algorithm, name] : {std::pair{Algorithm::kMd5, "MD5"}, std::pair{Algorithm::kSha1, "SHA1"}}) {
    k.algorithm = algorithm;
    uint8_t ours[20] = {};
    uint8_t evp[EVP_MAX_MD_SIZE] = {};
    unsigned int evp_size = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && EVP_DigestInit_ex2(ctx, algorithm == Algorithm::kMd5 ? e.md5_.md : e.sha1_.md, nullptr) &&
                    EVP_DigestUpdate(ctx, k.bytes.data(), k.size) && EVP_DigestUpdate(ctx, data, sizeof data) &&
                    EVP_DigestFinal_ex(ctx, evp, &evp_size);
    EVP_MD_CTX_free(ctx);
    if (!ok || !e.compute(k, data, ours) || evp_size != digest_size(algorithm) ||
        std::memcmp(ours, evp, evp_size) != 0) {
      return Result<MacEngine>::error(std::string("OpenSSL's ") + name + " self-test failed");
    }
  }
  if (Status s = e.check_cmac_against_openssl(); !s.ok()) return s;
  e.calibrate();
  return e;
}

// RFC 4493 is implemented here over AES; OpenSSL's own CMAC must agree on
// every message length class (empty, partial block, whole blocks).
Status MacEngine::check_cmac_against_openssl() {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
  char cipher[] = "AES-128-CBC";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
                               OSSL_PARAM_construct_end()};
  Key k;
  k.id = 1;
  k.algorithm = Algorithm::kAes128Cmac;
  k.size = kCmacKeySize;
  uint8_t data[core::kNtpHeaderSize + 20];
  for (size_t i = 0; i < sizeof data; ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t i = 0; i < kCmacKeySize; ++i) k.bytes[i] = static_cast<uint8_t>(i * 11 + 5);
  bool ok = ctx != nullptr && EVP_MAC_init(ctx, k.bytes.data(), kCmacKeySize, params) == 1;
  for (const size_t length : {size_t{0}, size_t{1}, size_t{16}, size_t{47}, core::kNtpHeaderSize, sizeof data}) {
    uint8_t ours[16] = {};
    uint8_t theirs[16] = {};
    size_t theirs_size = 0;
    ok = ok && EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 && EVP_MAC_update(ctx, data, length) == 1 &&
         EVP_MAC_final(ctx, theirs, &theirs_size, sizeof theirs) == 1 && theirs_size == 16 &&
         compute_cmac(k, std::span<const uint8_t>(data, length), ours) && std::memcmp(ours, theirs, 16) == 0;
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  if (!ok) return Status::error("AES-128-CMAC self-test against OpenSSL's CMAC failed");
  return Status();
}

void MacEngine::calibrate() noexcept {
  uint8_t packet[core::kNtpHeaderSize + kKeyIdSize + 20] = {0x24, 1};
  for (const Algorithm a : {Algorithm::kMd5, Algorithm::kSha1, Algorithm::kAes128Cmac}) {
    Key k;
    k.id = 1;
    k.algorithm = a;
    k.size = a == Algorithm::kAes128Cmac ? kCmacKeySize : 20;
    constexpr int kRounds = 9;
    constexpr int kSigns = 32;
    std::array<uint64_t, kRounds> ns{};
    for (uint64_t& n : ns) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kSigns; ++i) {
        packet[core::off::kTransmit] = static_cast<uint8_t>(i);
        sign(k, std::span<const uint8_t>(packet, core::kNtpHeaderSize),
             std::span<uint8_t>(packet + core::kNtpHeaderSize, kKeyIdSize + 20));
      }
      n = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(ns.begin(), ns.begin() + kRounds / 2, ns.end());
    sign_cost_ns_[static_cast<size_t>(a)] = static_cast<uint32_t>(ns[kRounds / 2] / kSigns);
  }
  forget_cmac_keys();
}

void MacEngine::forget_cmac_keys() noexcept {
  for (CmacSlot& slot : cmac_) {
    OPENSSL_cleanse(slot.key.data(), slot.key.size());
    OPENSSL_cleanse(slot.k1.data(), slot.k1.size());
    OPENSSL_cleanse(slot.k2.data(), slot.k2.size());
    slot.keyed = false;
  }
}

MacEngine::MacEngine(MacEngine&& other) noexcept { *this = std::move(other); }

MacEngine& MacEngine::operator=(MacEngine&& other) noexcept {
  if (this != &other) {
    release();
    md5_ = std::exchange(other.md5_, {});
    sha1_ = std::exchange(other.sha1_, {});
    aes_ = std::exchange(other.aes_, nullptr);
    cmac_ = other.cmac_;  // the contexts change hands; the secrets are wiped below
    for (CmacSlot& slot : other.cmac_) slot.aes = nullptr;
    other.forget_cmac_keys();
    failures_ = other.failures_;
    sign_cost_ns_ = other.sign_cost_ns_;
  }
  return *this;
}

MacEngine::~MacEngine() { release(); }

void MacEngine::release() noexcept {
  for (Digest* d : {&md5_, &sha1_}) {
    if (d->ctx != nullptr) d->freectx(d->ctx);  // the provider's freectx cleanses its state
    EVP_MD_free(d->md);
    *d = {};
  }
  forget_cmac_keys();
  for (CmacSlot& slot : cmac_) {
    EVP_CIPHER_CTX_free(slot.aes);  // cleanses the key schedule
    slot.aes = nullptr;
  }
  EVP_CIPHER_free(aes_);
  aes_ = nullptr;
}

// ---------------------------------------------------------------------------
// Per packet.

bool MacEngine::compute_digest(Digest& d, const Key& key, std::span<const uint8_t> data, uint8_t* out) noexcept {
  // RFC 5905 section 7.3: "hash computed over the key followed by the NTP
  // packet header and extensions fields (but not the Key Identifier or
  // Message Digest fields)"; ntpd, NTPsec and chrony alike.
  size_t out_size = 0;
  const size_t want = digest_size(key.algorithm);
  return d.init(d.ctx, nullptr) == 1 && d.update(d.ctx, key.bytes.data(), key.size) == 1 &&
         (data.empty() || d.update(d.ctx, data.data(), data.size()) == 1) &&
         d.final(d.ctx, out, &out_size, want) == 1 && out_size == want;
}

namespace {

constexpr size_t kAesBlock = 16;

// One AES-128 block under the context's key. ECB over exactly one block
// keeps no state between calls.
bool aes_block(EVP_CIPHER_CTX* aes, const uint8_t* in, uint8_t* out) noexcept {
  int n = 0;
  return EVP_EncryptUpdate(aes, out, &n, in, static_cast<int>(kAesBlock)) == 1 && n == static_cast<int>(kAesBlock);
}

// RFC 4493 section 2.3: multiplication by x in GF(2^128), in constant time.
void double_block(const uint8_t* in, uint8_t* out) noexcept {
  const uint8_t msb = in[0] >> 7;
  for (size_t i = 0; i + 1 < kAesBlock; ++i) out[i] = static_cast<uint8_t>(in[i] << 1 | in[i + 1] >> 7);
  out[kAesBlock - 1] = static_cast<uint8_t>(in[kAesBlock - 1] << 1);
  out[kAesBlock - 1] ^= static_cast<uint8_t>(0x87 & (0 - msb));  // R_128
}

void xor_block(uint8_t* x, const uint8_t* y) noexcept {
  for (size_t i = 0; i < kAesBlock; ++i) x[i] ^= y[i];
}

}  // namespace

bool MacEngine::compute_cmac(const Key& key, std::span<const uint8_t> data, uint8_t* out) noexcept {
  // RFC 8573 section 4: AES-CMAC (RFC 4493) over the packet with the
  // 128-bit key; all 16 bytes go on the wire.
  CmacSlot& slot = cmac_[key.id % kCmacSlots];
  if (!slot.keyed || CRYPTO_memcmp(slot.key.data(), key.bytes.data(), kCmacKeySize) != 0) {
    // RFC 4493 section 2.3: L = AES-128(K, 0^128), K1 = L.x, K2 = K1.x.
    slot.keyed = false;
    uint8_t l[kAesBlock] = {};
    if (EVP_EncryptInit_ex2(slot.aes, nullptr, key.bytes.data(), nullptr, nullptr) != 1 || !aes_block(slot.aes, l, l)) {
      return false;
    }
    double_block(l, slot.k1.data());
    double_block(slot.k1.data(), slot.k2.data());
    OPENSSL_cleanse(l, sizeof l);
    std::memcpy(slot.key.data(), key.bytes.data(), kCmacKeySize);
    slot.keyed = true;
  }

  // RFC 4493 section 2.4: CBC-MAC over M_1..M_n, the last block XORed with
  // K1 if complete, else padded with 10* and XORed with K2.
  const size_t n = data.size();
  const size_t leading = n == 0 ? 0 : (n - 1) / kAesBlock;  // blocks before the last
  uint8_t x[kAesBlock] = {};
  for (size_t i = 0; i < leading; ++i) {
    xor_block(x, data.data() + i * kAesBlock);
    if (!aes_block(slot.aes, x, x)) return false;
  }
  const size_t rest = n - leading * kAesBlock;
  uint8_t last[kAesBlock] = {};
  if (rest == kAesBlock) {
    std::memcpy(last, data.data() + leading * kAesBlock, kAesBlock);
    xor_block(last, slot.k1.data());
  } else {
    if (rest != 0) std::memcpy(last, data.data() + leading * kAesBlock, rest);
    last[rest] = 0x80;
    xor_block(last, slot.k2.data());
  }
  xor_block(x, last);
  return aes_block(slot.aes, x, out);
}

bool MacEngine::compute(const Key& key, std::span<const uint8_t> data, uint8_t* out) noexcept {
  switch (key.algorithm) {
    case Algorithm::kMd5: return compute_digest(md5_, key, data, out);
    case Algorithm::kSha1: return compute_digest(sha1_, key, data, out);
    case Algorithm::kAes128Cmac: return key.size == kCmacKeySize && compute_cmac(key, data, out);
  }
  return false;
}

MacCheck MacEngine::verify(std::span<const uint8_t> packet, size_t mac_offset, size_t mac_size,
                           const KeyStore& keys) noexcept {
  if (mac_offset > packet.size() || packet.size() - mac_offset < mac_size ||
      (mac_size != auth::mac_size(Algorithm::kMd5) && mac_size != auth::mac_size(Algorithm::kSha1))) {
    return {MacStatus::kBadMac, nullptr};
  }
  const Key* key = keys.find(core::load_be32(packet.data() + mac_offset));
  if (key == nullptr) return {MacStatus::kUnknownKey, nullptr};
  // A 20-byte MAC for a SHA1 key (or the reverse) cannot be right; chrony
  // (KEY_CheckAuth) and NTPsec (mac_authdecrypt) also insist on the length.
  if (key->mac_size() != mac_size) return {MacStatus::kBadMac, nullptr};
  uint8_t digest[20];
  if (!compute(*key, packet.first(mac_offset), digest)) {
    ++failures_;
    return {MacStatus::kBadMac, nullptr};
  }
  if (CRYPTO_memcmp(digest, packet.data() + mac_offset + kKeyIdSize, digest_size(key->algorithm)) != 0) {
    return {MacStatus::kBadMac, nullptr};
  }
  return {MacStatus::kValid, key};
}

size_t MacEngine::sign(const Key& key, std::span<const uint8_t> data, std::span<uint8_t> out) noexcept {
  const size_t n = key.mac_size();
  if (out.size() < n) return 0;
  if (!compute(key, data, out.data() + kKeyIdSize)) {
    ++failures_;
    return 0;
  }
  core::store_be32(out.data(), key.id);
  return n;
}

RequestCheck MacEngine::check_request(std::span<const uint8_t> request, const KeyStore& keys) noexcept {
  RequestCheck c;
  if (request.size() <= core::kNtpHeaderSize) return c;
  const uint8_t version = core::version_of(request[core::off::kLiVnMode]);
  const core::Trailer t = core::parse_trailer(request, version);
  if (t.status != core::TrailerStatus::kOk) {
    c.result = RequestAuth::kMalformed;
    return c;
  }
  if (!t.crypto_nak && !t.has_mac()) return c;  // extension fields only
  c.key_id = t.key_id(request);
  c.mac_offset = t.mac_offset;
  c.mac_size = t.crypto_nak ? static_cast<uint16_t>(kCryptoNakSize) : t.mac_length;
  if (t.crypto_nak) {
    c.result = RequestAuth::kCryptoNak;
    return c;
  }
  // chrony ntp_auth.c NAU_ParsePacket(): an NTPv3 request with a non-zero
  // key id (the client's RID) and an all-zero 16-byte digest is MS-SNTP,
  // which only a domain controller (Samba's ntp_signd) can sign.
  if (version == 3 && t.mac_length == mac_size(Algorithm::kMd5) && c.key_id != kCryptoNakKeyId &&
      all_zero(request.data() + t.mac_offset + kKeyIdSize, digest_size(Algorithm::kMd5))) {
    c.result = RequestAuth::kMsSntp;
    return c;
  }
  const MacCheck m = verify(request, t.mac_offset, t.mac_length, keys);
  switch (m.status) {
    case MacStatus::kValid:
      c.result = RequestAuth::kValid;
      c.key = m.key;
      break;
    case MacStatus::kUnknownKey: c.result = RequestAuth::kUnknownKey; break;
    case MacStatus::kBadMac: c.result = RequestAuth::kBadMac; break;
  }
  return c;
}

}  // namespace tachyon::auth
