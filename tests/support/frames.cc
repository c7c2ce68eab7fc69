#include "tests/support/frames.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace tachyon::testing {
namespace {

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void put32(Bytes& b, size_t at, uint32_t v) {
  put16(b, at, static_cast<uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<uint16_t>(v));
}
void append(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t vlan, uint16_t ethertype) {
  Bytes b;
  append(b, dst.data(), 6);
  append(b, src.data(), 6);
  if (vlan != 0) {
    b.resize(b.size() + 4);
    put16(b, 12, 0x8100);
    put16(b, 14, vlan);
  }
  b.resize(b.size() + 2);
  put16(b, b.size() - 2, ethertype);
  return b;
}

// IPv4 header at b.size(), for `l4_length` bytes of `proto`.
void ipv4_header(Bytes& b, uint32_t src, uint32_t dst, uint8_t proto, size_t l4_length, uint8_t ttl, bool df) {
  const size_t at = b.size();
  b.resize(at + 20, 0);
  b[at] = 0x45;
  put16(b, at + 2, static_cast<uint16_t>(20 + l4_length));
  put16(b, at + 6, df ? 0x4000 : 0);
  b[at + 8] = ttl;
  b[at + 9] = proto;
  put32(b, at + 12, src);
  put32(b, at + 16, dst);
  put16(b, at + 10, internet_checksum(b, at, 20));
}

void ipv6_header(Bytes& b, const Ip6& src, const Ip6& dst, uint8_t next, size_t l4_length, uint8_t hops) {
  const size_t at = b.size();
  b.resize(at + 40, 0);
  b[at] = 0x60;
  put16(b, at + 4, static_cast<uint16_t>(l4_length));
  b[at + 6] = next;
  b[at + 7] = hops;
  std::memcpy(&b[at + 8], src.data(), 16);
  std::memcpy(&b[at + 24], dst.data(), 16);
}

uint32_t pseudo4(uint32_t src, uint32_t dst, uint8_t proto, size_t len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + static_cast<uint32_t>(len);
}

uint32_t pseudo6(const Ip6& src, const Ip6& dst, uint8_t next, size_t len) {
  uint32_t s = next + static_cast<uint32_t>(len);
  for (size_t i = 0; i < 16; i += 2) s += static_cast<uint32_t>(src[i] << 8 | src[i + 1]);
  for (size_t i = 0; i < 16; i += 2) s += static_cast<uint32_t>(dst[i] << 8 | dst[i + 1]);
  return s;
}

void fill_udp_checksum(Bytes& b, bool v6, size_t ip, size_t udp, size_t udp_length) {
  put16(b, udp + 6, 0);
  uint32_t pseudo;
  if (v6) {
    Ip6 s, d;
    std::memcpy(s.data(), &b[ip + 8], 16);
    std::memcpy(d.data(), &b[ip + 24], 16);
    pseudo = pseudo6(s, d, 17, udp_length);
  } else {
    const uint32_t s = static_cast<uint32_t>(b[ip + 12] << 24 | b[ip + 13] << 16 | b[ip + 14] << 8 | b[ip + 15]);
    const uint32_t d = static_cast<uint32_t>(b[ip + 16] << 24 | b[ip + 17] << 16 | b[ip + 18] << 8 | b[ip + 19]);
    pseudo = pseudo4(s, d, 17, udp_length);
  }
  uint16_t c = internet_checksum(b, udp, udp_length, pseudo);
  put16(b, udp + 6, c == 0 ? 0xffff : c);
}

}  // namespace

Ip6 ipv6_from_string(const std::string& text) {
  Ip6 a{};
  if (inet_pton(AF_INET6, text.c_str(), a.data()) != 1) throw std::invalid_argument(text);
  return a;
}

uint32_t ipv4_from_string(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) throw std::invalid_argument(text);
  return ntohl(a.s_addr);
}

Mac mac_from_string(const std::string& text) {
  Mac m{};
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    throw std::invalid_argument(text);
  }
  for (size_t i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

uint16_t internet_checksum(const Bytes& data, size_t offset, size_t length, uint32_t initial) {
  uint64_t sum = initial;
  for (size_t i = 0; i + 1 < length; i += 2) sum += static_cast<uint32_t>(data[offset + i] << 8 | data[offset + i + 1]);
  if (length % 2) sum += static_cast<uint32_t>(data[offset + length - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

size_t l2_length(uint16_t vlan) { return vlan ? 18 : 14; }
size_t ntp_offset(bool v6, uint16_t vlan) { return l2_length(vlan) + (v6 ? 40 : 20) + 8; }

Bytes udp_frame(const Host& src, const Host& dst, bool v6, uint16_t vlan, const Bytes& payload, uint8_t ttl,
                bool dont_fragment) {
  Bytes b = ethernet(dst.mac, src.mac, vlan, v6 ? 0x86dd : 0x0800);
  const size_t ip = b.size();
  const size_t udp_length = 8 + payload.size();
  if (v6) {
    ipv6_header(b, src.ipv6, dst.ipv6, 17, udp_length, ttl);
  } else {
    ipv4_header(b, src.ipv4, dst.ipv4, 17, udp_length, ttl, dont_fragment);
  }
  const size_t udp = b.size();
  b.resize(udp + 8, 0);
  put16(b, udp, src.port);
  put16(b, udp + 2, dst.port);
  put16(b, udp + 4, static_cast<uint16_t>(udp_length));
  append(b, payload.data(), payload.size());
  fill_udp_checksum(b, v6, ip, udp, udp_length);
  return b;
}

Bytes icmp_echo(const Host& src, const Host& dst, uint16_t vlan, bool reply, uint16_t id, uint16_t seq,
                const Bytes& data, uint8_t ttl) {
  Bytes b = ethernet(dst.mac, src.mac, vlan, 0x0800);
  ipv4_header(b, src.ipv4, dst.ipv4, 1, 8 + data.size(), ttl, false);
  const size_t at = b.size();
  b.resize(at + 8, 0);
  b[at] = reply ? 0 : 8;
  put16(b, at + 4, id);
  put16(b, at + 6, seq);
  append(b, data.data(), data.size());
  put16(b, at + 2, internet_checksum(b, at, 8 + data.size()));
  return b;
}

Bytes icmpv6_echo(const Host& src, const Host& dst, uint16_t vlan, bool reply, uint16_t id, uint16_t seq,
                  const Bytes& data, uint8_t hop_limit) {
  Bytes b = ethernet(dst.mac, src.mac, vlan, 0x86dd);
  const size_t len = 8 + data.size();
  ipv6_header(b, src.ipv6, dst.ipv6, 58, len, hop_limit);
  const size_t at = b.size();
  b.resize(at + 8, 0);
  b[at] = reply ? 129 : 128;
  put16(b, at + 4, id);
  put16(b, at + 6, seq);
  append(b, data.data(), data.size());
  put16(b, at + 2, internet_checksum(b, at, len, pseudo6(src.ipv6, dst.ipv6, 58, len)));
  return b;
}

Bytes arp_request(const Host& src, uint32_t target_ip, uint16_t vlan) {
  Bytes b = ethernet(Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, src.mac, vlan, 0x0806);
  const size_t at = b.size();
  b.resize(at + 28, 0);
  put16(b, at, 1);
  put16(b, at + 2, 0x0800);
  b[at + 4] = 6;
  b[at + 5] = 4;
  put16(b, at + 6, 1);
  std::memcpy(&b[at + 8], src.mac.data(), 6);
  put32(b, at + 14, src.ipv4);
  put32(b, at + 24, target_ip);
  b.resize(60 + (vlan ? 4 : 0), 0);  // Ethernet minimum frame size
  return b;
}

Bytes arp_reply(const Host& from, const Host& to, uint16_t vlan, size_t pad_to) {
  Bytes b = ethernet(to.mac, from.mac, vlan, 0x0806);
  const size_t at = b.size();
  b.resize(at + 28, 0);
  put16(b, at, 1);
  put16(b, at + 2, 0x0800);
  b[at + 4] = 6;
  b[at + 5] = 4;
  put16(b, at + 6, 2);
  std::memcpy(&b[at + 8], from.mac.data(), 6);
  put32(b, at + 14, from.ipv4);
  std::memcpy(&b[at + 18], to.mac.data(), 6);
  put32(b, at + 24, to.ipv4);
  if (b.size() < pad_to) b.resize(pad_to, 0);
  return b;
}

Bytes neighbor_solicitation(const Host& src, const Ip6& target, bool multicast, const Mac& dst_mac,
                            bool with_source_link_address, uint16_t vlan) {
  Ip6 dst = target;
  Mac mac = dst_mac;
  if (multicast) {
    dst = Ip6{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, target[13], target[14], target[15]};
    mac = Mac{0x33, 0x33, dst[12], dst[13], dst[14], dst[15]};
  }
  Bytes b = ethernet(mac, src.mac, vlan, 0x86dd);
  const size_t len = 24 + (with_source_link_address ? 8 : 0);
  ipv6_header(b, src.ipv6, dst, 58, len, 255);
  const size_t at = b.size();
  b.resize(at + len, 0);
  b[at] = 135;
  std::memcpy(&b[at + 8], target.data(), 16);
  if (with_source_link_address) {
    b[at + 24] = 1;
    b[at + 25] = 1;
    std::memcpy(&b[at + 26], src.mac.data(), 6);
  }
  put16(b, at + 2, internet_checksum(b, at, len, pseudo6(src.ipv6, dst, 58, len)));
  return b;
}

Bytes neighbor_advertisement(const Mac& from_mac, const Ip6& target, const Host& to, bool with_target_link_address,
                             uint16_t vlan) {
  Bytes b = ethernet(to.mac, from_mac, vlan, 0x86dd);
  const size_t len = 24 + (with_target_link_address ? 8 : 0);
  ipv6_header(b, target, to.ipv6, 58, len, 255);
  const size_t at = b.size();
  b.resize(at + len, 0);
  b[at] = 136;
  b[at + 4] = 0x60;  // solicited, override
  std::memcpy(&b[at + 8], target.data(), 16);
  if (with_target_link_address) {
    b[at + 24] = 2;
    b[at + 25] = 1;
    std::memcpy(&b[at + 26], from_mac.data(), 6);
  }
  put16(b, at + 2, internet_checksum(b, at, len, pseudo6(target, to.ipv6, 58, len)));
  return b;
}

void patch_ntp_timestamp(Bytes& frame, bool v6, uint16_t vlan, size_t ntp_field, uint64_t value) {
  const size_t ntp = ntp_offset(v6, vlan);
  for (int i = 0; i < 8; ++i) frame[ntp + ntp_field + static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (56 - 8 * i));
  const size_t ip = l2_length(vlan);
  const size_t udp = ip + (v6 ? 40 : 20);
  const size_t udp_length = static_cast<size_t>(frame[udp + 4] << 8 | frame[udp + 5]);
  fill_udp_checksum(frame, v6, ip, udp, udp_length);
}

std::string hex_diff(const Bytes& expected, const Bytes& actual) {
  std::string out = "expected " + std::to_string(expected.size()) + " bytes, got " + std::to_string(actual.size()) +
                    "; differing offsets:";
  int shown = 0;
  for (size_t i = 0; i < std::max(expected.size(), actual.size()) && shown < 16; ++i) {
    const int e = i < expected.size() ? expected[i] : -1;
    const int a = i < actual.size() ? actual[i] : -1;
    if (e != a) {
      char buf[48];
      std::snprintf(buf, sizeof buf, " [%zu] %02x/%02x", i, e & 0xff, a & 0xff);
      out += buf;
      ++shown;
    }
  }
  return out;
}

}  // namespace tachyon::testing
