#include "dpdk/frame_handler.h"

#include <cstring>

#include "core/ntp_packet.h"
#include "core/responder.h"
#include "dpdk/checksum.h"

namespace tachyon::dp {
namespace {

using core::DropReason;
using namespace wire;


// ICMPv6 types (RFC 4443, RFC 4861).
constexpr uint8_t kIcmpv6EchoRequest = 128;
constexpr uint8_t kIcmpv6EchoReply = 129;
constexpr uint8_t kNeighborSolicitation = 135;
constexpr uint8_t kNeighborAdvertisement = 136;
constexpr uint8_t kOptSourceLinkAddress = 1;
constexpr uint8_t kOptTargetLinkAddress = 2;
constexpr size_t kNdMessage = 24;  // ICMPv6 header + reserved/flags + target
constexpr size_t kNdLinkOption = 8;

FrameVerdict drop(DropReason r) noexcept {
  FrameVerdict v;
  v.reason = r;
  return v;
}


bool is_broadcast_mac(const uint8_t* m) noexcept {
  static constexpr uint8_t kAllOnes[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return std::memcmp(m, kAllOnes, 6) == 0;
}



bool is_our_ipv4(const PortIdentity& port, uint32_t a) noexcept {
  for (size_t i = 0; i < port.ipv4_count; ++i) {
    if (port.ipv4[i] == a) return true;
  }
  return false;
}


const Ipv6Address* find_our_ipv6(const PortIdentity& port, const uint8_t* a) noexcept {
  for (size_t i = 0; i < port.ipv6_count; ++i) {
    if (std::memcmp(port.ipv6[i].data(), a, 16) == 0) return &port.ipv6[i];
  }
  return nullptr;
}

bool is_unspecified_ipv6(const uint8_t* a) noexcept {
  static constexpr uint8_t kZero[16] = {};
  return std::memcmp(a, kZero, 16) == 0;
}

bool is_bad_ipv6_source(const PortIdentity& port, const uint8_t* a) noexcept {
  static constexpr uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (a[0] == 0xff) return true;  // multicast
  if (is_unspecified_ipv6(a) || std::memcmp(a, kLoopback, 16) == 0) return true;
  if (std::memcmp(a, kV4Mapped, 12) == 0) return true;
  return find_our_ipv6(port, a) != nullptr;
}

// RFC 4291 section 2.7.1: ff02::1:ffXX:XXXX from the low 24 bits.
bool is_solicited_node_of(const uint8_t* dst, const uint8_t* target) noexcept {
  static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  return std::memcmp(dst, kPrefix, 13) == 0 && std::memcmp(dst + 13, target + 13, 3) == 0;
}

uint64_t ipv4_pseudo_sum(const uint8_t* ip, uint8_t proto, uint16_t l4_length) noexcept {
  return csum::sum<8>(ip + 12) + csum::be16(proto) + csum::be16(l4_length);
}

uint64_t ipv6_pseudo_sum(const uint8_t* ip, uint8_t next_header, uint16_t l4_length) noexcept {
  return csum::sum<32>(ip + 8) + csum::be16(next_header) + csum::be16(l4_length);
}


// Native-order sum of a UDP datagram carrying an NTP answer. A time answer
// is the template (pre-summed) plus the fields respond() wrote per request:
// its first 4 bytes, origin and receive. Its transmit timestamp is still
// zero and added by stamp_ntp_frame(). Other answers are summed in full.
uint64_t udp_sum(const uint8_t* udp, uint16_t udp_length, bool time_answer, const FrameContext& ctx) noexcept {
  const uint8_t* ntp = udp + kUdpHeader;
  if (time_answer && udp_length == kUdpHeader + core::kNtpHeaderSize &&
      core::load_be64(ntp + core::off::kTransmit) == 0) {
    return csum::sum<8>(udp) + csum::sum<4>(ntp) + ctx.answer_sum + csum::sum<16>(ntp + core::off::kOrigin);
  }
  return csum::sum(udp, udp_length);
}

// The UDP answer's IP and UDP headers, in place, for an NTP answer of
// `ntp_length` bytes at `udp + 8`.
FrameVerdict finish_udp_ipv4(uint8_t* f, size_t l2, uint16_t ntp_length, bool time_answer,
                             const FrameContext& ctx) noexcept {
  uint8_t* ip = f + l2;
  uint8_t* udp = ip + kIpv4Header;
  const auto udp_length = static_cast<uint16_t>(kUdpHeader + ntp_length);
  reply_ethernet(f, *ctx.port);
  ip[0] = 0x45;
  ip[1] = 0;
  store_be16(ip + 2, static_cast<uint16_t>(kIpv4Header + udp_length));
  store_be16(ip + 4, 0);
  store_be16(ip + 6, 0x4000);  // DF: an NTP answer is never fragmented
  ip[8] = kReplyTtl;
  store_be16(ip + 10, 0);
  swap_bytes(ip + 12, ip + 16, 4);
  swap_bytes(udp, udp + 2, 2);
  store_be16(udp + 4, udp_length);
  store_be16(udp + 6, 0);
  const uint64_t pseudo = ipv4_pseudo_sum(ip, kProtoUdp, udp_length);
  if (ctx.checksum_offload) {
    // DPDK's offload contract: IP checksum 0, UDP checksum = folded
    // pseudo-header sum, not complemented (rte_ipv4_phdr_cksum()).
    store_be16(udp + 6, csum::fold(pseudo));
  } else {
    store_be16(ip + 10, csum::field(csum::sum<kIpv4Header>(ip)));
    store_be16(udp + 6, udp_checksum_value(csum::field(pseudo + udp_sum(udp, udp_length, time_answer, ctx))));
  }
  FrameVerdict v;
  v.action = time_answer ? FrameAction::kSendNtp : FrameAction::kSend;
  v.length = static_cast<uint16_t>(l2 + kIpv4Header + udp_length);
  v.l2_length = static_cast<uint16_t>(l2);
  v.l3_length = kIpv4Header;
  v.ntp_offset = static_cast<uint16_t>(l2 + kIpv4Header + kUdpHeader);
  v.udp = true;
  return v;
}

FrameVerdict finish_udp_ipv6(uint8_t* f, size_t l2, uint16_t ntp_length, bool time_answer,
                             const FrameContext& ctx) noexcept {
  uint8_t* ip = f + l2;
  uint8_t* udp = ip + kIpv6Header;
  const auto udp_length = static_cast<uint16_t>(kUdpHeader + ntp_length);
  reply_ethernet(f, *ctx.port);
  store_be32(ip, 0x6000'0000);
  store_be16(ip + 4, udp_length);
  ip[6] = kProtoUdp;
  ip[7] = kReplyTtl;
  swap_bytes(ip + 8, ip + 24, 16);
  swap_bytes(udp, udp + 2, 2);
  store_be16(udp + 4, udp_length);
  store_be16(udp + 6, 0);
  const uint64_t pseudo = ipv6_pseudo_sum(ip, kProtoUdp, udp_length);
  if (ctx.checksum_offload) {
    store_be16(udp + 6, csum::fold(pseudo));
  } else {
    store_be16(udp + 6, udp_checksum_value(csum::field(pseudo + udp_sum(udp, udp_length, time_answer, ctx))));
  }
  FrameVerdict v;
  v.action = time_answer ? FrameAction::kSendNtp : FrameAction::kSend;
  v.length = static_cast<uint16_t>(l2 + kIpv6Header + udp_length);
  v.l2_length = static_cast<uint16_t>(l2);
  v.l3_length = kIpv6Header;
  v.ntp_offset = static_cast<uint16_t>(l2 + kIpv6Header + kUdpHeader);
  v.ipv6 = true;
  v.udp = true;
  return v;
}

core::IpAddress client_address(const uint8_t* ip, bool ipv6) noexcept {
  if (ipv6) return core::IpAddress::ipv6(ip + 8);
  core::IpAddress a;
  std::memcpy(a.bytes.data(), ip + 12, 4);
  return a;
}

FrameVerdict finish_udp(uint8_t* f, size_t l2, uint16_t ntp_length, bool time_answer, bool ipv6,
                        const FrameContext& ctx) noexcept {
  return ipv6 ? finish_udp_ipv6(f, l2, ntp_length, time_answer, ctx)
              : finish_udp_ipv4(f, l2, ntp_length, time_answer, ctx);
}


// Mode 6 to a source on the control allow-list (RFC 9327, read-only).
FrameVerdict answer_control(uint8_t* f, size_t l2, const core::Request& req, uint8_t* payload, size_t room,
                            const core::IpAddress& client, bool ipv6, const FrameContext& ctx,
                            WorkerCounters& c) noexcept {
  if (ctx.service == nullptr || ctx.control == nullptr || !ctx.service->policy().control_allowed(client)) {
    return drop(DropReason::kNtpModeControl);
  }
  const core::SystemVariables vars = ctx.control->read();
  const core::ControlResult r = core::respond_control(req.packet, ctx.rx, vars, std::span<uint8_t>(payload, room));
  if (!r.answer) return drop(r.reason);
  c.control_replies.add();
  return finish_udp(f, l2, r.length, false, ipv6, ctx);
}

// UDP to our NTP port: the core checks the request, the service admits the
// client, the core answers, we wrap it.
FrameVerdict handle_ntp(uint8_t* f, uint16_t capacity, size_t l2, uint8_t* udp, size_t l4_available, bool ipv6,
                        const FrameContext& ctx, WorkerCounters& c) noexcept {
  if (l4_available < kUdpHeader) return drop(DropReason::kUdpMalformed);
  const uint16_t udp_length = load_be16(udp + 4);
  if (udp_length < kUdpHeader || udp_length > l4_available) return drop(DropReason::kUdpMalformed);
  if (load_be16(udp + 2) != ctx.port->ntp_port) return drop(DropReason::kUdpWrongPort);
  const uint16_t client_port = load_be16(udp);
  if (client_port == 0) return drop(DropReason::kBadSource);

  uint8_t* payload = udp + kUdpHeader;
  const size_t payload_length = udp_length - kUdpHeader;
  const auto room = static_cast<size_t>(f + capacity - payload);
  if (room < core::kNtpHeaderSize) return drop(DropReason::kUdpMalformed);
  const core::Request req{std::span<const uint8_t>(payload, payload_length), ctx.rx, client_port};
  const core::Verdict v = core::classify(req);
  switch (v.action) {
    case core::Action::kDrop:
      return drop(v.reason);
    case core::Action::kControl:
      return answer_control(f, l2, req, payload, room, client_address(f + l2, ipv6), ipv6, ctx, c);
    case core::Action::kReply:
    case core::Action::kReplyKod:
      break;
  }
  if (ctx.service != nullptr && !ctx.service->admits_everyone()) {
    const core::Admission a = ctx.service->admit(client_address(f + l2, ipv6), ctx.rx);
    if (a == core::Admission::kDenied || a == core::Admission::kLimited) return detail::refuse(f, l2, payload, a, ipv6, ctx, c);
    if (a == core::Admission::kAnswerLeaked) c.ratelimit_leaks.add();
  }
  // Authentication (auth/policy.h has the table): checked before the
  // answer overwrites the request.
  auth::AuthAction auth_action = auth::AuthAction::kAnswer;
  const auth::Key* sign_key = nullptr;
  if (ctx.auth != nullptr && (payload_length > core::kNtpHeaderSize || ctx.auth->required)) {
    auth::RequestCheck check;
    if (payload_length > core::kNtpHeaderSize) {
      check = ctx.mac->check_request(std::span<const uint8_t>(payload, payload_length), ctx.auth->keys);
    }
    const auth::AuthDecision d = auth::decide(check.result, ctx.auth->required);
    if (d.action == auth::AuthAction::kDrop) return drop(d.reason);
    auth_action = d.action;
    sign_key = check.key;
  }
  // Interleaved mode: the origin is one of our marked receive timestamps
  // and the client's receive and transmit fields differ (a basic request
  // has them equal or zero). Such a client's answer is remembered; if its
  // origin names an answer that was, it gets that answer's transmit
  // timestamp. An origin never remembered is the client's first
  // interleaved request: a basic answer, not a miss.
  bool interleaved = false;
  bool remember = false;
  core::NtpTimestamp previous_tx{};
  uint64_t client_receive = 0;
  if (ctx.interleave != nullptr && v.mode == static_cast<uint8_t>(core::Mode::kClient)) {
    const core::NtpTimestamp origin{core::load_be64(payload + core::off::kOrigin)};
    client_receive = core::load_be64(payload + core::off::kReceive);
    if (core::InterleaveTable::is_marked(origin) && client_receive != core::load_be64(payload + core::off::kTransmit)) {
      remember = true;
      if (const auto tx = ctx.interleave->take(origin)) {
        interleaved = true;
        previous_tx = *tx;
      } else if (core::InterleaveTable::was_remembered(origin)) {
        c.interleaved_misses.add();
      }
    }
  }
  core::write_reply(req, v, *ctx.answer, std::span<uint8_t>(payload, room));
  if (remember) {
    core::store_be64(payload + core::off::kReceive, core::InterleaveTable::as_remembered(ctx.rx).raw);
  }
  if (interleaved) {
    // Draft-ietf-ntp-interleaved-modes: origin = the client's receive
    // field, transmit = when our previous answer really left.
    core::store_be64(payload + core::off::kOrigin, client_receive);
    core::stamp_transmit(payload, previous_tx);
    c.interleaved.add();
  }
  c.ntp.reply(v.mode, v.version);
  // An answer is never longer than its request: a MAC as long as the one
  // the request carried (check_request() verified its size), or 4 bytes.
  size_t mac_size = 0;
  if (auth_action == auth::AuthAction::kAnswerSigned) {
    mac_size = sign_key->mac_size();
    std::memset(payload + core::kNtpHeaderSize, 0, mac_size);  // summed as zero, signed at stamp time
    c.auth_signed.add();
  } else if (auth_action == auth::AuthAction::kAnswerCryptoNak) {
    mac_size = auth::write_crypto_nak(std::span<uint8_t>(payload + core::kNtpHeaderSize, auth::kCryptoNakSize));
    c.auth_crypto_naks.add();
  }
  FrameVerdict out =
      finish_udp(f, l2, static_cast<uint16_t>(core::kNtpHeaderSize + mac_size), true, ipv6, ctx);
  out.transmit_written = interleaved;
  out.remember = remember;
  out.sign_key = mac_size > auth::kCryptoNakSize ? sign_key : nullptr;
  return out;
}

FrameVerdict handle_arp(uint8_t* f, uint16_t length, size_t l2, const PortIdentity& port,
                        WorkerCounters& c) noexcept {
  if (length < l2 + kArpLength) return drop(DropReason::kArpMalformed);
  uint8_t* a = f + l2;
  // Ethernet (1) / IPv4 (0x0800), 6-byte and 4-byte addresses.
  if (load_be16(a) != 1 || load_be16(a + 2) != kEtherIpv4 || a[4] != 6 || a[5] != 4) {
    return drop(DropReason::kArpMalformed);
  }
  if (load_be16(a + 6) != 1) return drop(DropReason::kArpIgnored);  // not a request
  uint8_t* sha = a + 8;
  uint8_t* spa = a + 14;
  uint8_t* tha = a + 18;
  uint8_t* tpa = a + 24;
  uint32_t target;
  std::memcpy(&target, tpa, 4);
  if (!is_our_ipv4(port, target)) return drop(DropReason::kArpIgnored);
  if (std::memcmp(spa, tpa, 4) == 0) return drop(DropReason::kArpIgnored);  // gratuitous
  if (is_multicast_mac(sha)) return drop(DropReason::kBadSource);
  if (!is_broadcast_mac(f) && !mac_equal(f, port.mac.data())) return drop(DropReason::kNotOurAddress);

  // RFC 826: swap sender and target, fill in our hardware address.
  store_be16(a + 6, 2);
  std::memcpy(tha, sha, 6);
  std::memcpy(tpa, spa, 4);
  std::memcpy(sha, port.mac.data(), 6);
  std::memcpy(spa, &target, 4);
  std::memcpy(f, tha, 6);
  std::memcpy(f + 6, port.mac.data(), 6);
  c.arp_replies.add();
  FrameVerdict v;
  v.action = FrameAction::kSend;
  v.length = length;
  v.l2_length = static_cast<uint16_t>(l2);
  return v;
}

FrameVerdict handle_icmp_echo(uint8_t* f, size_t l2, uint16_t total_length, const FrameContext& ctx,
                              WorkerCounters& c) noexcept {
  uint8_t* ip = f + l2;
  uint8_t* icmp = ip + kIpv4Header;
  const size_t icmp_length = total_length - kIpv4Header;
  if (icmp_length < 8) return drop(DropReason::kIcmpMalformed);
  if (icmp[0] != 8 || icmp[1] != 0) return drop(DropReason::kIcmpIgnored);  // echo request only
  if (!csum::verifies(csum::sum(icmp, icmp_length))) return drop(DropReason::kChecksumBad);
  reply_ethernet(f, *ctx.port);
  icmp[0] = 0;  // echo reply (RFC 792)
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, csum::field(csum::sum(icmp, icmp_length)));
  store_be16(ip + 6, 0);
  ip[8] = kReplyTtl;
  swap_bytes(ip + 12, ip + 16, 4);
  store_be16(ip + 10, 0);
  store_be16(ip + 10, csum::field(csum::sum<kIpv4Header>(ip)));
  c.icmp_echo_replies.add();
  FrameVerdict v;
  v.action = FrameAction::kSend;
  v.length = static_cast<uint16_t>(l2 + total_length);
  v.l2_length = static_cast<uint16_t>(l2);
  v.l3_length = kIpv4Header;
  return v;
}

FrameVerdict handle_ipv4(uint8_t* f, uint16_t length, uint16_t capacity, size_t l2, const FrameContext& ctx,
                         WorkerCounters& c) noexcept {
  uint8_t* ip = f + l2;
  const size_t available = length - l2;
  if (available < kIpv4Header) return drop(DropReason::kIpv4Malformed);
  if ((ip[0] >> 4) != 4) return drop(DropReason::kIpv4Malformed);
  const size_t ihl = (ip[0] & 0xfu) * 4u;
  if (ihl < kIpv4Header) return drop(DropReason::kIpv4Malformed);
  if (ihl > kIpv4Header) return drop(DropReason::kIpv4Options);
  const uint16_t total_length = load_be16(ip + 2);
  if (total_length < kIpv4Header || total_length > available) return drop(DropReason::kIpv4Malformed);
  if ((load_be16(ip + 6) & 0x3fff) != 0) return drop(DropReason::kIpv4Fragment);  // MF or offset
  // Senders always compute the IPv4 header checksum (no offload on veth
  // or elsewhere leaves it partial), so a bad one is a corrupt header.
  if (!csum::verifies(csum::sum<kIpv4Header>(ip))) return drop(DropReason::kChecksumBad);

  uint32_t src, dst;
  std::memcpy(&src, ip + 12, 4);
  std::memcpy(&dst, ip + 16, 4);
  if (!is_our_ipv4(*ctx.port, dst) || !mac_equal(f, ctx.port->mac.data())) {
    return drop(DropReason::kNotOurAddress);
  }
  if (is_bad_ipv4_source(*ctx.port, src)) return drop(DropReason::kBadSource);

  switch (ip[9]) {
    case kProtoUdp:
      return handle_ntp(f, capacity, l2, ip + kIpv4Header, total_length - kIpv4Header, false, ctx, c);
    case kProtoIcmp:
      return handle_icmp_echo(f, l2, total_length, ctx, c);
    default:
      return drop(DropReason::kProtocolUnsupported);
  }
}

// RFC 4861 sections 7.1.1 (validation) and 7.2.4 (answer).
FrameVerdict handle_neighbor_solicitation(uint8_t* f, size_t l2, uint16_t icmp_length, const FrameContext& ctx,
                                          WorkerCounters& c) noexcept {
  const PortIdentity& port = *ctx.port;
  uint8_t* ip = f + l2;
  uint8_t* icmp = ip + kIpv6Header;
  if (ip[7] != 255 || icmp[1] != 0 || icmp_length < kNdMessage) return drop(DropReason::kIcmpMalformed);
  const uint8_t* target = icmp + 8;
  if (target[0] == 0xff) return drop(DropReason::kIcmpMalformed);
  const Ipv6Address* ours = find_our_ipv6(port, target);
  if (ours == nullptr) return drop(DropReason::kNdpIgnored);
  const uint8_t* dst = ip + 24;
  if (std::memcmp(dst, target, 16) != 0 && !is_solicited_node_of(dst, target)) {
    return drop(DropReason::kNotOurAddress);
  }
  // Duplicate address detection (unspecified source) is not answered: the
  // answer would go to all nodes.
  if (is_bad_ipv6_source(port, ip + 8)) return drop(DropReason::kBadSource);

  bool has_source_link_address = false;
  for (size_t pos = kNdMessage; pos < icmp_length;) {
    if (icmp_length - pos < 2) return drop(DropReason::kIcmpMalformed);
    const size_t option_length = size_t{icmp[pos + 1]} * 8;
    if (option_length == 0 || option_length > icmp_length - pos) return drop(DropReason::kIcmpMalformed);
    if (icmp[pos] == kOptSourceLinkAddress) has_source_link_address = true;
    pos += option_length;
  }
  if (!csum::verifies(ipv6_pseudo_sum(ip, kProtoIcmpv6, icmp_length) + csum::sum(icmp, icmp_length))) {
    return drop(DropReason::kChecksumBad);
  }

  // The target link-layer option may be left out when answering a unicast
  // solicitation (7.2.4), which keeps the answer no longer than the request
  // whatever the solicitation carried.
  const bool add_target_link_address = has_source_link_address && icmp_length >= kNdMessage + kNdLinkOption;
  const auto na_length = static_cast<uint16_t>(kNdMessage + (add_target_link_address ? kNdLinkOption : 0));
  reply_ethernet(f, port);
  store_be32(ip, 0x6000'0000);
  store_be16(ip + 4, na_length);
  ip[6] = kProtoIcmpv6;
  ip[7] = 255;
  std::memcpy(ip + 24, ip + 8, 16);  // to the soliciting node
  std::memcpy(ip + 8, ours->data(), 16);
  icmp[0] = kNeighborAdvertisement;
  icmp[1] = 0;
  store_be16(icmp + 2, 0);
  store_be32(icmp + 4, 0x6000'0000);  // Solicited | Override
  if (add_target_link_address) {
    icmp[kNdMessage] = kOptTargetLinkAddress;
    icmp[kNdMessage + 1] = 1;
    std::memcpy(icmp + kNdMessage + 2, port.mac.data(), 6);
  }
  store_be16(icmp + 2, csum::field(ipv6_pseudo_sum(ip, kProtoIcmpv6, na_length) + csum::sum(icmp, na_length)));
  c.nd_advertisements.add();
  FrameVerdict v;
  v.action = FrameAction::kSend;
  v.length = static_cast<uint16_t>(l2 + kIpv6Header + na_length);
  v.l2_length = static_cast<uint16_t>(l2);
  v.l3_length = kIpv6Header;
  v.ipv6 = true;
  return v;
}

FrameVerdict handle_icmpv6_echo(uint8_t* f, size_t l2, uint16_t icmp_length, const FrameContext& ctx,
                                WorkerCounters& c) noexcept {
  uint8_t* ip = f + l2;
  uint8_t* icmp = ip + kIpv6Header;
  if (icmp_length < 8) return drop(DropReason::kIcmpMalformed);
  if (icmp[1] != 0) return drop(DropReason::kIcmpIgnored);
  if (!csum::verifies(ipv6_pseudo_sum(ip, kProtoIcmpv6, icmp_length) + csum::sum(icmp, icmp_length))) {
    return drop(DropReason::kChecksumBad);
  }
  reply_ethernet(f, *ctx.port);
  ip[7] = kReplyTtl;
  swap_bytes(ip + 8, ip + 24, 16);
  icmp[0] = kIcmpv6EchoReply;
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, csum::field(ipv6_pseudo_sum(ip, kProtoIcmpv6, icmp_length) + csum::sum(icmp, icmp_length)));
  c.icmpv6_echo_replies.add();
  FrameVerdict v;
  v.action = FrameAction::kSend;
  v.length = static_cast<uint16_t>(l2 + kIpv6Header + icmp_length);
  v.l2_length = static_cast<uint16_t>(l2);
  v.l3_length = kIpv6Header;
  v.ipv6 = true;
  return v;
}

FrameVerdict handle_ipv6(uint8_t* f, uint16_t length, uint16_t capacity, size_t l2, const FrameContext& ctx,
                         WorkerCounters& c) noexcept {
  const PortIdentity& port = *ctx.port;
  uint8_t* ip = f + l2;
  const size_t available = length - l2;
  if (available < kIpv6Header || (ip[0] >> 4) != 6) return drop(DropReason::kIpv6Malformed);
  const uint16_t payload_length = load_be16(ip + 4);
  if (kIpv6Header + payload_length > available) return drop(DropReason::kIpv6Malformed);
  const uint8_t next_header = ip[6];
  const uint8_t* src = ip + 8;
  const uint8_t* dst = ip + 24;

  if (next_header == kProtoIcmpv6 && payload_length >= 1 && ip[kIpv6Header] == kNeighborSolicitation) {
    // Sent to the solicited-node multicast group (and its 33:33 MAC) or to
    // our unicast address; checked inside.
    if (!is_multicast_mac(f) && !mac_equal(f, port.mac.data())) return drop(DropReason::kNotOurAddress);
    return handle_neighbor_solicitation(f, l2, payload_length, ctx, c);
  }
  if (find_our_ipv6(port, dst) == nullptr || !mac_equal(f, port.mac.data())) {
    return drop(DropReason::kNotOurAddress);
  }
  if (is_bad_ipv6_source(port, src)) return drop(DropReason::kBadSource);

  switch (next_header) {
    case kProtoUdp:
      return handle_ntp(f, capacity, l2, ip + kIpv6Header, payload_length, true, ctx, c);
    case kProtoIcmpv6:
      if (payload_length >= 1 && ip[kIpv6Header] == kIcmpv6EchoRequest) {
        return handle_icmpv6_echo(f, l2, payload_length, ctx, c);
      }
      return drop(payload_length < 4 ? DropReason::kIcmpMalformed : DropReason::kIcmpIgnored);
    case 0:    // hop-by-hop options
    case 43:   // routing
    case 44:   // fragment
    case 50:   // ESP
    case 51:   // AH
    case 60:   // destination options
    case 135:  // mobility
    case 139:  // HIP
    case 140:  // shim6
      return drop(DropReason::kIpv6ExtensionHeader);
    default:
      return drop(DropReason::kProtocolUnsupported);
  }
}


}  // namespace

// An admitted-or-not request the access list or the rate limit refused:
// dropped, or answered with a Kiss-o'-Death that gives no time away
// (RFC 5905 section 7.4), as the policy says.
FrameVerdict detail::refuse(uint8_t* f, size_t l2, uint8_t* payload, core::Admission admission, bool ipv6,
                    const FrameContext& ctx, WorkerCounters& c) noexcept {
  const core::ServicePolicy& p = ctx.service->policy();
  const bool denied = admission == core::Admission::kDenied;
  if ((denied ? p.denied : p.limited) == core::Refusal::kDrop) {
    return drop(denied ? DropReason::kAccessDenied : DropReason::kRateLimited);
  }
  const core::KissCode code = denied ? core::KissCode::kDeny : core::KissCode::kRate;
  const std::span<uint8_t> ntp(payload, core::kNtpHeaderSize);
  const core::Verdict v = core::build_kod(ntp, code, denied ? int8_t{0} : p.kod_poll, ntp);
  c.ntp.kiss(code);
  return finish_udp(f, l2, v.length, false, ipv6, ctx);
}

bool detail::sign_answer(uint8_t* ntp, const auth::Key& key, auth::MacEngine* mac, uint64_t& added) noexcept {
  const size_t size = key.mac_size();
  if (mac == nullptr || mac->sign(key, std::span<const uint8_t>(ntp, core::kNtpHeaderSize),
                                  std::span<uint8_t>(ntp + core::kNtpHeaderSize, size)) != size) {
    return false;
  }
  added += csum::sum(ntp + core::kNtpHeaderSize, size);  // 20 or 24 bytes at an even offset
  return true;
}

void PortIdentity::add_ipv4(uint32_t address_host_order, uint8_t prefix_length) noexcept {
  if (ipv4_count == kMaxAddresses) return;
  const uint32_t host_mask = prefix_length >= 32 ? 0 : (0xffff'ffffu >> prefix_length);
  ipv4[ipv4_count] = __builtin_bswap32(address_host_order);
  // A /31 or /32 has no directed broadcast address (RFC 3021).
  ipv4_broadcast[ipv4_count] = prefix_length >= 31 ? 0 : __builtin_bswap32(address_host_order | host_mask);
  ++ipv4_count;
}

void PortIdentity::add_ipv6(const Ipv6Address& address) noexcept {
  if (ipv6_count == kMaxAddresses || find_our_ipv6(*this, address.data()) != nullptr) return;
  ipv6[ipv6_count++] = address;
}

Ipv6Address PortIdentity::link_local() const noexcept {
  Ipv6Address a{};
  a[0] = 0xfe;
  a[1] = 0x80;
  a[8] = static_cast<uint8_t>(mac[0] ^ 0x02);
  a[9] = mac[1];
  a[10] = mac[2];
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = mac[3];
  a[14] = mac[4];
  a[15] = mac[5];
  return a;
}

bool peek_source(const uint8_t* frame, uint16_t length, core::IpAddress& out) noexcept {
  size_t l2 = kEthHeader;
  if (length < l2 + kIpv6Header) return false;  // shorter than any NTP request either way
  uint16_t ethertype = load_be16(frame + 12);
  if (ethertype == kEtherVlan) {
    ethertype = load_be16(frame + 16);
    l2 += kVlanTag;
    if (length < l2 + kIpv6Header) return false;
  }
  if (ethertype != kEtherIpv4 && ethertype != kEtherIpv6) return false;
  out = client_address(frame + l2, ethertype == kEtherIpv6);
  return true;
}

bool peek_origin(const uint8_t* frame, uint16_t length, core::NtpTimestamp& out) noexcept {
  size_t l2 = kEthHeader;
  if (length < l2 + kIpv4Header) return false;
  uint16_t ethertype = load_be16(frame + 12);
  if (ethertype == kEtherVlan) {
    ethertype = load_be16(frame + 16);
    l2 += kVlanTag;
    if (length < l2 + kIpv4Header) return false;
  }
  size_t l3;
  if (ethertype == kEtherIpv4) {
    l3 = (frame[l2] & 0x0fu) * size_t{4};
  } else if (ethertype == kEtherIpv6) {
    l3 = kIpv6Header;
  } else {
    return false;
  }
  const size_t at = l2 + l3 + kUdpHeader + core::off::kOrigin;
  if (length < at + 8) return false;
  out = core::NtpTimestamp{core::load_be64(frame + at)};
  return true;
}

uint32_t ones_sum(const uint8_t* data, size_t length, uint32_t initial) noexcept {
  return csum::fold(csum::sum(data, length)) + initial;
}

uint16_t fold_checksum(uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

FrameContext::FrameContext(const PortIdentity* p, const core::AnswerTemplate* a, core::NtpTimestamp receive,
                           bool offload) noexcept
    : port(p), answer(a), rx(receive), checksum_offload(offload), answer_sum(csum::sum<20>(a->bytes() + 4)) {}


FrameVerdict handle_frame_general(uint8_t* frame, uint16_t length, uint16_t capacity, const FrameContext& ctx,
                                  WorkerCounters& counters) noexcept {
  const PortIdentity& port = *ctx.port;
  FrameVerdict v;
  if (length < kEthHeader) {
    v = drop(DropReason::kFrameTruncated);
  } else {
    size_t l2 = kEthHeader;
    uint16_t ethertype = load_be16(frame + 12);
    bool ok = true;
    if (ethertype == kEtherVlan) {
      if (length < kEthHeader + kVlanTag) {
        v = drop(DropReason::kFrameTruncated);
        ok = false;
      } else {
        const uint16_t vid = load_be16(frame + 14) & 0x0fff;
        ethertype = load_be16(frame + 16);
        l2 += kVlanTag;
        if (ethertype == kEtherVlan || ethertype == kEtherQinQ) {
          v = drop(DropReason::kVlanStacked);
          ok = false;
        } else if (vid != port.vlan) {  // VID 0 is a priority tag: untagged
          v = drop(DropReason::kVlanMismatch);
          ok = false;
        }
      }
    } else if (ethertype == kEtherQinQ) {
      v = drop(DropReason::kVlanStacked);
      ok = false;
    } else if (port.vlan != 0) {
      v = drop(DropReason::kVlanMismatch);
      ok = false;
    }
    if (ok) {
      if (is_multicast_mac(frame + 6)) {
        v = drop(DropReason::kBadSource);
      } else if (ethertype == kEtherIpv4) {
        v = handle_ipv4(frame, length, capacity, l2, ctx, counters);
      } else if (ethertype == kEtherIpv6) {
        v = handle_ipv6(frame, length, capacity, l2, ctx, counters);
      } else if (ethertype == kEtherArp) {
        v = handle_arp(frame, length, l2, port, counters);
      } else {
        v = drop(DropReason::kEtherTypeUnsupported);
      }
    }
  }
  if (v.action == FrameAction::kDrop) counters.ntp.drop(v.reason);
  return v;
}


}  // namespace tachyon::dp
