#include "tests/support/scenarios.h"

#include <random>

#include "core/ntp_packet.h"

namespace tachyon::testing {
namespace {

using core::DropReason;
using core::Leap;
using core::Mode;

uint64_t be64_at(const Bytes& b, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | b[at + i];
  return v;
}

Bytes ntp_request(uint8_t version, Mode mode, int8_t poll, uint64_t xmt, size_t extra) {
  core::NtpHeader h;
  h.leap = Leap::kUnsync;
  h.version = version;
  h.mode = mode;
  h.poll = poll;
  h.precision = -20;
  h.transmit = core::NtpTimestamp{xmt};
  Bytes p(core::kNtpHeaderSize + extra, 0x5a);
  core::encode_header(h, p);
  return p;
}

// What a correct server answers, with receive and transmit left at zero.
Bytes ntp_answer(const Lab& lab, const Bytes& request) {
  const core::NtpHeader q = core::decode_header(request);
  core::NtpHeader a;
  const core::ServerState& s = lab.state;
  a.leap = s.synchronized ? s.leap : Leap::kUnsync;
  a.version = q.version;
  a.mode = q.mode == Mode::kSymmetricActive ? Mode::kSymmetricPassive : Mode::kServer;
  a.stratum = s.synchronized ? s.stratum : core::kStratumUnsynchronized;
  a.poll = q.poll;
  a.precision = s.precision;
  a.root_delay = s.root_delay;
  a.root_dispersion = s.root_dispersion;
  a.refid = s.refid;
  a.reference = s.reference_time;
  a.origin = q.transmit;
  Bytes p(core::kNtpHeaderSize);
  core::encode_header(a, p);
  return p;
}

void set_ipv4_checksum(Bytes& f, size_t ip) {
  f[ip + 10] = 0;
  f[ip + 11] = 0;
  const uint16_t c = internet_checksum(f, ip, (f[ip] & 0xfu) * 4u);
  f[ip + 10] = static_cast<uint8_t>(c >> 8);
  f[ip + 11] = static_cast<uint8_t>(c);
}

class Generator {
 public:
  Generator(const Lab& lab, uint32_t seed) : lab_(lab), rng_(seed) {}

  Scenario next() {
    const unsigned pick = rng_() % 100;
    if (pick < 55) return ntp();
    if (pick < 60) return arp();
    if (pick < 65) return neighbor_solicitation_case();
    if (pick < 70) return icmp();
    if (pick < 75) return icmpv6();
    return junk();
  }

 private:
  Host client(bool v6) {
    Host c = lab_.client;
    c.port = static_cast<uint16_t>(1024 + rng_() % 64000);
    const auto n = static_cast<uint8_t>(2 + rng_() % 200);
    if (v6) {
      c.ipv6[15] = n;
    } else {
      c.ipv4 = (c.ipv4 & 0xffff'ff00u) | n;
    }
    return c;
  }

  Scenario answered_ntp(const std::string& name, const Host& c, bool v6, const Bytes& request) {
    Scenario s;
    s.name = name;
    s.v6 = v6;
    s.vlan = lab_.vlan;
    s.request = udp_frame(c, lab_.server, v6, lab_.vlan, request);
    s.answered = true;
    s.ntp = true;
    Host server = lab_.server;
    server.port = lab_.server.port;
    s.expected = udp_frame(server, c, v6, lab_.vlan, ntp_answer(lab_, request), 64, true);
    return s;
  }

  Scenario ntp() {
    const bool v6 = rng_() % 5 == 0;
    Host c = client(v6);
    const auto poll = static_cast<int8_t>(static_cast<int>(rng_() % 21) - 3);
    const uint64_t xmt = rng_();
    const unsigned kind = rng_() % 20;
    if (kind == 0) {  // NTPv1: mode 0, told from a peer by its port
      return answered_ntp("ntpv1", c, v6, ntp_request(1, Mode::kReserved, poll, xmt, 0));
    }
    if (kind <= 2) {  // symmetric active: Windows w32time as a server
      return answered_ntp("mode1", c, v6,
                          ntp_request(static_cast<uint8_t>(3 + rng_() % 2), Mode::kSymmetricActive, poll, xmt, 0));
    }
    const size_t mac = kind == 3 ? core::kMd5MacSize : kind == 4 ? core::kSha1MacSize : 0;
    const auto version = static_cast<uint8_t>(1 + rng_() % 4);
    Scenario s = answered_ntp("ntpv" + std::to_string(version) + (mac ? "+mac" : ""), c, v6,
                              ntp_request(version, Mode::kClient, poll, xmt, mac));
    if (kind == 5) {
      // A partial checksum, as a veth peer with TX offload sends: accepted.
      const size_t udp = l2_length(lab_.vlan) + (v6 ? 40 : 20);
      s.request[udp + 6] ^= 0x5a;
      s.name += "+partial-checksum";
    }
    return s;
  }

  Scenario arp() {
    Scenario s;
    Host c = client(false);
    if (rng_() % 4 == 0) {
      s.name = "arp-other-target";
      s.request = arp_request(c, lab_.server.ipv4 + 7, lab_.vlan);
      s.reason = DropReason::kArpIgnored;
      return s;
    }
    s.name = "arp";
    s.request = arp_request(c, lab_.server.ipv4, lab_.vlan);
    s.answered = true;
    s.expected = arp_reply(lab_.server, c, lab_.vlan, s.request.size());
    return s;
  }

  Scenario neighbor_solicitation_case() {
    Scenario s;
    Host c = client(true);
    const bool multicast = rng_() % 2 == 0;
    if (rng_() % 5 == 0) {
      Ip6 other = lab_.server.ipv6;
      other[15] ^= 0x40;
      s.name = "ns-other-target";
      s.request = neighbor_solicitation(c, other, true, lab_.server.mac, true, lab_.vlan);
      s.reason = DropReason::kNdpIgnored;
      return s;
    }
    // Multicast solicitations carry the source link-layer option (RFC 4861
    // 7.2.2); unicast ones (reachability probes) may not.
    const bool slla = multicast || rng_() % 2 == 0;
    s.name = multicast ? "ns-multicast" : (slla ? "ns-unicast" : "ns-unicast-no-slla");
    s.request = neighbor_solicitation(c, lab_.server.ipv6, multicast, lab_.server.mac, slla, lab_.vlan);
    s.answered = true;
    s.expected = neighbor_advertisement(lab_.server.mac, lab_.server.ipv6, c, slla, lab_.vlan);
    return s;
  }

  Bytes random_bytes(size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng_());
    return b;
  }

  Scenario icmp() {
    Scenario s;
    Host c = client(false);
    const auto id = static_cast<uint16_t>(rng_());
    const auto seq = static_cast<uint16_t>(rng_());
    const Bytes data = random_bytes(rng_() % 1200);
    s.name = "icmp-echo";
    s.request = icmp_echo(c, lab_.server, lab_.vlan, false, id, seq, data);
    s.answered = true;
    s.expected = icmp_echo(lab_.server, c, lab_.vlan, true, id, seq, data);
    return s;
  }

  Scenario icmpv6() {
    Scenario s;
    Host c = client(true);
    const auto id = static_cast<uint16_t>(rng_());
    const auto seq = static_cast<uint16_t>(rng_());
    const Bytes data = random_bytes(rng_() % 1200);
    s.name = "icmpv6-echo";
    s.request = icmpv6_echo(c, lab_.server, lab_.vlan, false, id, seq, data);
    s.answered = true;
    s.expected = icmpv6_echo(lab_.server, c, lab_.vlan, true, id, seq, data);
    return s;
  }

  Scenario junk() {
    Scenario s;
    const bool v6 = rng_() % 3 == 0;
    Host c = client(v6);
    Host server = lab_.server;
    const size_t l2 = l2_length(lab_.vlan);
    const Bytes good = ntp_request(4, Mode::kClient, 6, rng_(), 0);
    auto frame = [&](const Bytes& payload) { return udp_frame(c, server, v6, lab_.vlan, payload); };
    switch (rng_() % 26) {
      case 0:
        s.name = "truncated-frame";
        s.request = random_bytes(rng_() % 14);
        s.reason = DropReason::kFrameTruncated;
        break;
      case 1:
        s.name = "lldp";
        s.request = frame(good);
        s.request[l2 - 2] = 0x88;
        s.request[l2 - 1] = 0xcc;
        s.reason = DropReason::kEtherTypeUnsupported;
        break;
      case 2:
        s.name = "ipv4-fragment";
        s.request = udp_frame(c, server, false, lab_.vlan, good);
        s.request[l2 + 6] = 0x20;  // more fragments
        set_ipv4_checksum(s.request, l2);
        s.reason = DropReason::kIpv4Fragment;
        break;
      case 3: {
        s.name = "ipv4-options";
        Bytes f = udp_frame(c, server, false, lab_.vlan, good);
        f.insert(f.begin() + static_cast<long>(l2 + 20), {1, 1, 1, 0});  // NOP NOP NOP EOL
        f[l2] = 0x46;
        const auto total = static_cast<uint16_t>(f.size() - l2);
        f[l2 + 2] = static_cast<uint8_t>(total >> 8);
        f[l2 + 3] = static_cast<uint8_t>(total);
        set_ipv4_checksum(f, l2);
        s.request = f;
        s.reason = DropReason::kIpv4Options;
        break;
      }
      case 4:
        s.name = "wrong-port";
        server.port = 124;
        s.request = frame(good);
        s.reason = DropReason::kUdpWrongPort;
        break;
      case 5:
        s.name = "other-address";
        if (v6) server.ipv6[15] ^= 0x20; else server.ipv4 += 98;
        s.request = frame(good);
        s.reason = DropReason::kNotOurAddress;
        break;
      case 6:
        s.name = "multicast-source";
        if (v6) c.ipv6 = ipv6_from_string("ff02::fb"); else c.ipv4 = ipv4_from_string("224.0.0.251");
        s.request = frame(good);
        s.reason = DropReason::kBadSource;
        break;
      case 7:
        s.name = "broadcast-source";
        c.ipv4 = ipv4_from_string("192.0.2.255");
        s.request = udp_frame(c, server, false, lab_.vlan, good);
        s.reason = DropReason::kBadSource;
        break;
      case 8:
        s.name = "bad-ipv4-checksum";
        s.request = udp_frame(c, server, false, lab_.vlan, good);
        s.request[l2 + 10] ^= 0xff;
        s.reason = DropReason::kChecksumBad;
        break;
      case 9:
        s.name = "mode7";
        s.request = frame(Bytes{0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0});
        s.reason = DropReason::kNtpModePrivate;
        break;
      case 10:
        s.name = "mode6";
        s.request = frame(Bytes{0x16, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0});
        s.reason = DropReason::kNtpModeControl;
        break;
      case 11:
        s.name = "version5";
        s.request = frame(ntp_request(5, Mode::kClient, 6, 1, 0));
        s.reason = DropReason::kNtpBadVersion;
        break;
      case 12:
        s.name = "mode4";
        s.request = frame(ntp_request(4, Mode::kServer, 6, 1, 0));
        s.reason = DropReason::kNtpModeServer;
        break;
      case 13:
        s.name = "ntp-truncated";
        s.request = frame(Bytes(good.begin(), good.begin() + 40));
        s.reason = DropReason::kNtpTruncated;
        break;
      case 14:
        s.name = "ntp-bad-trailer";
        s.request = frame(ntp_request(4, Mode::kClient, 6, 1, 7));
        s.reason = DropReason::kNtpBadTrailer;
        break;
      case 15:
        s.name = "ipv6-fragment-header";
        s.request = udp_frame(c, server, true, lab_.vlan, good);
        s.request[l2 + 6] = 44;
        s.reason = DropReason::kIpv6ExtensionHeader;
        break;
      case 16:
        s.name = "stacked-vlan";
        s.request = frame(good);
        s.request.insert(s.request.begin() + 12, {0x88, 0xa8, 0x00, 0x05});
        s.reason = DropReason::kVlanStacked;
        break;
      case 17:
        s.name = "foreign-vlan";
        s.request = udp_frame(c, server, v6, 7, good);
        s.reason = DropReason::kVlanMismatch;
        break;
      case 18: {
        s.name = "udp-length-overflow";
        s.request = frame(good);
        const size_t udp = l2 + (v6 ? 40 : 20);
        s.request[udp + 4] = 0x02;
        s.reason = DropReason::kUdpMalformed;
        break;
      }
      case 19:
        s.name = "ip-length-overflow";
        s.request = frame(good);
        if (v6) {
          s.request[l2 + 4] = 0x05;
          s.reason = DropReason::kIpv6Malformed;
        } else {
          s.request[l2 + 2] = 0x05;
          set_ipv4_checksum(s.request, l2);
          s.reason = DropReason::kIpv4Malformed;
        }
        break;
      case 20: {
        s.name = "icmp-timestamp-request";
        c = client(false);
        s.request = icmp_echo(c, server, lab_.vlan, false, 1, 1, Bytes(12, 0));
        const size_t icmp = l2 + 20;
        s.request[icmp] = 13;
        s.request[icmp + 2] = 0;
        s.request[icmp + 3] = 0;
        const uint16_t ck = internet_checksum(s.request, icmp, 20);
        s.request[icmp + 2] = static_cast<uint8_t>(ck >> 8);
        s.request[icmp + 3] = static_cast<uint8_t>(ck);
        s.reason = DropReason::kIcmpIgnored;
        break;
      }
      case 21:
        s.name = "zero-source-port";
        c.port = 0;
        s.request = frame(good);
        s.reason = DropReason::kBadSource;
        break;
      case 22:
        s.name = "ntpv1-peer-port-123";
        c.port = 123;
        s.request = frame(ntp_request(1, Mode::kReserved, 6, 1, 0));
        s.reason = DropReason::kNtpModeReserved;
        break;
      case 23:
        s.name = "own-source";
        c = server;
        c.port = 40000;
        s.request = frame(good);
        s.reason = DropReason::kBadSource;
        break;
      case 24:
        s.name = "zero-transmit";
        s.request = frame(ntp_request(static_cast<uint8_t>(1 + rng_() % 4), Mode::kClient, 6, 0, 0));
        s.reason = DropReason::kNtpZeroTransmit;
        break;
      default:
        s.name = "udp-to-multicast";
        if (v6) server.ipv6 = ipv6_from_string("ff02::101"); else server.ipv4 = ipv4_from_string("224.0.1.1");
        s.request = frame(good);
        s.reason = DropReason::kNotOurAddress;
        break;
    }
    if (lab_.vlan != 0 && s.name == "foreign-vlan") s.reason = DropReason::kVlanMismatch;
    return s;
  }

  const Lab& lab_;
  std::mt19937 rng_;
};

}  // namespace

Lab default_lab(uint16_t vlan) {
  Lab lab;
  lab.server = Host{mac_from_string("02:00:00:00:00:01"), ipv4_from_string("192.0.2.1"),
                    ipv6_from_string("2001:db8::1"), 123};
  lab.client = Host{mac_from_string("02:00:00:00:00:02"), ipv4_from_string("192.0.2.2"),
                    ipv6_from_string("2001:db8::2"), 40000};
  lab.vlan = vlan;
  lab.state.synchronized = true;
  lab.state.leap = Leap::kNone;
  lab.state.stratum = 1;
  lab.state.precision = -24;
  lab.state.refid = core::refid_from_ascii("GPS\0");
  lab.state.root_delay = core::NtpShort{0x12};
  lab.state.root_dispersion = core::NtpShort{0x345};
  lab.state.reference_time = core::NtpTimestamp{0xeeab'a4c5'0000'0000ull};
  return lab;
}

dp::PortIdentity identity_for(const Lab& lab) {
  dp::PortIdentity id;
  id.mac = lab.server.mac;
  id.vlan = lab.vlan;
  id.ntp_port = lab.server.port;
  id.add_ipv4(lab.server.ipv4, 24);
  id.add_ipv6(lab.server.ipv6);
  id.add_ipv6(id.link_local());
  return id;
}

std::vector<Scenario> varied_scenarios(const Lab& lab, uint32_t seed, size_t count) {
  Generator g(lab, seed);
  std::vector<Scenario> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(g.next());
  return out;
}

std::string check_answer(const Scenario& s, const Bytes& actual, core::NtpTimestamp earliest,
                         core::NtpTimestamp latest) {
  if (!s.answered) return "junk got an answer";
  Bytes expected = s.expected;
  if (s.ntp) {
    const size_t ntp = ntp_offset(s.v6, s.vlan);
    if (actual.size() != expected.size()) return "answer length " + std::to_string(actual.size());
    const core::NtpTimestamp rx{be64_at(actual, ntp + core::off::kReceive)};
    const core::NtpTimestamp tx{be64_at(actual, ntp + core::off::kTransmit)};
    if (core::ntp_diff_nanos(rx, earliest) < 0 || core::ntp_diff_nanos(latest, rx) < 0) {
      return "receive timestamp outside the test's window";
    }
    if (core::ntp_diff_nanos(tx, rx) < 0) return "transmit before receive";
    if (core::ntp_diff_nanos(latest, tx) < 0) return "transmit timestamp after the test's window";
    patch_ntp_timestamp(expected, s.v6, s.vlan, core::off::kReceive, rx.raw);
    patch_ntp_timestamp(expected, s.v6, s.vlan, core::off::kTransmit, tx.raw);
  }
  if (expected != actual) return hex_diff(expected, actual);
  return "";
}

}  // namespace tachyon::testing
