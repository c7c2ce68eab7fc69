#include "tools/query/status_summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace tachyon::query {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// 2025-06-15T15:06:40Z: the fixture's leap file expires 2026-12-28, 560 days later.
constexpr int64_t kNow = 1'750'000'000LL * 1'000'000'000;

std::string read_fixture(const char* name) {
  std::ifstream in(std::string(TACHYON_QUERY_TEST_DATA) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string summary_of(std::string_view body) {
  auto doc = parse_status_document(body);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.message());
  return doc.ok() ? summarize_status(*doc, kNow) : "";
}

TEST(StatusSummary, FullDocumentIsGroupedLikeChronyc) {
  const std::string s = summary_of(read_fixture("status_full.json"));
  // Groups in order.
  const size_t server = s.find("Server\n");
  const size_t reference = s.find("\nReference\n");
  const size_t traffic = s.find("\nTraffic\n");
  const size_t answers = s.find("\nAnswers\n");
  const size_t processing = s.find("\nProcessing time\n");
  const size_t queues = s.find("\nQueues\n");
  const size_t mbufs = s.find("\nMbufs\n");
  EXPECT_EQ(server, 0u);
  EXPECT_LT(server, reference);
  EXPECT_LT(reference, traffic);
  EXPECT_LT(traffic, answers);
  const size_t auth = s.find("\nAuthentication\n");
  const size_t interleaved = s.find("\nInterleaved mode\n");
  EXPECT_LT(answers, auth);
  EXPECT_LT(auth, interleaved);
  EXPECT_LT(interleaved, processing);
  EXPECT_LT(processing, queues);
  EXPECT_LT(queues, mbufs);
  EXPECT_LT(mbufs, s.find("\nTable memory\n"));
  EXPECT_NE(s.find("\nTable memory\n"), std::string::npos);

  // Server.
  EXPECT_THAT(s, HasSubstr("  Version            : 0.1.0\n"));
  EXPECT_THAT(s, HasSubstr("  Uptime             : 12.5 s\n"));
  EXPECT_THAT(s, HasSubstr("  Device             : net_af_xdp0,iface=tachyon0\n"));
  EXPECT_THAT(s, HasSubstr("  Driver             : net_af_xdp\n"));
  EXPECT_THAT(s, HasSubstr("  Queues             : 1 (RSS off)\n"));
  EXPECT_THAT(s, HasSubstr("  Checksum offload   : off\n"));
  EXPECT_THAT(s, HasSubstr("  RX timestamps      : software\n"));
  EXPECT_THAT(s, HasSubstr("  Addresses          : 192.0.2.1, 2001:db8::1\n"));
  EXPECT_THAT(s, HasSubstr("  NTP port           : 123\n"));
  EXPECT_THAT(s, HasSubstr("  VLAN               : none (untagged)\n"));
  // Reference.
  EXPECT_THAT(s, HasSubstr("  Source             : system\n"));
  EXPECT_THAT(s, HasSubstr("  State              : synchronized\n"));
  EXPECT_THAT(s, HasSubstr("  Stratum            : 2\n"));
  EXPECT_THAT(s, HasSubstr("  Reference ID       : SYS\n"));
  EXPECT_THAT(s, HasSubstr("  Precision          : 2^-26 (14.9 ns)\n"));
  EXPECT_THAT(s, HasSubstr("  Root dispersion    : 0.000015000 s (15.000 us)\n"));
  EXPECT_THAT(s, HasSubstr("  Last offset        : +0.000000120 s (+120.0 ns)\n"));
  EXPECT_THAT(s, HasSubstr("  Frequency          : +0.300 ppm\n"));
  EXPECT_THAT(s, HasSubstr("  Leap status        : none\n"));
  EXPECT_THAT(s, HasSubstr("  Leap smear         : off\n"));
  EXPECT_THAT(s, HasSubstr("  Last sample        : 0.050 s ago\n"));
  EXPECT_THAT(s, HasSubstr("  Samples            : 100 good, 0 rejected, 0 steps\n"));
  EXPECT_THAT(s, HasSubstr("  TAI offset         : 37 s\n"));
  EXPECT_THAT(s, HasSubstr("  Leap file          : /usr/share/zoneinfo/leap-seconds.list\n"));
  EXPECT_THAT(s, HasSubstr("  Leap file expiry   : 2026-12-28T00:00:00Z (in 560 days)\n"
                           "  Next leap second   : none in the leap file\n"
                           "  Description        : system clock (CLOCK_REALTIME)\n"
                           "  Servo RMS error    : 25.0 ns\n"
                           "  Servo window       : 64 samples\n"
                           "  Read errors        : 0\n"));
  // Traffic, with KoD by code and the top drop reasons.
  EXPECT_THAT(s, HasSubstr("  Received           : 100\n"));
  EXPECT_THAT(s, HasSubstr("  NTP answers        : 80\n"));
  EXPECT_THAT(s, HasSubstr("  KoD sent           : 0 (RATE 0, DENY 0, RSTR 0)\n"));
  EXPECT_THAT(s, HasSubstr("  TX refused         : 0\n"));
  EXPECT_THAT(s, HasSubstr("  Dropped            : 10\n"
                           "    not_our_address  : 8 (80.0%)\n"
                           "    ntp_mode_private : 2 (20.0%)\n"));
  // Answers, authentication, interleaved mode, processing time, queues, mbufs.
  EXPECT_THAT(s, HasSubstr("  By version         : v1 0, v2 0, v3 5, v4 75\n"));
  EXPECT_THAT(s, HasSubstr("  By mode            : client 78, symmetric_active 2, ntpv1 0\n"));
  EXPECT_THAT(s, HasSubstr("Authentication\n"
                           "  Keys               : 2\n"
                           "  MAC required       : yes (requests without a valid MAC get no answer)\n"
                           "  Signed answers     : 12\n"
                           "  Crypto-NAKs sent   : 3\n"
                           "  Signing failures   : 0\n"));
  EXPECT_THAT(s, HasSubstr("Interleaved mode\n"
                           "  Enabled            : yes, 65536 records per worker\n"
                           "  Interleaved answers: 20 (25.0% of NTP answers)\n"
                           "  Misses             : 1 (record gone: basic answer)\n"));
  EXPECT_THAT(s, HasSubstr("  Answers timed      : 80\n"));
  EXPECT_THAT(s, HasSubstr("  Median (p50)       : 250.0 ns\n"));
  EXPECT_THAT(s, HasSubstr("  p99                : 500.0 ns\n"));
  EXPECT_THAT(s, HasSubstr("  p99.9              : 1.000 us\n"));
  EXPECT_THAT(s, HasSubstr("  Queue 0            : received 100, sent 90, tx refused 0, dropped 10\n"));
  EXPECT_THAT(s, HasSubstr("  In use             : 10 of 4095 (0.2%)\n"));
  // Table memory: half of it split back to small pages.
  EXPECT_THAT(s, HasSubstr("  Mapped             : 4.0 MiB\n"
                           "  On huge pages      : 2.0 MiB (50.0%)\n"));
  // Every key of the fixture is known: nothing falls through to raw lines.
  EXPECT_THAT(s, Not(HasSubstr("_s ")));
  EXPECT_THAT(s, Not(HasSubstr("kod_sent")));
}

TEST(StatusSummary, AuthAndInterleavedWithoutKeysOrTraffic) {
  // No keys, interleaved mode off, and no traffic group to take a share of.
  const std::string s = summary_of(
      R"({"auth": {"keys": 0, "required": false, "signed_answers": 0, "crypto_naks": 0, "sign_failures": 0},
          "interleaved": {"enabled": false, "table_entries": 0, "answers": 0, "misses": 0, "evicted": 4}})");
  EXPECT_EQ(s,
            "Authentication\n"
            "  Keys               : none\n"
            "  MAC required       : no\n"
            "  Signed answers     : 0\n"
            "  Crypto-NAKs sent   : 0\n"
            "  Signing failures   : 0\n"
            "\n"
            "Interleaved mode\n"
            "  Enabled            : no\n"
            "  Interleaved answers: 0\n"
            "  Misses             : 0 (record gone: basic answer)\n"
            "  evicted            : 4\n");
}

TEST(StatusSummary, NextLeapSecondAsTheLogSaysIt) {
  // kNow is 2025-06-15T15:06:40Z.
  EXPECT_THAT(summary_of(R"({"reference": {"next_leap": "insert", "next_leap_utc": "2025-07-01T00:00:00Z"}})"),
              HasSubstr("  Next leap second   : 23:59:60 inserted at the end of 2025-06-30 (in 15 days)\n"));
  EXPECT_THAT(summary_of(R"({"reference": {"next_leap": "delete", "next_leap_utc": "2025-06-16T00:00:00Z"}})"),
              HasSubstr("  Next leap second   : 23:59:59 deleted at the end of 2025-06-15 (in 8h 53m)\n"));
  // Past (the status was taken just before it), or a kind this version does not know.
  EXPECT_THAT(summary_of(R"({"reference": {"next_leap": "insert", "next_leap_utc": "2025-01-01T00:00:00Z"}})"),
              HasSubstr("  Next leap second   : 23:59:60 inserted at the end of 2024-12-31\n"));
  EXPECT_THAT(summary_of(R"({"reference": {"next_leap": "smear", "next_leap_utc": "2025-07-01T00:00:00Z"}})"),
              HasSubstr("  Next leap second   : smear 2025-07-01T00:00:00Z\n"));
}

TEST(StatusSummary, ReadErrorsNameTheLastOne) {
  const std::string s = summary_of(
      R"({"reference": {"source": "phc", "holdover_s": 2.5, "source_errors": 3,
                        "last_error": "/dev/ptp0: PTP_SYS_OFFSET_EXTENDED: Input/output error"}})");
  EXPECT_EQ(s,
            "Reference\n"
            "  Source             : phc\n"
            "  Last sample        : 2.500 s ago\n"
            "  Read errors        : 3 (last: /dev/ptp0: PTP_SYS_OFFSET_EXTENDED: Input/output error)\n");
}

TEST(StatusSummary, MissingFieldsAreLeftOutNotInvented) {
  const std::string s = summary_of(R"({"server": {"version": "0.1.0"}, "traffic": {"received": 5}})");
  EXPECT_EQ(s,
            "Server\n"
            "  Version            : 0.1.0\n"
            "\n"
            "Traffic\n"
            "  Received           : 5\n");
}

TEST(StatusSummary, UnknownAndMistypedFieldsAreStillShown) {
  const std::string s = summary_of(read_fixture("status_partial.json"));
  EXPECT_THAT(s, HasSubstr("  Version            : 0.2.0\n"));
  // A string where a number was expected, and a new key.
  EXPECT_THAT(s, HasSubstr("  uptime_s           : soon\n"));
  EXPECT_THAT(s, HasSubstr("  ptp_clock          : /dev/ptp0\n"));
  EXPECT_THAT(s, HasSubstr("  State              : holdover\n"));
  EXPECT_THAT(s, Not(HasSubstr("Source")));
  // Drops without traffic: only non-zero reasons, without percentages.
  EXPECT_THAT(s, HasSubstr("Traffic\n    ipv4_fragment    : 4\n"));
  EXPECT_THAT(s, Not(HasSubstr("not_our_address")));
  // Queue lines carry whatever keys a queue has.
  EXPECT_THAT(s, HasSubstr("  Queue 0            : received 7, ring full 1\n"));
  EXPECT_THAT(s, HasSubstr("  Queue 1            : received 9\n"));
  // A whole new group.
  EXPECT_THAT(s, HasSubstr("ptp\n  port_state         : SLAVE\n  path_delay_s       : 2.5e-06\n"));
  EXPECT_THAT(s, Not(HasSubstr("Mbufs")));
  EXPECT_THAT(s, Not(HasSubstr("Answers")));
}

TEST(StatusSummary, ManyDropReasonsShowTheTopFiveAndTheRest) {
  const std::string s = summary_of(
      R"({"traffic": {"dropped": 28}, "drops": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7}})");
  EXPECT_THAT(s, HasSubstr("    g                : 7 (25.0%)\n    f                : 6"));
  EXPECT_THAT(s, HasSubstr("    c                : 3 (10.7%)\n    2 more reasons   : 3\n"));
  EXPECT_THAT(s, Not(HasSubstr("    a ")));
}

TEST(StatusSummary, ExpiredLeapFileIsFlagged) {
  const std::string s = summary_of(R"({"reference": {"leap_file_expiry": "2025-06-01T00:00:00Z"}})");
  EXPECT_THAT(s, HasSubstr("Leap file expiry   : 2025-06-01T00:00:00Z (EXPIRED 14 days ago)"));
}

TEST(StatusSummary, LongUptimeAlsoInDaysHoursMinutes) {
  EXPECT_THAT(summary_of(R"({"server": {"uptime_s": 3723}})"), HasSubstr("Uptime             : 3723.0 s (1h 02m 03s)"));
  EXPECT_THAT(summary_of(R"({"server": {"uptime_s": 200000}})"), HasSubstr("(2d 07h 33m)"));
}

TEST(StatusSummary, EmptyDocumentSaysSo) {
  EXPECT_EQ(summary_of("{}"), "(the /status document has no fields)\n");
}

TEST(StatusSummary, InvalidJsonIsAnErrorWithThePosition) {
  auto doc = parse_status_document("{\"server\": ");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.message(), HasSubstr("invalid JSON"));
  EXPECT_THAT(doc.message(), HasSubstr("line 1, column 12"));
  EXPECT_FALSE(parse_status_document("<html>404</html>").ok());
}

TEST(StatusSummary, TopLevelMustBeAnObject) {
  auto doc = parse_status_document("[1, 2]");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.message(), "expected a JSON object at the top level, found array");
}

}  // namespace
}  // namespace tachyon::query
