// Test helper: builds Ethernet frames (optionally 802.1Q-tagged) carrying
// NTP over UDP/IPv4/IPv6, ARP, ICMP/ICMPv6 echo and neighbor solicitation,
// and the answers a correct server sends back. Deliberately independent of
// the code under test: its own layouts and a naive 16-bit checksum.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tachyon::testing {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;
using Ip6 = std::array<uint8_t, 16>;

struct Host {
  Mac mac{};
  uint32_t ipv4 = 0;  // host byte order
  Ip6 ipv6{};
  uint16_t port = 0;
};

Ip6 ipv6_from_string(const std::string& text);
uint32_t ipv4_from_string(const std::string& text);  // host order
Mac mac_from_string(const std::string& text);

uint16_t internet_checksum(const Bytes& data, size_t offset, size_t length, uint32_t initial = 0);

// UDP datagram from `src` to `dst` (IPv4 unless v6), optionally tagged.
Bytes udp_frame(const Host& src, const Host& dst, bool v6, uint16_t vlan, const Bytes& payload,
                uint8_t ttl = 64, bool dont_fragment = false);
Bytes icmp_echo(const Host& src, const Host& dst, uint16_t vlan, bool reply, uint16_t id, uint16_t seq,
                const Bytes& data, uint8_t ttl = 64);
Bytes icmpv6_echo(const Host& src, const Host& dst, uint16_t vlan, bool reply, uint16_t id, uint16_t seq,
                  const Bytes& data, uint8_t hop_limit = 64);
// ARP request from `src` for `target_ip` (broadcast), or reply to `dst`.
Bytes arp_request(const Host& src, uint32_t target_ip, uint16_t vlan);
Bytes arp_reply(const Host& from, const Host& to, uint16_t vlan, size_t pad_to);
// Neighbor solicitation from `src` for `target`, to its solicited-node
// multicast group (or unicast to `target` with `dst_mac`).
Bytes neighbor_solicitation(const Host& src, const Ip6& target, bool multicast, const Mac& dst_mac,
                            bool with_source_link_address, uint16_t vlan);
Bytes neighbor_advertisement(const Mac& from_mac, const Ip6& target, const Host& to, bool with_target_link_address,
                             uint16_t vlan);

// Offsets inside frames built here.
size_t l2_length(uint16_t vlan);
size_t ntp_offset(bool v6, uint16_t vlan);

// Overwrites 8 bytes of the NTP payload (at `ntp_field` within it) of a UDP
// frame built by udp_frame() and recomputes the UDP checksum.
void patch_ntp_timestamp(Bytes& frame, bool v6, uint16_t vlan, size_t ntp_field, uint64_t value);

std::string hex_diff(const Bytes& expected, const Bytes& actual);

}  // namespace tachyon::testing
