#include "tools/gen/request_builder.h"

#include <random>

namespace tachyon::gen {
namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kTtl = 64;

}  // namespace

Result<RequestBuilder> RequestBuilder::make(const RequestParams& params, const std::vector<MixEntry>& mix,
                                            const std::vector<IpAddress>& clients, uint64_t seed) {
  using R = Result<RequestBuilder>;
  if (mix.empty() || mix.size() > kMaxMixEntries) return R::error("the request mix needs 1 to 32 entries");
  if (clients.empty()) return R::error("no client address");
  if (params.vlan > 4094) return R::error("VLAN ID must be 1 to 4094");
  for (const IpAddress& c : clients) {
    if (c.v6 != params.server.v6) {
      return R::error("client " + to_string(c) + " and server " + to_string(params.server) +
                      " are of different address families");
    }
  }

  RequestBuilder b;
  b.v6_ = params.server.v6;
  b.mac_key_ = params.mac_key;
  const uint16_t l2 = params.vlan ? 18 : 14;
  const uint16_t l3 = b.v6_ ? 40 : 20;
  b.l3_offset_ = l2;
  b.udp_offset_ = static_cast<uint16_t>(l2 + l3);
  b.ntp_offset_ = static_cast<uint16_t>(l2 + l3 + 8);

  std::mt19937_64 rng(seed);
  for (const MixEntry& e : mix) {
    RequestTemplate t;
    uint8_t* f = t.bytes;
    std::memcpy(f, params.dst_mac.data(), 6);
    std::memcpy(f + 6, params.src_mac.data(), 6);
    if (params.vlan) {
      core::store_be16(f + 12, kEtherVlan);
      core::store_be16(f + 14, params.vlan);  // priority 0, DEI 0
    }
    core::store_be16(f + l2 - 2, b.v6_ ? kEtherIpv6 : kEtherIpv4);

    // NTP: a bare client request (RFC 4330 section 5: everything zero but
    // LI/VN/mode and the transmit timestamp), the poll a client would send,
    // then the optional extension field and MAC.
    uint8_t* ntp = f + b.ntp_offset_;
    t.version = e.version;
    t.mode = e.symmetric ? core::Mode::kSymmetricActive : core::Mode::kClient;
    t.reply_mode = e.symmetric ? core::Mode::kSymmetricPassive : core::Mode::kServer;
    ntp[core::off::kLiVnMode] = core::pack_li_vn_mode(core::Leap::kNone, e.version, t.mode);
    ntp[core::off::kPoll] = static_cast<uint8_t>(params.poll);
    size_t n = core::kNtpHeaderSize;
    if (e.extension) {
      core::store_be16(ntp + n, kExtensionFieldType);
      core::store_be16(ntp + n + 2, kExtensionFieldSize);
      n += kExtensionFieldSize;  // value: zero
    }
    if (e.mac && params.mac_key != nullptr) {
      // Signed per request by sign(): the key id now, the digest zero.
      core::store_be32(ntp + n, params.mac_key->id);
      t.signed_mac_offset = static_cast<uint16_t>(n);
      n += params.mac_key->mac_size();
    } else if (e.mac) {
      core::store_be32(ntp + n, params.mac_key_id);
      for (size_t i = 4; i < core::kMd5MacSize; ++i) ntp[n + i] = static_cast<uint8_t>(rng());
      n += core::kMd5MacSize;
    }
    t.ntp_length = static_cast<uint16_t>(n);
    const auto udp_length = static_cast<uint16_t>(8 + n);
    t.length = static_cast<uint16_t>(b.ntp_offset_ + n);

    uint8_t* ip = f + l2;
    uint8_t* udp = f + b.udp_offset_;
    core::store_be16(udp + 2, params.server_port);
    core::store_be16(udp + 4, udp_length);
    uint64_t pseudo = dp::csum::be16(kProtoUdp) + dp::csum::be16(udp_length);
    if (b.v6_) {
      core::store_be32(ip, 0x6000'0000);
      core::store_be16(ip + 4, udp_length);
      ip[6] = kProtoUdp;
      ip[7] = kTtl;
      std::memcpy(ip + 24, params.server.bytes.data(), 16);
      pseudo += dp::csum::sum<16>(ip + 24);
    } else {
      ip[0] = 0x45;
      core::store_be16(ip + 2, static_cast<uint16_t>(20 + udp_length));
      ip[8] = kTtl;
      ip[9] = kProtoUdp;
      std::memcpy(ip + 16, params.server.bytes.data(), 4);
      t.ip_sum = dp::csum::sum<20>(ip);
      pseudo += dp::csum::sum<4>(ip + 16);
    }
    t.udp_sum = pseudo + dp::csum::sum(udp, udp_length);
    b.templates_.push_back(t);
  }

  for (const IpAddress& a : clients) {
    Client c{};
    std::memcpy(c.bytes, a.bytes.data(), a.size());
    c.sum = a.v6 ? dp::csum::sum<16>(c.bytes) : dp::csum::sum<4>(c.bytes);
    b.clients_.push_back(c);
  }
  return b;
}

}  // namespace tachyon::gen
