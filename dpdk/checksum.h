// The Internet checksum (RFC 1071) as the frame path computes it: sums of
// native-order 32-bit words in a 64-bit accumulator (no carry can be lost
// below 2^32 words), folded to 16 bits and byte-swapped once at the end.
// RFC 1071 section 2 shows the one's-complement sum is independent of byte
// order, which is what makes the native-order sum correct.
//
// Fixed sizes are templates so the compiler unrolls them into a few loads
// and adds: the per-packet path never calls a function to checksum.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tachyon::dp::csum {

// Native-order sum of N bytes. REQUIRES: N % 4 == 0.
template <size_t N>
inline uint64_t sum(const uint8_t* p) noexcept {
  static_assert(N % 4 == 0);
  uint64_t s = 0;
  for (size_t i = 0; i < N; i += 4) {
    uint32_t w;
    std::memcpy(&w, p + i, 4);
    s += w;
  }
  return s;
}

// Native-order sum of any number of bytes.
inline uint64_t sum(const uint8_t* p, size_t n) noexcept {
  uint64_t s = 0;
  while (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    s += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    s += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) s += *p;  // the odd byte is the high byte of a big-endian word: the low one natively
  return s;
}

// A big-endian 16-bit value as it adds into a native-order sum.
constexpr uint64_t be16(uint16_t v) noexcept { return static_cast<uint16_t>((v >> 8) | (v << 8)); }

// Folds a native-order sum to 16 bits, in network order (not complemented).
// Each halving adds the value to itself rotated by half its width: the
// upper half then holds the sum of both halves plus the carry out of the
// lower one, which is the one's-complement sum with its end-around carry
// (as Linux's csum_fold does). Two steps of three instructions, where
// masking and shifting took five dependent steps.
[[gnu::always_inline]] inline uint16_t fold(uint64_t s) noexcept {
  const auto x = static_cast<uint32_t>((s + std::rotr(s, 32)) >> 32);
  const auto y = static_cast<uint16_t>((x + std::rotr(x, 16)) >> 16);
  return __builtin_bswap16(y);
}

// The checksum field value for a native-order sum (complemented fold).
[[gnu::always_inline]] inline uint16_t field(uint64_t s) noexcept { return static_cast<uint16_t>(~fold(s)); }

// A one's-complement sum that verifies: the fold of data including its
// checksum field is all ones.
[[gnu::always_inline]] inline bool verifies(uint64_t s) noexcept { return fold(s) == 0xffff; }

}  // namespace tachyon::dp::csum
