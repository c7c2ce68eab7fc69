// The frame path's inline part: the answer to the dominant request (a bare
// IPv4 NTP client request) and the transmit stamp. handle_frame() and
// stamp_ntp_frame() are compiled into their callers (the worker's loop,
// frame_bench); GCC 12 keeps the fast path's body,
// answer_common_ntp_ipv4(), out of line: one call per frame, as since this
// header was made. Forcing it inline saved 15 instructions a request in
// frame_bench but did not make the worker's loop faster on the veth, so
// the compiler decides (docs/performance.md). Everything else is out of
// line in frame_handler.cc. frame_bench got 10-25 % faster with this
// header; in the worker over memif the stamp pass saved about 4 cycles a
// frame and the rest did not change measurably.
// Included at the end of frame_handler.h, not on its own.
#pragma once

#include <cstring>

#include "core/ntp_packet.h"
#include "core/responder.h"
#include "dpdk/checksum.h"

namespace tachyon::dp {

// Wire constants and small helpers of both the inline and the general path.
namespace wire {

using core::load_be16;
using core::load_be32;
using core::store_be16;
using core::store_be32;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherArp = 0x0806;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr size_t kEthHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr size_t kArpLength = 28;
constexpr size_t kIpv4Header = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kUdpHeader = 8;
constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kReplyTtl = 64;

inline bool is_multicast_mac(const uint8_t* m) noexcept { return (m[0] & 1) != 0; }

// 6-byte compare as a 4-byte and a 2-byte load (memcmp of 6 is a libc call).
inline bool mac_equal(const uint8_t* a, const uint8_t* b) noexcept {
  uint32_t a4, b4;
  uint16_t a2, b2;
  std::memcpy(&a4, a, 4);
  std::memcpy(&b4, b, 4);
  std::memcpy(&a2, a + 4, 2);
  std::memcpy(&b2, b + 4, 2);
  return ((a4 ^ b4) | static_cast<uint32_t>(a2 ^ b2)) == 0;
}

inline void swap_bytes(uint8_t* a, uint8_t* b, size_t n) noexcept {
  uint8_t tmp[16];
  std::memcpy(tmp, a, n);
  std::memcpy(a, b, n);
  std::memcpy(b, tmp, n);
}

// Ethernet answer: back to the sender, from our own MAC. The VLAN tag, if
// any, stays as it was.
inline void reply_ethernet(uint8_t* f, const PortIdentity& port) noexcept {
  std::memcpy(f, f + 6, 6);
  std::memcpy(f + 6, port.mac.data(), 6);
}

// A source we never answer: answers to it would go to many hosts, nowhere,
// or back to ourselves (RFC 1122 section 3.2.1.3; RFC 5905 section 9).
inline bool is_bad_ipv4_source(const PortIdentity& port, uint32_t a_net) noexcept {
  const uint32_t a = __builtin_bswap32(a_net);
  const uint32_t first = a >> 24;
  if (first == 0 || first == 127 || first >= 224) return true;  // this-net, loopback, multicast, reserved/broadcast
  for (size_t i = 0; i < port.ipv4_count; ++i) {
    if (port.ipv4[i] == a_net || port.ipv4_broadcast[i] == a_net) return true;
  }
  return false;
}

inline uint16_t udp_checksum_value(uint16_t c) noexcept { return c == 0 ? 0xffff : c; }

}  // namespace wire

namespace detail {

// A request the access list or the rate limit refused: dropped, or
// answered with a Kiss-o'-Death, as the policy says (frame_handler.cc).
FrameVerdict refuse(uint8_t* f, size_t l2, uint8_t* payload, core::Admission admission, bool ipv6,
                    const FrameContext& ctx, WorkerCounters& c) noexcept;

// Appends the MAC of `key` (computed by `mac`) after the 48-byte header at
// `ntp` and adds its bytes to `added`, a native-order sum. False if it
// could not be computed.
bool sign_answer(uint8_t* ntp, const auth::Key& key, auth::MacEngine* mac, uint64_t& added) noexcept;

// The dominant request, answered in one straight pass: an IPv4 frame (on the
// port's VLAN, if any) carrying a bare 48-byte NTPv1-4 client request to the
// first server address. Anything unusual returns false and takes the general
// path, which produces the same bytes (tests check both) and counts drops.
//
// Checksums come almost for free here: the answer's IPv4 header differs
// from the request's only in fields of known value (the addresses swap,
// which leaves their sum alone), and the UDP sum is the pseudo-header
// (the same address words), the swapped ports, and the answer template's
// pre-summed constant bytes plus the few bytes respond() wrote.
inline bool answer_common_ntp_ipv4(uint8_t* f, uint16_t length, const FrameContext& ctx, WorkerCounters& c,
                                   FrameVerdict& out) noexcept {
  using namespace wire;
  const PortIdentity& port = *ctx.port;
  constexpr uint16_t kIpTotal = kIpv4Header + kUdpHeader + core::kNtpHeaderSize;  // 76
  constexpr uint16_t kUdpLength = kUdpHeader + core::kNtpHeaderSize;              // 56
  if (length < kEthHeader + kIpTotal) return false;
  size_t l2 = kEthHeader;
  uint16_t ethertype = load_be16(f + 12);
  if (port.vlan != 0) {
    if (ethertype != kEtherVlan || (load_be16(f + 14) & 0x0fff) != port.vlan) return false;
    ethertype = load_be16(f + 16);
    l2 += kVlanTag;
  }
  if (ethertype != kEtherIpv4 || length != l2 + kIpTotal) return false;
  uint8_t* ip = f + l2;
  uint8_t* udp = ip + kIpv4Header;
  uint8_t* ntp = udp + kUdpHeader;
  const uint8_t lvm = ntp[core::off::kLiVnMode];
  const uint8_t version = core::version_of(lvm);
  if (ip[0] != 0x45 || load_be16(ip + 2) != kIpTotal || (load_be16(ip + 6) & 0x3fff) != 0 || ip[9] != kProtoUdp ||
      load_be16(udp + 2) != port.ntp_port || load_be16(udp + 4) != kUdpLength || load_be16(udp) == 0 ||
      core::mode_of(lvm) != core::Mode::kClient || static_cast<uint8_t>(version - 1) >= 4 ||
      core::load_be64(ntp + core::off::kTransmit) == 0) {
    return false;
  }
  // Authentication required, or what may be an interleaved request: the
  // general path decides.
  if ((ctx.auth != nullptr && ctx.auth->required) ||
      (ctx.interleave != nullptr && (ntp[core::off::kOrigin + 7] & 1) != 0)) {
    return false;
  }
  uint32_t src, dst;
  std::memcpy(&src, ip + 12, 4);
  std::memcpy(&dst, ip + 16, 4);
  if (port.ipv4_count == 0 || dst != port.ipv4[0] || !mac_equal(f, port.mac.data()) || is_multicast_mac(f + 6) ||
      is_bad_ipv4_source(port, src) || !csum::verifies(csum::sum<kIpv4Header>(ip))) {
    return false;
  }

  if (ctx.service != nullptr && !ctx.service->admits_everyone()) {
    core::IpAddress client;
    std::memcpy(client.bytes.data(), &src, 4);
    const core::Admission a = ctx.service->admit(client, ctx.rx);
    if (a == core::Admission::kDenied || a == core::Admission::kLimited) {
      out = refuse(f, l2, ntp, a, false, ctx, c);
      return true;
    }
    if (a == core::Admission::kAnswerLeaked) c.ratelimit_leaks.add();
  }
  core::detail::write_answer(std::span<const uint8_t>(ntp, core::kNtpHeaderSize), ctx.rx, *ctx.answer, version,
                             core::Mode::kServer, ntp);
  c.ntp.reply(static_cast<uint8_t>(core::Mode::kClient), version);
  reply_ethernet(f, port);
  const uint64_t addresses = csum::sum<8>(ip + 12);  // the same sum once swapped
  ip[1] = 0;
  store_be16(ip + 4, 0);
  store_be16(ip + 6, 0x4000);
  ip[8] = kReplyTtl;
  store_be32(ip + 12, __builtin_bswap32(dst));
  store_be32(ip + 16, __builtin_bswap32(src));
  swap_bytes(udp, udp + 2, 2);
  const uint64_t pseudo = addresses + csum::be16(kProtoUdp) + csum::be16(kUdpLength);
  if (ctx.checksum_offload) {
    store_be16(ip + 10, 0);
    store_be16(udp + 6, csum::fold(pseudo));
  } else {
    // Version/IHL + TOS 0, total length, ID 0, DF, TTL + protocol.
    constexpr uint64_t kHeaderConstants = csum::be16(0x4500) + csum::be16(kIpTotal) + csum::be16(0x4000) +
                                          csum::be16(static_cast<uint16_t>(kReplyTtl << 8 | kProtoUdp));
    store_be16(ip + 10, csum::field(kHeaderConstants + addresses));
    const uint64_t udp_sum = pseudo + csum::sum<4>(udp) + csum::be16(kUdpLength) + csum::sum<4>(ntp) +
                             ctx.answer_sum + csum::sum<16>(ntp + core::off::kOrigin);
    store_be16(udp + 6, udp_checksum_value(csum::field(udp_sum)));
  }
  out.action = FrameAction::kSendNtp;
  out.reason = core::DropReason{};
  out.length = length;
  out.l2_length = static_cast<uint16_t>(l2);
  out.l3_length = kIpv4Header;
  out.ntp_offset = static_cast<uint16_t>(l2 + kIpv4Header + kUdpHeader);
  out.ipv6 = false;
  out.udp = true;
  return true;
}

}  // namespace detail

// Handles one frame of `length` bytes at `frame`, answering in place.
// `capacity` is how many bytes may be written from `frame` (>= length).
inline FrameVerdict handle_frame(uint8_t* frame, uint16_t length, uint16_t capacity, const FrameContext& ctx,
                                 WorkerCounters& counters) noexcept {
  // One named result on every path: it is built in the caller's return
  // slot (NRVO), not copied there from a stack object just written field
  // by field (a store-forwarding stall per frame).
  FrameVerdict v;
  if (detail::answer_common_ntp_ipv4(frame, length, ctx, counters, v)) [[likely]] {
    if (v.action == FrameAction::kDrop) counters.ntp.drop(v.reason);  // refused by the policy
  } else {
    v = handle_frame_general(frame, length, capacity, ctx, counters);
  }
  return v;
}

// Finishes a kSendNtp answer: writes the transmit timestamp (unless
// v.transmit_written), appends the MAC (if v.sign_key, with `mac`) and,
// unless the NIC computes it, updates the UDP checksum for what it wrote
// (RFC 1624 incremental update). Returns false if signing failed: the
// answer must not be sent.
inline bool stamp_ntp_frame(uint8_t* frame, const FrameVerdict& v, core::NtpTimestamp xmt, bool checksum_offload,
                            auth::MacEngine* mac = nullptr) noexcept {
  using namespace wire;
  uint8_t* ntp = frame + v.ntp_offset;
  uint64_t added = 0;  // native-order sum of what is written here (the fields were zero)
  if (!v.transmit_written) {
    core::stamp_transmit(ntp, xmt);
    added += csum::sum<8>(ntp + core::off::kTransmit);
  }
  if (v.sign_key != nullptr && !detail::sign_answer(ntp, *v.sign_key, mac, added)) return false;
  if (checksum_offload) return true;
  // RFC 1624 eqn. 3: HC' = ~(~HC + m') where the old fields m were zero.
  uint8_t* udp = ntp - kUdpHeader;
  uint16_t stored;
  std::memcpy(&stored, udp + 6, 2);
  store_be16(udp + 6, udp_checksum_value(csum::field(static_cast<uint16_t>(~stored) + added)));
  return true;
}

}  // namespace tachyon::dp
