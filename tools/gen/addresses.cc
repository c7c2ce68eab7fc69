#include "tools/gen/addresses.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

namespace tachyon::gen {
namespace {

// Host bits of `a` below `length`, as an offset (saturating at 2^63 for
// IPv6, which is more than any client count).
uint64_t host_offset(const IpAddress& a, uint8_t length) {
  const size_t bits = a.size() * 8;
  uint64_t v = 0;
  for (size_t bit = length; bit < bits; ++bit) {
    const bool set = (a.bytes[bit / 8] >> (7 - bit % 8)) & 1;
    if (bits - bit > 63) {
      if (set) return UINT64_MAX;
      continue;
    }
    v = (v << 1) | (set ? 1 : 0);
  }
  return v;
}

IpAddress network_of(IpAddress a, uint8_t length) {
  for (size_t bit = length; bit < a.size() * 8; ++bit) a.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  return a;
}

IpAddress with_offset(const Prefix& p, uint64_t offset) {
  IpAddress a = p.base;
  // Adds `offset` to the address as a big-endian integer.
  uint64_t carry = offset;
  for (size_t i = a.size(); i-- > 0 && carry != 0;) {
    const uint64_t sum = a.bytes[i] + (carry & 0xff);
    a.bytes[i] = static_cast<uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return a;
}

}  // namespace

Result<IpAddress> parse_ip(std::string_view text) {
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a = IpAddress{};
  a.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return Result<IpAddress>::error("\"" + s + "\" is not an IPv4 or IPv6 address");
}

Result<Prefix> parse_prefix(std::string_view text) {
  const size_t slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return Result<Prefix>::error(address.message());
  Prefix p;
  p.base = *address;
  const unsigned max = address->v6 ? 128 : 32;
  p.length = static_cast<uint8_t>(max);
  if (slash != std::string_view::npos) {
    const std::string len(text.substr(slash + 1));
    unsigned v = 0;
    int used = 0;
    if (len.empty() || len.size() > 3 || !std::isdigit(static_cast<unsigned char>(len[0])) ||
        std::sscanf(len.c_str(), "%u%n", &v, &used) != 1 || static_cast<size_t>(used) != len.size() || v > max) {
      return Result<Prefix>::error("\"" + std::string(text) + "\": prefix length must be 0 to " +
                                   std::to_string(max));
    }
    p.length = static_cast<uint8_t>(v);
  }
  if (host_offset(p.base, p.length) != 0) {
    return Result<Prefix>::error("\"" + std::string(text) + "\" has host bits set (did you mean " +
                                 to_string(Prefix{network_of(p.base, p.length), p.length}) + "?)");
  }
  return p;
}

Result<Mac> parse_mac(std::string_view text) {
  Mac m{};
  unsigned v[6];
  const std::string s(text);
  char sep[5];
  int used = 0;
  if (s.size() == 17 &&
      std::sscanf(s.c_str(), "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%n", &v[0], &sep[0], &v[1], &sep[1], &v[2], &sep[2],
                  &v[3], &sep[3], &v[4], &sep[4], &v[5], &used) == 11 &&
      used == 17) {
    bool ok = true;
    for (char c : sep) ok = ok && (c == ':' || c == '-');
    for (size_t i = 0; ok && i < s.size(); ++i) {
      ok = (i % 3 == 2) || std::isxdigit(static_cast<unsigned char>(s[i]));
    }
    if (ok) {
      for (size_t i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
      return m;
    }
  }
  return Result<Mac>::error("\"" + s + "\" is not a MAC address (expected six hex bytes: 02:00:00:00:00:01)");
}

std::string to_string(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string to_string(const Prefix& p) { return to_string(p.base) + "/" + std::to_string(p.length); }

std::string to_string(const Mac& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

bool prefix_contains(const Prefix& p, const IpAddress& a) noexcept {
  if (a.v6 != p.base.v6) return false;
  const size_t full = p.length / 8;
  if (std::memcmp(a.bytes.data(), p.base.bytes.data(), full) != 0) return false;
  const unsigned rest = p.length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff00u >> rest);
  return (a.bytes[full] & mask) == (p.base.bytes[full] & mask);
}

Result<std::vector<IpAddress>> client_addresses(const Prefix& prefix, uint32_t count,
                                                const std::vector<IpAddress>& exclude) {
  const unsigned host_bits = (prefix.base.v6 ? 128u : 32u) - prefix.length;
  // Offsets [first, last] are usable.
  const uint64_t size = host_bits >= 63 ? (uint64_t{1} << 63) : (uint64_t{1} << host_bits);
  uint64_t first = 0;
  uint64_t last = size - 1;
  if (!prefix.base.v6 && host_bits >= 2) {
    first = 1;      // network address
    last = size - 2;  // directed broadcast
  } else if (prefix.base.v6 && host_bits >= 2) {
    first = 1;  // subnet-router anycast (RFC 4291 section 2.6.1)
  }
  std::vector<IpAddress> out;
  for (uint64_t off = first; off <= last && out.size() < count; ++off) {
    const IpAddress a = with_offset(prefix, off);
    if (std::find(exclude.begin(), exclude.end(), a) != exclude.end()) continue;
    out.push_back(a);
  }
  if (out.empty()) {
    return Result<std::vector<IpAddress>>::error("no usable client address in " + to_string(prefix) +
                                                 " (the network and broadcast addresses and the server's "
                                                 "own are never used)");
  }
  return out;
}

ClientSet::ClientSet(std::vector<IpAddress> sorted) : addresses_(std::move(sorted)) {
  std::sort(addresses_.begin(), addresses_.end());
}

bool ClientSet::contains_v4(const uint8_t* address) const noexcept {
  IpAddress a;
  std::memcpy(a.bytes.data(), address, 4);
  return std::binary_search(addresses_.begin(), addresses_.end(), a);
}

bool ClientSet::contains_v6(const uint8_t* address) const noexcept {
  IpAddress a;
  a.v6 = true;
  std::memcpy(a.bytes.data(), address, 16);
  return std::binary_search(addresses_.begin(), addresses_.end(), a);
}

}  // namespace tachyon::gen
