// Why a received frame got no answer. One enum for the whole receive path so
// that one per-worker counter array covers it and /metrics can export it
// with a stable label per reason. Values are indexes: append, never reorder.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tachyon::core {

enum class DropReason : uint8_t {
  // NTP payload (core::respond()).
  kNtpTruncated,          // shorter than the 48-byte header
  kNtpBadVersion,         // version 0 or above 4
  kNtpModeReserved,       // mode 0 (except an NTPv1 client request)
  kNtpModeSymPassive,     // mode 2: we never have an association
  kNtpModeServer,         // mode 4: answers are not requests
  kNtpModeBroadcast,      // mode 5
  kNtpModeControl,        // mode 6 from a source outside the allow-list
  kNtpModePrivate,        // mode 7 (ntpdc): never answered
  kNtpBadTrailer,         // malformed extension fields or MAC
  kNtpControlMalformed,   // mode 6 request the control handler rejected

  // Frame (dataplane).
  kFrameTruncated,        // shorter than its Ethernet/VLAN header
  kVlanMismatch,          // tagged with another VLAN, or untagged on a tagged port
  kVlanStacked,           // more than one 802.1Q/802.1ad tag
  kEtherTypeUnsupported,  // neither IPv4, IPv6 nor ARP
  kArpMalformed,          // not Ethernet/IPv4 ARP, or truncated
  kArpIgnored,            // not a request for one of our addresses
  kIpv4Malformed,         // truncated, bad version/IHL, length disagrees with the frame
  kIpv4Options,           // IHL > 5
  kIpv4Fragment,          // MF set or fragment offset non-zero
  kIpv6Malformed,         // truncated, payload length disagrees with the frame
  kIpv6ExtensionHeader,   // next header we do not walk
  kNotOurAddress,         // destination is none of the server's addresses
  kBadSource,             // broadcast, multicast, unspecified, loopback or our own source
  kProtocolUnsupported,   // IP protocol other than UDP/ICMP/ICMPv6
  kUdpMalformed,          // truncated or length disagrees with the IP header
  kUdpWrongPort,          // not addressed to the NTP port
  kChecksumBad,           // the NIC reported a bad L3/L4 checksum
  kIcmpIgnored,           // ICMP/ICMPv6 other than echo request / neighbor solicitation
  kIcmpMalformed,         // truncated ICMP, bad ND option or hop limit
  kNdpIgnored,            // neighbor solicitation for another target
  kFrameSegmented,        // frame spread over several mbufs (larger than any request)

  // Policy (later stages of the pipeline).
  kAccessDenied,          // source denied by the access list
  kRateLimited,           // over the per-client rate limit, dropped (no KoD)
  kAuthFailed,            // bad MAC or unknown key, no crypto-NAK sent
  kAuthRequired,          // no MAC but the configuration requires one

  // Mode 6 (core::respond_control()).
  kNtpControlNotRequest,  // response, error or more bit set: not a request
  kNtpControlNoRoom,      // the output buffer cannot hold the largest answer

  kNtpZeroTransmit,       // transmit timestamp zero: no client could match an answer

  kCount_,
};

inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount_);

// Stable snake_case label, e.g. "ntp_bad_version".
const char* drop_reason_name(DropReason r) noexcept;
// One-line human description for /metrics HELP and docs.
const char* drop_reason_help(DropReason r) noexcept;

}  // namespace tachyon::core
