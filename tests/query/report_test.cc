#include "tools/query/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <vector>

#include "tools/query/sample_stats.h"

namespace tachyon::query {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kSec = core::kNanosPerSecond;
constexpr int64_t kUs = 1'000;
constexpr int64_t kT1 = 1'750'000'000 * kSec;  // 2025-06-15T15:06:40Z

Target target(uint32_t count = 3) {
  Target t;
  t.name = "ntp.example";
  t.address = "192.0.2.1";
  t.port = 123;
  t.local = "192.0.2.2 port 40000";
  t.count = count;
  return t;
}

struct AnswerSpec {
  int64_t offset_ns = 10 * kUs;
  int64_t delay_ns = 100 * kUs;
  core::Leap leap = core::Leap::kNone;
  uint8_t stratum = 2;
  uint32_t refid = 0xC0000207;
};

// An attempt answered by a server `offset` ahead over a symmetric path of
// round trip `delay` (server hold time zero), sent at kT1 + index seconds.
Attempt answered(uint32_t index, const AnswerSpec& spec) {
  const int64_t t1 = kT1 + index * kSec;
  const Request r{4, core::Mode::kClient, core::ntp_from_unix_nanos(t1)};
  core::NtpHeader h;
  h.leap = spec.leap;
  h.version = 4;
  h.mode = core::Mode::kServer;
  h.stratum = spec.stratum;
  h.precision = -26;
  h.poll = 6;
  h.refid = spec.refid;
  h.root_dispersion = core::ntp_short_from_nanos(15 * kUs);
  h.reference = core::ntp_from_unix_nanos(t1 - 16 * kSec);
  h.origin = r.xmt;
  h.receive = core::ntp_from_unix_nanos(t1 + spec.delay_ns / 2 + spec.offset_ns);
  h.transmit = h.receive;
  std::array<uint8_t, core::kNtpHeaderSize> p{};
  core::encode_header(h, p);
  Attempt a;
  a.index = index;
  a.sent_unix_ns = t1;
  a.sample = make_sample(p, check_answer(p, r), t1, t1 + spec.delay_ns);
  return a;
}

Attempt kod(uint32_t index, const char (&code)[5]) {
  AnswerSpec spec;
  spec.stratum = 0;
  spec.leap = core::Leap::kUnsync;
  spec.refid = core::refid_from_ascii(code);
  return answered(index, spec);
}

Attempt lost(uint32_t index) {
  Attempt a;
  a.index = index;
  a.sent_unix_ns = kT1 + index * kSec;
  a.error = "no answer within 2 s";
  return a;
}

// --- statistics ---

TEST(SampleStats, MinMeanMaxAndSampleStddev) {
  const std::vector<double> v = {1, 2, 3, 4};
  const SampleStats s = summarize(v);
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 4);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.stddev, std::sqrt(5.0 / 3.0), 1e-12);
}

TEST(SampleStats, SingleValueHasZeroStddevAndEmptyIsAllZero) {
  const std::vector<double> one = {-3e-5};
  EXPECT_EQ(summarize(one).stddev, 0);
  EXPECT_EQ(summarize(one).mean, -3e-5);
  EXPECT_EQ(summarize({}).count, 0u);
}

TEST(SampleStats, StableForCloseValuesFarFromZero) {
  const std::vector<double> v = {1e6 + 1e-6, 1e6 + 2e-6, 1e6 + 3e-6};
  EXPECT_NEAR(summarize(v).stddev, 1e-6, 1e-9);
}

// --- text report ---

TEST(TextReport, SampleBlockShowsEveryField) {
  Report r(Report::Style::kText, target(1), false);
  EXPECT_EQ(r.begin(kT1),
            "server ntp.example (192.0.2.1) port 123, NTPv4 client (mode 3) from 192.0.2.2 port 40000\n");
  const std::string block = r.add(answered(1, {}));
  EXPECT_THAT(block, HasSubstr("sample 1: answer from 192.0.2.1 port 123 at 2025-06-15T15:06:41.000100Z"));
  EXPECT_THAT(block, HasSubstr("  offset           +0.000010000 s  (+10.000 us)\n"));
  EXPECT_THAT(block, HasSubstr("  delay             0.000100000 s  (100.000 us)\n"));
  EXPECT_THAT(block, HasSubstr("  stratum          2\n"));
  EXPECT_THAT(block, HasSubstr("  refid            192.0.2.7 (C0000207)\n"));
  EXPECT_THAT(block, HasSubstr("  leap             none\n"));
  EXPECT_THAT(block, HasSubstr("  precision        2^-26 (14.9 ns)\n"));
  EXPECT_THAT(block, HasSubstr("  root delay        0.000000000 s"));
  EXPECT_THAT(block, HasSubstr("  root dispersion   0.000015"));
  EXPECT_THAT(block, HasSubstr("  poll             2^6 (64 s)\n"));
  EXPECT_THAT(block, HasSubstr("  version/mode     4/4 (server)\n"));
  EXPECT_THAT(block, HasSubstr("  reference time   2025-06-15T15:06:25.000000Z\n"));
  // One sample: no summary.
  EXPECT_EQ(r.end(), "");
  EXPECT_EQ(r.exit_code(), kExitOk);
  EXPECT_EQ(r.failure_message(), "");
}

TEST(TextReport, SummaryOverSamplesIgnoresLostOnes) {
  Report r(Report::Style::kText, target(4), false);
  r.add(answered(1, {.offset_ns = 10 * kUs, .delay_ns = 100 * kUs}));
  r.add(lost(2));
  r.add(answered(3, {.offset_ns = 30 * kUs, .delay_ns = 300 * kUs}));
  r.add(answered(4, {.offset_ns = -10 * kUs, .delay_ns = 200 * kUs}));
  const SampleStats o = r.offset_stats();
  EXPECT_EQ(o.count, 3u);
  EXPECT_NEAR(o.min, -10e-6, 1e-12);
  EXPECT_NEAR(o.mean, 10e-6, 1e-12);
  EXPECT_NEAR(o.max, 30e-6, 1e-12);
  EXPECT_NEAR(o.stddev, 20e-6, 1e-12);
  const std::string end = r.end();
  EXPECT_THAT(end, HasSubstr("--- ntp.example NTP statistics ---\n4 requests, 3 usable, 1 lost\n"));
  EXPECT_THAT(end, HasSubstr("offset min/mean/max/stddev = -0.000010000/+0.000010000/+0.000030000/0.000020000 s"));
  EXPECT_THAT(end, HasSubstr("delay  min/mean/max/stddev = 0.000100000/0.000200000/0.000300000/0.000100000 s"));
  EXPECT_EQ(r.exit_code(), kExitOk);
}

TEST(TextReport, LostSampleSaysSo) {
  Report r(Report::Style::kText, target(3), false);
  EXPECT_EQ(r.add(lost(2)), "sample 2 of 3: no answer within 2 s\n");
}

TEST(TextReport, EveryAnswerLostExitsNoAnswer) {
  Report r(Report::Style::kText, target(2), false);
  r.add(lost(1));
  r.add(lost(2));
  EXPECT_EQ(r.exit_code(), kExitNoAnswer);
  EXPECT_EQ(r.failure_message(), "no usable answer from ntp.example port 123");
}

TEST(TextReport, KissOfDeathPrintsTheCodeAndExits3) {
  Report r(Report::Style::kText, target(3), false);
  r.add(answered(1, {}));
  const std::string block = r.add(kod(2, "RATE"));
  EXPECT_THAT(block, HasSubstr("sample 2 of 3: kiss-o'-death RATE: rate exceeded"));
  EXPECT_THAT(block, Not(HasSubstr("offset")));
  EXPECT_EQ(r.exit_code(), kExitUnsynchronized);
  EXPECT_THAT(r.failure_message(), HasSubstr("sent a kiss-o'-death RATE"));
  EXPECT_THAT(r.end(), HasSubstr("2 requests, 1 usable, 1 kiss-o'-death, 0 lost"));
}

TEST(TextReport, DenyKissIsReportedEvenAsTheOnlyAnswer) {
  Report r(Report::Style::kText, target(1), false);
  EXPECT_THAT(r.add(kod(1, "DENY")), HasSubstr("kiss-o'-death DENY: access denied"));
  EXPECT_EQ(r.exit_code(), kExitUnsynchronized);
}

TEST(TextReport, Leap3IsUnsynchronizedAndExits3UnlessAllowed) {
  const Attempt a = answered(1, {.leap = core::Leap::kUnsync});
  Report strict(Report::Style::kText, target(1), false);
  const std::string block = strict.add(a);
  EXPECT_THAT(block, HasSubstr("  leap             unsync\n"));
  EXPECT_THAT(block, HasSubstr("unsynchronized: the server says its clock is not synchronized (LI=3"));
  EXPECT_EQ(strict.exit_code(), kExitUnsynchronized);
  EXPECT_THAT(strict.failure_message(), HasSubstr("is unsynchronized"));
  EXPECT_EQ(strict.offset_stats().count, 0u);

  Report lenient(Report::Style::kText, target(1), true);
  lenient.add(a);
  EXPECT_EQ(lenient.exit_code(), kExitOk);
  EXPECT_EQ(lenient.offset_stats().count, 1u);
}

TEST(TextReport, Stratum16IsUnsynchronized) {
  Report r(Report::Style::kText, target(1), false);
  r.add(answered(1, {.stratum = 16, .refid = core::refid_from_ascii("INIT")}));
  EXPECT_EQ(r.exit_code(), kExitUnsynchronized);
}

TEST(TextReport, WrongModeIsAnInvalidAnswer) {
  Attempt a = answered(1, {});
  a.sample->verdict = AnswerVerdict::kWrongMode;
  a.sample->answer.mode = core::Mode::kClient;
  Report r(Report::Style::kText, target(1), false);
  EXPECT_EQ(r.add(a),
            "sample 1: invalid answer from 192.0.2.1 port 123: wrong mode 3 (client), expected 4 (server)\n");
  EXPECT_EQ(r.exit_code(), kExitNoAnswer);
}

TEST(TextReport, IgnoredPacketsAreCounted) {
  Attempt a = answered(1, {});
  a.ignored = 2;
  Report r(Report::Style::kText, target(1), false);
  EXPECT_THAT(r.add(a), HasSubstr("(ignored 2 packets not answering this request)"));
}

// --- stripchart ---

TEST(Stripchart, BarMarksZeroAndTheOffset) {
  EXPECT_EQ(offset_bar(0, 1e-3, 5), "[     *     ]");
  EXPECT_EQ(offset_bar(0.5e-3, 1e-3, 5), "[     |  *  ]");
  EXPECT_EQ(offset_bar(-1e-3, 1e-3, 5), "[*    |     ]");
  EXPECT_EQ(offset_bar(3e-3, 1e-3, 5), "[     |    >]");
  EXPECT_EQ(offset_bar(-3e-3, 1e-3, 5), "[<    |     ]");
}

TEST(Stripchart, ScaleIsTheSmallestDecadeHoldingTwiceTheFirstOffset) {
  EXPECT_DOUBLE_EQ(stripchart_scale_for(0), 1e-5);
  EXPECT_DOUBLE_EQ(stripchart_scale_for(4e-6), 1e-5);
  EXPECT_NEAR(stripchart_scale_for(-12e-6), 1e-4, 1e-12);
  EXPECT_NEAR(stripchart_scale_for(0.3), 1, 1e-9);
  EXPECT_NEAR(stripchart_scale_for(1e9), 1000, 1e-6);
}

TEST(Stripchart, OneLinePerSampleLikeW32tm) {
  Report r(Report::Style::kStripchart, target(3), false);
  EXPECT_EQ(r.begin(kT1),
            "Tracking ntp.example [192.0.2.1:123], NTPv4 client (mode 3).\n"
            "Collecting 3 samples.\n"
            "The current time is 2025-06-15T15:06:40.000Z.\n");
  const std::string first = r.add(answered(1, {.offset_ns = 10 * kUs, .delay_ns = 100 * kUs}));
  EXPECT_EQ(first,
            "Offset bar: 100.000 us to each side, | marks zero.\n"
            "15:06:41.000, d:+0.000100000s o:+0.000010000s  [                         |  *                      ]\n");
  EXPECT_EQ(r.add(lost(2)), "15:06:42.000, error: no answer within 2 s\n");
  EXPECT_THAT(r.add(kod(3, "RATE")), HasSubstr("15:06:43.000, error: kiss-o'-death RATE"));
}

// --- JSON ---

TEST(JsonReport, OneDocumentWithSamplesSummaryAndExitCode) {
  Report r(Report::Style::kJson, target(3), false);
  EXPECT_EQ(r.begin(kT1), "");
  EXPECT_EQ(r.add(answered(1, {.offset_ns = 10 * kUs})), "");
  r.add(lost(2));
  r.add(kod(3, "RATE"));
  const auto doc = nlohmann::json::parse(r.end());
  EXPECT_EQ(doc["server"], "ntp.example");
  EXPECT_EQ(doc["address"], "192.0.2.1");
  EXPECT_EQ(doc["request"]["version"], 4);
  ASSERT_EQ(doc["samples"].size(), 3u);
  const auto& s = doc["samples"][0];
  EXPECT_EQ(s["status"], "ok");
  EXPECT_NEAR(s["offset_s"].get<double>(), 1e-5, 1e-12);
  EXPECT_EQ(s["stratum"], 2);
  EXPECT_EQ(s["refid_hex"], "C0000207");
  EXPECT_EQ(s["leap"], "none");
  EXPECT_EQ(s["precision"], -26);
  EXPECT_EQ(s["mode"], 4);
  EXPECT_EQ(doc["samples"][1]["status"], "no answer");
  EXPECT_EQ(doc["samples"][2]["status"], "kod");
  EXPECT_EQ(doc["samples"][2]["kiss_code"], "RATE");
  EXPECT_FALSE(doc["samples"][2].contains("offset_s"));
  EXPECT_EQ(doc["summary"]["usable"], 1);
  EXPECT_EQ(doc["exit_code"], kExitUnsynchronized);
}

}  // namespace
}  // namespace tachyon::query
