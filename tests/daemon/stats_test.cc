#include "daemon/stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

namespace tachyon {
namespace {

StatsSnapshot fixture() {
  StatsSnapshot s;
  s.version = "9.9.9";
  s.uptime_s = 12.5;
  s.device = "net_af_xdp0,iface=x0";
  s.driver = "net_af_xdp";
  s.mac = "02:00:00:00:00:01";
  s.queues = 2;
  s.addresses = {"192.0.2.1", "2001:db8::1"};
  s.clock.source = "system";
  s.clock.state = clock::ReferenceState::kSynchronized;
  s.clock.stratum = 2;
  s.clock.refid = 0xc0000263;
  s.clock.precision = -26;
  s.clock.root_dispersion_ns = 1'500'000;
  s.clock.leap = core::Leap::kInsert;
  s.clock.error_ns = 25;
  s.clock.holdover_ns = 2'500'000'000;
  s.clock.source_errors = 3;
  s.clock.next_leap_unix = 1'909'094'400;  // 2030-07-01T00:00:00Z
  s.clock.next_leap_step = +1;
  s.workers.resize(2);
  s.workers[0].rx_packets = 100;
  s.workers[0].tx_packets = 90;
  s.workers[0].auth_signed = 11;
  s.workers[1].interleaved = 7;
  s.workers[1].interleaved_misses = 2;
  s.auth_keys = 5;
  s.auth_required = true;
  s.interleave_entries = 65536;
  s.workers[0].replies[3][4] = 70;
  s.workers[0].replies[1][3] = 5;
  s.workers[1].replies[3][4] = 10;
  s.workers[1].replies[0][1] = 2;
  s.workers[0].kod[0] = 3;
  s.workers[0].drops[static_cast<size_t>(core::DropReason::kNtpModePrivate)] = 4;
  s.workers[1].drops[static_cast<size_t>(core::DropReason::kNotOurAddress)] = 6;
  // 80 answers: 40 under 250 ns, 40 between 250 and 500 ns.
  s.workers[0].processing_bucket[0] = 40;
  s.workers[0].processing_bucket[1] = 40;
  s.workers[0].processing_sum_ns = 80 * 300;
  // 10 bursts: 6 of one frame, 3 of 3 to 4, 1 of 17 to 32.
  s.tsc_hz = 2e9;
  s.workers[1].busy_tsc = 3'000'000'000;  // 1.5 s
  s.workers[0].rx_burst_bucket[0] = 6;
  s.workers[0].rx_burst_bucket[2] = 3;
  s.workers[0].rx_burst_bucket[5] = 1;
  s.mbufs_in_use = 12;
  s.mbufs_total = 4095;
  s.table_bytes = 4 << 20;
  s.table_huge_bytes = 2 << 20;
  s.nic_xstats = {{"rx_good_packets", 100}, {"weird\"name", 1}};
  return s;
}

std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

TEST(Metrics, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  const std::string text = render_metrics(fixture());
  std::istringstream in(text);
  std::string line;
  std::set<std::string> helped, typed;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      helped.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (!line.empty()) {
      std::string name = line.substr(0, line.find_first_of("{ "));
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string family = name.substr(0, name.size() - std::string(suffix).size());
        if (name.size() > std::string(suffix).size() && name.ends_with(suffix) && typed.count(family)) name = family;
      }
      EXPECT_TRUE(helped.count(name)) << "no HELP for " << name;
      EXPECT_TRUE(typed.count(name)) << "no TYPE for " << name;
    }
  }
  EXPECT_GT(helped.size(), 30u);
}

TEST(Metrics, CountersCarryPerQueueValuesAndLabels) {
  const auto m = samples(render_metrics(fixture()));
  EXPECT_EQ(m.at("tachyon_rx_packets_total{queue=\"0\"}"), 100);
  EXPECT_EQ(m.at("tachyon_ntp_answers_total{queue=\"0\",version=\"4\",mode=\"client\"}"), 70);
  EXPECT_EQ(m.at("tachyon_ntp_answers_total{queue=\"0\",version=\"3\",mode=\"symmetric_active\"}"), 5);
  EXPECT_EQ(m.at("tachyon_ntp_answers_total{queue=\"1\",version=\"1\",mode=\"ntpv1\"}"), 2);
  EXPECT_EQ(m.at("tachyon_kod_sent_total{queue=\"0\",code=\"RATE\"}"), 3);
  EXPECT_EQ(m.at("tachyon_drops_total{queue=\"0\",reason=\"ntp_mode_private\"}"), 4);
  EXPECT_EQ(m.at("tachyon_drops_total{queue=\"1\",reason=\"not_our_address\"}"), 6);
  EXPECT_EQ(m.at("tachyon_reference_state{source=\"system\",state=\"synchronized\"}"), 1);
  EXPECT_EQ(m.at("tachyon_reference_state{source=\"system\",state=\"holdover\"}"), 0);
  EXPECT_EQ(m.at("tachyon_leap_indicator"), 1);
  EXPECT_DOUBLE_EQ(m.at("tachyon_root_dispersion_seconds"), 0.0015);
  EXPECT_EQ(m.at("tachyon_mbufs_in_use"), 12);
  EXPECT_EQ(m.at("tachyon_table_memory_bytes"), 4 << 20);
  EXPECT_EQ(m.at("tachyon_table_memory_huge_bytes"), 2 << 20);
  EXPECT_EQ(m.at("tachyon_nic_xstat{name=\"weird\\\"name\"}"), 1);  // label value escaped
  EXPECT_EQ(m.at("tachyon_auth_signed_answers_total{queue=\"0\"}"), 11);
  EXPECT_EQ(m.at("tachyon_auth_keys"), 5);
  EXPECT_EQ(m.at("tachyon_auth_required"), 1);
  EXPECT_EQ(m.at("tachyon_interleaved_answers_total{queue=\"1\"}"), 7);
  EXPECT_EQ(m.at("tachyon_interleaved_misses_total{queue=\"1\"}"), 2);
  EXPECT_EQ(m.at("tachyon_interleaved_table_entries"), 65536);
  EXPECT_DOUBLE_EQ(m.at("tachyon_reference_error_seconds"), 25e-9);
  EXPECT_DOUBLE_EQ(m.at("tachyon_reference_holdover_seconds"), 2.5);
  EXPECT_EQ(m.at("tachyon_reference_errors_total"), 3);
  EXPECT_EQ(m.at("tachyon_leap_next_timestamp_seconds"), 1'909'094'400);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  const auto m = samples(render_metrics(fixture()));
  EXPECT_EQ(m.at("tachyon_processing_time_seconds_bucket{queue=\"0\",le=\"2.5e-07\"}"), 40);
  EXPECT_EQ(m.at("tachyon_processing_time_seconds_bucket{queue=\"0\",le=\"5e-07\"}"), 80);
  EXPECT_EQ(m.at("tachyon_processing_time_seconds_bucket{queue=\"0\",le=\"+Inf\"}"), 80);
  EXPECT_EQ(m.at("tachyon_processing_time_seconds_count{queue=\"0\"}"), 80);
  EXPECT_NEAR(m.at("tachyon_processing_time_seconds_sum{queue=\"0\"}"), 80 * 300e-9, 1e-12);
}

TEST(Metrics, BurstSizeHistogramCountsBurstsAndSumsFrames) {
  const auto m = samples(render_metrics(fixture()));
  EXPECT_EQ(m.at("tachyon_rx_burst_frames_bucket{queue=\"0\",le=\"1\"}"), 6);
  EXPECT_EQ(m.at("tachyon_rx_burst_frames_bucket{queue=\"0\",le=\"2\"}"), 6);
  EXPECT_EQ(m.at("tachyon_rx_burst_frames_bucket{queue=\"0\",le=\"4\"}"), 9);
  EXPECT_EQ(m.at("tachyon_rx_burst_frames_bucket{queue=\"0\",le=\"16\"}"), 9);
  EXPECT_EQ(m.at("tachyon_rx_burst_frames_bucket{queue=\"0\",le=\"+Inf\"}"), 10);
  EXPECT_EQ(m.at("tachyon_rx_burst_frames_count{queue=\"0\"}"), 10);
  EXPECT_EQ(m.at("tachyon_rx_burst_frames_sum{queue=\"0\"}"), 100);  // the frames received
}

TEST(Metrics, WorkerBusyTimeIsInSeconds) {
  const auto m = samples(render_metrics(fixture()));
  EXPECT_DOUBLE_EQ(m.at("tachyon_worker_busy_seconds_total{queue=\"0\"}"), 0);
  EXPECT_DOUBLE_EQ(m.at("tachyon_worker_busy_seconds_total{queue=\"1\"}"), 1.5);
  StatsSnapshot no_rate = fixture();
  no_rate.tsc_hz = 0;
  EXPECT_EQ(render_metrics(no_rate).find("tachyon_worker_busy_seconds_total"), std::string::npos);
}

TEST(WorkerCounters, BurstsLandInPowerOfTwoBuckets) {
  dp::WorkerCounters c;
  for (uint16_t n : {1, 2, 3, 4, 5, 8, 9, 16, 17, 32}) c.observe_burst(n);
  const uint64_t want[dp::WorkerCounters::kBurstBuckets] = {1, 1, 2, 2, 2, 2};
  for (size_t b = 0; b < dp::WorkerCounters::kBurstBuckets; ++b) EXPECT_EQ(c.rx_burst_bucket[b].load(), want[b]) << b;
}

// A burst's processing times, counted by runs of one bucket, end up as if
// each answer had been counted alone: bucket edges (250 is in the first
// bucket, 251 in the second), 0, the +Inf bucket, runs broken and resumed.
TEST(WorkerCounters, ProcessingRunsCountEachAnswerInItsBucket) {
  const std::vector<std::vector<uint64_t>> bursts = {
      {},
      {0},
      {250, 251, 251, 250, 0, 0, 500, 501, 1000, 1001},
      {2'000'000, 2'000'000, 999'999, 1'000'000, 1'000'001, 80, 80, 80},
      std::vector<uint64_t>(32, 120),
  };
  dp::WorkerCounters c;
  uint64_t want[dp::WorkerCounters::kProcessingBuckets] = {};
  uint64_t count = 0, sum = 0;
  for (const auto& burst : bursts) {
    dp::WorkerCounters::ProcessingRun run;
    for (uint64_t ns : burst) {
      run.observe(c, ns);
      size_t b = 0;
      while (b < dp::WorkerCounters::kProcessingBuckets - 1 && ns > dp::WorkerCounters::kProcessingBucketsNs[b]) ++b;
      ++want[b];
      ++count;
      sum += ns;
    }
    run.flush(c);
  }
  for (size_t b = 0; b < dp::WorkerCounters::kProcessingBuckets; ++b) {
    EXPECT_EQ(c.processing_bucket[b].load(), want[b]) << b;
  }
  EXPECT_EQ(snapshot(c).processing_count(), count);
  EXPECT_EQ(c.processing_sum_ns.load(), sum);
}

TEST(Metrics, ProcessingQuantilesInterpolateWithinBuckets) {
  const StatsSnapshot s = fixture();
  EXPECT_NEAR(processing_quantile_s(s, 0.5), 250e-9, 1e-12);
  EXPECT_NEAR(processing_quantile_s(s, 0.75), 375e-9, 1e-12);
  EXPECT_EQ(processing_quantile_s(StatsSnapshot{}, 0.5), 0);
}

TEST(Status, DocumentHasTheFieldsToolsRead) {
  const auto j = nlohmann::json::parse(render_status(fixture()));
  EXPECT_EQ(j["server"]["version"], "9.9.9");
  EXPECT_EQ(j["server"]["queues"], 2);
  EXPECT_EQ(j["server"]["addresses"][1], "2001:db8::1");
  EXPECT_EQ(j["reference"]["state"], "synchronized");
  EXPECT_EQ(j["reference"]["refid"], "192.0.2.99");
  EXPECT_EQ(j["reference"]["leap"], "insert");
  EXPECT_EQ(j["reference"]["next_leap"], "insert");
  EXPECT_EQ(j["reference"]["next_leap_utc"], "2030-07-01T00:00:00Z");
  EXPECT_EQ(j["auth"]["keys"], 5);
  EXPECT_EQ(j["auth"]["required"], true);
  EXPECT_EQ(j["traffic"]["ntp_answers"], 87);
  EXPECT_EQ(j["traffic"]["kod_sent"], 3);
  EXPECT_EQ(j["traffic"]["dropped"], 10);
  EXPECT_EQ(j["answers"]["by_version"]["4"], 80);
  EXPECT_EQ(j["answers"]["by_mode"]["symmetric_active"], 5);
  EXPECT_EQ(j["drops"]["ntp_mode_private"], 4);
  EXPECT_FALSE(j["drops"].contains("frame_truncated"));  // only reasons that happened
  EXPECT_EQ(j["queues"].size(), 2u);
  EXPECT_EQ(j["mbufs"]["total"], 4095);
  EXPECT_EQ(j["table_memory"]["bytes"], 4 << 20);
  EXPECT_EQ(j["table_memory"]["huge_bytes"], 2 << 20);
  EXPECT_NEAR(j["processing_time_s"]["p50"].get<double>(), 250e-9, 1e-12);
}

TEST(Status, RefidIsTextAtStratumOneAndAnAddressBelow) {
  EXPECT_EQ(refid_text(core::refid_from_ascii("GPS\0"), 1), "GPS");
  EXPECT_EQ(refid_text(0xc0000201, 2), "192.0.2.1");
  EXPECT_EQ(refid_text(core::refid_from_ascii("INIT"), 16), "INIT");
}

}  // namespace
}  // namespace tachyon
