// The command line and the address helpers: defaults, every kind of value,
// and a clear refusal of what makes no sense.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "tools/gen/addresses.h"
#include "tools/gen/options.h"
#include "tools/gen/report.h"

namespace tachyon::gen {
namespace {

using ::testing::HasSubstr;

std::optional<GenOptions> parse(std::vector<const char*> args, int* code = nullptr) {
  args.insert(args.begin(), "tachyon-gen");
  int exit_code = -1;
  auto o = parse_options(static_cast<int>(args.size()), args.data(), exit_code);
  if (code) *code = exit_code;
  return o;
}

TEST(Options, DefaultsForAnIpv4Server) {
  auto o = parse({"-d", "net_memif0", "-s", "192.0.2.1"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->device, "net_memif0");
  EXPECT_EQ(to_string(o->server), "192.0.2.1");
  EXPECT_EQ(to_string(o->source), "198.18.0.0/15");
  EXPECT_EQ(o->clients, 1024u);
  EXPECT_EQ(o->rate, 10000);
  EXPECT_FALSE(o->ramp);
  EXPECT_EQ(o->cpus, (std::vector<uint32_t>{1}));
  EXPECT_EQ(o->main_cpu, 1u);
  EXPECT_EQ(o->mix.size(), 1u);
  EXPECT_EQ(o->server_port, 123);
  EXPECT_FALSE(o->server_mac);
  EXPECT_THAT(o->file_prefix, HasSubstr("tachyon-gen-"));
  EXPECT_FALSE(o->interleaved);
  EXPECT_EQ(o->burst, 1u);
  EXPECT_EQ(parse({"-d", "x", "-s", "192.0.2.1", "--burst", "32"})->burst, 32u);
  EXPECT_TRUE(parse({"-d", "x", "-s", "192.0.2.1", "--interleaved"})->interleaved);
}

TEST(Options, DefaultSourceFollowsTheServersFamily) {
  auto o = parse({"-d", "x", "-s", "2001:db8::1"});
  ASSERT_TRUE(o);
  EXPECT_EQ(to_string(o->source), "2001:2::/48");
}

TEST(Options, EverythingGiven) {
  auto o = parse({"-d", "0000:3b:00.0", "-s", "2001:db8::1", "--source", "2001:db8::8000/113", "--clients", "100",
                  "--source-ports", "2000-3000", "--mix", "v4=9,v3+sym=1", "--ramp", "--start-rate", "20k",
                  "--multiplier", "1.25", "--step", "1.5", "--max-loss", "0.5", "--max-rate", "1.5M", "--bisect", "3",
                  "--loss-retries", "1", "--cpus", "2-4,7", "--main-cpu", "0", "--vlan", "100", "--server-mac", "02:00:00:00:00:01",
                  "--timeout", "0.05", "--max-offset", "0.5", "--reject-unsync", "--json", "-", "-q", "--eal=--foo",
                  "--eal=--bar"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->clients, 100u);
  EXPECT_EQ(o->source_port_min, 2000);
  EXPECT_EQ(o->source_port_max, 3000);
  EXPECT_EQ(o->mix.size(), 2u);
  EXPECT_TRUE(o->ramp);
  EXPECT_EQ(o->ramp_options.start_rate, 20000);
  EXPECT_EQ(o->ramp_options.multiplier, 1.25);
  EXPECT_EQ(o->ramp_options.max_loss_pct, 0.5);
  EXPECT_EQ(o->ramp_options.max_rate, 1.5e6);
  EXPECT_EQ(o->ramp_options.bisect, 3u);
  EXPECT_EQ(o->ramp_options.loss_retries, 1u);
  EXPECT_EQ(o->step_s, 1.5);
  EXPECT_EQ(o->cpus, (std::vector<uint32_t>{2, 3, 4, 7}));
  EXPECT_EQ(o->main_cpu, 0u);
  EXPECT_EQ(o->vlan, 100);
  EXPECT_EQ(to_string(*o->server_mac), "02:00:00:00:00:01");
  EXPECT_TRUE(o->reject_unsync);
  EXPECT_EQ(o->json_path, "-");
  EXPECT_TRUE(o->quiet);
  EXPECT_EQ(o->eal_args, (std::vector<std::string>{"--foo", "--bar"}));
}

TEST(Options, UsageErrorsExitTwo) {
  const std::vector<std::vector<const char*>> bad = {
      {"-s", "192.0.2.1"},                                        // no device
      {"-d", "x"},                                                // no server
      {"-d", "x", "-s", "192.0.2"},                               // bad address
      {"-d", "x", "-s", "192.0.2.1", "--source", "2001:db8::/64"},  // family
      {"-d", "x", "-s", "192.0.2.1", "--source", "192.0.2.1/24"},   // host bits
      {"-d", "x", "-s", "192.0.2.1", "--rate", "fast"},
      {"-d", "x", "-s", "192.0.2.1", "--rate", "0"},
      {"-d", "x", "-s", "192.0.2.1", "--mix", "v9"},
      {"-d", "x", "-s", "192.0.2.1", "--cpus", "1,1"},
      {"-d", "x", "-s", "192.0.2.1", "--cpus", "3-1"},
      {"-d", "x", "-s", "192.0.2.1", "--multiplier", "1"},
      {"-d", "x", "-s", "192.0.2.1", "--max-loss", "101"},
      {"-d", "x", "-s", "192.0.2.1", "--loss-retries", "11"},
      {"-d", "x", "-s", "192.0.2.1", "--timeout", "0"},
      {"-d", "x", "-s", "192.0.2.1", "--source-ports", "5-4"},
      {"-d", "x", "-s", "192.0.2.1", "--server-mac", "01:00:5e:00:00:01"},  // multicast
      {"-d", "x", "-s", "192.0.2.1", "--server-mac", "02:00:00:00:00"},
      {"-d", "x", "-s", "192.0.2.1", "--vlan", "4095"},
      {"-d", "x", "-s", "192.0.2.1", "--gateway", "2001:db8::1"},
      {"-d", "x", "-s", "192.0.2.1", "--start-rate", "max"},
      {"-d", "x", "-s", "192.0.2.1", "--max-rate", "5k"},  // below the start rate
      {"-d", "x", "-s", "192.0.2.1", "--no-such-option"},
      {"-d", "x", "-s", "192.0.2.1", "--burst", "0"},
      {"-d", "x", "-s", "192.0.2.1", "--burst", "33"},
      {"-d", "x", "-s", "192.0.2.1", "--interleaved", "--echo"},  // a reflector answers no interleaved request
      {"-d", "x", "-s", "192.0.2.1", "--keys", "k", "--keys-format", "ntp"},
      {"-d", "x", "-s", "192.0.2.1", "--keys", "k"},                      // nothing to sign
      {"-d", "x", "-s", "192.0.2.1", "--keys", "k", "--mix", "v4,v3+sym"},  // nothing to sign
      {"-d", "x", "-s", "192.0.2.1", "--keys", "k", "--mix", "v4+mac", "--mac-key-id", "0"},
  };
  for (const auto& args : bad) {
    int code = -1;
    EXPECT_FALSE(parse(args, &code)) << args.back();
    EXPECT_EQ(code, 2) << args.back();
  }
}

TEST(Options, KeysSignTheMixsMacRequests) {
  auto o = parse({"-d", "x", "-s", "192.0.2.1", "--keys", "/etc/ntp.keys", "--mix", "v4=9,v4+mac=1", "--mac-key-id",
                  "7", "--keys-format", "chrony"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->keys_path, "/etc/ntp.keys");
  EXPECT_EQ(o->mac_key_id, 7u);
  EXPECT_EQ(o->keys_format, auth::KeyFileFormat::kChrony);
  EXPECT_EQ(parse({"-d", "x", "-s", "192.0.2.1"})->keys_format, auth::KeyFileFormat::kAuto);
  EXPECT_TRUE(parse({"-d", "x", "-s", "192.0.2.1"})->keys_path.empty());

  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(parse({"-d", "x", "-s", "192.0.2.1", "--keys", "k", "--mix", "v4,v3"}));
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("--keys signs the mix's +mac requests, and --mix v4,v3 has none (e.g. --mix v4+mac)"));
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(parse({"-d", "x", "-s", "192.0.2.1", "--keys", "k", "--mix", "v4+mac", "--keys-format", "ntp"}));
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("--keys-format \"ntp\": expected auto, ntpd or chrony"));
}

TEST(Options, HelpExitsZero) {
  int code = -1;
  EXPECT_FALSE(parse({"--help"}, &code));
  EXPECT_EQ(code, 0);
}

TEST(Options, Rates) {
  EXPECT_EQ(*parse_rate("50000"), 50000);
  EXPECT_EQ(*parse_rate("50k"), 50000);
  EXPECT_EQ(*parse_rate("1.5M"), 1.5e6);
  EXPECT_EQ(*parse_rate("max"), 0);
  for (const char* bad : {"", "k", "5x", "-5", "0", "1e11", "nan"}) EXPECT_FALSE(parse_rate(bad)) << bad;
}

TEST(Options, CpuLists) {
  EXPECT_EQ(*parse_cpu_list("1"), (std::vector<uint32_t>{1}));
  EXPECT_EQ(*parse_cpu_list("0,2-3"), (std::vector<uint32_t>{0, 2, 3}));
  for (const char* bad : {"", ",", "1,", "a", "-1", "1-", "2-1", "1,1", "0-2,1", "5000"}) {
    EXPECT_FALSE(parse_cpu_list(bad)) << bad;
  }
}

TEST(Addresses, PrefixesParseAndPrint) {
  EXPECT_EQ(to_string(*parse_prefix("192.0.2.128/25")), "192.0.2.128/25");
  EXPECT_EQ(to_string(*parse_prefix("192.0.2.7")), "192.0.2.7/32");
  EXPECT_EQ(to_string(*parse_prefix("2001:db8::/32")), "2001:db8::/32");
  EXPECT_THAT(parse_prefix("192.0.2.1/24").message(), HasSubstr("did you mean 192.0.2.0/24"));
  for (const char* bad : {"192.0.2.0/33", "192.0.2.0/", "192.0.2.0/x", "2001:db8::/129", "foo/8", "192.0.2.0/-1"}) {
    EXPECT_FALSE(parse_prefix(bad)) << bad;
  }
}

TEST(Addresses, ClientsSkipNetworkBroadcastAndExcluded) {
  const auto v4 = *client_addresses(*parse_prefix("192.0.2.0/30"), 100, {*parse_ip("192.0.2.1")});
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(to_string(v4[0]), "192.0.2.2");
  const auto host = *client_addresses(*parse_prefix("192.0.2.9/32"), 100, {});
  ASSERT_EQ(host.size(), 1u);
  const auto wide = *client_addresses(*parse_prefix("198.18.0.0/15"), 1024, {});
  ASSERT_EQ(wide.size(), 1024u);
  EXPECT_EQ(to_string(wide.front()), "198.18.0.1");
  EXPECT_EQ(to_string(wide.back()), "198.18.4.0");  // carries across the byte
  const auto v6 = *client_addresses(*parse_prefix("2001:db8::8000/113"), 3, {});
  ASSERT_EQ(v6.size(), 3u);
  EXPECT_EQ(to_string(v6[0]), "2001:db8::8001");
  EXPECT_FALSE(client_addresses(*parse_prefix("192.0.2.1/32"), 5, {*parse_ip("192.0.2.1")}));
}

TEST(Addresses, ClientSetAndPrefixMembership) {
  const auto clients = *client_addresses(*parse_prefix("192.0.2.128/25"), 1000, {});
  const ClientSet set(clients);
  EXPECT_EQ(clients.size(), 126u);
  const uint8_t in[4] = {192, 0, 2, 200};
  const uint8_t broadcast[4] = {192, 0, 2, 255};
  const uint8_t out[4] = {192, 0, 2, 2};
  EXPECT_TRUE(set.contains_v4(in));
  EXPECT_FALSE(set.contains_v4(broadcast));
  EXPECT_FALSE(set.contains_v4(out));
  EXPECT_TRUE(prefix_contains(*parse_prefix("192.0.2.128/25"), *parse_ip("192.0.2.255")));
  EXPECT_FALSE(prefix_contains(*parse_prefix("192.0.2.128/25"), *parse_ip("192.0.2.127")));
  EXPECT_FALSE(prefix_contains(*parse_prefix("192.0.2.128/25"), *parse_ip("2001:db8::1")));
}

TEST(Addresses, Macs) {
  EXPECT_EQ(to_string(*parse_mac("02:AB:cd:00:00:01")), "02:ab:cd:00:00:01");
  EXPECT_EQ(to_string(*parse_mac("02-ab-cd-00-00-01")), "02:ab:cd:00:00:01");
  for (const char* bad : {"", "02:00:00:00:00", "02:00:00:00:00:0g", "0200:00:00:00:01", "02:00:00:00:00:001"}) {
    EXPECT_FALSE(parse_mac(bad)) << bad;
  }
}

}  // namespace
}  // namespace tachyon::gen
