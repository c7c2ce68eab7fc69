// MAC computation and verification (src/auth/mac_engine.h): known-answer
// vectors computed independently (Python hashlib and cryptography, and
// NTPsec's own ntp.ntpc.mac(), when these tests were written), RFC 4493's
// AES-CMAC vectors, round trips, tampering, request classification, and
// requests captured from the real ntpdig and chronyd.
#include "auth/mac_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "auth/key_file.h"
#include "core/ntp_packet.h"

namespace tachyon::auth {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes hex(std::string_view h) {
  Bytes out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string to_hex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (const uint8_t x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

Key make_key(uint32_t id, Algorithm a, const Bytes& secret) {
  Key k;
  k.id = id;
  k.algorithm = a;
  k.size = static_cast<uint8_t>(secret.size());
  std::copy(secret.begin(), secret.end(), k.bytes.begin());
  return k;
}

KeyStore store_of(std::vector<Key> keys) { return KeyStore(std::move(keys)); }

MacEngine engine() {
  Result<MacEngine> e = MacEngine::create();
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.message());
  return std::move(e).value();
}

// The fixture keys (tests/auth/data/ntpd.keys).
const Bytes kMd5Secret(std::begin("Tachyon_MD5_Key_01"), std::end("Tachyon_MD5_Key_01") - 1);
const Bytes kSha1Secret = hex("83120c8c3e64142b4796a14c6548240a009d8267");
const Bytes kCmacSecret = hex("6495c82ec7984c9fa9bcd7772ff42640");

// A chronyd client request header, an unknown (type 0xf323) 16-byte
// extension field, and a server answer header.
const Bytes kRequest = hex("230006200000000000000000000000000000000000000000000000000000000000000000000000002b1c9364dcd85bcb");
const Bytes kExtension = hex("f3230010000102030405060708090a0b");
const Bytes kAnswer = hex("240106ec000000000000000a4155544800000000000000002b1c9364dcd85bcbeeabc74a00000000eeabc74a00100000");

struct Vector {
  Algorithm algorithm;
  const Bytes* secret;
  const Bytes* data_a;
  const Bytes* data_b;  // appended to data_a, or null
  const char* digest;
};

Bytes data_of(const Vector& v) {
  Bytes d = *v.data_a;
  if (v.data_b != nullptr) d.insert(d.end(), v.data_b->begin(), v.data_b->end());
  return d;
}

const Vector kVectors[] = {
    {Algorithm::kMd5, &kMd5Secret, &kRequest, nullptr, "033b36f81378496ac85db3d0eb8b32f5"},
    {Algorithm::kSha1, &kSha1Secret, &kRequest, nullptr, "db9d08041f96e02b1c9117196d2706ce8b1873df"},
    {Algorithm::kAes128Cmac, &kCmacSecret, &kRequest, nullptr, "ce025500343c1469a55aa49a1ce32cdf"},
    {Algorithm::kMd5, &kMd5Secret, &kRequest, &kExtension, "9f6770d4af629f7a3bd10c7f994610a8"},
    {Algorithm::kSha1, &kSha1Secret, &kRequest, &kExtension, "aa076f29d131b5f2f44d3a24096b12b7646c83be"},
    {Algorithm::kAes128Cmac, &kCmacSecret, &kRequest, &kExtension, "0a60a564291209f87b7a5596ed28b424"},
    {Algorithm::kMd5, &kMd5Secret, &kAnswer, nullptr, "fed9c144316612eea03c16f1847a3be6"},
    {Algorithm::kSha1, &kSha1Secret, &kAnswer, nullptr, "8e7484760044c95ab1ee82cce526622ad4119010"},
    {Algorithm::kAes128Cmac, &kCmacSecret, &kAnswer, nullptr, "2628500cbc89059b43ca2dc9b729850f"},
};

TEST(MacEngine, SignMatchesKnownAnswersForEachAlgorithm) {
  MacEngine e = engine();
  for (const Vector& v : kVectors) {
    const Key key = make_key(7, v.algorithm, *v.secret);
    const Bytes data = data_of(v);
    Bytes out(32, 0xee);
    ASSERT_EQ(e.sign(key, data, out), mac_size(v.algorithm));
    EXPECT_EQ(to_hex(std::span(out).first(4)), "00000007");
    EXPECT_EQ(to_hex(std::span(out).subspan(4, digest_size(v.algorithm))), v.digest)
        << algorithm_name(v.algorithm) << " over " << data.size() << " bytes";
    EXPECT_EQ(out[mac_size(v.algorithm)], 0xee) << "wrote past the MAC";
  }
  EXPECT_EQ(e.failures(), 0u);
}

TEST(MacEngine, AesCmacMatchesRfc4493) {
  // RFC 4493 section 4, examples 1-4.
  const Key key = make_key(1, Algorithm::kAes128Cmac, hex("2b7e151628aed2a6abf7158809cf4f3c"));
  const Bytes m = hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  const std::pair<size_t, const char*> examples[] = {
      {0, "bb1d6929e95937287fa37d129b756746"},
      {16, "070a16b46b4d4144f79bdd9dd04a287c"},
      {40, "dfa66747de9ae63030ca32611497c827"},
      {64, "51f0bebf7e3b9d92fc49741779363cfe"},
  };
  MacEngine e = engine();
  for (const auto& [length, mac] : examples) {
    Bytes out(20);
    ASSERT_EQ(e.sign(key, std::span(m).first(length), out), 20u);
    EXPECT_EQ(to_hex(std::span(out).subspan(4)), mac) << length << " bytes";
  }
}

// The engine's CMAC is RFC 4493 over OpenSSL's AES; OpenSSL's own CMAC
// (EVP_MAC) must agree for every length (empty, partial and whole final
// blocks) and across keys that share a slot of the engine's cache.
TEST(MacEngine, AesCmacAgreesWithOpenSslForEveryLength) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
  ASSERT_NE(mac, nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char cipher[] = "AES-128-CBC";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
                               OSSL_PARAM_construct_end()};
  MacEngine e = engine();
  std::mt19937 random(20240611);
  Bytes data(200);
  for (uint8_t& b : data) b = static_cast<uint8_t>(random());
  for (const uint32_t id : {3u, 35u, 67u}) {  // one cache slot
    Bytes secret(16);
    for (uint8_t& b : secret) b = static_cast<uint8_t>(random());
    const Key key = make_key(id, Algorithm::kAes128Cmac, secret);
    ASSERT_EQ(EVP_MAC_init(ctx, secret.data(), secret.size(), params), 1);
    for (size_t length = 0; length <= data.size(); ++length) {
      uint8_t theirs[16];
      size_t size = 0;
      ASSERT_EQ(EVP_MAC_init(ctx, nullptr, 0, nullptr), 1);
      ASSERT_EQ(EVP_MAC_update(ctx, data.data(), length), 1);
      ASSERT_EQ(EVP_MAC_final(ctx, theirs, &size, sizeof theirs), 1);
      Bytes ours(20);
      ASSERT_EQ(e.sign(key, std::span(data).first(length), ours), 20u);
      EXPECT_EQ(to_hex(std::span(ours).subspan(4)), to_hex(std::span(theirs, size))) << "key " << id << ", " << length << " bytes";
    }
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
}

// A packet signed by the engine: `data` then key id + digest.
Bytes signed_packet(MacEngine& e, const Key& key, const Bytes& data) {
  Bytes p = data;
  p.resize(data.size() + key.mac_size());
  EXPECT_EQ(e.sign(key, std::span(p).first(data.size()), std::span(p).subspan(data.size())), key.mac_size());
  return p;
}

TEST(MacEngine, VerifyAcceptsWhatSignWroteWithEveryAlgorithm) {
  MacEngine e = engine();
  const KeyStore keys = store_of({make_key(1, Algorithm::kMd5, kMd5Secret), make_key(2, Algorithm::kSha1, kSha1Secret),
                                  make_key(3, Algorithm::kAes128Cmac, kCmacSecret),
                                  make_key(4, Algorithm::kMd5, Bytes(64, 0x5a))});
  for (const Key& key : keys.keys()) {
    for (const Bytes* data : {&kRequest, &kAnswer}) {
      const Bytes p = signed_packet(e, key, *data);
      const MacCheck c = e.verify(p, data->size(), key.mac_size(), keys);
      EXPECT_EQ(c.status, MacStatus::kValid) << "key " << key.id;
      EXPECT_EQ(c.key, &key);
    }
  }
}

TEST(MacEngine, AnyChangedBitFailsVerification) {
  MacEngine e = engine();
  const KeyStore keys = store_of({make_key(1, Algorithm::kMd5, kMd5Secret), make_key(2, Algorithm::kSha1, kSha1Secret),
                                  make_key(3, Algorithm::kAes128Cmac, kCmacSecret)});
  for (const Key& key : keys.keys()) {
    const Bytes good = signed_packet(e, key, kRequest);
    for (size_t byte = 0; byte < good.size(); ++byte) {
      for (const uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
        Bytes bad = good;
        bad[byte] ^= bit;
        const MacCheck c = e.verify(bad, kRequest.size(), key.mac_size(), keys);
        EXPECT_NE(c.status, MacStatus::kValid) << "key " << key.id << " byte " << byte;
        EXPECT_EQ(c.key, nullptr);
      }
    }
  }
}

TEST(MacEngine, UnknownKeyIdsAndMismatchedLengths) {
  MacEngine e = engine();
  const KeyStore keys = store_of({make_key(1, Algorithm::kMd5, kMd5Secret), make_key(2, Algorithm::kSha1, kSha1Secret)});
  const Key stranger = make_key(9, Algorithm::kMd5, kMd5Secret);
  EXPECT_EQ(e.verify(signed_packet(e, stranger, kRequest), 48, 20, keys).status, MacStatus::kUnknownKey);
  const Key zero = make_key(0, Algorithm::kMd5, kMd5Secret);
  EXPECT_EQ(e.verify(signed_packet(e, zero, kRequest), 48, 20, keys).status, MacStatus::kUnknownKey);

  // An MD5-sized MAC under the SHA1 key's id, and the reverse.
  Bytes p = signed_packet(e, make_key(2, Algorithm::kMd5, kSha1Secret), kRequest);
  EXPECT_EQ(e.verify(p, 48, 20, keys).status, MacStatus::kBadMac);
  p = signed_packet(e, make_key(1, Algorithm::kSha1, kMd5Secret), kRequest);
  EXPECT_EQ(e.verify(p, 48, 24, keys).status, MacStatus::kBadMac);

  // Spans that do not hold the MAC they claim.
  const Bytes ok = signed_packet(e, *keys.find(1), kRequest);
  EXPECT_EQ(e.verify(ok, 48, 20, keys).status, MacStatus::kValid);
  EXPECT_EQ(e.verify(ok, 52, 20, keys).status, MacStatus::kBadMac);
  EXPECT_EQ(e.verify(ok, 200, 20, keys).status, MacStatus::kBadMac);
  EXPECT_EQ(e.verify(ok, 48, 16, keys).status, MacStatus::kBadMac);
  EXPECT_EQ(e.verify(std::span(ok).first(60), 48, 20, keys).status, MacStatus::kBadMac);
  EXPECT_EQ(e.failures(), 0u);
}

TEST(MacEngine, SignRefusesAnOutputTooSmall) {
  MacEngine e = engine();
  Bytes out(23);
  EXPECT_EQ(e.sign(make_key(1, Algorithm::kSha1, kSha1Secret), kAnswer, out), 0u);
  EXPECT_EQ(e.sign(make_key(1, Algorithm::kMd5, kMd5Secret), kAnswer, out), 20u);
}

TEST(MacEngine, AesCmacSwitchesKeysCorrectlyAcrossReloadedStores) {
  // The engine keeps the last CMAC key schedule: switching keys, and a new
  // store whose key sits at the same address with other bytes, must re-key.
  MacEngine e = engine();
  const Bytes other = hex("3098478e31b754de7d79fc5a812296bb");
  Bytes out(20);
  for (int round = 0; round < 3; ++round) {
    KeyStore s1 = store_of({make_key(3, Algorithm::kAes128Cmac, kCmacSecret)});
    ASSERT_EQ(e.sign(*s1.find(3), kRequest, out), 20u);
    EXPECT_EQ(to_hex(std::span(out).subspan(4)), "ce025500343c1469a55aa49a1ce32cdf");
    s1 = store_of({make_key(3, Algorithm::kAes128Cmac, other)});  // "reload"
    ASSERT_EQ(e.sign(*s1.find(3), kRequest, out), 20u);
    const Bytes with_other = signed_packet(e, make_key(3, Algorithm::kAes128Cmac, other), kRequest);
    EXPECT_EQ(to_hex(std::span(out).subspan(4)), to_hex(std::span(with_other).subspan(52)));
    EXPECT_NE(to_hex(std::span(out).subspan(4)), "ce025500343c1469a55aa49a1ce32cdf");
  }
}

TEST(MacEngine, MovedEngineKeepsWorking) {
  MacEngine a = engine();
  MacEngine b = std::move(a);
  Bytes out(20);
  ASSERT_EQ(b.sign(make_key(3, Algorithm::kAes128Cmac, kCmacSecret), kRequest, out), 20u);
  EXPECT_EQ(to_hex(std::span(out).subspan(4)), "ce025500343c1469a55aa49a1ce32cdf");
  a = std::move(b);  // NOLINT(bugprone-use-after-move): assigning to a moved-from engine is allowed
  ASSERT_EQ(a.sign(make_key(1, Algorithm::kMd5, kMd5Secret), kRequest, out), 20u);
  EXPECT_EQ(to_hex(std::span(out).subspan(4)), "033b36f81378496ac85db3d0eb8b32f5");
}

TEST(MacEngine, MeasuresWhatSigningCosts) {
  MacEngine e = engine();
  for (const Algorithm a : {Algorithm::kMd5, Algorithm::kSha1, Algorithm::kAes128Cmac}) {
    EXPECT_GT(e.sign_cost_ns(a), 0u) << algorithm_name(a);
    EXPECT_LT(e.sign_cost_ns(a), 1'000'000u) << algorithm_name(a);
  }
}

// --- check_request() -------------------------------------------------------------

Bytes with(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(CheckRequest, ClassifiesWhatFollowsTheHeader) {
  MacEngine e = engine();
  const KeyStore keys = store_of({make_key(1, Algorithm::kMd5, kMd5Secret), make_key(3, Algorithm::kAes128Cmac, kCmacSecret)});

  EXPECT_EQ(e.check_request(kRequest, keys).result, RequestAuth::kNone);
  // Extension field only (28 bytes: more than a MAC, RFC 7822).
  const Bytes ef28 = hex("f323001c000102030405060708090a0b0c0d0e0f1011121314151617");
  EXPECT_EQ(e.check_request(with(kRequest, ef28), keys).result, RequestAuth::kNone);

  RequestCheck c = e.check_request(signed_packet(e, *keys.find(1), kRequest), keys);
  EXPECT_EQ(c.result, RequestAuth::kValid);
  EXPECT_EQ(c.key, keys.find(1));
  EXPECT_EQ(c.key_id, 1u);
  EXPECT_EQ(c.mac_offset, 48);
  EXPECT_EQ(c.mac_size, 20);

  // The MAC covers the extension field before it.
  const Bytes with_ef = with(kRequest, kExtension);
  c = e.check_request(signed_packet(e, *keys.find(3), with_ef), keys);
  EXPECT_EQ(c.result, RequestAuth::kValid);
  EXPECT_EQ(c.mac_offset, 64);
  Bytes tampered_ef = signed_packet(e, *keys.find(3), with_ef);
  tampered_ef[56] ^= 1;  // in the extension field's value
  EXPECT_EQ(e.check_request(tampered_ef, keys).result, RequestAuth::kBadMac);

  c = e.check_request(signed_packet(e, make_key(77, Algorithm::kMd5, kMd5Secret), kRequest), keys);
  EXPECT_EQ(c.result, RequestAuth::kUnknownKey);
  EXPECT_EQ(c.key_id, 77u);
  EXPECT_EQ(c.key, nullptr);

  c = e.check_request(with(kRequest, hex("00000000")), keys);
  EXPECT_EQ(c.result, RequestAuth::kCryptoNak);
  EXPECT_EQ(c.mac_size, 4);

  EXPECT_EQ(e.check_request(with(kRequest, hex("0000000100")), keys).result, RequestAuth::kMalformed);
  EXPECT_EQ(e.check_request(with(kRequest, Bytes(16, 0)), keys).result, RequestAuth::kMalformed);
}

TEST(CheckRequest, TellsMsSntpFromAnMd5Mac) {
  MacEngine e = engine();
  const KeyStore keys = store_of({make_key(1105, Algorithm::kMd5, kMd5Secret)});
  // w32time in a domain: NTPv3, the client's RID as key id, 16 zero bytes.
  Bytes v3 = kRequest;
  v3[0] = core::pack_li_vn_mode(core::Leap::kUnsync, 3, core::Mode::kClient);
  const Bytes ms_sntp = with(v3, hex("0000045100000000000000000000000000000000"));
  const RequestCheck c = e.check_request(ms_sntp, keys);
  EXPECT_EQ(c.result, RequestAuth::kMsSntp);
  EXPECT_EQ(c.key_id, 0x451u);
  EXPECT_EQ(decide(c.result, false).action, AuthAction::kDrop);

  // The same trailer on NTPv4 is an ordinary (failing) MAC; a zero key id
  // with a zero digest is not MS-SNTP either.
  Bytes v4 = ms_sntp;
  v4[0] = core::pack_li_vn_mode(core::Leap::kUnsync, 4, core::Mode::kClient);
  EXPECT_EQ(e.check_request(v4, keys).result, RequestAuth::kBadMac);
  EXPECT_EQ(e.check_request(with(v3, Bytes(20, 0)), keys).result, RequestAuth::kUnknownKey);
  // A real NTPv3 MD5 MAC from a key we have still verifies.
  EXPECT_EQ(e.check_request(signed_packet(e, *keys.find(1105), v3), keys).result, RequestAuth::kValid);
}

// --- requests from the real clients ---------------------------------------------------

struct Capture {
  std::string client, keys_file;
  uint32_t key_id = 0;
  Bytes bytes;
};

std::vector<Capture> captures() {
  std::ifstream in(std::string(TACHYON_AUTH_DATA) + "/client_requests.txt");
  std::vector<Capture> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Capture c;
    std::string payload;
    fields >> c.client >> c.keys_file >> c.key_id >> payload;
    c.bytes = hex(payload);
    out.push_back(c);
  }
  return out;
}

KeyStore load(const std::string& name) {
  KeyFileResult r = load_key_file(std::string(TACHYON_AUTH_DATA) + "/" + name);
  EXPECT_TRUE(r.ok()) << name;
  return std::move(r.keys);
}

TEST(RealClients, RequestsVerifyWithTheKeysTheClientUsed) {
  MacEngine e = engine();
  std::map<std::string, KeyStore> stores;
  for (const char* name : {"ntpd.keys", "chrony.keys", "wrong-ntpd.keys", "wrong-chrony.keys"}) stores.emplace(name, load(name));
  const auto all = captures();
  ASSERT_EQ(all.size(), 18u);
  std::map<std::pair<std::string, Algorithm>, int> verified;
  for (const Capture& c : all) {
    SCOPED_TRACE(c.client + " " + c.keys_file + " key " + std::to_string(c.key_id));
    if (c.keys_file == "none") {
      EXPECT_EQ(e.check_request(c.bytes, stores.at("ntpd.keys")).result, RequestAuth::kNone);
      continue;
    }
    const RequestCheck own = e.check_request(c.bytes, stores.at(c.keys_file));
    ASSERT_EQ(own.result, RequestAuth::kValid);
    EXPECT_EQ(own.key_id, c.key_id);
    ++verified[{c.client, own.key->algorithm}];

    // What the server (holding ntpd.keys, or the same keys as chrony.keys) says.
    const bool right_keys = c.keys_file == "ntpd.keys" || c.keys_file == "chrony.keys";
    const RequestAuth expected = right_keys ? RequestAuth::kValid
                                 : c.key_id == 9 ? RequestAuth::kUnknownKey
                                                 : RequestAuth::kBadMac;
    for (const char* server : {"ntpd.keys", "chrony.keys"}) {
      const RequestCheck at_server = e.check_request(c.bytes, stores.at(server));
      EXPECT_EQ(at_server.result, expected) << server;
      // Whatever the answer, it is never longer than the request.
      const AuthDecision d = decide(at_server.result, false);
      EXPECT_LE(core::kNtpHeaderSize + answer_mac_size(d.action, at_server.key), c.bytes.size());
    }
  }
  for (const char* client : {"ntpdig", "chronyd"}) {
    for (const Algorithm a : {Algorithm::kMd5, Algorithm::kSha1, Algorithm::kAes128Cmac}) {
      EXPECT_GT((verified[{client, a}]), 0) << client << " has no " << algorithm_name(a) << " capture";
    }
  }
  EXPECT_EQ(e.failures(), 0u);
}

}  // namespace
}  // namespace tachyon::auth
