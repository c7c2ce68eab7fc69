// Request frames: Ethernet (optionally 802.1Q-tagged), IPv4 or IPv6, UDP,
// and an NTP request of one of the mix's kinds.
//
// Everything constant is prepared once per mix entry (a template with its
// checksum sums precomputed); per request, build() copies the template and
// patches the client's source address, the source port and the timestamps
// (transmit; origin and receive too in interleaved mode), finishing both
// checksums from the precomputed sums (RFC 1071: the one's-complement sum
// is additive). Checksums are always complete, never left for an offload.
//
// With a key (RequestParams::mac_key, from --keys), +mac requests carry a
// real MAC: the template holds the key id and a zero digest, and sign(),
// after build(), computes the digest over the finished request (transmit
// timestamp included) and adds it to the UDP checksum.
//
// build() and sign() are noexcept, allocation-free and read only immutable
// state (sign() also uses the caller's MacEngine, one per lcore): any
// number of lcores may call them concurrently on one RequestBuilder.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "auth/keys.h"
#include "auth/mac_engine.h"
#include "core/ntp_packet.h"
#include "core/result.h"
#include "dpdk/checksum.h"
#include "tools/gen/addresses.h"
#include "tools/gen/request_mix.h"

namespace tachyon::gen {

struct RequestParams {
  Mac src_mac{};            // the port's own MAC
  Mac dst_mac{};            // the server's (or the next hop's) MAC
  uint16_t vlan = 0;        // 0: untagged
  IpAddress server;
  uint16_t server_port = 123;
  uint32_t mac_key_id = 1;  // key id of +mac requests without a key (16 random bytes follow)
  // +mac requests signed with this key (its id, its algorithm's MAC size);
  // null: mac_key_id and random bytes. Must outlive the builder.
  const auth::Key* mac_key = nullptr;
  int8_t poll = 6;          // poll exponent the requests announce
};

// The extension field +ef requests carry: RFC 7821's Checksum Complement
// (type 0x2005, 28 bytes), which receivers must ignore -- so it tests that
// a server skips an extension field it does not act on (RFC 7822 section
// 3). Its value is zero (no complement): nothing reads it. (An NTS field
// such as the Unique Identifier would not do: chronyd drops requests that
// look like NTS when it has no NTS keys.)
inline constexpr uint16_t kExtensionFieldType = 0x2005;
inline constexpr size_t kExtensionFieldSize = 28;

struct RequestTemplate {
  static constexpr size_t kBytes = 192;  // fits the largest request (166 bytes: VLAN, IPv6, +ef, SHA1 MAC)

  alignas(64) uint8_t bytes[kBytes] = {};  // source address, port, checksums, xmt zero
  uint16_t length = 0;                     // frame length
  uint16_t ntp_length = 0;                 // NTP payload length
  uint8_t version = 4;
  core::Mode mode = core::Mode::kClient;
  core::Mode reply_mode = core::Mode::kServer;
  uint64_t ip_sum = 0;   // IPv4 header, checksum and source zero
  uint64_t udp_sum = 0;  // pseudo-header and datagram, source address, port, checksum and xmt zero
  // A signed request (+mac with a key): where its MAC starts in the NTP
  // payload (what the MAC covers); 0 for any other request.
  uint16_t signed_mac_offset = 0;

  bool is_signed() const noexcept { return signed_mac_offset != 0; }
};

class RequestBuilder {
 public:
  // One template per mix entry, `clients` as source addresses. The random
  // bytes of extension fields and MACs come from `seed`.
  // REQUIRES: every client and the server are of the same family.
  static Result<RequestBuilder> make(const RequestParams& params, const std::vector<MixEntry>& mix,
                                     const std::vector<IpAddress>& clients, uint64_t seed);

  // Writes request `tmpl` from client `client` and UDP port `sport`, with
  // transmit timestamp `xmt` (and, for interleaved mode, origin `org` and
  // receive timestamp `rec`; zero otherwise), at `out`; returns the frame
  // length. Writes up to RequestTemplate::kBytes bytes. REQUIRES: tmpl <
  // template_count(), client < client_count().
  uint16_t build(uint8_t* out, uint8_t tmpl, uint32_t client, uint16_t sport, uint64_t xmt, uint64_t org = 0,
                 uint64_t rec = 0) const noexcept;

  // Signs request `tmpl` that build() just wrote at `frame`: the digest
  // over its NTP payload up to the MAC, then the UDP checksum. Does nothing
  // for a template that is not signed. Returns false if OpenSSL failed (the
  // digest is then zero, the checksum still right: the server will refuse
  // the request).
  bool sign(uint8_t* frame, uint8_t tmpl, auth::MacEngine& engine) const noexcept;

  const RequestTemplate& request_template(size_t i) const noexcept { return templates_[i]; }
  // The key +mac requests are signed with, or null.
  const auth::Key* mac_key() const noexcept { return mac_key_; }
  size_t template_count() const noexcept { return templates_.size(); }
  uint32_t client_count() const noexcept { return static_cast<uint32_t>(clients_.size()); }
  bool v6() const noexcept { return v6_; }
  uint16_t ntp_offset() const noexcept { return ntp_offset_; }

 private:
  struct Client {
    uint8_t bytes[16];
    uint64_t sum;  // native-order sum of the address bytes
  };

  std::vector<RequestTemplate> templates_;
  std::vector<Client> clients_;
  const auth::Key* mac_key_ = nullptr;
  bool v6_ = false;
  uint16_t l3_offset_ = 0;
  uint16_t udp_offset_ = 0;
  uint16_t ntp_offset_ = 0;
};

inline uint16_t RequestBuilder::build(uint8_t* out, uint8_t tmpl, uint32_t client, uint16_t sport, uint64_t xmt,
                                      uint64_t org, uint64_t rec) const noexcept {
  const RequestTemplate& t = templates_[tmpl];
  // Fixed-size copies compile to a few vector moves; a variable length
  // would be a libc call.
  if (t.length <= 128) {
    std::memcpy(out, t.bytes, 128);
  } else {
    std::memcpy(out, t.bytes, RequestTemplate::kBytes);
  }
  const Client& c = clients_[client];
  uint8_t* ip = out + l3_offset_;
  uint8_t* udp = out + udp_offset_;
  const uint64_t xmt_be = __builtin_bswap64(xmt);
  const uint64_t org_be = __builtin_bswap64(org);
  const uint64_t rec_be = __builtin_bswap64(rec);
  std::memcpy(out + ntp_offset_ + core::off::kOrigin, &org_be, 8);
  std::memcpy(out + ntp_offset_ + core::off::kReceive, &rec_be, 8);
  std::memcpy(out + ntp_offset_ + core::off::kTransmit, &xmt_be, 8);
  core::store_be16(udp, sport);
  // The three timestamps sit at even offsets: their 32-bit halves add to
  // the one's-complement sum as they are (RFC 1071).
  uint64_t sum = t.udp_sum + c.sum + dp::csum::be16(sport) + (xmt_be & 0xffff'ffff) + (xmt_be >> 32) +
                 (org_be & 0xffff'ffff) + (org_be >> 32) + (rec_be & 0xffff'ffff) + (rec_be >> 32);
  if (v6_) {
    std::memcpy(ip + 8, c.bytes, 16);
  } else {
    std::memcpy(ip + 12, c.bytes, 4);
    core::store_be16(ip + 10, dp::csum::field(t.ip_sum + c.sum));
  }
  const uint16_t udp_csum = dp::csum::field(sum);
  core::store_be16(udp + 6, udp_csum == 0 ? 0xffff : udp_csum);  // RFC 768: 0 means "none"
  return t.length;
}

inline bool RequestBuilder::sign(uint8_t* frame, uint8_t tmpl, auth::MacEngine& engine) const noexcept {
  const RequestTemplate& t = templates_[tmpl];
  if (!t.is_signed()) return true;
  uint8_t* ntp = frame + ntp_offset_;
  const size_t mac_size = mac_key_->mac_size();
  if (engine.sign(*mac_key_, {ntp, t.signed_mac_offset}, {ntp + t.signed_mac_offset, mac_size}) != mac_size) {
    // Back to the template's zero digest, which its checksum covers.
    std::memset(ntp + t.signed_mac_offset + auth::kKeyIdSize, 0, mac_size - auth::kKeyIdSize);
    return false;
  }
  // The template's sum has the key id and a zero digest; the digest starts
  // at an even offset of the datagram (the header, the extension field and
  // the key id are multiples of 4 bytes), so its sum simply adds in.
  uint8_t* udp = frame + udp_offset_;
  const uint64_t digest = dp::csum::sum(ntp + t.signed_mac_offset + auth::kKeyIdSize, mac_size - auth::kKeyIdSize);
  uint16_t field;  // as stored: the complemented fold, native order like the sums
  std::memcpy(&field, udp + 6, 2);
  const uint16_t udp_csum = dp::csum::field(uint64_t{static_cast<uint16_t>(~field)} + digest);
  core::store_be16(udp + 6, udp_csum == 0 ? 0xffff : udp_csum);
  return true;
}

}  // namespace tachyon::gen
