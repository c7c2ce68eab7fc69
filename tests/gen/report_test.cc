// From a step's raw counters to its figures, the table and the JSON
// document scripts read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/gen/report.h"
#include "tools/gen/step_stats.h"

namespace tachyon::gen {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kHz = 2.5e9;

// One second at 1000 requests/s: 990 good answers, 3 from an unsynchronized
// server, 2 KoD RATE, 1 invalid (wrong mode), 4 lost; plus 1 forged answer.
StepStats sample_step() {
  StepStats s;
  s.c.sent = 1000;
  s.c.good = 990;
  s.c.unsync = 3;
  s.c.kod[static_cast<size_t>(Kiss::kRate)] = 2;
  s.c.invalid[static_cast<size_t>(Invalid::kMode)] = 1;
  s.c.invalid[static_cast<size_t>(Invalid::kUnknownOrigin)] = 1;
  s.c.active_ticks = static_cast<uint64_t>(kHz);
  for (int i = 0; i < 993; ++i) {
    s.rtt_ticks.record(25'000 + static_cast<uint64_t>(i));  // 10 us
    s.processing_ns.record(300);
    s.xmt_offset_ns.record(-5000);
    s.offset_ns.record(100);
  }
  return s;
}

TEST(StepResult, DerivesRatesLossAndPercentiles) {
  const StepResult r = make_result(1, StepKind::kRamp, 1000, sample_step(), kHz, false, 0.1);
  EXPECT_DOUBLE_EQ(r.duration_s, 1.0);
  EXPECT_DOUBLE_EQ(r.sent_rate, 1000);
  EXPECT_DOUBLE_EQ(r.answered_rate, 993);
  EXPECT_EQ(r.lost, 4u);  // 1000 - (993 + 2 + 1)
  EXPECT_DOUBLE_EQ(r.lost_pct, 0.4);
  EXPECT_EQ(r.invalid, 2u);
  EXPECT_NEAR(r.invalid_pct, 100.0 * 2 / 997, 1e-9);
  EXPECT_DOUBLE_EQ(r.failed_pct, 0.7);
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.generator_limited);
  EXPECT_NEAR(r.rtt.p50, 10.2, 0.4);
  EXPECT_NEAR(r.processing.p99, 0.3, 0.01);
  EXPECT_NEAR(r.xmt_offset.p50, -5.0, 0.2);
  EXPECT_TRUE(make_result(1, StepKind::kRamp, 1000, sample_step(), kHz, false, 1.0).passed);
  EXPECT_FALSE(make_result(1, StepKind::kRamp, 1000, sample_step(), kHz, true, 1.0).passed);  // cut short
  EXPECT_TRUE(make_result(1, StepKind::kRamp, 1100, sample_step(), kHz, false, 1.0).generator_limited);
}

TEST(StepResult, RequestsTheTxQueueRefusedAreBackPressureNotAGeneratorLimit) {
  StepStats s = sample_step();
  s.c.tx_full = 9;  // under 1 % of the 1100 meant: the generator's shortfall
  StepResult r = make_result(1, StepKind::kRamp, 1100, s, kHz, false, 1.0);
  EXPECT_FALSE(r.back_pressure);
  EXPECT_TRUE(r.generator_limited);
  s.c.tx_full = 11;  // 1 %: the port pushed back
  r = make_result(1, StepKind::kRamp, 1100, s, kHz, false, 1.0);
  EXPECT_TRUE(r.back_pressure);
  EXPECT_FALSE(r.generator_limited);
  EXPECT_FALSE(make_result(1, StepKind::kRamp, 0, s, kHz, false, 1.0).back_pressure);  // unlimited rate
}

TEST(Report, TableAndJsonCarryTheFigures) {
  RunInfo info;
  info.version = "0.1.0";
  info.server = "192.0.2.1";
  info.ramp = true;
  info.ramp_options.start_rate = 1000;
  info.ramp_options.loss_retries = 1;
  const std::vector<StepResult> steps = {make_result(1, StepKind::kRamp, 1000, sample_step(), kHz, false, 1.0)};
  const RunSummary summary = summarize(steps, StopReason::kLoss);

  const std::string table = format_table(info, steps, summary);
  EXPECT_THAT(table, HasSubstr("max loss-free rate: 1000 requests/s (step 1)"));
  EXPECT_THAT(table, HasSubstr("invalid%"));
  EXPECT_THAT(table, testing::ContainsRegex(" 0.400 +0.201 +2 \\|"));  // lost%, invalid% (2 of 997), KoD
  EXPECT_THAT(table, HasSubstr("mode"));
  EXPECT_THAT(table, HasSubstr("unknown_origin"));
  EXPECT_THAT(table, HasSubstr("RATE=2"));
  EXPECT_THAT(table, HasSubstr("3 answers came from an unsynchronized server"));

  const nlohmann::json j = to_json(info, steps, summary);
  EXPECT_EQ(j["tool"], "tachyon-gen");
  EXPECT_EQ(j["config"]["mode"], "ramp");
  EXPECT_EQ(j["config"]["ramp"]["loss_retries"], 1);
  EXPECT_EQ(j["config"]["ramp"]["generator_retries"], 2);
  EXPECT_THAT(format_header(info), HasSubstr(", a failed step run again up to 1 time;"));
  ASSERT_EQ(j["steps"].size(), 1u);
  const auto& s = j["steps"][0];
  EXPECT_EQ(s["sent"], 1000);
  EXPECT_EQ(s["answered"], 993);
  EXPECT_EQ(s["lost"], 4);
  EXPECT_EQ(s["invalid"], 2);
  EXPECT_EQ(s["invalid_by_reason"]["mode"], 1);
  EXPECT_EQ(s["kod"]["RATE"], 2);
  EXPECT_EQ(s["passed"], true);
  for (const char* k : {"rtt_us", "processing_us", "xmt_offset_us", "offset_us"}) {
    for (const char* p : {"p50", "p99", "p999", "min", "max", "mean", "count"}) {
      EXPECT_TRUE(s[k].contains(p)) << k << "." << p;
    }
  }
  EXPECT_EQ(j["result"]["stop_reason"], "loss");
  EXPECT_EQ(j["result"]["max_loss_free_rate"], 1000.0);
}

TEST(Report, FailedStepsThatPassedWhenRunAgainAreNamed) {
  // sample_step() loses 0.7 %: it fails at --max-loss 0.1 and passes at 1.
  RunInfo info;
  info.ramp = true;
  const StepStats s = sample_step();
  const std::vector<StepResult> steps = {
      make_result(1, StepKind::kRamp, 1000, s, kHz, false, 1.0),   // pass
      make_result(2, StepKind::kRetry, 1000, s, kHz, false, 1.0),  // a generator retry after a pass: not counted
      make_result(3, StepKind::kRamp, 2000, s, kHz, false, 0.1),   // FAIL
      make_result(4, StepKind::kRetry, 2000, s, kHz, false, 1.0),  // pass: counted
      make_result(5, StepKind::kRamp, 4000, s, kHz, false, 0.1),   // FAIL
      make_result(6, StepKind::kRetry, 4000, s, kHz, false, 0.1),  // FAIL again: the end
  };
  const RunSummary summary = summarize(steps, StopReason::kLoss);
  EXPECT_EQ(summary.passed_when_run_again, (std::vector<RunSummary::RunAgain>{{3, 4}}));
  EXPECT_THAT(format_table(info, steps, summary),
              HasSubstr("1 failed step passed when run again at the same rate (3 -> 4): without --loss-retries "
                        "the ramp would have ended at step 3\n"));
  EXPECT_EQ(to_json(info, steps, summary)["result"]["passed_when_run_again"], nlohmann::json::array({4}));
  // Nothing said when no retry rescued a step.
  const std::vector<StepResult> plain(steps.begin(), steps.begin() + 3);
  EXPECT_THAT(format_table(info, plain, summarize(plain, StopReason::kLoss)), Not(HasSubstr("run again")));
}

TEST(Report, WithSeveralLossRetriesTheFirstFailedRunIsNamed) {
  // --loss-retries 2: 2000/s failed twice, then passed; 4000/s failed three times.
  RunInfo info;
  info.ramp = true;
  const StepStats s = sample_step();
  const std::vector<StepResult> steps = {
      make_result(1, StepKind::kRamp, 1000, s, kHz, false, 1.0),   // pass
      make_result(2, StepKind::kRamp, 2000, s, kHz, false, 0.1),   // FAIL
      make_result(3, StepKind::kRetry, 2000, s, kHz, false, 0.1),  // FAIL
      make_result(4, StepKind::kRetry, 2000, s, kHz, false, 1.0),  // pass: rescues step 2
      make_result(5, StepKind::kRamp, 4000, s, kHz, false, 0.1),   // FAIL
      make_result(6, StepKind::kRetry, 4000, s, kHz, false, 0.1),  // FAIL
      make_result(7, StepKind::kRetry, 4000, s, kHz, false, 0.1),  // FAIL: the end
  };
  const RunSummary summary = summarize(steps, StopReason::kLoss);
  EXPECT_EQ(summary.passed_when_run_again, (std::vector<RunSummary::RunAgain>{{2, 4}}));
  EXPECT_THAT(format_table(info, steps, summary),
              HasSubstr("1 failed step passed when run again at the same rate (2 -> 4): without --loss-retries "
                        "the ramp would have ended at step 2\n"));
  EXPECT_EQ(to_json(info, steps, summary)["result"]["passed_when_run_again"], nlohmann::json::array({4}));
}

TEST(Report, OneInvalidAnswerInMillionsDoesNotRoundToZero) {
  StepStats s;
  s.c.sent = 10'000'000;
  s.c.good = 10'000'000 - 1;
  s.c.invalid[static_cast<size_t>(Invalid::kMode)] = 1;
  s.c.active_ticks = static_cast<uint64_t>(kHz);
  std::vector<StepResult> steps = {make_result(1, StepKind::kFixed, 1e7, s, kHz, false, 0.1)};
  EXPECT_THAT(format_table(RunInfo{}, steps, summarize(steps, StopReason::kCompleted)),
              testing::ContainsRegex(" 0.000 +<0.001 +0 \\|"));
  s.c.invalid[static_cast<size_t>(Invalid::kMode)] = 0;
  steps = {make_result(1, StepKind::kFixed, 1e7, s, kHz, false, 0.1)};
  EXPECT_THAT(format_table(RunInfo{}, steps, summarize(steps, StopReason::kCompleted)),
              testing::ContainsRegex(" 0.000 +0 +0 \\|"));
}

TEST(Report, InterleavedModeCountsBothKindsOfAnswer) {
  RunInfo info;
  info.interleaved = true;
  StepStats s = sample_step();
  s.c.interleaved = 893;  // of 993 usable answers
  const std::vector<StepResult> steps = {make_result(1, StepKind::kFixed, 1000, s, kHz, false, 1.0)};
  EXPECT_EQ(steps[0].basic, 100u);
  EXPECT_NEAR(steps[0].interleaved_pct, 100.0 * 893 / 993, 1e-9);
  const RunSummary summary = summarize(steps, StopReason::kCompleted);
  EXPECT_THAT(format_header(info), HasSubstr("interleaved mode"));
  EXPECT_THAT(format_table(info, steps, summary),
              HasSubstr("interleaved mode: 893 interleaved answers, 100 basic (89.9% interleaved"));
  const nlohmann::json j = to_json(info, steps, summary);
  EXPECT_EQ(j["config"]["interleaved"], true);
  EXPECT_EQ(j["steps"][0]["interleaved"], 893);
  EXPECT_EQ(j["steps"][0]["basic"], 100);
  EXPECT_NEAR(j["steps"][0]["interleaved_pct"].get<double>(), 89.93, 0.01);

  // Without the mode, none of it.
  info.interleaved = false;
  EXPECT_THAT(format_table(info, steps, summary), Not(HasSubstr("interleaved")));
  const nlohmann::json b = to_json(info, steps, summary);
  EXPECT_EQ(b["config"]["interleaved"], false);
  EXPECT_FALSE(b["steps"][0].contains("interleaved"));
}

TEST(Report, SignedRequestsNameTheirKeyAndTheMacFailures) {
  RunInfo info;
  info.keys_file = "/etc/ntp.keys";
  info.key_id = 2;
  info.key_algorithm = "SHA1";
  StepStats s = sample_step();
  s.c.invalid[static_cast<size_t>(Invalid::kBadMac)] = 3;
  s.c.invalid[static_cast<size_t>(Invalid::kUnsignedAnswer)] = 4;
  const std::vector<StepResult> steps = {make_result(1, StepKind::kFixed, 1000, s, kHz, false, 1.0)};
  const RunSummary summary = summarize(steps, StopReason::kCompleted);
  EXPECT_THAT(format_header(info),
              HasSubstr("\n  +mac requests signed with key 2 (SHA1) from /etc/ntp.keys; their answers' MACs checked"));
  const std::string table = format_table(info, steps, summary);
  EXPECT_THAT(table, testing::ContainsRegex("bad_mac +3 +answer's MAC is not under the request's key"));
  EXPECT_THAT(table, testing::ContainsRegex("unsigned_answer +4 +answer to a signed request \\(--keys\\) carries no MAC"));
  const nlohmann::json j = to_json(info, steps, summary);
  EXPECT_EQ(j["config"]["keys"], (nlohmann::json{{"file", "/etc/ntp.keys"}, {"key_id", 2}, {"algorithm", "SHA1"}}));
  EXPECT_EQ(j["steps"][0]["invalid_by_reason"]["bad_mac"], 3);
  EXPECT_EQ(j["steps"][0]["invalid_by_reason"]["unsigned_answer"], 4);

  EXPECT_THAT(format_header(RunInfo{}), Not(HasSubstr("signed")));
  EXPECT_TRUE(to_json(RunInfo{}, steps, summary)["config"]["keys"].is_null());
}

TEST(Report, EachRequestKindHasItsOwnLoss) {
  // Two kinds: v4 answered but for 4 (2 KoD, 1 invalid, 1 lost); v4+mac
  // never answered at all (as chronyd does without the key).
  RunInfo info;
  info.kinds = {"v4", "v4+mac"};
  StepStats s = sample_step();
  s.c.by_kind[0] = KindCounters{.sent = 900, .usable = 896, .refused = 2, .invalid = 1};
  s.c.by_kind[1] = KindCounters{.sent = 100};
  StepStats other;  // a second lcore
  other.c.by_kind[0] = KindCounters{.sent = 100, .usable = 97};
  s.merge(other);
  EXPECT_EQ(s.c.by_kind[0].sent, 1000u);
  EXPECT_EQ(s.c.by_kind[0].lost(), 4u);  // 1000 - (993 + 2 + 1)
  EXPECT_EQ(s.c.by_kind[1].lost(), 100u);

  const std::vector<StepResult> steps = {make_result(1, StepKind::kFixed, 1000, s, kHz, false, 1.0)};
  const std::string table = format_table(info, steps, summarize(steps, StopReason::kCompleted));
  EXPECT_THAT(table, HasSubstr("request kind"));
  EXPECT_THAT(table, testing::ContainsRegex("v4 +1000 +993 +0.400 +2 +1\n"));
  EXPECT_THAT(table, testing::ContainsRegex("v4\\+mac +100 +0 +100.000 +0 +0  never answered"));

  const nlohmann::json j = to_json(info, steps, summarize(steps, StopReason::kCompleted));
  const auto& k = j["steps"][0]["by_kind"];
  ASSERT_EQ(k.size(), 2u);
  EXPECT_EQ(k[0]["kind"], "v4");
  EXPECT_EQ(k[0]["sent"], 1000);
  EXPECT_EQ(k[0]["answered"], 993);
  EXPECT_EQ(k[0]["refused"], 2);
  EXPECT_EQ(k[0]["invalid"], 1);
  EXPECT_EQ(k[0]["lost"], 4);
  EXPECT_EQ(k[1]["kind"], "v4+mac");
  EXPECT_EQ(k[1]["lost"], 100);
  EXPECT_DOUBLE_EQ(k[1]["lost_pct"].get<double>(), 100.0);

  // A mix of one kind: no per-kind table (the step table says it all).
  info.kinds = {"v4"};
  EXPECT_THAT(format_table(info, steps, summarize(steps, StopReason::kCompleted)), Not(HasSubstr("request kind")));
}

TEST(Report, EmptyHistogramsAreNullInJson) {
  RunInfo info;
  StepStats s;
  s.c.sent = 10;
  s.c.active_ticks = static_cast<uint64_t>(kHz);
  const std::vector<StepResult> steps = {make_result(1, StepKind::kFixed, 10, s, kHz, false, 0.1)};
  const nlohmann::json j = to_json(info, steps, summarize(steps, StopReason::kCompleted));
  EXPECT_TRUE(j["steps"][0]["rtt_us"].is_null());
  EXPECT_EQ(j["steps"][0]["lost"], 10);
  EXPECT_TRUE(j["result"]["max_loss_free_rate"].is_null());
}

}  // namespace
}  // namespace tachyon::gen
