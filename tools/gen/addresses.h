// Addresses as tachyon-gen handles them: IPv4/IPv6 addresses and prefixes
// parsed from the command line, MAC addresses, and the set of simulated
// client addresses drawn from a prefix.
//
// Control path only (parsing, start-up); the per-packet path uses the
// precomputed forms in RequestBuilder and ClientSet. Thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tachyon::gen {

using Mac = std::array<uint8_t, 6>;

// An IPv4 or IPv6 address in network byte order. IPv4 uses bytes[0..3].
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  size_t size() const noexcept { return v6 ? 16 : 4; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct Prefix {
  IpAddress base;       // host bits cleared
  uint8_t length = 0;   // 0-32 or 0-128
};

// "192.0.2.1" or "2001:db8::1".
Result<IpAddress> parse_ip(std::string_view text);
// "192.0.2.128/25", "2001:db8:1::/64"; an address without "/LEN" is a
// single host. Host bits set below the prefix length are an error.
Result<Prefix> parse_prefix(std::string_view text);
// "02:00:00:00:00:01" (or with '-').
Result<Mac> parse_mac(std::string_view text);

std::string to_string(const IpAddress& a);
std::string to_string(const Prefix& p);
std::string to_string(const Mac& m);

bool prefix_contains(const Prefix& p, const IpAddress& a) noexcept;

// Up to `count` client addresses from `prefix`, in ascending order. Skips
// the addresses a host must not use as its own: for IPv4 the network and
// broadcast addresses of prefixes shorter than /31, for IPv6 the
// subnet-router anycast address (interface ID 0) of prefixes shorter than
// /127; and every address in `exclude` (the server, a gateway). Error if
// none is left.
Result<std::vector<IpAddress>> client_addresses(const Prefix& prefix, uint32_t count,
                                                const std::vector<IpAddress>& exclude);

// The simulated clients' addresses, for answering ARP requests and
// neighbor solicitations sent to them (a kernel server must resolve them
// before it can answer). Lookups are binary searches: control traffic only.
class ClientSet {
 public:
  ClientSet() = default;
  explicit ClientSet(std::vector<IpAddress> sorted);

  bool contains_v4(const uint8_t* address) const noexcept;
  bool contains_v6(const uint8_t* address) const noexcept;
  const std::vector<IpAddress>& addresses() const noexcept { return addresses_; }

 private:
  std::vector<IpAddress> addresses_;  // ascending
};

}  // namespace tachyon::gen
