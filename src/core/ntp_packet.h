// NTP packet codec over byte spans (RFC 5905 section 7.3, RFC 7822).
//
// A packet is a fixed 48-byte header optionally followed by extension fields
// (NTPv4 only, RFC 7822) and/or a legacy MAC (key id + digest) or a 4-byte
// crypto-NAK. The codec never allocates and never reads outside the span it
// is given; every function is noexcept and thread-compatible.
//
// Field accessors work directly on the wire bytes so the hot path can touch
// only the fields it needs; NtpHeader is the decoded form for the control
// path, tests and tools.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "core/ntp_time.h"

namespace tachyon::core {

inline constexpr size_t kNtpHeaderSize = 48;

// Association modes (RFC 5905 figure 10).
enum class Mode : uint8_t {
  kReserved = 0,
  kSymmetricActive = 1,
  kSymmetricPassive = 2,
  kClient = 3,
  kServer = 4,
  kBroadcast = 5,
  kControl = 6,
  kPrivate = 7,
};

// Leap indicator (RFC 5905 figure 9).
enum class Leap : uint8_t {
  kNone = 0,
  kInsert = 1,   // last minute of the day has 61 seconds
  kDelete = 2,   // last minute of the day has 59 seconds
  kUnsync = 3,   // clock unsynchronized
};

inline constexpr uint8_t kStratumUnsynchronized = 16;
inline constexpr uint8_t kStratumKiss = 0;

// Byte offsets of the header fields.
namespace off {
inline constexpr size_t kLiVnMode = 0;
inline constexpr size_t kStratum = 1;
inline constexpr size_t kPoll = 2;
inline constexpr size_t kPrecision = 3;
inline constexpr size_t kRootDelay = 4;
inline constexpr size_t kRootDispersion = 8;
inline constexpr size_t kRefid = 12;
inline constexpr size_t kReference = 16;
inline constexpr size_t kOrigin = 24;
inline constexpr size_t kReceive = 32;
inline constexpr size_t kTransmit = 40;
}  // namespace off

// Big-endian loads and stores. memcpy keeps them free of alignment and
// aliasing assumptions; compilers turn them into a single mov + bswap.
inline uint32_t load_be32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}
inline uint64_t load_be64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap64(v);
}
inline uint16_t load_be16(const uint8_t* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}
inline void store_be16(uint8_t* p, uint16_t v) noexcept {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be32(uint8_t* p, uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}
inline void store_be64(uint8_t* p, uint64_t v) noexcept {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof v);
}

constexpr uint8_t pack_li_vn_mode(Leap li, uint8_t vn, Mode mode) noexcept {
  return static_cast<uint8_t>((static_cast<uint8_t>(li) << 6) | ((vn & 7u) << 3) |
                              static_cast<uint8_t>(mode));
}
constexpr Leap leap_of(uint8_t li_vn_mode) noexcept { return static_cast<Leap>(li_vn_mode >> 6); }
constexpr uint8_t version_of(uint8_t li_vn_mode) noexcept { return (li_vn_mode >> 3) & 7u; }
constexpr Mode mode_of(uint8_t li_vn_mode) noexcept { return static_cast<Mode>(li_vn_mode & 7u); }

// The decoded 48-byte header.
struct NtpHeader {
  Leap leap = Leap::kNone;
  uint8_t version = 4;
  Mode mode = Mode::kClient;
  uint8_t stratum = 0;
  int8_t poll = 0;
  int8_t precision = 0;
  NtpShort root_delay;
  NtpShort root_dispersion;
  uint32_t refid = 0;
  NtpTimestamp reference;  // reftime
  NtpTimestamp origin;     // org
  NtpTimestamp receive;    // rec
  NtpTimestamp transmit;   // xmt

  friend bool operator==(const NtpHeader&, const NtpHeader&) = default;
};

// Decodes the header. REQUIRES: bytes.size() >= kNtpHeaderSize.
NtpHeader decode_header(std::span<const uint8_t> bytes) noexcept;

// Encodes the header into the first 48 bytes of `out`.
// REQUIRES: out.size() >= kNtpHeaderSize.
void encode_header(const NtpHeader& h, std::span<uint8_t> out) noexcept;

// What follows the header. RFC 7822 section 7.5: extension fields are at
// least 16 bytes, a multiple of 4, and come first; whatever is left at the
// end, if 24 bytes or less, is a MAC (key id + digest) or, if exactly 4 bytes,
// a crypto-NAK (key id 0).
enum class TrailerStatus : uint8_t {
  kOk,
  kExtensionTooShort,     // field length below 16 bytes
  kExtensionMisaligned,   // field length not a multiple of 4
  kExtensionOverflow,     // field length runs past the end of the packet
  kExtensionNotAllowed,   // extension fields in a packet older than NTPv4
  kBadMacLength,          // leftover bytes that are neither a MAC nor a NAK
  kTooManyExtensions,     // more than kMaxExtensionFields fields
};

inline constexpr size_t kMinExtensionFieldSize = 16;
inline constexpr size_t kCryptoNakSize = 4;
inline constexpr size_t kMd5MacSize = 20;    // key id + 16-byte digest (MD5, AES-CMAC)
inline constexpr size_t kSha1MacSize = 24;   // key id + 20-byte digest
inline constexpr size_t kMaxLegacyMacSize = kSha1MacSize;
// Bound on the fields walked, so a packet of many small fields costs O(1).
inline constexpr size_t kMaxExtensionFields = 16;

struct Trailer {
  TrailerStatus status = TrailerStatus::kOk;
  uint8_t extension_count = 0;
  bool crypto_nak = false;
  // Offset and length of the MAC (key id included) inside the packet;
  // mac_length is 0 when there is none.
  uint16_t mac_offset = 0;
  uint16_t mac_length = 0;

  bool has_mac() const noexcept { return mac_length > 0; }
  // REQUIRES: has_mac() or crypto_nak.
  uint32_t key_id(std::span<const uint8_t> packet) const noexcept {
    return load_be32(packet.data() + mac_offset);
  }
};

// Parses and bounds-checks everything after the header.
// REQUIRES: packet.size() >= kNtpHeaderSize.
Trailer parse_trailer(std::span<const uint8_t> packet, uint8_t version) noexcept;

const char* trailer_status_name(TrailerStatus s) noexcept;

}  // namespace tachyon::core
