// tachyon-gen's request frames and control frames, checked byte for byte
// against the independent builders of tests/support/frames.h (their own
// layouts and a naive checksum).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "auth/key_file.h"
#include "tests/gen/reference_mac.h"
#include "tests/support/frames.h"
#include "tools/gen/frames.h"
#include "tools/gen/request_builder.h"

namespace tachyon::gen {
namespace {

using testing::Bytes;
using testing::Host;

const Mac kGenMac = {0x02, 0, 0, 0, 0, 0x02};
const Mac kServerMac = {0x02, 0, 0, 0, 0, 0x01};

IpAddress ip(const char* text) { return *parse_ip(text); }

Host host(const Mac& mac, const IpAddress& a, uint16_t port) {
  Host h;
  h.mac = mac;
  if (a.v6) {
    std::copy(a.bytes.begin(), a.bytes.end(), h.ipv6.begin());
  } else {
    h.ipv4 = uint32_t{a.bytes[0]} << 24 | uint32_t{a.bytes[1]} << 16 | uint32_t{a.bytes[2]} << 8 | a.bytes[3];
  }
  h.port = port;
  return h;
}

// The NTP payload a request of `e` carries, taking the random trailer bytes
// from the builder's own frame.
Bytes expected_payload(const MixEntry& e, const uint8_t* built_ntp, uint64_t xmt, uint32_t key_id) {
  Bytes p(48, 0);
  p[0] = static_cast<uint8_t>((e.version << 3) | (e.symmetric ? 1 : 3));
  p[2] = 6;
  for (int i = 0; i < 8; ++i) p[40 + static_cast<size_t>(i)] = static_cast<uint8_t>(xmt >> (56 - 8 * i));
  size_t n = 48;
  if (e.extension) {
    // Checksum Complement (RFC 7821), 28 bytes, value zero.
    const uint8_t ef[28] = {0x20, 0x05, 0, 28};
    p.insert(p.end(), ef, ef + 28);
    n += 28;
  }
  if (e.mac) {
    p.insert(p.end(), built_ntp + n, built_ntp + n + 20);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(p[n + static_cast<size_t>(i)], static_cast<uint8_t>(key_id >> (24 - 8 * i)));
  }
  return p;
}

struct Case {
  const char* server;
  const char* client;
  uint16_t vlan;
};

class RequestBuilderTest : public ::testing::TestWithParam<Case> {};

TEST_P(RequestBuilderTest, FramesMatchAnIndependentBuilderForEveryKindOfRequest) {
  const Case c = GetParam();
  const std::vector<MixEntry> mix = *parse_mix("v4,v3,v2,v1,v4+sym,v1+sym,v4+ef,v3+mac,v4+ef+mac");
  RequestParams params;
  params.src_mac = kGenMac;
  params.dst_mac = kServerMac;
  params.vlan = c.vlan;
  params.server = ip(c.server);
  params.mac_key_id = 0xdeadbeef;
  const std::vector<IpAddress> clients = {ip(c.client)};
  auto b = RequestBuilder::make(params, mix, clients, 42);
  ASSERT_TRUE(b) << b.message();

  const uint64_t xmts[] = {0, 1, 0xffff'ffff'ffff'ffffull, 0xe8f1'2345'6789'abcdull, 0x0000'ffff'0000'ffffull};
  const uint16_t ports[] = {1024, 65535, 4242, 1};
  for (size_t t = 0; t < mix.size(); ++t) {
    for (uint64_t xmt : xmts) {
      for (uint16_t port : ports) {
        uint8_t out[RequestTemplate::kBytes] = {};
        const uint16_t len = b->build(out, static_cast<uint8_t>(t), 0, port, xmt);
        const Bytes payload = expected_payload(mix[t], out + b->ntp_offset(), xmt, params.mac_key_id);
        const Bytes want = testing::udp_frame(host(kGenMac, clients[0], port), host(kServerMac, params.server, 123),
                                              params.server.v6, c.vlan, payload, 64, false);
        const Bytes got(out, out + len);
        EXPECT_EQ(got, want) << mix[t].name() << " xmt " << xmt << " port " << port << ": "
                             << testing::hex_diff(want, got);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, RequestBuilderTest,
                         ::testing::Values(Case{"192.0.2.1", "198.18.0.7", 0}, Case{"192.0.2.1", "192.0.2.200", 7},
                                           Case{"2001:db8::1", "2001:2::abcd", 0},
                                           Case{"2001:db8::1", "2001:db8::ffff:ffff", 4094}));

TEST(RequestBuilder, EveryClientAddressIsUsedWithCorrectChecksums) {
  RequestParams params;
  params.server = ip("192.0.2.1");
  const std::vector<IpAddress> clients = *client_addresses(*parse_prefix("198.18.0.0/24"), 300, {});
  ASSERT_EQ(clients.size(), 254u);
  auto b = RequestBuilder::make(params, *parse_mix("v4"), clients, 1);
  ASSERT_TRUE(b);
  for (uint32_t i = 0; i < b->client_count(); ++i) {
    uint8_t out[RequestTemplate::kBytes] = {};
    const uint16_t len = b->build(out, 0, i, static_cast<uint16_t>(40000 + i), 0x1234'5678'9abc'def0ull + i);
    Bytes payload(out + 42, out + len);
    const Bytes want = testing::udp_frame(host(params.src_mac, clients[i], static_cast<uint16_t>(40000 + i)),
                                          host(params.dst_mac, params.server, 123), false, 0, payload);
    ASSERT_EQ(Bytes(out, out + len), want) << to_string(clients[i]);
  }
}

TEST(RequestBuilder, InterleavedRequestsCarryOriginAndReceiveWithCorrectChecksums) {
  const std::vector<MixEntry> mix = *parse_mix("v4,v4+ef+mac,v3+sym");
  for (const char* server : {"192.0.2.1", "2001:db8::1"}) {
    RequestParams params;
    params.server = ip(server);
    const std::vector<IpAddress> clients = {ip(params.server.v6 ? "2001:2::7" : "198.18.0.7")};
    auto b = RequestBuilder::make(params, mix, clients, 3);
    ASSERT_TRUE(b) << b.message();
    const uint64_t stamps[][3] = {{0xe8f1'2345'6789'abcdull, 0, 0x1111'2222'3333'4444ull},
                                  {0xffff'ffff'ffff'fffeull, 0xe8f1'0000'0000'0001ull, 0xffff'ffff'ffff'ffffull},
                                  {1, 0x8000'0000'0000'0001ull, 0xfffe'0001'fffe'0001ull}};
    for (size_t t = 0; t < mix.size(); ++t) {
      for (const auto& [xmt, org, rec] : stamps) {
        uint8_t out[RequestTemplate::kBytes] = {};
        const uint16_t len = b->build(out, static_cast<uint8_t>(t), 0, 5555, xmt, org, rec);
        Bytes payload = expected_payload(mix[t], out + b->ntp_offset(), xmt, params.mac_key_id);
        for (int i = 0; i < 8; ++i) {
          payload[24 + static_cast<size_t>(i)] = static_cast<uint8_t>(org >> (56 - 8 * i));
          payload[32 + static_cast<size_t>(i)] = static_cast<uint8_t>(rec >> (56 - 8 * i));
        }
        const Bytes want = testing::udp_frame(host(params.src_mac, clients[0], 5555),
                                              host(params.dst_mac, params.server, 123), params.server.v6, 0, payload,
                                              64, false);
        const Bytes got(out, out + len);
        EXPECT_EQ(got, want) << server << " " << mix[t].name() << ": " << testing::hex_diff(want, got);
      }
    }
  }
}

// --keys: each +mac request carries the key's id and the MAC of the
// finished request (transmit timestamp included), computed the plain way
// with OpenSSL, and a UDP checksum over all of it; other requests are left
// as they were built.
TEST_P(RequestBuilderTest, SignedRequestsCarryTheKeysMacAndCorrectChecksums) {
  const Case c = GetParam();
  const auth::KeyFileResult keys = auth::parse_key_file(testing::kTestKeys, "test.keys");
  ASSERT_TRUE(keys.ok());
  auto engine = auth::MacEngine::create();
  ASSERT_TRUE(engine) << engine.message();
  const std::vector<MixEntry> mix = *parse_mix("v4+mac,v3+mac,v4+ef+mac,v1+sym+mac,v4");
  for (const auth::Key& key : keys.keys.keys()) {
    RequestParams params;
    params.src_mac = kGenMac;
    params.dst_mac = kServerMac;
    params.vlan = c.vlan;
    params.server = ip(c.server);
    params.mac_key_id = 99;  // not used when there is a key
    params.mac_key = &key;
    const std::vector<IpAddress> clients = {ip(c.client)};
    auto b = RequestBuilder::make(params, mix, clients, 42);
    ASSERT_TRUE(b) << b.message();
    EXPECT_EQ(b->mac_key(), &key);
    for (size_t t = 0; t < mix.size(); ++t) {
      EXPECT_EQ(b->request_template(t).is_signed(), mix[t].mac);
      for (uint64_t xmt : {uint64_t{0}, uint64_t{1}, uint64_t{0xe8f1'2345'6789'abcd}, ~uint64_t{0}}) {
        for (uint16_t port : {uint16_t{1}, uint16_t{4242}, uint16_t{65535}}) {
          uint8_t out[RequestTemplate::kBytes] = {};
          const uint16_t len = b->build(out, static_cast<uint8_t>(t), 0, port, xmt);
          ASSERT_TRUE(b->sign(out, static_cast<uint8_t>(t), *engine));
          ASSERT_LE(len, RequestTemplate::kBytes);
          MixEntry unsigned_entry = mix[t];
          unsigned_entry.mac = false;
          Bytes payload = expected_payload(unsigned_entry, out + b->ntp_offset(), xmt, 0);
          if (mix[t].mac) {
            const Bytes mac = testing::reference_mac(key, payload.data(), payload.size());
            ASSERT_EQ(mac.size(), key.mac_size());
            payload.insert(payload.end(), mac.begin(), mac.end());
          }
          const Bytes want = testing::udp_frame(host(kGenMac, clients[0], port),
                                                host(kServerMac, params.server, 123), params.server.v6, c.vlan,
                                                payload, 64, false);
          const Bytes got(out, out + len);
          EXPECT_EQ(got, want) << auth::algorithm_name(key.algorithm) << " " << mix[t].name() << " xmt " << xmt
                               << " port " << port << ": " << testing::hex_diff(want, got);
        }
      }
    }
  }
}

TEST(RequestBuilder, RefusesMixedFamilies) {
  RequestParams params;
  params.server = ip("2001:db8::1");
  auto b = RequestBuilder::make(params, *parse_mix("v4"), {ip("192.0.2.9")}, 1);
  ASSERT_FALSE(b);
  EXPECT_THAT(b.message(), ::testing::HasSubstr("different address families"));
}

TEST(RequestMix, ScheduleKeepsProportionsAndSpreadsEntries) {
  const auto mix = *parse_mix("v4=90,v3=9,v4+sym=1");
  const std::vector<uint8_t> s = mix_schedule(mix);
  ASSERT_EQ(s.size(), kScheduleSize);
  std::map<uint8_t, int> n;
  for (uint8_t t : s) ++n[t];
  EXPECT_NEAR(n[0], 922, 1);
  EXPECT_NEAR(n[1], 92, 1);
  EXPECT_NEAR(n[2], 10, 1);
  // Spread: in every window of 128 the rare v3 entry appears 11 or 12 times.
  for (size_t start = 0; start + 128 <= s.size(); start += 128) {
    int v3 = 0;
    for (size_t i = start; i < start + 128; ++i) v3 += s[i] == 1;
    EXPECT_GE(v3, 10);
    EXPECT_LE(v3, 13);
  }
}

TEST(RequestMix, TinyWeightsStillGetASlot) {
  const auto mix = *parse_mix("v4=1000000,v1=1");
  const std::vector<uint8_t> s = mix_schedule(mix);
  EXPECT_EQ(std::count(s.begin(), s.end(), 1), 1);
  EXPECT_EQ(std::count(s.begin(), s.end(), 0), static_cast<long>(kScheduleSize) - 1);
}

TEST(RequestMix, ParsesAndRejects) {
  auto m = parse_mix("v4=90,v3+sym+mac=2,v4+ef");
  ASSERT_TRUE(m) << m.message();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[1], (MixEntry{3, true, false, true, 2}));
  EXPECT_EQ((*m)[2], (MixEntry{4, false, true, false, 1}));
  EXPECT_EQ(mix_string(*m), "v4=90,v3+sym+mac=2,v4+ef=1");
  for (const char* bad : {"", "v5", "v0", "4", "v4=0", "v4=-1", "v4=x", "v4+foo", "v3+ef", "v4,v4", "v4+sym+sym",
                          "v4,", ",v4", "v4=1=2"}) {
    EXPECT_FALSE(parse_mix(bad)) << bad;
  }
  EXPECT_THAT(parse_mix("v2+ef").message(), ::testing::HasSubstr("only in NTPv4"));
}

// --- received frames ---

ClientSet clients_of(std::vector<const char*> addresses) {
  std::vector<IpAddress> v;
  for (const char* a : addresses) v.push_back(ip(a));
  return ClientSet(v);
}

TEST(Classify, AcceptsAnswersFromTheServerToUsOnly) {
  const ClientSet set = clients_of({"192.0.2.200"});
  RxFilter f;
  f.mac = kGenMac;
  f.server = ip("192.0.2.1");
  f.clients = &set;
  const Host server = host(kServerMac, f.server, 123);
  const Host client = host(kGenMac, ip("192.0.2.200"), 5555);
  const Bytes answer = testing::udp_frame(server, client, false, 0, Bytes(48, 0x24));

  Classified c = classify(answer.data(), static_cast<uint16_t>(answer.size()), f);
  EXPECT_EQ(c.kind, FrameKind::kNtpAnswer);
  EXPECT_EQ(c.payload_offset, 42);
  EXPECT_EQ(c.payload_length, 48);

  Host other_server = server;
  other_server.ipv4 += 1;
  const Bytes wrong_source = testing::udp_frame(other_server, client, false, 0, Bytes(48, 0));
  EXPECT_EQ(classify(wrong_source.data(), static_cast<uint16_t>(wrong_source.size()), f).kind, FrameKind::kOther);
  Host from_port_124 = server;
  from_port_124.port = 124;
  const Bytes wrong_port = testing::udp_frame(from_port_124, client, false, 0, Bytes(48, 0));
  EXPECT_EQ(classify(wrong_port.data(), static_cast<uint16_t>(wrong_port.size()), f).kind, FrameKind::kOther);
  Host elsewhere = client;
  elsewhere.mac[5] = 9;
  const Bytes not_our_mac = testing::udp_frame(server, elsewhere, false, 0, Bytes(48, 0));
  EXPECT_EQ(classify(not_our_mac.data(), static_cast<uint16_t>(not_our_mac.size()), f).kind, FrameKind::kOther);
  const Bytes tagged = testing::udp_frame(server, client, false, 5, Bytes(48, 0));
  EXPECT_EQ(classify(tagged.data(), static_cast<uint16_t>(tagged.size()), f).kind, FrameKind::kOther);
  f.vlan = 5;
  EXPECT_EQ(classify(tagged.data(), static_cast<uint16_t>(tagged.size()), f).kind, FrameKind::kNtpAnswer);
  EXPECT_EQ(classify(answer.data(), static_cast<uint16_t>(answer.size()), f).kind, FrameKind::kOther);
  f.vlan = 0;

  Bytes bad_ip_checksum = answer;
  bad_ip_checksum[14 + 10] ^= 0x01;
  EXPECT_EQ(classify(bad_ip_checksum.data(), static_cast<uint16_t>(bad_ip_checksum.size()), f).kind,
            FrameKind::kIpChecksumBad);
  // A partial (or wrong) UDP checksum is not our business.
  Bytes bad_udp_checksum = answer;
  bad_udp_checksum[14 + 20 + 6] ^= 0x55;
  EXPECT_EQ(classify(bad_udp_checksum.data(), static_cast<uint16_t>(bad_udp_checksum.size()), f).kind,
            FrameKind::kNtpAnswer);
  for (size_t len = 0; len < answer.size(); ++len) {
    const FrameKind k = classify(answer.data(), static_cast<uint16_t>(len), f).kind;
    EXPECT_EQ(k, FrameKind::kOther) << "truncated to " << len;
  }
}

TEST(Classify, AcceptsIpv6AnswersWithTheirPayload) {
  RxFilter f;
  f.mac = kGenMac;
  f.server = ip("2001:db8::1");
  const Bytes answer = testing::udp_frame(host(kServerMac, f.server, 123), host(kGenMac, ip("2001:db8::99"), 777),
                                          true, 0, Bytes(68, 0));
  const Classified c = classify(answer.data(), static_cast<uint16_t>(answer.size()), f);
  EXPECT_EQ(c.kind, FrameKind::kNtpAnswer);
  EXPECT_EQ(c.payload_offset, 62);
  EXPECT_EQ(c.payload_length, 68);
}

TEST(Classify, AnswersArpForOurClientsAsAnIndependentBuilderWould) {
  const ClientSet set = clients_of({"192.0.2.130", "192.0.2.131"});
  for (uint16_t vlan : {0, 12}) {
    RxFilter f;
    f.mac = kGenMac;
    f.vlan = vlan;
    f.server = ip("192.0.2.1");
    f.clients = &set;
    const Host asker = host(kServerMac, f.server, 0);
    Bytes request = testing::arp_request(asker, 0xc0000283, vlan);  // 192.0.2.131
    const Classified c = classify(request.data(), static_cast<uint16_t>(request.size()), f);
    ASSERT_EQ(c.kind, FrameKind::kArpRequest);
    const uint16_t len = answer_arp(request.data(), static_cast<uint16_t>(request.size()), c, kGenMac);
    const Bytes want = testing::arp_reply(host(kGenMac, ip("192.0.2.131"), 0), asker, vlan, request.size());
    EXPECT_EQ(Bytes(request.begin(), request.begin() + len), want) << testing::hex_diff(want, request);

    const Bytes not_ours = testing::arp_request(asker, 0xc0000284, vlan);
    EXPECT_EQ(classify(not_ours.data(), static_cast<uint16_t>(not_ours.size()), f).kind, FrameKind::kOther);
  }
}

TEST(Classify, AnswersNeighborSolicitationsForOurClientsButNotDad) {
  const ClientSet set = clients_of({"2001:db8::8001"});
  RxFilter f;
  f.mac = kGenMac;
  f.server = ip("2001:db8::1");
  f.clients = &set;
  const Host asker = host(kServerMac, f.server, 0);
  const IpAddress target = ip("2001:db8::8001");
  testing::Ip6 t6;
  std::copy(target.bytes.begin(), target.bytes.end(), t6.begin());
  for (bool multicast : {true, false}) {
    for (bool with_sll : {true, false}) {
      Bytes ns = testing::neighbor_solicitation(asker, t6, multicast, kGenMac, with_sll, 0);
      const Classified c = classify(ns.data(), static_cast<uint16_t>(ns.size()), f);
      ASSERT_EQ(c.kind, FrameKind::kNeighborSolicitation);
      ns.resize(128);
      const uint16_t len = answer_neighbor_solicitation(ns.data(), static_cast<uint16_t>(ns.size()), 128, c, kGenMac);
      const Bytes want = testing::neighbor_advertisement(kGenMac, t6, asker, true, 0);
      EXPECT_EQ(Bytes(ns.begin(), ns.begin() + len), want) << testing::hex_diff(want, Bytes(ns.begin(), ns.begin() + len));
    }
  }
  Host dad = asker;
  dad.ipv6 = {};
  Bytes probe = testing::neighbor_solicitation(dad, t6, true, kGenMac, false, 0);
  const Classified c = classify(probe.data(), static_cast<uint16_t>(probe.size()), f);
  ASSERT_EQ(c.kind, FrameKind::kNeighborSolicitation);
  EXPECT_EQ(answer_neighbor_solicitation(probe.data(), static_cast<uint16_t>(probe.size()), 128, c, kGenMac), 0);
}

TEST(Resolve, RequestsMatchAnIndependentBuilderAndRepliesYieldTheMac) {
  const IpAddress source4 = ip("192.0.2.130");
  const IpAddress server4 = ip("192.0.2.1");
  for (uint16_t vlan : {0, 3}) {
    uint8_t out[kMaxResolveFrame];
    const uint16_t len = build_resolve_request(out, kGenMac, vlan, source4, server4);
    const Bytes want = testing::arp_request(host(kGenMac, source4, 0), 0xc0000201, vlan);
    EXPECT_EQ(Bytes(out, out + len), want) << testing::hex_diff(want, Bytes(out, out + len));

    RxFilter f;
    f.mac = kGenMac;
    f.vlan = vlan;
    f.server = server4;
    const Bytes reply = testing::arp_reply(host(kServerMac, server4, 0), host(kGenMac, source4, 0), vlan, 60);
    const Classified c = classify(reply.data(), static_cast<uint16_t>(reply.size()), f);
    ASSERT_EQ(c.kind, FrameKind::kArpReply);
    Mac mac{};
    ASSERT_TRUE(resolved_mac(reply.data(), static_cast<uint16_t>(reply.size()), c, server4, mac));
    EXPECT_EQ(mac, kServerMac);
    EXPECT_FALSE(resolved_mac(reply.data(), static_cast<uint16_t>(reply.size()), c, source4, mac));
  }

  const IpAddress source6 = ip("2001:db8::8001");
  const IpAddress server6 = ip("2001:db8::1");
  uint8_t out[kMaxResolveFrame];
  const uint16_t len = build_resolve_request(out, kGenMac, 0, source6, server6);
  testing::Ip6 s6;
  std::copy(server6.bytes.begin(), server6.bytes.end(), s6.begin());
  const Bytes want = testing::neighbor_solicitation(host(kGenMac, source6, 0), s6, true, Mac{}, true, 0);
  EXPECT_EQ(Bytes(out, out + len), want) << testing::hex_diff(want, Bytes(out, out + len));

  RxFilter f;
  f.mac = kGenMac;
  f.server = server6;
  for (bool tlla : {true, false}) {
    // Without the option the Ethernet source is used: make it differ to tell.
    Bytes na = testing::neighbor_advertisement(kServerMac, s6, host(kGenMac, source6, 0), tlla, 0);
    if (!tlla) na[11] = 0x77;
    const Classified c = classify(na.data(), static_cast<uint16_t>(na.size()), f);
    ASSERT_EQ(c.kind, FrameKind::kNeighborAdvertisement);
    Mac mac{};
    ASSERT_TRUE(resolved_mac(na.data(), static_cast<uint16_t>(na.size()), c, server6, mac));
    Mac expected = kServerMac;
    if (!tlla) expected[5] = 0x77;
    EXPECT_EQ(mac, expected);
  }
}

}  // namespace
}  // namespace tachyon::gen
