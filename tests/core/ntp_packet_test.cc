#include "core/ntp_packet.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace tachyon::core {
namespace {

std::vector<uint8_t> header_with_trailer(uint8_t version, std::vector<uint8_t> trailer) {
  std::vector<uint8_t> p(kNtpHeaderSize + trailer.size(), 0);
  p[0] = pack_li_vn_mode(Leap::kNone, version, Mode::kClient);
  std::copy(trailer.begin(), trailer.end(), p.begin() + kNtpHeaderSize);
  return p;
}

std::vector<uint8_t> extension(uint16_t type, uint16_t length) {
  std::vector<uint8_t> f(length < 4 ? 4 : length, 0xab);
  f[0] = static_cast<uint8_t>(type >> 8);
  f[1] = static_cast<uint8_t>(type);
  f[2] = static_cast<uint8_t>(length >> 8);
  f[3] = static_cast<uint8_t>(length);
  return f;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  size_t n = 0;
  for (const auto& p : parts) n += p.size();
  std::vector<uint8_t> out(n);
  auto it = out.begin();
  for (const auto& p : parts) it = std::copy(p.begin(), p.end(), it);
  return out;
}

TEST(NtpPacket, HeaderRoundTripsEveryField) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) {
    NtpHeader h;
    h.leap = static_cast<Leap>(rng() & 3);
    h.version = static_cast<uint8_t>(rng() & 7);
    h.mode = static_cast<Mode>(rng() & 7);
    h.stratum = static_cast<uint8_t>(rng());
    h.poll = static_cast<int8_t>(rng());
    h.precision = static_cast<int8_t>(rng());
    h.root_delay = NtpShort{static_cast<uint32_t>(rng())};
    h.root_dispersion = NtpShort{static_cast<uint32_t>(rng())};
    h.refid = static_cast<uint32_t>(rng());
    h.reference = NtpTimestamp{rng()};
    h.origin = NtpTimestamp{rng()};
    h.receive = NtpTimestamp{rng()};
    h.transmit = NtpTimestamp{rng()};
    uint8_t buf[kNtpHeaderSize];
    encode_header(h, buf);
    EXPECT_EQ(decode_header(buf), h);
  }
}

TEST(NtpPacket, FieldsSitAtRfc5905Offsets) {
  NtpHeader h;
  h.leap = Leap::kInsert;
  h.version = 3;
  h.mode = Mode::kServer;
  h.stratum = 2;
  h.poll = 6;
  h.precision = -23;
  h.root_delay = NtpShort{0x00010002};
  h.root_dispersion = NtpShort{0x00030004};
  h.refid = 0xc0000201;
  h.reference = NtpTimestamp{0x1111111122222222};
  h.origin = NtpTimestamp{0x3333333344444444};
  h.receive = NtpTimestamp{0x5555555566666666};
  h.transmit = NtpTimestamp{0x7777777788888888};
  uint8_t b[kNtpHeaderSize];
  encode_header(h, b);
  EXPECT_EQ(b[0], 0x5c);  // LI 1, VN 3, mode 4
  EXPECT_EQ(b[1], 2);
  EXPECT_EQ(b[2], 6);
  EXPECT_EQ(b[3], 0xe9);
  EXPECT_EQ(b[4], 0x00);
  EXPECT_EQ(b[7], 0x02);
  EXPECT_EQ(b[11], 0x04);
  EXPECT_EQ(b[12], 0xc0);
  EXPECT_EQ(b[16], 0x11);
  EXPECT_EQ(b[24], 0x33);
  EXPECT_EQ(b[32], 0x55);
  EXPECT_EQ(b[40], 0x77);
  EXPECT_EQ(b[47], 0x88);
}

TEST(NtpPacket, BareHeaderHasNoTrailer) {
  const auto p = header_with_trailer(4, {});
  const Trailer t = parse_trailer(p, 4);
  EXPECT_EQ(t.status, TrailerStatus::kOk);
  EXPECT_FALSE(t.has_mac());
  EXPECT_FALSE(t.crypto_nak);
  EXPECT_EQ(t.extension_count, 0);
}

TEST(NtpPacket, LegacyMacsAreRecognisedByLength) {
  for (size_t len : {kMd5MacSize, kSha1MacSize}) {
    std::vector<uint8_t> mac(len, 0x5a);
    mac[0] = 0, mac[1] = 0, mac[2] = 0, mac[3] = 42;
    for (uint8_t v : {1, 2, 3, 4}) {
      const auto p = header_with_trailer(v, mac);
      const Trailer t = parse_trailer(p, v);
      ASSERT_EQ(t.status, TrailerStatus::kOk) << len << " v" << int{v};
      EXPECT_TRUE(t.has_mac());
      EXPECT_EQ(t.mac_length, len);
      EXPECT_EQ(t.mac_offset, kNtpHeaderSize);
      EXPECT_EQ(t.key_id(p), 42u);
    }
  }
}

TEST(NtpPacket, FourZeroBytesAreACryptoNak) {
  const auto p = header_with_trailer(4, {0, 0, 0, 0});
  const Trailer t = parse_trailer(p, 4);
  EXPECT_EQ(t.status, TrailerStatus::kOk);
  EXPECT_TRUE(t.crypto_nak);
  EXPECT_FALSE(t.has_mac());
}

TEST(NtpPacket, ExtensionFieldsThenMacParse) {
  const auto p = header_with_trailer(4, concat({extension(0x0104, 16), extension(0x0204, 32),
                                                std::vector<uint8_t>(kMd5MacSize, 1)}));
  const Trailer t = parse_trailer(p, 4);
  EXPECT_EQ(t.status, TrailerStatus::kOk);
  EXPECT_EQ(t.extension_count, 2);
  EXPECT_TRUE(t.has_mac());
  EXPECT_EQ(t.mac_offset, kNtpHeaderSize + 48);
}

TEST(NtpPacket, LastExtensionWithoutMacMustBeAtLeast28Bytes) {
  // RFC 7822: a 28-byte last field parses as a field ...
  EXPECT_EQ(parse_trailer(header_with_trailer(4, extension(0x0104, 28)), 4).status, TrailerStatus::kOk);
  // ... a 16-byte one alone looks like neither a field nor a MAC.
  EXPECT_EQ(parse_trailer(header_with_trailer(4, extension(0x0104, 16)), 4).status,
            TrailerStatus::kBadMacLength);
}

TEST(NtpPacket, MalformedExtensionChainsAreRejected) {
  EXPECT_EQ(parse_trailer(header_with_trailer(4, extension(1, 12)), 4).status, TrailerStatus::kBadMacLength);
  EXPECT_EQ(parse_trailer(header_with_trailer(4, concat({extension(1, 8), std::vector<uint8_t>(24, 0)})), 4).status,
            TrailerStatus::kExtensionTooShort);
  EXPECT_EQ(parse_trailer(header_with_trailer(4, concat({extension(1, 30), std::vector<uint8_t>(2, 0)})), 4).status,
            TrailerStatus::kExtensionMisaligned);
  // A length that runs past the end of the packet.
  auto overflow = extension(1, 28);
  overflow[2] = 0xff;
  overflow[3] = 0xfc;
  EXPECT_EQ(parse_trailer(header_with_trailer(4, overflow), 4).status, TrailerStatus::kExtensionOverflow);
  // Extension fields exist only in NTPv4.
  EXPECT_EQ(parse_trailer(header_with_trailer(3, extension(1, 28)), 3).status,
            TrailerStatus::kExtensionNotAllowed);
  // Odd leftovers.
  for (size_t n : {1u, 3u, 5u, 12u, 16u, 19u, 21u, 23u}) {
    EXPECT_EQ(parse_trailer(header_with_trailer(4, std::vector<uint8_t>(n, 0)), 4).status,
              TrailerStatus::kBadMacLength)
        << n;
  }
}

TEST(NtpPacket, ManyTinyExtensionsAreBounded) {
  std::vector<uint8_t> trailer((kMaxExtensionFields + 4) * 16, 0);
  for (size_t i = 0; i < kMaxExtensionFields + 4; ++i) {
    const auto f = extension(1, 16);
    std::copy(f.begin(), f.end(), trailer.begin() + static_cast<long>(i * 16));
  }
  EXPECT_EQ(parse_trailer(header_with_trailer(4, trailer), 4).status, TrailerStatus::kTooManyExtensions);
}

TEST(NtpPacket, RandomTrailersNeverReadOutOfBounds) {
  // Run under ASan in CI: the parser must stay inside the span for any bytes.
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200000; ++i) {
    const size_t n = kNtpHeaderSize + (rng() % 200);
    std::vector<uint8_t> p(n);
    for (auto& b : p) b = static_cast<uint8_t>(rng());
    if (rng() & 1) {
      p[kNtpHeaderSize + 2 < n ? kNtpHeaderSize + 2 : 0] = 0;
    }
    const Trailer t = parse_trailer(p, 4);
    if (t.status == TrailerStatus::kOk && t.has_mac()) {
      EXPECT_LE(size_t{t.mac_offset} + t.mac_length, n);
    }
  }
}

}  // namespace
}  // namespace tachyon::core
