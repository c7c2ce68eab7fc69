// What a worker does with one received frame: Ethernet (one optional
// 802.1Q tag) -> ARP | IPv4 | IPv6 -> UDP/NTP | ICMP echo | ICMPv6 echo and
// neighbor solicitation. Answers are written in place into the same buffer
// (addresses swapped, lengths and checksums fixed); everything else is
// dropped and counted by reason.
//
// The handler works on plain bytes and includes no DPDK header, so the same
// code runs in the worker, in the unit tests and under the fuzzer. It is
// noexcept, allocation-free and touches only the frame, its const context
// and the calling worker's counters.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "auth/mac_engine.h"
#include "auth/policy.h"
#include "core/clock_model.h"
#include "core/control.h"
#include "core/seqlock.h"
#include "core/server_state.h"
#include "core/service.h"
#include "core/drop_reason.h"
#include "core/interleave.h"
#include "core/ntp_time.h"
#include "dpdk/worker_counters.h"

namespace tachyon::dp {

using MacAddress = std::array<uint8_t, 6>;
using Ipv6Address = std::array<uint8_t, 16>;

// The server's identity on the port. Built once at start-up.
struct PortIdentity {
  static constexpr size_t kMaxAddresses = 16;

  MacAddress mac{};
  uint16_t vlan = 0;       // 0: untagged; else the VLAN ID every frame must carry
  uint16_t ntp_port = 123;

  // IPv4 addresses in network byte order, with the directed broadcast
  // address of their prefix (never accepted as a source).
  uint32_t ipv4[kMaxAddresses] = {};
  uint32_t ipv4_broadcast[kMaxAddresses] = {};
  size_t ipv4_count = 0;

  // IPv6 addresses, including the link-local address derived from the MAC.
  Ipv6Address ipv6[kMaxAddresses] = {};
  size_t ipv6_count = 0;

  // REQUIRES: fewer than kMaxAddresses of the family. prefix_length 0-32.
  void add_ipv4(uint32_t address_host_order, uint8_t prefix_length) noexcept;
  void add_ipv6(const Ipv6Address& address) noexcept;
  // fe80::/64 with the modified EUI-64 interface ID of `mac` (RFC 4291 app. A).
  Ipv6Address link_local() const noexcept;
};

enum class FrameAction : uint8_t {
  kDrop,
  kSend,     // an answer ready to go (ARP, NDP, ICMP, KoD, mode 6)
  kSendNtp,  // an NTP answer: stamp_ntp_frame() writes the transmit timestamp
};

struct FrameVerdict {
  FrameAction action = FrameAction::kDrop;
  core::DropReason reason = core::DropReason::kFrameTruncated;
  uint16_t length = 0;      // answer frame length
  uint16_t l2_length = 0;   // Ethernet + VLAN header length (for TX offloads)
  uint16_t l3_length = 0;   // IP header length (for TX offloads)
  uint16_t ntp_offset = 0;  // NTP header offset within the frame (kSendNtp)
  bool ipv6 = false;        // L3 of the answer (for TX offloads)
  bool udp = false;         // the answer is a UDP datagram (checksum offload applies)
  // kSendNtp: the transmit timestamp is already in the answer (an
  // interleaved answer carries the previous answer's): stamp_ntp_frame()
  // leaves it alone.
  bool transmit_written = false;
  // kSendNtp: the client is in interleaved mode; once the answer left, the
  // worker remembers its precise transmit timestamp under its receive
  // field, InterleaveTable::as_remembered(the frame's receive timestamp).
  bool remember = false;
  // kSendNtp: sign the answer with this key once its transmit timestamp is
  // in (stamp_ntp_frame()); room for the MAC follows the 48-byte header.
  const auth::Key* sign_key = nullptr;
};

struct FrameContext {
  FrameContext(const PortIdentity* p, const core::AnswerTemplate* a, core::NtpTimestamp receive,
               bool offload) noexcept;

  const PortIdentity* port;
  const core::AnswerTemplate* answer;
  core::NtpTimestamp rx;  // this frame's receive timestamp
  // When true, IPv4 header and UDP checksums are left for the NIC: the IPv4
  // checksum is 0 and the UDP checksum holds the pseudo-header sum, as
  // DPDK's RTE_MBUF_F_TX_*_CKSUM offloads expect.
  bool checksum_offload;
  // Native-order sum of the answer template's bytes 4-23, which every time
  // answer carries unchanged: summed once per burst, not once per answer.
  uint64_t answer_sum;
  // The worker's admission stage (access list, rate limit, mode 6
  // allow-list); null: every valid request is answered, mode 6 dropped.
  core::NtpService* service = nullptr;
  // What mode 6 answers show, published by the control thread; read only
  // when an allowed mode 6 request arrives.
  const core::SeqlockCell<core::SystemVariables>* control = nullptr;
  // Symmetric-key authentication: the worker's MAC engine and the keys and
  // rules in force. Null auth: MACs are ignored (48-byte answers).
  auth::MacEngine* mac = nullptr;
  const auth::AuthPolicy* auth = nullptr;
  // Interleaved mode: the worker's table of precise transmit timestamps,
  // keyed by the (marked) receive timestamps it answered with. Null: basic
  // mode only. `rx` must then come from interleave->mark_unique().
  core::InterleaveTable* interleave = nullptr;
};

// handle_frame() (frame_fast_path.h) without its fast path for the common NTP request:
// the same answers, for tests that compare the two.
FrameVerdict handle_frame_general(uint8_t* frame, uint16_t length, uint16_t capacity, const FrameContext& ctx,
                                  WorkerCounters& counters) noexcept;

// The source address of an IPv4 or IPv6 frame (untagged or with one VLAN
// tag), read without validating the rest: enough to prefetch what the
// admission of its request will touch. False if it is neither.
bool peek_source(const uint8_t* frame, uint16_t length, core::IpAddress& out) noexcept;

// The origin timestamp of the NTP message in an IPv4 or IPv6 UDP frame
// (untagged or with one VLAN tag; IPv4 options skipped), read without
// validating the rest: what an interleaved request's take() looks up.
// False if the frame is too short to hold it or not IP.
bool peek_origin(const uint8_t* frame, uint16_t length, core::NtpTimestamp& out) noexcept;

// Internet checksum helpers (RFC 1071), exposed for tests and tools.
uint32_t ones_sum(const uint8_t* data, size_t length, uint32_t initial = 0) noexcept;
uint16_t fold_checksum(uint32_t sum) noexcept;  // folded and complemented

}  // namespace tachyon::dp

// handle_frame() and stamp_ntp_frame(), inline.
#include "dpdk/frame_fast_path.h"  // IWYU pragma: export
