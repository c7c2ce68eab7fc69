#include "daemon/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace tachyon {
namespace {

using ::testing::HasSubstr;

constexpr char kFile[] = "test.toml";

// Appends the required settings that `snippet` leaves out, after it, so a
// test writes only the table under test and its line numbers stay as written.
std::string with_required(std::string snippet) {
  if (snippet.find("[port]") == std::string::npos) snippet += "\n[port]\ndevice = \"0000:3b:00.0\"\n";
  if (snippet.find("[server]") == std::string::npos) snippet += "\n[server]\nipv4 = [\"192.0.2.1\"]\n";
  return snippet;
}

ConfigResult parse(const std::string& snippet) { return parse_config(with_required(snippet), kFile); }

std::string all_errors(const ConfigResult& r) {
  std::string out;
  for (const ConfigError& e : r.errors) out += "  " + e.to_string() + "\n";
  return out;
}

// True if `r` holds exactly one error, at line:column, whose message
// contains `message`.
::testing::AssertionResult has_only_error(const ConfigResult& r, uint32_t line, uint32_t column,
                                          std::string_view message) {
  if (r.errors.size() != 1) {
    return ::testing::AssertionFailure() << "expected one error, got " << r.errors.size() << ":\n" << all_errors(r);
  }
  const ConfigError& e = r.errors.front();
  if (e.file != kFile || e.line != line || e.column != column || e.message.find(message) == std::string::npos) {
    return ::testing::AssertionFailure() << "expected " << kFile << ":" << line << ":" << column << ": ..." << message
                                         << "...\n     got " << e.to_string();
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// Valid files

TEST(Config, FileWithEveryKeyFillsEveryField) {
  const ConfigResult r = parse_config(R"(
[eal]
memory = "hugepages"
memory_mb = 2048
file_prefix = "tachyon-lab_2"
control_cpu = 3
worker_cpus = [4, 6]
args = ["--huge-unlink", "--log-level=pmd.net.ice:debug"]
log_level = "debug"

[port]
device = "net_af_xdp0,iface=tachyon0"
queues = 2
rx_descriptors = 2048
tx_descriptors = 512
hw_timestamps = "off"
checksum_offload = "off"

[server]
ipv4 = ["192.0.2.1/24", "198.51.100.7"]
ipv6 = ["2001:db8::1/64", "2001:db8:1::2"]
port = 10123
vlan = 42

[reference]
source = "system"
stratum = 3
refid = "GPS"
local_stratum = 10

[stats]
listen = "[::1]:9200"

[log]
level = "debug"
file = "/var/log/tachyond.log"
max_size_mb = 100
max_files = 7
)",
                                      "/etc/tachyond.toml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Config& c = r.config;
  EXPECT_EQ(c.path, "/etc/tachyond.toml");

  EXPECT_EQ(c.eal.memory, "hugepages");
  EXPECT_EQ(c.eal.memory_mb, 2048u);
  EXPECT_EQ(c.eal.file_prefix, "tachyon-lab_2");
  EXPECT_EQ(c.eal.control_cpu, 3u);
  EXPECT_EQ(c.eal.worker_cpus, (std::vector<uint32_t>{4, 6}));
  EXPECT_EQ(c.eal.args, (std::vector<std::string>{"--huge-unlink", "--log-level=pmd.net.ice:debug"}));
  EXPECT_EQ(c.eal.log_level, "debug");

  EXPECT_EQ(c.port.device, "net_af_xdp0,iface=tachyon0");
  EXPECT_EQ(c.port.queues, 2);
  EXPECT_EQ(c.port.rx_descriptors, 2048);
  EXPECT_EQ(c.port.tx_descriptors, 512);
  EXPECT_EQ(c.port.hw_timestamps, "off");
  EXPECT_EQ(c.port.checksum_offload, "off");

  EXPECT_EQ(c.server.ipv4, (std::vector<Ipv4Prefix>{{0xc000'0201, 24}, {0xc633'6407, 32}}));
  ASSERT_EQ(c.server.ipv6.size(), 2u);
  EXPECT_EQ(c.server.ipv6[0].address,
            (std::array<uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(c.server.ipv6[0].length, 64);
  EXPECT_EQ(c.server.ipv6[1].address,
            (std::array<uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}));
  EXPECT_EQ(c.server.ipv6[1].length, 128);
  EXPECT_EQ(c.server.ntp_port, 10123);
  EXPECT_EQ(c.server.vlan, 42);

  EXPECT_EQ(c.reference.source, "system");
  EXPECT_EQ(c.reference.stratum, 3);
  EXPECT_EQ(c.reference.refid, "GPS");
  EXPECT_EQ(c.reference.local_stratum, 10);

  EXPECT_EQ(c.stats.listen, "[::1]:9200");

  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.file, "/var/log/tachyond.log");
  EXPECT_EQ(c.log.max_size_mb, 100u);
  EXPECT_EQ(c.log.max_files, 7u);
}

TEST(Config, AbsentKeysKeepTheirDefaults) {
  const ConfigResult r = parse_config(R"(
[port]
device = "0000:3b:00.0"
[server]
ipv6 = ["2001:db8::1"]
)",
                                      kFile);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Config& c = r.config;
  const Config defaults;
  EXPECT_EQ(c.eal.memory, "no-huge");
  EXPECT_EQ(c.eal.memory_mb, 256u);
  EXPECT_EQ(c.eal.file_prefix, "tachyond");
  EXPECT_EQ(c.eal.control_cpu, 0u);
  EXPECT_TRUE(c.eal.worker_cpus.empty()) << "the daemon fills in CPUs 1..queues";
  EXPECT_TRUE(c.eal.args.empty());
  EXPECT_EQ(c.eal.log_level, "error");
  EXPECT_EQ(c.port.queues, 1);
  EXPECT_EQ(c.port.rx_descriptors, 0) << "auto: the port picks it for its driver";
  EXPECT_EQ(c.port.tx_descriptors, 1024);
  EXPECT_EQ(c.port.hw_timestamps, "auto");
  EXPECT_EQ(c.port.checksum_offload, "auto");
  EXPECT_TRUE(c.server.ipv4.empty());
  EXPECT_EQ(c.server.ntp_port, 123);
  EXPECT_EQ(c.server.vlan, 0);
  EXPECT_EQ(c.reference.source, "system");
  EXPECT_EQ(c.reference.stratum, 0) << "0: the source's default";
  EXPECT_EQ(c.reference.effective_stratum(), 2);
  EXPECT_EQ(c.reference.refid, "");
  EXPECT_EQ(c.reference.local_stratum, 0);
  EXPECT_EQ(c.stats.listen, defaults.stats.listen);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.file, "");
  EXPECT_EQ(c.log.max_size_mb, 10u);
  EXPECT_EQ(c.log.max_files, 5u);
}

TEST(Config, KeysMayBeWrittenAsDottedKeysOrInlineTables) {
  const ConfigResult r = parse_config(R"(port.device = "0000:3b:00.0"
server = { ipv4 = ["192.0.2.1"], port = 1123 }
)",
                                      kFile);
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config.port.device, "0000:3b:00.0");
  EXPECT_EQ(r.config.server.ntp_port, 1123);
}

TEST(Config, PathIsRecordedEvenWhenTheFileIsInvalid) {
  EXPECT_EQ(parse_config("[port]\nqueues = 0\n", "/etc/x.toml").config.path, "/etc/x.toml");
}

// ---------------------------------------------------------------------------
// Errors in the file's structure

TEST(Config, SyntaxErrorIsTheOnlyErrorAndHasItsLineAndColumn) {
  const ConfigResult r = parse_config(R"([port]
device = "0000:3b:00.0"
queues = = 2
bogus = 1
)",
                                      kFile);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 3u);
  EXPECT_EQ(r.errors[0].column, 10u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("invalid TOML"));
}

TEST(Config, KeyDefinedTwiceIsASyntaxError) {
  EXPECT_TRUE(has_only_error(parse(R"([port]
device = "0000:3b:00.0"
device = "0000:3b:00.1"
)"),
                             3, 10, "invalid TOML"));
}

TEST(Config, UnknownKeyIsReportedWithItsLineAndASuggestion) {
  EXPECT_TRUE(has_only_error(parse(R"([port]
device = "0000:3b:00.0"
quues = 2
)"),
                             3, 1, R"(unknown key "quues" in [port]; did you mean "queues"?)"));
}

TEST(Config, UnknownKeyFarFromEveryKnownKeyHasNoSuggestion) {
  const ConfigResult r = parse(R"([log]
colour = true
)");
  EXPECT_TRUE(has_only_error(r, 2, 1, R"(unknown key "colour" in [log])"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, ::testing::Not(HasSubstr("did you mean")));
}

TEST(Config, UnknownTableIsReportedWithASuggestion) {
  EXPECT_TRUE(has_only_error(parse(R"(
[refrence]
stratum = 1
)"),
                             2, 2, "unknown table [refrence]; did you mean [reference]?"));
}

TEST(Config, UnknownTableUnlikeAnyOtherHasNoSuggestion) {
  const ConfigResult r = parse("[wibble]\nallow = []\n");
  EXPECT_TRUE(has_only_error(r, 1, 2, "unknown table [wibble]"));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, ::testing::Not(HasSubstr("did you mean")));
}

TEST(Config, KeyOutsideAnyTableIsRejected) {
  EXPECT_TRUE(has_only_error(parse(R"(queues = 2
)"),
                             1, 1, R"(unknown key "queues" at the top level)"));
}

TEST(Config, TableInsideAKnownTableIsAnUnknownKey) {
  EXPECT_TRUE(has_only_error(parse(R"([port]
device = "0000:3b:00.0"
[port.rss]
enabled = true
)"),
                             3, 7, R"(unknown key "rss" in [port])"));
}

TEST(Config, KnownTableWrittenAsAValueIsRejected) {
  EXPECT_TRUE(has_only_error(parse("log = \"debug\"\n"), 1, 7, R"(log: expected a table, found "debug" (string))"));
  EXPECT_TRUE(has_only_error(parse("[[log]]\nlevel = \"debug\"\n"), 1, 1, "log: expected a table, found an array"));
}

TEST(Config, MissingDeviceWithoutAPortTableIsReportedWithoutALine) {
  const ConfigResult r = parse_config("[server]\nipv4 = [\"192.0.2.1\"]\n", kFile);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 0u);
  EXPECT_EQ(r.errors[0].column, 0u);
  EXPECT_EQ(r.errors[0].message, "missing required key port.device");
}

TEST(Config, MissingDeviceIsReportedAtThePortTable) {
  EXPECT_TRUE(has_only_error(parse(R"([server]
ipv4 = ["192.0.2.1"]

[port]
queues = 1
)"),
                             4, 1, "missing required key port.device"));
}

TEST(Config, ServerWithoutAnyAddressIsReportedAtTheServerTable) {
  EXPECT_TRUE(has_only_error(parse(R"([server]
ipv4 = []
ipv6 = []
)"),
                             1, 1, "server needs at least one address in server.ipv4 or server.ipv6"));
}

TEST(Config, MissingServerTableIsReportedWithoutALine) {
  const ConfigResult r = parse_config("[port]\ndevice = \"0000:3b:00.0\"\n", kFile);
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].line, 0u);
  EXPECT_EQ(r.errors[0].message, "server needs at least one address in server.ipv4 or server.ipv6");
}

TEST(Config, EmptyFileReportsEveryMissingRequiredSetting) {
  const ConfigResult r = parse_config("", kFile);
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(r.errors[0].message, "missing required key port.device");
  EXPECT_THAT(r.errors[1].message, HasSubstr("server needs at least one address"));
}

TEST(Config, EveryErrorIsReportedInFileOrder) {
  const ConfigResult r = parse_config(R"([server]
ipv4 = ["127.0.0.1"]
vlan = 4095
[eal]
memory = "huge"
control_cpu = -1
[port]
device = ""
quues = 2
rx_descriptors = 1000
)",
                                      kFile);
  ASSERT_EQ(r.errors.size(), 7u) << all_errors(r);
  const std::vector<std::pair<uint32_t, std::string>> expected = {
      {2, "server.ipv4[0]"}, {3, "server.vlan"}, {5, "eal.memory"}, {6, "eal.control_cpu"},
      {8, "port.device"},    {9, "quues"},       {10, "port.rx_descriptors"},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.errors[i].line, expected[i].first) << all_errors(r);
    EXPECT_THAT(r.errors[i].message, HasSubstr(expected[i].second));
  }
}

TEST(Config, ErrorsInOneArrayAreAllReported) {
  const ConfigResult r = parse(R"([eal]
worker_cpus = [1, "2", 2000]
[port]
device = "0000:3b:00.0"
queues = 3
)");
  ASSERT_EQ(r.errors.size(), 2u) << all_errors(r);
  EXPECT_EQ(r.errors[0].column, 19u);
  EXPECT_THAT(r.errors[0].message, HasSubstr(R"(eal.worker_cpus[1]: expected an integer from 0 to 1023, found "2" (string))"));
  EXPECT_EQ(r.errors[1].column, 24u);
  EXPECT_THAT(r.errors[1].message, HasSubstr("eal.worker_cpus[2]: expected an integer from 0 to 1023, found 2000"));
}

// ---------------------------------------------------------------------------
// Types

TEST(Config, StringForAnIntegerIsRejectedWithWhatWasFound) {
  EXPECT_TRUE(has_only_error(parse(R"([port]
device = "0000:3b:00.0"
queues = "two"
)"),
                             3, 10, R"(port.queues: expected an integer from 1 to 64, found "two" (string))"));
}

TEST(Config, BooleanIsNotAnInteger) {
  EXPECT_TRUE(has_only_error(parse("[server]\nipv4 = [\"192.0.2.1\"]\nvlan = true\n"), 3, 8,
                             "server.vlan: expected an integer from 0 to 4094, found true (boolean)"));
}

TEST(Config, FloatIsNotAnInteger) {
  EXPECT_TRUE(has_only_error(parse("[log]\nmax_files = 2.0\n"), 2, 13,
                             "log.max_files: expected an integer from 1 to 100, found 2.0 (float)"));
}

TEST(Config, IntegerIsNotAString) {
  EXPECT_TRUE(has_only_error(parse("[port]\ndevice = 5\n"), 2, 10, "port.device: expected a non-empty string, found 5 (integer)"));
}

TEST(Config, ScalarWhereAnArrayIsExpectedIsRejected) {
  EXPECT_TRUE(has_only_error(parse("[server]\nipv4 = \"192.0.2.1\"\n"), 2, 8,
                             R"(server.ipv4: expected an array of IPv4 addresses, found "192.0.2.1" (string))"));
}

TEST(Config, ControlCharactersInFoundStringsAreEscaped) {
  EXPECT_TRUE(has_only_error(parse("[log]\nlevel = \"in\\tfo\\\"\"\n"), 2, 9, R"(found "in\u0009fo\"" (string))"));
}

// ---------------------------------------------------------------------------
// [eal]

TEST(Config, AuthAndInterleavedTablesDecode) {
  const ConfigResult r = parse(
      "[auth]\nkeys = \"/etc/tachyon/ntp.keys\"\nformat = \"chrony\"\nrequire = true\n"
      "[interleaved]\nenabled = false\ntable_entries = 1024\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config.auth.keys, "/etc/tachyon/ntp.keys");
  EXPECT_EQ(r.config.auth.format, "chrony");
  EXPECT_TRUE(r.config.auth.require);
  EXPECT_FALSE(r.config.interleaved.enabled);
  EXPECT_EQ(r.config.interleaved.table_entries, 1024u);
  const ConfigResult defaults = parse("");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.config.auth.keys, "");
  EXPECT_FALSE(defaults.config.auth.require);
  EXPECT_TRUE(defaults.config.interleaved.enabled);
  EXPECT_EQ(defaults.config.interleaved.table_entries, 65536u);
}

TEST(Config, AuthRequireWithoutKeysIsRejected) {
  EXPECT_TRUE(has_only_error(parse("[auth]\nrequire = true\n"), 2, 11,
                             "auth.require: expected auth.keys to name a keys file"));
}

TEST(Config, AuthKeysMustBeAnAbsolutePathAndFormatAKnownOne) {
  EXPECT_TRUE(has_only_error(parse("[auth]\nkeys = \"ntp.keys\"\n"), 2, 8, "auth.keys: expected an absolute path"));
  EXPECT_TRUE(has_only_error(parse("[auth]\nformat = \"ntpsec\"\n"), 2, 10,
                             R"(auth.format: expected one of "auto", "ntpd", "chrony", found "ntpsec")"));
}

TEST(Config, InterleavedTableEntriesOutsideItsRangeIsRejected) {
  EXPECT_TRUE(has_only_error(parse("[interleaved]\ntable_entries = 255\n"), 2, 17,
                             "interleaved.table_entries: expected an integer from 256 to 67108864"));
}

TEST(Config, MemoryModeMustBeNoHugeOrHugepages) {
  EXPECT_TRUE(has_only_error(parse("[eal]\nmemory = \"huge\"\n"), 2, 10,
                             R"(eal.memory: expected "no-huge" or "hugepages", found "huge" (string))"));
}

TEST(Config, MemoryMbOutsideItsRangeIsRejected) {
  EXPECT_TRUE(has_only_error(parse("[eal]\nmemory_mb = 63\n"), 2, 13, "eal.memory_mb: expected an integer from 64 to 1048576"));
  EXPECT_TRUE(has_only_error(parse("[eal]\nmemory_mb = 1048577\n"), 2, 13, "found 1048577 (integer)"));
  EXPECT_TRUE(parse("[eal]\nmemory_mb = 64\n").ok());
  EXPECT_TRUE(parse("[eal]\nmemory_mb = 1048576\n").ok());
}

TEST(Config, MemoryMbZeroLetsDpdkDecideOnlyWithHugepages) {
  const ConfigResult hugepages = parse("[eal]\nmemory = \"hugepages\"\nmemory_mb = 0\n");
  ASSERT_TRUE(hugepages.ok()) << all_errors(hugepages);
  EXPECT_EQ(hugepages.config.eal.memory_mb, 0u);

  EXPECT_TRUE(has_only_error(parse("[eal]\nmemory_mb = 0\n"), 2, 13,
                             R"(found 0 with eal.memory = "no-huge")"));
  EXPECT_TRUE(has_only_error(parse("[eal]\nmemory_mb = 0\nmemory = \"no-huge\"\n"), 2, 13,
                             R"(expected an integer from 64 to 1048576, or 0 with eal.memory = "hugepages")"));
}

TEST(Config, MemoryMbZeroIsNotReportedAgainWhenTheMemoryModeIsWrong) {
  EXPECT_TRUE(has_only_error(parse("[eal]\nmemory = \"hugepage\"\nmemory_mb = 0\n"), 2, 10, "eal.memory: expected"));
}

TEST(Config, FilePrefixMustBeAShortPlainName) {
  for (const char* bad : {"", "a/b", "has space", "dot.ted", "abcdefghijabcdefghijabcdefghijabc"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(has_only_error(parse(std::string("[eal]\nfile_prefix = \"") + bad + "\"\n"), 2, 15,
                               R"(eal.file_prefix: expected 1 to 32 letters, digits, "_" or "-", found ")"));
  }
  EXPECT_TRUE(parse("[eal]\nfile_prefix = \"abcdefghijabcdefghijabcdefghij-_\"\n").ok());
}

TEST(Config, ControlCpuAbove1023IsRejected) {
  EXPECT_TRUE(has_only_error(parse("[eal]\ncontrol_cpu = 1024\n"), 2, 15,
                             "eal.control_cpu: expected an integer from 0 to 1023, found 1024 (integer)"));
}

TEST(Config, WorkerCpusMustBeAnArrayOfCpus) {
  EXPECT_TRUE(has_only_error(parse("[eal]\nworker_cpus = 1\n"), 2, 15,
                             "eal.worker_cpus: expected an array of integers from 0 to 1023, found 1 (integer)"));
}

TEST(Config, WorkerCpuOutOfRangeIsReportedAtTheElement) {
  EXPECT_TRUE(has_only_error(parse("[eal]\nworker_cpus = [-1]\n"), 2, 16,
                             "eal.worker_cpus[0]: expected an integer from 0 to 1023, found -1 (integer)"));
}

TEST(Config, WorkerCpuListedTwiceIsReportedAtTheSecondOne) {
  EXPECT_TRUE(has_only_error(parse(R"([eal]
worker_cpus = [2, 3, 2]
[port]
device = "0000:3b:00.0"
queues = 3
)"),
                             2, 22, "eal.worker_cpus[2]: expected a CPU not already listed, found CPU 2 a second time"));
}

TEST(Config, WorkerCpusMustNameOneCpuPerQueue) {
  EXPECT_TRUE(has_only_error(parse(R"([eal]
worker_cpus = [1, 2, 3]
[port]
device = "0000:3b:00.0"
queues = 2
)"),
                             2, 15, "eal.worker_cpus: expected one CPU per queue (port.queues = 2), found 3 CPUs"));
  // Without port.queues there is one queue.
  EXPECT_TRUE(has_only_error(parse("[eal]\nworker_cpus = []\n"), 2, 15,
                             "expected one CPU per queue (port.queues = 1), found 0 CPUs"));
  EXPECT_TRUE(parse("[eal]\nworker_cpus = [7]\n").ok());
}

TEST(Config, WorkerCpuCountIsNotComparedWithAnInvalidQueueCount) {
  EXPECT_TRUE(has_only_error(parse(R"([eal]
worker_cpus = [1, 2, 3]
[port]
device = "0000:3b:00.0"
queues = 0
)"),
                             5, 10, "port.queues"));
}

TEST(Config, EalArgsMustBeStrings) {
  EXPECT_TRUE(has_only_error(parse("[eal]\nargs = [\"--in-memory\", 5]\n"), 2, 24,
                             "eal.args[1]: expected a string, found 5 (integer)"));
}

TEST(Config, EalLogLevelMustBeADpdkLevel) {
  EXPECT_TRUE(has_only_error(parse("[eal]\nlog_level = \"warn\"\n"), 2, 13,
                             R"(eal.log_level: expected one of "emergency", "alert", "critical", "error", "warning")"));
  EXPECT_TRUE(parse("[eal]\nlog_level = \"warning\"\n").ok());
}

// ---------------------------------------------------------------------------
// [port]

TEST(Config, EmptyDeviceIsRejected) {
  EXPECT_TRUE(has_only_error(parse("[port]\ndevice = \"\"\n"), 2, 10,
                             R"(port.device: expected a non-empty string, found "" (string))"));
}

TEST(Config, QueuesOutsideOneToSixtyFourAreRejected) {
  for (const char* bad : {"0", "65"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(has_only_error(parse(std::string("[port]\ndevice = \"x\"\nqueues = ") + bad + "\n"), 3, 10,
                               "port.queues: expected an integer from 1 to 64, found"));
  }
  EXPECT_TRUE(parse("[port]\ndevice = \"x\"\nqueues = 64\n").ok());
}

TEST(Config, DescriptorCountsMustBePowersOfTwoFrom64To16384) {
  for (const char* key : {"rx_descriptors", "tx_descriptors"}) {
    for (const char* bad : {"1000", "32", "32768", "0"}) {
      SCOPED_TRACE(std::string(key) + " = " + bad);
      const std::string text = std::string("[port]\ndevice = \"x\"\n") + key + " = " + bad + "\n";
      EXPECT_TRUE(has_only_error(parse(text), 3, 18,
                                 std::string("port.") + key + ": expected a power of two from 64 to 16384, found " + bad));
    }
    for (const char* good : {"64", "4096", "16384"}) {
      SCOPED_TRACE(std::string(key) + " = " + good);
      EXPECT_TRUE(parse(std::string("[port]\ndevice = \"x\"\n") + key + " = " + good + "\n").ok());
    }
  }
}

TEST(Config, OffloadSwitchesAreAutoOrOff) {
  EXPECT_TRUE(has_only_error(parse("[port]\ndevice = \"x\"\nhw_timestamps = \"on\"\n"), 3, 17,
                             R"(port.hw_timestamps: expected "auto" or "off", found "on" (string))"));
  EXPECT_TRUE(has_only_error(parse("[port]\ndevice = \"x\"\nchecksum_offload = false\n"), 3, 20,
                             R"(port.checksum_offload: expected "auto" or "off", found false (boolean))"));
}

// ---------------------------------------------------------------------------
// [server]

TEST(Config, Ipv4AddressIsStoredInHostByteOrderWithPrefixLength32ByDefault) {
  const ConfigResult r = parse(R"([server]
ipv4 = ["10.1.2.3", "192.0.2.1/24", "203.0.113.9/0"]
)");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config.server.ipv4,
            (std::vector<Ipv4Prefix>{{0x0a01'0203, 32}, {0xc000'0201, 24}, {0xcb00'7109, 0}}));
}

TEST(Config, MalformedIpv4AddressIsRejectedAtTheElement) {
  for (const char* bad : {"192.0.2", "192.0.2.1/33", "192.0.2.1/", "192.0.2.1/-1", "192.0.2.1/+8", "192.0.2.01",
                          "0x7f.0.0.1", "ntp.example.com", "2001:db8::1", "192.0.2.1\\u0000junk", " 192.0.2.1"}) {
    SCOPED_TRACE(bad);
    const std::string text = std::string("[server]\nipv4 = [\"192.0.2.1\", \"") + bad + "\"]\n";
    EXPECT_TRUE(has_only_error(parse(text), 2, 22,
                               R"(server.ipv4[1]: expected "A.B.C.D" or "A.B.C.D/LEN" with LEN from 0 to 32, found ")"));
  }
}

TEST(Config, Ipv4AddressesClientsCannotReachAreRejected) {
  const std::pair<const char*, const char*> cases[] = {
      {"0.0.0.0", "the unspecified address"},
      {"255.255.255.255", "the broadcast address"},
      {"127.0.0.1", "a loopback address"},
      {"127.1.2.3/8", "a loopback address"},
      {"224.0.1.1", "a multicast address"},
      {"239.255.255.250", "a multicast address"},
  };
  for (const auto& [address, why] : cases) {
    SCOPED_TRACE(address);
    const std::string text = std::string("[server]\nipv4 = [\"") + address + "\"]\n";
    EXPECT_TRUE(has_only_error(parse(text), 2, 9,
                               std::string("server.ipv4[0]: expected a unicast address clients can reach, found \"") +
                                   address + "\" (" + why + ")"));
  }
}

TEST(Config, Ipv6AddressIsStoredWithPrefixLength128ByDefault) {
  const ConfigResult r = parse(R"([server]
ipv6 = ["2001:db8::7", "fe80::1/64", "::ffff:192.0.2.1/0"]
)");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  ASSERT_EQ(r.config.server.ipv6.size(), 3u);
  EXPECT_EQ(r.config.server.ipv6[0].address,
            (std::array<uint8_t, 16>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07}));
  EXPECT_EQ(r.config.server.ipv6[0].length, 128);
  EXPECT_EQ(r.config.server.ipv6[1].address,
            (std::array<uint8_t, 16>{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}));
  EXPECT_EQ(r.config.server.ipv6[1].length, 64);
  EXPECT_EQ(r.config.server.ipv6[2].address,
            (std::array<uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}));
  EXPECT_EQ(r.config.server.ipv6[2].length, 0);
}

TEST(Config, MalformedIpv6AddressIsRejectedAtTheElement) {
  for (const char* bad : {"2001:db8::1/129", "2001:db8::1/", "fe80::1%eth0", "2001:db8:::1", "192.0.2.1", "[2001:db8::1]"}) {
    SCOPED_TRACE(bad);
    const std::string text = std::string("[server]\nipv6 = [\"") + bad + "\"]\n";
    EXPECT_TRUE(has_only_error(parse(text), 2, 9,
                               R"(server.ipv6[0]: expected "ADDRESS" or "ADDRESS/LEN" (IPv6) with LEN from 0 to 128, found ")"));
  }
}

TEST(Config, Ipv6AddressesClientsCannotReachAreRejected) {
  const std::pair<const char*, const char*> cases[] = {
      {"::", "the unspecified address"},
      {"::1", "the loopback address"},
      {"0:0:0:0:0:0:0:1/128", "the loopback address"},
      {"ff02::101", "a multicast address"},
      {"ff0e::1", "a multicast address"},
  };
  for (const auto& [address, why] : cases) {
    SCOPED_TRACE(address);
    const std::string text = std::string("[server]\nipv6 = [\"") + address + "\"]\n";
    EXPECT_TRUE(has_only_error(parse(text), 2, 9, std::string("found \"") + address + "\" (" + why + ")"));
  }
}

TEST(Config, AddressListedTwiceIsRejectedWhateverItsSpelling) {
  EXPECT_TRUE(has_only_error(parse(R"([server]
ipv4 = ["192.0.2.1/24", "192.0.2.1"]
)"),
                             2, 25, R"(server.ipv4[1]: expected each address once, found "192.0.2.1" again)"));
  EXPECT_TRUE(has_only_error(parse(R"([server]
ipv4 = ["192.0.2.1"]
ipv6 = ["2001:db8::1", "2001:0db8:0:0::1/64"]
)"),
                             3, 24, R"(server.ipv6[1]: expected each address once, found "2001:0db8:0:0::1/64" again)"));
}

TEST(Config, NtpPortIsFrom1To65535) {
  EXPECT_TRUE(has_only_error(parse("[server]\nipv4 = [\"192.0.2.1\"]\nport = 0\n"), 3, 8,
                             "server.port: expected an integer from 1 to 65535, found 0 (integer)"));
  EXPECT_TRUE(has_only_error(parse("[server]\nipv4 = [\"192.0.2.1\"]\nport = 65536\n"), 3, 8, "found 65536"));
}

TEST(Config, VlanIsFrom0To4094) {
  EXPECT_TRUE(has_only_error(parse("[server]\nipv4 = [\"192.0.2.1\"]\nvlan = 4095\n"), 3, 8,
                             "server.vlan: expected an integer from 0 to 4094, found 4095 (integer)"));
  EXPECT_TRUE(has_only_error(parse("[server]\nipv4 = [\"192.0.2.1\"]\nvlan = -1\n"), 3, 8, "found -1"));
}

// ---------------------------------------------------------------------------
// [reference]

TEST(Config, ReferenceSourceIsSystemPhcOrNic) {
  EXPECT_TRUE(has_only_error(parse("[reference]\nsource = \"ptp\"\n"), 2, 10,
                             R"(reference.source: expected one of "system", "phc", "nic", found "ptp" (string))"));
}

TEST(Config, StratumIsFrom1To15) {
  EXPECT_TRUE(has_only_error(parse("[reference]\nstratum = 0\n"), 2, 11,
                             "reference.stratum: expected an integer from 1 to 15, found 0 (integer)"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nstratum = 16\n"), 2, 11, "found 16"));
}

TEST(Config, LocalStratumIsFrom0To15) {
  EXPECT_TRUE(has_only_error(parse("[reference]\nlocal_stratum = 16\n"), 2, 17,
                             "reference.local_stratum: expected an integer from 0 to 15, found 16 (integer)"));
  EXPECT_TRUE(parse("[reference]\nlocal_stratum = 0\n").ok());
}

TEST(Config, RefidIsShortAsciiOrAnIpv4Address) {
  for (const char* good : {"GPS", "LOCL", "X", "192.0.2.7", ""}) {
    SCOPED_TRACE(good);
    const ConfigResult r = parse(std::string("[reference]\nrefid = \"") + good + "\"\n");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.reference.refid, good);
  }
  for (const char* bad : {"GPSDO", "\\u00e9", "A\\tB", "192.0.2", "1.2.3.4.5"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(has_only_error(parse(std::string("[reference]\nrefid = \"") + bad + "\"\n"), 2, 9,
                               "reference.refid: expected 1 to 4 printable ASCII characters or an IPv4 address"));
  }
}

// ---------------------------------------------------------------------------
// [stats]

TEST(Config, StatsListenAcceptsIpv4OrBracketedIpv6HostAndPortOrNothing) {
  for (const char* good : {"127.0.0.1:9123", "0.0.0.0:80", "[::1]:9123", "[2001:db8::1]:65535", ""}) {
    SCOPED_TRACE(good);
    const ConfigResult r = parse(std::string("[stats]\nlisten = \"") + good + "\"\n");
    ASSERT_TRUE(r.ok()) << all_errors(r);
    EXPECT_EQ(r.config.stats.listen, good);
  }
}

TEST(Config, StatsListenRejectsNamesBareIpv6AndBadPorts) {
  for (const char* bad : {"localhost:9123", "::1:9123", "[::1]", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
                          "127.0.0.1:65536", "127.0.0.1:http", "[127.0.0.1]:9123", ":9123"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(has_only_error(parse(std::string("[stats]\nlisten = \"") + bad + "\"\n"), 2, 10,
                               R"(stats.listen: expected "" or "HOST:PORT")"));
  }
}

// ---------------------------------------------------------------------------
// [log]

TEST(Config, LogLevelMustBeASpdlogLevel) {
  EXPECT_TRUE(has_only_error(parse("[log]\nlevel = \"warning\"\n"), 2, 9,
                             R"(log.level: expected one of "trace", "debug", "info", "warn", "error", "critical", "off", found "warning" (string))"));
}

TEST(Config, LogFileMustBeAbsoluteOrEmpty) {
  EXPECT_TRUE(has_only_error(parse("[log]\nfile = \"tachyond.log\"\n"), 2, 8,
                             R"(log.file: expected an absolute path or "", found "tachyond.log" (string))"));
  EXPECT_TRUE(parse("[log]\nfile = \"\"\n").ok());
}

TEST(Config, LogRotationLimitsAreBounded) {
  EXPECT_TRUE(has_only_error(parse("[log]\nmax_size_mb = 0\n"), 2, 15,
                             "log.max_size_mb: expected an integer from 1 to 10240, found 0"));
  EXPECT_TRUE(has_only_error(parse("[log]\nmax_size_mb = 10241\n"), 2, 15, "found 10241"));
  EXPECT_TRUE(has_only_error(parse("[log]\nmax_files = 0\n"), 2, 13,
                             "log.max_files: expected an integer from 1 to 100, found 0"));
  EXPECT_TRUE(has_only_error(parse("[log]\nmax_files = 101\n"), 2, 13, "found 101"));
}

// ---------------------------------------------------------------------------
// Files and messages

TEST(Config, UnreadableFileIsOneErrorWithTheOsReason) {
  const ConfigResult missing = load_config("/nonexistent/tachyond.toml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].file, "/nonexistent/tachyond.toml");
  EXPECT_EQ(missing.errors[0].line, 0u);
  EXPECT_THAT(missing.errors[0].message, HasSubstr("No such file or directory"));
  EXPECT_EQ(missing.config.path, "/nonexistent/tachyond.toml");

  const ConfigResult directory = load_config("/");
  ASSERT_EQ(directory.errors.size(), 1u);
  EXPECT_THAT(directory.errors[0].to_string(), HasSubstr("/: cannot read the configuration file: Is a directory"));
}

TEST(Config, LoadConfigReadsAndValidatesTheFile) {
  const std::string path = ::testing::TempDir() + "config_test_load.toml";
  {
    std::ofstream out(path);
    out << "[port]\ndevice = \"0000:3b:00.0\"\nqueues = 4\n[server]\nipv4 = [\"192.0.2.1\"]\n[log]\nlevel = 3\n";
  }
  const ConfigResult r = load_config(path);
  std::remove(path.c_str());
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_EQ(r.errors[0].to_string(), path + ":7:9: log.level: expected one of \"trace\", \"debug\", \"info\", \"warn\", "
                                            "\"error\", \"critical\", \"off\", found 3 (integer)");
  EXPECT_EQ(r.config.port.queues, 4);
  EXPECT_EQ(r.config.path, path);
}

TEST(Config, ErrorToStringOmitsAPositionThatIsNotKnown) {
  EXPECT_EQ((ConfigError{"a.toml", 3, 7, "bad"}).to_string(), "a.toml:3:7: bad");
  EXPECT_EQ((ConfigError{"a.toml", 3, 0, "bad"}).to_string(), "a.toml:3: bad");
  EXPECT_EQ((ConfigError{"a.toml", 0, 0, "bad"}).to_string(), "a.toml: bad");
  EXPECT_EQ((ConfigError{"a.toml", 0, 7, "bad"}).to_string(), "a.toml: bad");
}

// The complete example in docs/configuration.md is what operators copy: it
// must stay valid and say what the quick start says.
TEST(Config, DocumentedExampleIsValid) {
  std::ifstream in(std::string(TACHYON_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md not found";
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string markdown = doc.str();
  const size_t section = markdown.find("## Complete example");
  ASSERT_NE(section, std::string::npos);
  const size_t begin = markdown.find("```toml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const size_t end = markdown.find("```\n", begin + 8);
  ASSERT_NE(end, std::string::npos);

  const ConfigResult r = parse_config(markdown.substr(begin + 8, end - begin - 8), "docs/configuration.md");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.config.port.device, "net_af_xdp0,iface=tachyon0");
  EXPECT_EQ(r.config.server.ipv4, (std::vector<Ipv4Prefix>{{0xc000'0201, 24}}));
  ASSERT_EQ(r.config.server.ipv6.size(), 1u);
  EXPECT_EQ(r.config.server.ipv6[0].length, 64);
  EXPECT_EQ(r.config.reference.local_stratum, 10);
}

// ---------------------------------------------------------------------------
// [reference]: the clock keys (docs/clock.md)

TEST(Config, ClockKeysHaveTheirDefaults) {
  const Config::Reference r;
  EXPECT_EQ(r.phc_device, "/dev/ptp0");
  EXPECT_EQ(r.timescale, "tai");
  EXPECT_EQ(r.leap_file, "/usr/share/zoneinfo/leap-seconds.list");
  EXPECT_EQ(r.tai_offset, 0);
  EXPECT_EQ(r.leap_mode, "step");
  EXPECT_EQ(r.holdover_dispersion_ppm, 15u);
  EXPECT_EQ(r.holdover_limit, 3600u);
  EXPECT_EQ(r.step_threshold_us, 1000u);
}

TEST(Config, PhcReferenceWithEveryClockKey) {
  const ConfigResult r = parse(R"([reference]
source = "phc"
phc_device = "/dev/ptp3"
timescale = "utc"
refid = "GPS"
leap_file = "/etc/tachyond/leap-seconds.list"
tai_offset = 37
leap_mode = "smear"
holdover_dispersion_ppm = 2
holdover_limit = 86400
step_threshold_us = 50
)");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Config::Reference& c = r.config.reference;
  EXPECT_EQ(c.source, "phc");
  EXPECT_EQ(c.phc_device, "/dev/ptp3");
  EXPECT_EQ(c.timescale, "utc");
  EXPECT_EQ(c.refid, "GPS");
  EXPECT_EQ(c.leap_file, "/etc/tachyond/leap-seconds.list");
  EXPECT_EQ(c.tai_offset, 37);
  EXPECT_EQ(c.leap_mode, "smear");
  EXPECT_EQ(c.holdover_dispersion_ppm, 2u);
  EXPECT_EQ(c.holdover_limit, 86400u);
  EXPECT_EQ(c.step_threshold_us, 50u);
}

TEST(Config, StratumDefaultsByReferenceSource) {
  EXPECT_EQ(parse("[reference]\nsource = \"system\"\n").config.reference.effective_stratum(), 2);
  EXPECT_EQ(parse("[reference]\nsource = \"phc\"\n").config.reference.effective_stratum(), 1);
  EXPECT_EQ(parse("[reference]\nsource = \"nic\"\n").config.reference.effective_stratum(), 1);
  EXPECT_EQ(parse("[reference]\nsource = \"phc\"\nstratum = 3\n").config.reference.effective_stratum(), 3);
}

TEST(Config, ClockKeysAreValidatedWithTheirPlace) {
  EXPECT_TRUE(has_only_error(parse("[reference]\nphc_device = \"ptp0\"\n"), 2, 14,
                             R"(reference.phc_device: expected an absolute path such as "/dev/ptp0", found "ptp0")"));
  EXPECT_TRUE(has_only_error(parse("[reference]\ntimescale = \"gps\"\n"), 2, 13,
                             R"(reference.timescale: expected "tai" or "utc", found "gps" (string))"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nleap_file = \"leap-seconds.list\"\n"), 2, 13,
                             R"(reference.leap_file: expected an absolute path or "")"));
  EXPECT_TRUE(parse("[reference]\nleap_file = \"\"\n").ok());
  EXPECT_TRUE(has_only_error(parse("[reference]\ntai_offset = -1\n"), 2, 14,
                             "reference.tai_offset: expected an integer from 0 to 1000, found -1 (integer)"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nleap_mode = \"slew\"\n"), 2, 13,
                             R"(reference.leap_mode: expected "step" or "smear", found "slew" (string))"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nleap_mode = true\n"), 2, 13, "found true (boolean)"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nholdover_dispersion_ppm = 0\n"), 2, 27,
                             "reference.holdover_dispersion_ppm: expected an integer from 1 to 100000, found 0"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nholdover_dispersion_ppm = 15.0\n"), 2, 27, "found 15.0 (float)"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nholdover_limit = 0\n"), 2, 18,
                             "reference.holdover_limit: expected an integer from 1 to 604800, found 0 (integer)"));
  EXPECT_TRUE(has_only_error(parse("[reference]\nstep_threshold_us = 0\n"), 2, 21,
                             "reference.step_threshold_us: expected an integer from 1 to 10000000, found 0"));
  const ConfigResult typo = parse("[reference]\nleap_smear = true\n");
  ASSERT_EQ(typo.errors.size(), 1u);
  EXPECT_NE(typo.errors[0].message.find(R"(unknown key "leap_smear" in [reference])"), std::string::npos)
      << typo.errors[0].message;
}

}  // namespace
}  // namespace tachyon

namespace tachyon {
namespace {

TEST(Config, AccessRateLimitAndControlTablesDecode) {
  const ConfigResult r = parse(R"([port]
device = "net_tap0"
[server]
ipv4 = ["192.0.2.1"]
[access]
default = "deny"
allow = ["192.0.2.0/24", "2001:db8::/32"]
deny = ["192.0.2.128/25"]
refusal = "kod"
[ratelimit]
enabled = true
interval = -1
burst = 16
leak = 3
table_entries = 1048576
ipv6_prefix = 56
refusal = "drop"
kod_poll = 8
[control]
allow = ["192.0.2.2", "::1"]
)");
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  const Config& c = r.config;
  EXPECT_FALSE(c.access.default_allow);
  ASSERT_EQ(c.access.allow.size(), 2u);
  EXPECT_EQ(c.access.allow[1].length, 32);
  EXPECT_TRUE(c.access.allow[1].address.v6);
  EXPECT_EQ(c.access.deny[0].length, 25);
  EXPECT_TRUE(c.access.refuse_with_kod);
  EXPECT_TRUE(c.ratelimit.enabled);
  EXPECT_EQ(c.ratelimit.interval, -1);
  EXPECT_EQ(c.ratelimit.burst, 16);
  EXPECT_EQ(c.ratelimit.leak, 3);
  EXPECT_EQ(c.ratelimit.table_entries, 1048576u);
  EXPECT_EQ(c.ratelimit.ipv6_prefix, 56);
  EXPECT_FALSE(c.ratelimit.refuse_with_kod);
  EXPECT_EQ(c.ratelimit.kod_poll, 8);
  ASSERT_EQ(c.control.allow.size(), 2u);
  EXPECT_EQ(c.control.allow[0].length, 32);
}

TEST(Config, BadPrefixesAndRateLimitValuesAreLocated) {
  const ConfigResult r = parse(R"([port]
device = "net_tap0"
[server]
ipv4 = ["192.0.2.1"]
[access]
deny = ["192.0.2.0/33"]
[ratelimit]
enabled = "yes"
burst = 0
[control]
allow = ["ntp.example"]
)");
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].line, 6u);
  EXPECT_THAT(r.errors[0].message, HasSubstr("access.deny[0]"));
  EXPECT_EQ(r.errors[1].line, 8u);
  EXPECT_THAT(r.errors[1].message, HasSubstr("expected true or false"));
  EXPECT_EQ(r.errors[2].line, 9u);
  EXPECT_THAT(r.errors[2].message, HasSubstr("from 1 to 255"));
  EXPECT_EQ(r.errors[3].line, 11u);
  EXPECT_THAT(r.errors[3].message, HasSubstr("control.allow[0]"));
}

}  // namespace
}  // namespace tachyon

namespace tachyon {
namespace {

TEST(Config, YieldIntervalDefaultsToAutoAndIsRangeChecked) {
  EXPECT_EQ(parse("").config.port.yield_us, -1);
  const ConfigResult ok = parse("[port]\ndevice = \"net_tap0\"\nyield_us = 250\n[server]\nipv4 = [\"192.0.2.1\"]\n");
  ASSERT_TRUE(ok.ok()) << ok.errors[0].to_string();
  EXPECT_EQ(ok.config.port.yield_us, 250);
  const ConfigResult bad = parse("[port]\ndevice = \"net_tap0\"\nyield_us = -5\n[server]\nipv4 = [\"192.0.2.1\"]\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.errors[0].message, HasSubstr("port.yield_us"));
}

}  // namespace
}  // namespace tachyon
