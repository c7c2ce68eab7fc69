// SHA-1 (FIPS 180-4), for checking the hash an IERS leap-seconds.list file
// carries (its "#h" line). Not for anything that needs collision
// resistance: the hash only catches a damaged or hand-edited file.
//
// Thread-compatible value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tachyon::clock {

class Sha1 {
 public:
  using Digest = std::array<uint32_t, 5>;  // five big-endian words, as "#h" prints them

  void update(std::string_view data) noexcept;
  // REQUIRES: called once; the object is spent afterwards.
  Digest finish() noexcept;

  static Digest of(std::string_view data) noexcept {
    Sha1 h;
    h.update(data);
    return h.finish();
  }

 private:
  void block(const uint8_t* p) noexcept;

  Digest h_{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes
};

}  // namespace tachyon::clock
