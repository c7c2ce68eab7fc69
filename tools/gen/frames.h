// The frames tachyon-gen receives and the control frames it sends, as
// plain bytes (no DPDK): classification of received frames (an NTP answer
// for one of our clients, ARP and neighbor discovery for our clients or
// from the server, anything else), answers to ARP requests and neighbor
// solicitations for the simulated clients (a kernel server resolves them
// before it can answer), and the ARP request / neighbor solicitation that
// resolves the server's MAC address.
//
// Everything here is noexcept and allocation-free and touches only the
// frame given; classify() runs per received frame.
#pragma once

#include <cstdint>

#include "tools/gen/addresses.h"

namespace tachyon::gen {

struct RxFilter {
  Mac mac{};               // ours
  uint16_t vlan = 0;       // 0: untagged
  IpAddress server;        // answers come from here
  uint16_t server_port = 123;
  const ClientSet* clients = nullptr;  // for ARP / NDP; may be null (then only the server is resolved)
};

enum class FrameKind : uint8_t {
  kNtpAnswer,               // UDP from the server's address and port to our MAC
  kIpChecksumBad,           // as kNtpAnswer, but the IPv4 header checksum is wrong
  kArpRequest,              // for one of our clients
  kArpReply,                // from anyone (the resolver checks the sender)
  kNeighborSolicitation,    // for one of our clients
  kNeighborAdvertisement,   // from anyone (the resolver checks the target)
  kOther,                   // not for us: ignored
};

struct Classified {
  FrameKind kind = FrameKind::kOther;
  uint16_t l2 = 0;              // Ethernet (+ VLAN) header length
  uint16_t payload_offset = 0;  // kNtpAnswer: UDP payload
  uint16_t payload_length = 0;
};

Classified classify(const uint8_t* frame, uint16_t length, const RxFilter& filter) noexcept;

// Turns a kArpRequest / kNeighborSolicitation frame into our answer, in
// place (the same VLAN tag). Returns the answer's length, or 0 if it would
// exceed `capacity` or the solicitation must not be answered (duplicate
// address detection). REQUIRES: classify() returned that kind for it.
uint16_t answer_arp(uint8_t* frame, uint16_t length, const Classified& c, const Mac& our_mac) noexcept;
uint16_t answer_neighbor_solicitation(uint8_t* frame, uint16_t length, uint16_t capacity, const Classified& c,
                                      const Mac& our_mac) noexcept;

// The sender MAC of a kArpReply from `from`, or of a kNeighborAdvertisement
// for target `from` (its target link-layer address option, else its
// Ethernet source). False if the frame is about another address.
bool resolved_mac(const uint8_t* frame, uint16_t length, const Classified& c, const IpAddress& from,
                  Mac& mac) noexcept;

// A broadcast ARP request (or a neighbor solicitation to the target's
// solicited-node multicast group, with our link-layer address) from
// `source` asking for `target`. Returns the length written (at most
// kMaxResolveFrame bytes).
inline constexpr uint16_t kMaxResolveFrame = 90;
uint16_t build_resolve_request(uint8_t* out, const Mac& our_mac, uint16_t vlan, const IpAddress& source,
                               const IpAddress& target) noexcept;

}  // namespace tachyon::gen
