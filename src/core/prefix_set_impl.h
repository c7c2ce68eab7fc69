// PrefixSet's template implementation: included by prefix_set.h only.
#pragma once

#include <algorithm>

namespace tachyon::core {
namespace prefix_detail {

inline uint32_t key4(const IpAddress& a) noexcept {
  return uint32_t{a.bytes[0]} << 24 | uint32_t{a.bytes[1]} << 16 | uint32_t{a.bytes[2]} << 8 | a.bytes[3];
}

inline uint128 key6(const IpAddress& a) noexcept {
  uint128 k = 0;
  for (uint8_t b : a.bytes) k = k << 8 | b;
  return k;
}

template <typename Key>
constexpr Key host_mask(uint8_t host_bits) noexcept {
  return host_bits == 0 ? Key{0} : host_bits >= sizeof(Key) * 8 ? ~Key{0} : (Key{1} << host_bits) - 1;
}

}  // namespace prefix_detail

template <typename Value>
void PrefixSet<Value>::add(const IpAddress& address, uint8_t length, Value value) {
  using namespace prefix_detail;
  auto put = [&](auto& prefixes, auto key, uint8_t bits) {
    using Key = decltype(key);
    if (length > bits) length = bits;
    const Key host = host_mask<Key>(static_cast<uint8_t>(bits - length));
    prefixes.push_back({key & ~host, (key & ~host) | host, length, value});
  };
  if (address.v6) {
    put(prefixes6_, key6(address), uint8_t{128});
  } else {
    put(prefixes4_, key4(address), uint8_t{32});
  }
}

// Prefixes nest or are disjoint. Sorted by start, outer (shorter) first,
// a sweep with a stack of the enclosing prefixes yields the ranges: a
// prefix starts a range with its value; when it ends, the range after it
// takes the value of the prefix that encloses it, if any.
template <typename Value>
template <typename Key>
void PrefixSet<Value>::flatten(std::vector<Entry<Key>>& prefixes, std::vector<Key>& starts,
                               std::vector<int32_t>& slots) {
  starts.clear();
  slots.clear();
  // By start, outer (shorter) first; the same prefix added twice keeps the
  // value added last.
  std::stable_sort(prefixes.begin(), prefixes.end(), [](const Entry<Key>& a, const Entry<Key>& b) {
    return a.start != b.start ? a.start < b.start : a.length < b.length;
  });
  size_t kept = 0;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const bool replaced = i + 1 < prefixes.size() && prefixes[i + 1].start == prefixes[i].start &&
                          prefixes[i + 1].length == prefixes[i].length;
    if (!replaced) prefixes[kept++] = prefixes[i];
  }
  prefixes.resize(kept);
  std::vector<int32_t> stack;  // indexes into prefixes
  auto emit = [&](Key start, int32_t slot) {
    if (!starts.empty() && starts.back() == start) {
      slots.back() = slot;
    } else if (slots.empty() || slots.back() != slot) {
      starts.push_back(start);
      slots.push_back(slot);
    }
  };
  auto close_until = [&](bool all, Key before) {
    while (!stack.empty() && (all || prefixes[static_cast<size_t>(stack.back())].last < before)) {
      const Key end = prefixes[static_cast<size_t>(stack.back())].last;
      stack.pop_back();
      if (end == ~Key{0}) continue;  // reaches the top of the address space
      emit(end + 1, stack.empty() ? -1 : stack.back());
    }
  };
  if (prefixes.empty() || prefixes.front().start != 0) emit(0, -1);
  for (size_t i = 0; i < prefixes.size(); ++i) {
    close_until(false, prefixes[i].start);
    emit(prefixes[i].start, static_cast<int32_t>(i));
    stack.push_back(static_cast<int32_t>(i));
  }
  close_until(true, 0);
}

template <typename Value>
void PrefixSet<Value>::build() {
  flatten(prefixes4_, starts4_, slots4_);
  flatten(prefixes6_, starts6_, slots6_);
  // Slots index the (now sorted) prefix arrays: IPv4 values, then IPv6.
  values_.clear();
  for (const auto& e : prefixes4_) values_.push_back(e.value);
  const auto offset = static_cast<int32_t>(values_.size());
  for (auto& slot : slots6_) {
    if (slot >= 0) slot += offset;
  }
  for (const auto& e : prefixes6_) values_.push_back(e.value);
}

// The range containing `key`: the last start <= key, found without a
// data-dependent branch (the compiler emits conditional moves).
template <typename Value>
template <typename Key>
int32_t PrefixSet<Value>::find(const std::vector<Key>& starts, const std::vector<int32_t>& slots, Key key) noexcept {
  if (starts.empty()) return -1;
  const Key* base = starts.data();
  size_t n = starts.size();
  while (n > 1) {
    const size_t half = n / 2;
    base = base[half] <= key ? base + half : base;
    n -= half;
  }
  return slots[static_cast<size_t>(base - starts.data())];
}

template <typename Value>
const Value* PrefixSet<Value>::lookup(const IpAddress& address) const noexcept {
  using namespace prefix_detail;
  const int32_t slot = address.v6 ? find(starts6_, slots6_, key6(address)) : find(starts4_, slots4_, key4(address));
  return slot < 0 ? nullptr : &values_[static_cast<size_t>(slot)];
}

}  // namespace tachyon::core
