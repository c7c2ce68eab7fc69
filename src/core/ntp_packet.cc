#include "core/ntp_packet.h"

namespace tachyon::core {

NtpHeader decode_header(std::span<const uint8_t> bytes) noexcept {
  const uint8_t* p = bytes.data();
  NtpHeader h;
  h.leap = leap_of(p[off::kLiVnMode]);
  h.version = version_of(p[off::kLiVnMode]);
  h.mode = mode_of(p[off::kLiVnMode]);
  h.stratum = p[off::kStratum];
  h.poll = static_cast<int8_t>(p[off::kPoll]);
  h.precision = static_cast<int8_t>(p[off::kPrecision]);
  h.root_delay = NtpShort{load_be32(p + off::kRootDelay)};
  h.root_dispersion = NtpShort{load_be32(p + off::kRootDispersion)};
  h.refid = load_be32(p + off::kRefid);
  h.reference = NtpTimestamp{load_be64(p + off::kReference)};
  h.origin = NtpTimestamp{load_be64(p + off::kOrigin)};
  h.receive = NtpTimestamp{load_be64(p + off::kReceive)};
  h.transmit = NtpTimestamp{load_be64(p + off::kTransmit)};
  return h;
}

void encode_header(const NtpHeader& h, std::span<uint8_t> out) noexcept {
  uint8_t* p = out.data();
  p[off::kLiVnMode] = pack_li_vn_mode(h.leap, h.version, h.mode);
  p[off::kStratum] = h.stratum;
  p[off::kPoll] = static_cast<uint8_t>(h.poll);
  p[off::kPrecision] = static_cast<uint8_t>(h.precision);
  store_be32(p + off::kRootDelay, h.root_delay.raw);
  store_be32(p + off::kRootDispersion, h.root_dispersion.raw);
  store_be32(p + off::kRefid, h.refid);
  store_be64(p + off::kReference, h.reference.raw);
  store_be64(p + off::kOrigin, h.origin.raw);
  store_be64(p + off::kReceive, h.receive.raw);
  store_be64(p + off::kTransmit, h.transmit.raw);
}

Trailer parse_trailer(std::span<const uint8_t> packet, uint8_t version) noexcept {
  Trailer t;
  size_t pos = kNtpHeaderSize;
  const size_t end = packet.size();

  // RFC 7822 section 7.5: as long as more than a MAC's worth of bytes is
  // left, what follows must be an extension field. Only NTPv4 has them.
  while (end - pos > kMaxLegacyMacSize) {
    if (version < 4) {
      t.status = TrailerStatus::kExtensionNotAllowed;
      return t;
    }
    if (t.extension_count == kMaxExtensionFields) {
      t.status = TrailerStatus::kTooManyExtensions;
      return t;
    }
    const size_t length = load_be16(packet.data() + pos + 2);
    if (length < kMinExtensionFieldSize) {
      t.status = TrailerStatus::kExtensionTooShort;
      return t;
    }
    if (length % 4 != 0) {
      t.status = TrailerStatus::kExtensionMisaligned;
      return t;
    }
    if (length > end - pos) {
      t.status = TrailerStatus::kExtensionOverflow;
      return t;
    }
    ++t.extension_count;
    pos += length;
  }

  const size_t left = end - pos;
  switch (left) {
    case 0:
      break;
    case kCryptoNakSize:
      t.crypto_nak = true;
      t.mac_offset = static_cast<uint16_t>(pos);
      break;
    case kMd5MacSize:
    case kSha1MacSize:
      t.mac_offset = static_cast<uint16_t>(pos);
      t.mac_length = static_cast<uint16_t>(left);
      break;
    default:
      // A trailing extension field shorter than 28 bytes would land here too;
      // RFC 7822 forbids it precisely so that it cannot be mistaken for a MAC.
      t.status = TrailerStatus::kBadMacLength;
      break;
  }
  return t;
}

const char* trailer_status_name(TrailerStatus s) noexcept {
  switch (s) {
    case TrailerStatus::kOk: return "ok";
    case TrailerStatus::kExtensionTooShort: return "extension field shorter than 16 bytes";
    case TrailerStatus::kExtensionMisaligned: return "extension field length not a multiple of 4";
    case TrailerStatus::kExtensionOverflow: return "extension field runs past the end of the packet";
    case TrailerStatus::kExtensionNotAllowed: return "extension fields before NTPv4";
    case TrailerStatus::kBadMacLength: return "trailer is neither a MAC nor a crypto-NAK";
    case TrailerStatus::kTooManyExtensions: return "too many extension fields";
  }
  return "unknown";
}

}  // namespace tachyon::core
