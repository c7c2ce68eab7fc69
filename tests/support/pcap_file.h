// Test helper: reads pcap/pcapng captures (libpcap) and picks NTP payloads
// out of Ethernet frames, for golden tests and fuzz corpora.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tachyon::testing {

struct CapturedFrame {
  int64_t unix_ns = 0;  // capture timestamp
  std::vector<uint8_t> bytes;
};

// All frames of a capture file; throws std::runtime_error if unreadable.
std::vector<CapturedFrame> read_capture(const std::string& path);

struct UdpDatagram {
  std::string src;  // address in text form
  std::string dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  std::vector<uint8_t> payload;
};

// The UDP datagram inside an Ethernet (optionally VLAN-tagged) IPv4/IPv6
// frame, if it is one.
std::optional<UdpDatagram> udp_of(const std::vector<uint8_t>& frame);

// Directory holding the golden captures (tests/data/captures).
std::string captures_dir();

}  // namespace tachyon::testing
