// A set of IPv4 and IPv6 prefixes, each with a value, answering "which
// value does the longest matching prefix carry?" for an address. Used by
// the access list (allow/deny per client) and the mode 6 allow-list.
//
// Lookup is allocation-free and costs one branchless binary search: the
// prefixes (which nest or are disjoint) are flattened into a sorted array
// of address ranges, each carrying the value of the longest prefix that
// covers it, so the number of prefixes or of distinct lengths barely
// matters. Built on the control path (add(), then build()), then
// immutable: any number of threads may look up concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/result.h"

namespace tachyon::core {

// An IPv4 (mapped into the low 32 bits, v6 == false) or IPv6 address.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4 bytes, network order

  static IpAddress ipv4(uint32_t host_order) noexcept;
  static IpAddress ipv6(const uint8_t* network_order) noexcept;
  static std::optional<IpAddress> parse(const std::string& text);
  std::string to_string() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

__extension__ using uint128 = unsigned __int128;

template <typename Value>
class PrefixSet {
  // lookup() returns a pointer into a vector: std::vector<bool> has none.
  static_assert(!std::is_same_v<Value, bool>, "use an enum or a byte, not bool");

 public:
  // Adds (or replaces) the value of `address`/`length`. Bits below the
  // length are ignored. Control path only; build() before looking up.
  void add(const IpAddress& address, uint8_t length, Value value);

  // Flattens what was added into the lookup arrays. O(N log N).
  void build();

  // The value of the longest prefix containing `address`, if any.
  // REQUIRES: build() since the last add().
  const Value* lookup(const IpAddress& address) const noexcept;

  bool empty() const noexcept { return prefixes4_.empty() && prefixes6_.empty(); }
  // Distinct prefixes. REQUIRES: build().
  size_t size() const noexcept { return values_.size(); }
  // Ranges after flattening (for tests and sizing).
  size_t ranges() const noexcept { return starts4_.size() + starts6_.size(); }

 private:
  template <typename Key>
  struct Entry {
    Key start;  // first address, masked
    Key last;   // last address of the prefix
    uint8_t length;
    Value value;
  };
  template <typename Key>
  static void flatten(std::vector<Entry<Key>>& prefixes, std::vector<Key>& starts, std::vector<int32_t>& slots);
  template <typename Key>
  static int32_t find(const std::vector<Key>& starts, const std::vector<int32_t>& slots, Key key) noexcept;

  std::vector<Entry<uint32_t>> prefixes4_;
  std::vector<Entry<uint128>> prefixes6_;
  // Range i covers [starts[i], starts[i+1]); slots[i] indexes values_ or is -1.
  std::vector<uint32_t> starts4_;
  std::vector<int32_t> slots4_;
  std::vector<uint128> starts6_;
  std::vector<int32_t> slots6_;
  std::vector<Value> values_;
};

// "192.0.2.0/24", "2001:db8::/32", or a bare address (a host prefix).
struct Prefix {
  IpAddress address;
  uint8_t length = 0;
  friend bool operator==(const Prefix&, const Prefix&) = default;
};
Result<Prefix> parse_prefix(const std::string& text);

}  // namespace tachyon::core

#include "core/prefix_set_impl.h"
