#include "core/drop_reason.h"

namespace tachyon::core {
namespace {

struct Entry {
  const char* name;
  const char* help;
};

constexpr Entry kEntries[] = {
    {"ntp_truncated", "NTP payload shorter than the 48-byte header"},
    {"ntp_bad_version", "NTP version 0 or above 4"},
    {"ntp_mode_reserved", "NTP mode 0 that is not an NTPv1 client request"},
    {"ntp_mode_symmetric_passive", "NTP mode 2 (symmetric passive) request"},
    {"ntp_mode_server", "NTP mode 4 (server) packet received"},
    {"ntp_mode_broadcast", "NTP mode 5 (broadcast) packet received"},
    {"ntp_mode_control", "NTP mode 6 (control) request from a source not allowed to query"},
    {"ntp_mode_private", "NTP mode 7 (private, ntpdc) request: never answered"},
    {"ntp_bad_trailer", "malformed NTP extension fields or MAC"},
    {"ntp_control_malformed", "mode 6 request the control handler cannot answer"},
    {"frame_truncated", "frame shorter than its Ethernet/VLAN header"},
    {"vlan_mismatch", "frame on another VLAN than the port's"},
    {"vlan_stacked", "frame with more than one VLAN tag"},
    {"ethertype_unsupported", "EtherType other than IPv4, IPv6, ARP"},
    {"arp_malformed", "ARP packet that is not Ethernet/IPv4 or is truncated"},
    {"arp_ignored", "ARP packet that is not a request for one of our addresses"},
    {"ipv4_malformed", "IPv4 header truncated, bad version/IHL or total length"},
    {"ipv4_options", "IPv4 header with options"},
    {"ipv4_fragment", "IPv4 fragment"},
    {"ipv6_malformed", "IPv6 header truncated or payload length disagrees with the frame"},
    {"ipv6_extension_header", "IPv6 packet with an extension header"},
    {"not_our_address", "destination is not one of the server's addresses"},
    {"bad_source", "source is broadcast, multicast, unspecified, loopback or ours"},
    {"protocol_unsupported", "IP protocol other than UDP, ICMP, ICMPv6"},
    {"udp_malformed", "UDP header truncated or length disagrees with IP"},
    {"udp_wrong_port", "UDP datagram not addressed to the NTP port"},
    {"checksum_bad", "the NIC reported a bad IP or UDP checksum"},
    {"icmp_ignored", "ICMP/ICMPv6 message other than echo request or neighbor solicitation"},
    {"icmp_malformed", "ICMP/ICMPv6 message truncated or invalid"},
    {"ndp_ignored", "neighbor solicitation for an address that is not ours"},
    {"frame_segmented", "frame spread over several buffers (jumbo): never a request"},
    {"access_denied", "source denied by the access list (no KoD sent)"},
    {"rate_limited", "source over its rate limit (no KoD sent)"},
    {"auth_failed", "unknown key or invalid MAC (no crypto-NAK sent)"},
    {"auth_required", "request without a MAC while authentication is required"},
    {"ntp_control_not_request", "mode 6 packet with the response, error or more bit set (not a request)"},
    {"ntp_control_no_room", "output buffer too small for a mode 6 answer (dataplane bug)"},
    {"ntp_zero_transmit", "NTP request with a zero transmit timestamp: its client could not match an answer"},
};
static_assert(sizeof kEntries / sizeof kEntries[0] == kDropReasonCount,
              "every DropReason needs a name and a description");

}  // namespace

const char* drop_reason_name(DropReason r) noexcept {
  const auto i = static_cast<size_t>(r);
  return i < kDropReasonCount ? kEntries[i].name : "unknown";
}

const char* drop_reason_help(DropReason r) noexcept {
  const auto i = static_cast<size_t>(r);
  return i < kDropReasonCount ? kEntries[i].help : "unknown";
}

}  // namespace tachyon::core
