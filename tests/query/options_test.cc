#include "tools/query/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace tachyon::query {
namespace {

using ::testing::HasSubstr;

Result<Command> parse(std::vector<std::string_view> args) { return parse_command_line(args); }

QueryOptions query(std::vector<std::string_view> args) {
  auto c = parse(std::move(args));
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.message());
  if (!c.ok()) return {};
  EXPECT_EQ(c->kind, Command::Kind::kQuery);
  return c->query;
}

std::string error_of(std::vector<std::string_view> args) {
  auto c = parse(std::move(args));
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.message();
}

TEST(Options, DefaultsAreOneNtpv4ClientSampleOnPort123) {
  const QueryOptions o = query({"192.0.2.1"});
  EXPECT_EQ(o.host, "192.0.2.1");
  EXPECT_EQ(o.port, 123);
  EXPECT_EQ(o.family, Family::kAny);
  EXPECT_EQ(o.version, 4);
  EXPECT_EQ(o.mode, core::Mode::kClient);
  EXPECT_EQ(o.count, 1u);
  EXPECT_DOUBLE_EQ(o.interval_s, 1.0);
  EXPECT_DOUBLE_EQ(o.timeout_s, 2.0);
  EXPECT_FALSE(o.json);
  EXPECT_FALSE(o.stripchart);
  EXPECT_FALSE(o.allow_unsync);
}

TEST(Options, EveryOptionInBothSpellings) {
  const QueryOptions o = query({"-6", "--version", "3", "--mode", "symmetric", "-c", "5", "-i", "0.25", "-t",
                                "1.5", "--port", "1123", "--stripchart", "--allow-unsync", "ntp.example"});
  EXPECT_EQ(o.family, Family::kIpv6);
  EXPECT_EQ(o.version, 3);
  EXPECT_EQ(o.mode, core::Mode::kSymmetricActive);
  EXPECT_EQ(o.count, 5u);
  EXPECT_DOUBLE_EQ(o.interval_s, 0.25);
  EXPECT_DOUBLE_EQ(o.timeout_s, 1.5);
  EXPECT_EQ(o.port, 1123);
  EXPECT_TRUE(o.stripchart);
  EXPECT_TRUE(o.allow_unsync);

  const QueryOptions p = query({"ntp.example", "--count=7", "-c8", "--interval=2", "--timeout=0.5", "-4",
                                "--version=2", "--mode=client", "-p", "124", "--json"});
  EXPECT_EQ(p.count, 8u);  // the last one wins
  EXPECT_DOUBLE_EQ(p.interval_s, 2);
  EXPECT_DOUBLE_EQ(p.timeout_s, 0.5);
  EXPECT_EQ(p.family, Family::kIpv4);
  EXPECT_EQ(p.version, 2);
  EXPECT_EQ(p.port, 124);
  EXPECT_TRUE(p.json);
}

TEST(Options, CountZeroMeansUntilInterrupted) { EXPECT_EQ(query({"-c", "0", "h"}).count, 0u); }

TEST(Options, ServerForms) {
  EXPECT_EQ(query({"ntp.example:1123"}).port, 1123);
  EXPECT_EQ(query({"192.0.2.1:124"}).host, "192.0.2.1");
  EXPECT_EQ(query({"192.0.2.1:124"}).port, 124);
  const QueryOptions b = query({"[2001:db8::1]:1123"});
  EXPECT_EQ(b.host, "2001:db8::1");
  EXPECT_EQ(b.port, 1123);
  EXPECT_EQ(query({"[2001:db8::1]"}).port, 123);
  const QueryOptions bare = query({"2001:db8::1"});
  EXPECT_EQ(bare.host, "2001:db8::1");
  EXPECT_EQ(bare.port, 123);
  EXPECT_EQ(query({"fe80::1%eth0"}).host, "fe80::1%eth0");
  EXPECT_EQ(query({"--port", "1123", "2001:db8::1"}).port, 1123);
  EXPECT_EQ(query({"--port", "123", "h:123"}).port, 123);  // agreeing twice is fine
}

TEST(Options, BadServersAreUsageErrors) {
  EXPECT_THAT(error_of({"[2001:db8::1"}), HasSubstr("missing ']'"));
  EXPECT_THAT(error_of({"[2001:db8::1]x"}), HasSubstr("expected ':PORT'"));
  EXPECT_THAT(error_of({"[ntp.example]:123"}), HasSubstr("brackets hold an IPv6 address"));
  EXPECT_THAT(error_of({"h:0"}), HasSubstr("port: expected an integer from 1 to 65535, found \"0\""));
  EXPECT_THAT(error_of({"h:65536"}), HasSubstr("found \"65536\""));
  EXPECT_THAT(error_of({"h:"}), HasSubstr("found \"\""));
  EXPECT_THAT(error_of({":123"}), HasSubstr("empty host"));
  EXPECT_THAT(error_of({"bad host"}), HasSubstr("invalid character"));
  EXPECT_THAT(error_of({"h:124", "--port", "125"}), HasSubstr("names port 124 but --port says 125"));
}

TEST(Options, BadValuesNameTheOptionAndWhatWasFound) {
  EXPECT_EQ(error_of({"--version", "5", "h"}), "--version: expected an integer from 1 to 4, found \"5\"");
  EXPECT_EQ(error_of({"--version", "0", "h"}), "--version: expected an integer from 1 to 4, found \"0\"");
  EXPECT_EQ(error_of({"--mode", "server", "h"}), "--mode: expected \"client\" or \"symmetric\", found \"server\"");
  EXPECT_EQ(error_of({"-c", "-1", "h"}), "-c: expected an integer from 0 to 1000000, found \"-1\"");
  EXPECT_EQ(error_of({"-i", "0", "h"}), "-i: expected seconds from 0.01 to 86400, found \"0\"");
  EXPECT_EQ(error_of({"--timeout", "nan", "h"}), "--timeout: expected seconds from 0.001 to 600, found \"nan\"");
  EXPECT_EQ(error_of({"-i", "1s", "h"}), "-i: expected seconds from 0.01 to 86400, found \"1s\"");
  EXPECT_EQ(error_of({"h", "--count"}), "--count: missing value");
  EXPECT_EQ(error_of({"--json=yes", "h"}), "--json: takes no value, found \"yes\"");
}

TEST(Options, UsageErrors) {
  EXPECT_EQ(error_of({}), "missing SERVER");
  EXPECT_EQ(error_of({"a", "b"}), "unexpected argument \"b\": only one SERVER");
  EXPECT_EQ(error_of({"--frobnicate", "h"}), "unknown option \"--frobnicate\"");
  EXPECT_EQ(error_of({"--json", "--stripchart", "h"}), "--json and --stripchart exclude each other");
}

TEST(Options, HelpWinsWherever) {
  auto c = parse({"-c", "3", "--help"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, Command::Kind::kHelp);
  EXPECT_EQ(parse({"status", "-h"})->kind, Command::Kind::kHelp);
  EXPECT_THAT(usage(), HasSubstr("usage: tachyon-query [options] SERVER[:PORT]"));
}

TEST(Options, StatusIsASubcommandOnlyInFirstPlace) {
  auto c = parse({"status"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, Command::Kind::kStatus);
  EXPECT_EQ(c->status.url, "http://127.0.0.1:9123");
  EXPECT_FALSE(c->status.json);

  auto d = parse({"status", "--url", "http://[::1]:9200", "--json", "-t", "5"});
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->status.url, "http://[::1]:9200");
  EXPECT_TRUE(d->status.json);
  EXPECT_DOUBLE_EQ(d->status.timeout_s, 5);

  // A host named "status".
  EXPECT_EQ(query({"-4", "status"}).host, "status");
  EXPECT_EQ(query({"--", "status"}).host, "status");
}

TEST(Options, StatusErrors) {
  EXPECT_THAT(error_of({"status", "--url", "ftp://x"}), HasSubstr("expected http://HOST[:PORT][/PATH]"));
  EXPECT_THAT(error_of({"status", "--url", "https://x"}), HasSubstr("https is not supported"));
  EXPECT_EQ(error_of({"status", "-c", "3"}), "status: unknown option \"-c\"");
  EXPECT_EQ(error_of({"status", "extra"}), "status: unexpected argument \"extra\"");
}

TEST(HttpUrl, HostPortAndPathDefaults) {
  auto a = parse_http_url("http://127.0.0.1:9123");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9123);
  EXPECT_EQ(a->path, "/status");
  EXPECT_EQ(a->host_port(), "127.0.0.1:9123");

  auto b = parse_http_url("http://[::1]:9123/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->path, "/status");
  EXPECT_EQ(b->host_port(), "[::1]:9123");

  auto c = parse_http_url("http://stats.example/v1/status");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 80);
  EXPECT_EQ(c->path, "/v1/status");

  EXPECT_THAT(parse_http_url("http://::1:9123").message(), HasSubstr("in brackets"));
  EXPECT_FALSE(parse_http_url("http://:9123").ok());
}

}  // namespace
}  // namespace tachyon::query
