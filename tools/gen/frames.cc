#include "tools/gen/frames.h"

#include <algorithm>
#include <cstring>

#include "core/ntp_packet.h"
#include "dpdk/checksum.h"

namespace tachyon::gen {
namespace {

using core::load_be16;
using core::store_be16;
using core::store_be32;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kNeighborSolicitation = 135;
constexpr uint8_t kNeighborAdvertisement = 136;
constexpr uint8_t kOptSourceLinkAddress = 1;
constexpr uint8_t kOptTargetLinkAddress = 2;
constexpr size_t kArpLength = 28;
constexpr size_t kNdMessage = 24;  // ICMPv6 header, flags/reserved, target
constexpr size_t kNdLinkOption = 8;
constexpr size_t kMinFrame = 60;   // Ethernet minimum without FCS

bool mac_equal(const uint8_t* a, const uint8_t* b) noexcept { return std::memcmp(a, b, 6) == 0; }

uint64_t icmpv6_pseudo_sum(const uint8_t* ip, uint16_t icmp_length) noexcept {
  return dp::csum::sum<32>(ip + 8) + dp::csum::be16(kProtoIcmpv6) + dp::csum::be16(icmp_length);
}

Classified with(FrameKind k, uint16_t l2) noexcept {
  Classified c;
  c.kind = k;
  c.l2 = l2;
  return c;
}

Classified classify_arp(const uint8_t* f, uint16_t length, uint16_t l2, const RxFilter& filter) noexcept {
  if (length < l2 + kArpLength) return {};
  const uint8_t* a = f + l2;
  if (load_be16(a) != 1 || load_be16(a + 2) != kEtherIpv4 || a[4] != 6 || a[5] != 4) return {};
  const uint16_t op = load_be16(a + 6);
  if (op == 1 && filter.clients != nullptr && filter.clients->contains_v4(a + 24)) {
    return with(FrameKind::kArpRequest, l2);
  }
  if (op == 2) return with(FrameKind::kArpReply, l2);
  return {};
}

Classified classify_ipv4(const uint8_t* f, uint16_t length, uint16_t l2, const RxFilter& filter) noexcept {
  if (length < l2 + 20u) return {};
  const uint8_t* ip = f + l2;
  const unsigned ihl = (ip[0] & 0x0f) * 4u;
  const unsigned total = load_be16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl + 8 || total + l2 > length) return {};
  if (ip[9] != kProtoUdp || (load_be16(ip + 6) & 0x3fff) != 0) return {};  // not UDP, or a fragment
  if (std::memcmp(ip + 12, filter.server.bytes.data(), 4) != 0) return {};
  const uint8_t* udp = ip + ihl;
  const unsigned udp_length = load_be16(udp + 4);
  if (load_be16(udp) != filter.server_port || udp_length < 8 || udp_length > total - ihl) return {};
  Classified c = with(FrameKind::kNtpAnswer, l2);
  c.payload_offset = static_cast<uint16_t>(l2 + ihl + 8);
  c.payload_length = static_cast<uint16_t>(udp_length - 8);
  // The header checksum is always complete on the wire (the UDP checksum
  // may be partial on a veth: not checked, as DPDK-NOTES.md explains).
  if (!dp::csum::verifies(dp::csum::sum(ip, ihl))) c.kind = FrameKind::kIpChecksumBad;
  return c;
}

Classified classify_ipv6(const uint8_t* f, uint16_t length, uint16_t l2, const RxFilter& filter,
                         bool to_us) noexcept {
  if (length < l2 + 40u) return {};
  const uint8_t* ip = f + l2;
  const unsigned payload = load_be16(ip + 4);
  if ((ip[0] >> 4) != 6 || payload > length - l2 - 40u) return {};
  const uint8_t* l4 = ip + 40;
  if (ip[6] == kProtoUdp) {
    if (!to_us || std::memcmp(ip + 8, filter.server.bytes.data(), 16) != 0) return {};
    const unsigned udp_length = load_be16(l4 + 4);
    if (payload < 8 || load_be16(l4) != filter.server_port || udp_length < 8 || udp_length > payload) return {};
    Classified c = with(FrameKind::kNtpAnswer, l2);
    c.payload_offset = static_cast<uint16_t>(l2 + 48);
    c.payload_length = static_cast<uint16_t>(udp_length - 8);
    return c;
  }
  // RFC 4861 section 7.1: hop limit 255 (never forwarded), code 0.
  if (ip[6] != kProtoIcmpv6 || payload < kNdMessage || ip[7] != 255 || l4[1] != 0) return {};
  if (l4[0] == kNeighborSolicitation && filter.clients != nullptr && filter.clients->contains_v6(l4 + 8)) {
    return with(FrameKind::kNeighborSolicitation, l2);
  }
  if (l4[0] == kNeighborAdvertisement) return with(FrameKind::kNeighborAdvertisement, l2);
  return {};
}

}  // namespace

Classified classify(const uint8_t* f, uint16_t length, const RxFilter& filter) noexcept {
  if (length < 14) return {};
  uint16_t l2 = 14;
  uint16_t type = load_be16(f + 12);
  if (type == kEtherVlan) {
    if (length < 18 || (load_be16(f + 14) & 0x0fff) != filter.vlan) return {};
    type = load_be16(f + 16);
    l2 = 18;
  } else if (filter.vlan != 0) {
    return {};
  }
  const bool to_us = mac_equal(f, filter.mac.data());
  const bool multicast = (f[0] & 1) != 0;
  if (!to_us && !multicast) return {};
  switch (type) {
    case kEtherIpv4: return to_us ? classify_ipv4(f, length, l2, filter) : Classified{};
    case kEtherIpv6: return classify_ipv6(f, length, l2, filter, to_us);
    case kEtherArp: return classify_arp(f, length, l2, filter);
    default: return {};
  }
}

uint16_t answer_arp(uint8_t* f, uint16_t length, const Classified& c, const Mac& our_mac) noexcept {
  uint8_t* a = f + c.l2;
  uint8_t sender_mac[6], sender_ip[4], target_ip[4];
  std::memcpy(sender_mac, a + 8, 6);
  std::memcpy(sender_ip, a + 14, 4);
  std::memcpy(target_ip, a + 24, 4);
  store_be16(a + 6, 2);  // reply (RFC 826)
  std::memcpy(a + 8, our_mac.data(), 6);
  std::memcpy(a + 14, target_ip, 4);
  std::memcpy(a + 18, sender_mac, 6);
  std::memcpy(a + 24, sender_ip, 4);
  std::memcpy(f, sender_mac, 6);
  std::memcpy(f + 6, our_mac.data(), 6);
  return length;
}

uint16_t answer_neighbor_solicitation(uint8_t* f, uint16_t length, uint16_t capacity, const Classified& c,
                                      const Mac& our_mac) noexcept {
  (void)length;
  uint8_t* ip = f + c.l2;
  uint8_t* icmp = ip + 40;
  static constexpr uint8_t kUnspecified[16] = {};
  // Duplicate address detection (RFC 4862 section 5.4.3): answering would
  // tell the sender its tentative address is taken.
  if (std::memcmp(ip + 8, kUnspecified, 16) == 0) return 0;
  const auto answer_length = static_cast<uint16_t>(c.l2 + 40 + kNdMessage + kNdLinkOption);
  if (answer_length > capacity) return 0;

  // RFC 4861 section 7.2.4: a solicited advertisement back to the
  // solicitor, with our link-layer address, override set.
  uint8_t solicitor[16];
  std::memcpy(solicitor, ip + 8, 16);
  std::memcpy(f, f + 6, 6);
  std::memcpy(f + 6, our_mac.data(), 6);
  store_be32(ip, 0x6000'0000);
  store_be16(ip + 4, kNdMessage + kNdLinkOption);
  ip[6] = kProtoIcmpv6;
  ip[7] = 255;
  std::memcpy(ip + 8, icmp + 8, 16);  // from the target
  std::memcpy(ip + 24, solicitor, 16);
  icmp[0] = kNeighborAdvertisement;
  icmp[1] = 0;
  store_be16(icmp + 2, 0);
  store_be32(icmp + 4, 0x6000'0000);  // solicited, override
  uint8_t* opt = icmp + kNdMessage;
  opt[0] = kOptTargetLinkAddress;
  opt[1] = 1;  // in units of 8 bytes
  std::memcpy(opt + 2, our_mac.data(), 6);
  const uint16_t icmp_length = kNdMessage + kNdLinkOption;
  store_be16(icmp + 2, dp::csum::field(icmpv6_pseudo_sum(ip, icmp_length) + dp::csum::sum(icmp, icmp_length)));
  return answer_length;
}

bool resolved_mac(const uint8_t* f, uint16_t length, const Classified& c, const IpAddress& from,
                  Mac& mac) noexcept {
  if (c.kind == FrameKind::kArpReply) {
    const uint8_t* a = f + c.l2;
    if (from.v6 || std::memcmp(a + 14, from.bytes.data(), 4) != 0) return false;
    std::memcpy(mac.data(), a + 8, 6);
    return true;
  }
  if (c.kind != FrameKind::kNeighborAdvertisement || !from.v6) return false;
  const uint8_t* ip = f + c.l2;
  const uint8_t* icmp = ip + 40;
  if (std::memcmp(icmp + 8, from.bytes.data(), 16) != 0) return false;
  std::memcpy(mac.data(), f + 6, 6);
  // The target link-layer address option, if any, is authoritative.
  const size_t end = std::min<size_t>(length, c.l2 + 40u + load_be16(ip + 4));
  for (size_t pos = c.l2 + 40u + kNdMessage; pos + 8 <= end;) {
    const size_t opt_length = f[pos + 1] * 8u;
    if (opt_length == 0) break;
    if (f[pos] == kOptTargetLinkAddress) {
      std::memcpy(mac.data(), f + pos + 2, 6);
      break;
    }
    pos += opt_length;
  }
  return true;
}

uint16_t build_resolve_request(uint8_t* out, const Mac& our_mac, uint16_t vlan, const IpAddress& source,
                               const IpAddress& target) noexcept {
  std::memset(out, 0, kMaxResolveFrame);
  std::memcpy(out + 6, our_mac.data(), 6);
  uint16_t l2 = 14;
  if (vlan) {
    store_be16(out + 12, kEtherVlan);
    store_be16(out + 14, vlan);
    l2 = 18;
  }
  if (!target.v6) {
    std::memset(out, 0xff, 6);
    store_be16(out + l2 - 2, kEtherArp);
    uint8_t* a = out + l2;
    store_be16(a, 1);
    store_be16(a + 2, kEtherIpv4);
    a[4] = 6;
    a[5] = 4;
    store_be16(a + 6, 1);  // request
    std::memcpy(a + 8, our_mac.data(), 6);
    std::memcpy(a + 14, source.bytes.data(), 4);
    std::memcpy(a + 24, target.bytes.data(), 4);
    // Padded to the Ethernet minimum (plus the tag, as 802.1Q bridges expect).
    return static_cast<uint16_t>(kMinFrame + (vlan ? 4 : 0));
  }
  // RFC 4861 section 7.2.2: to the solicited-node multicast address
  // ff02::1:ffXX:XXXX of the target (RFC 4291 section 2.7.1), whose MAC is
  // 33:33 and its last 32 bits (RFC 2464 section 7).
  static constexpr uint8_t kSolicitedNode[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  out[0] = 0x33;
  out[1] = 0x33;
  out[2] = 0xff;
  std::memcpy(out + 3, target.bytes.data() + 13, 3);
  store_be16(out + l2 - 2, kEtherIpv6);
  uint8_t* ip = out + l2;
  store_be32(ip, 0x6000'0000);
  store_be16(ip + 4, kNdMessage + kNdLinkOption);
  ip[6] = kProtoIcmpv6;
  ip[7] = 255;
  std::memcpy(ip + 8, source.bytes.data(), 16);
  std::memcpy(ip + 24, kSolicitedNode, 13);
  std::memcpy(ip + 37, target.bytes.data() + 13, 3);
  uint8_t* icmp = ip + 40;
  icmp[0] = kNeighborSolicitation;
  std::memcpy(icmp + 8, target.bytes.data(), 16);
  uint8_t* opt = icmp + kNdMessage;
  opt[0] = kOptSourceLinkAddress;
  opt[1] = 1;
  std::memcpy(opt + 2, our_mac.data(), 6);
  const uint16_t icmp_length = kNdMessage + kNdLinkOption;
  store_be16(icmp + 2, dp::csum::field(icmpv6_pseudo_sum(ip, icmp_length) + dp::csum::sum(icmp, icmp_length)));
  return static_cast<uint16_t>(l2 + 40 + icmp_length);
}

}  // namespace tachyon::gen
