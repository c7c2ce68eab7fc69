// Test helper: a lab (server and client identities, the server's clock
// state) and thousands of varied request frames, each with the exact answer
// a correct server sends or the reason it must be dropped. Shared by the
// frame-handler unit tests and the net_ring dataplane test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/drop_reason.h"
#include "core/ntp_time.h"
#include "core/server_state.h"
#include "dpdk/frame_handler.h"
#include "tests/support/frames.h"

namespace tachyon::testing {

struct Lab {
  Host server;
  Host client;
  uint16_t vlan = 0;
  core::ServerState state;
};

Lab default_lab(uint16_t vlan = 0);
dp::PortIdentity identity_for(const Lab& lab);

struct Scenario {
  std::string name;
  Bytes request;
  bool answered = false;
  Bytes expected;             // the answer; NTP answers with zero receive/transmit
  bool ntp = false;           // expected is an NTP time answer
  bool v6 = false;
  uint16_t vlan = 0;
  core::DropReason reason{};  // when !answered
};

// `count` scenarios drawn with `seed`: NTP v1-v4 modes 3/1 (and NTPv1
// mode 0) over IPv4/IPv6, with and without MACs, ARP, neighbor
// solicitations, ICMP/ICMPv6 echo, and junk of every kind.
std::vector<Scenario> varied_scenarios(const Lab& lab, uint32_t seed, size_t count);

// Checks `actual` against the scenario. For NTP answers the receive and
// transmit timestamps must lie in [earliest, latest] with receive <=
// transmit; they are then copied into the expected frame and the two are
// compared byte for byte. Returns "" when they match, else what differs.
std::string check_answer(const Scenario& s, const Bytes& actual, core::NtpTimestamp earliest,
                         core::NtpTimestamp latest);

}  // namespace tachyon::testing
