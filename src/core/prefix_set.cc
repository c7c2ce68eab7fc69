#include "core/prefix_set.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tachyon::core {

IpAddress IpAddress::ipv4(uint32_t host_order) noexcept {
  IpAddress a;
  a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::ipv6(const uint8_t* network_order) noexcept {
  IpAddress a;
  a.v6 = true;
  std::memcpy(a.bytes.data(), network_order, 16);
  return a;
}

std::optional<IpAddress> IpAddress::parse(const std::string& text) {
  IpAddress a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<Prefix> parse_prefix(const std::string& text) {
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return Result<Prefix>::error("expected an IPv4 or IPv6 address or prefix, found \"" + text + "\"");
  Prefix p{*address, static_cast<uint8_t>(address->v6 ? 128 : 32)};
  if (slash != std::string::npos) {
    const std::string len = text.substr(slash + 1);
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
    if (len.empty() || ec != std::errc() || end != len.data() + len.size() || v > (address->v6 ? 128u : 32u)) {
      return Result<Prefix>::error("bad prefix length in \"" + text + "\" (0-" + (address->v6 ? "128" : "32") + ")");
    }
    p.length = static_cast<uint8_t>(v);
  }
  return p;
}

}  // namespace tachyon::core
