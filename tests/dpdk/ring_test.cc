// The worker end to end on an in-process net_ring port: the test (main
// lcore) enqueues thousands of varied frames into the port's RX ring, the
// real Worker polls on lcore 1 and answers through its TX ring, and the test
// checks every answer byte for byte, that junk gets none, that every drop
// is counted under its reason, and that no mbuf leaks.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <map>
#include <thread>
#include <time.h>
#include <unistd.h>

#include "dpdk/eal.h"
#include "dpdk/port.h"
#include "dpdk/worker.h"
#include "tests/support/scenarios.h"

namespace tachyon::dp {
namespace {

using namespace tachyon::testing;

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

core::ClockModel model_for(const Lab& lab) {
  core::ClockModel m;
  const uint64_t tsc = rte_rdtsc();
  m.tsc = core::TimeMap::at(tsc, core::ntp_from_unix_nanos(realtime_ns()), static_cast<double>(rte_get_tsc_hz()));
  m.answer = core::AnswerTemplate(lab.state);
  return m;
}

class RingDataplane : public ::testing::Test {
 protected:
  void SetUp() override {
    static int instance = 0;
    const std::string n = std::to_string(instance++);
    rx_ = rte_ring_create(("rx" + n).c_str(), 4096, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx_ = rte_ring_create(("tx" + n).c_str(), 4096, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(rx_, nullptr);
    ASSERT_NE(tx_, nullptr);
    const int id = rte_eth_from_rings(("ring_srv" + n).c_str(), &rx_, 1, &tx_, 1, rte_socket_id());
    ASSERT_GE(id, 0);
    PortOptions o;
    o.worker_lcores = {1};
    auto port = Port::open(static_cast<uint16_t>(id), o);
    ASSERT_TRUE(port.ok()) << port.message();
    port_.emplace(std::move(port.value()));
    ASSERT_TRUE(port_->start().ok());
    pool_ = rte_pktmbuf_pool_create(("test_pool" + n).c_str(), 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    static_cast<int>(rte_socket_id()));
    ASSERT_NE(pool_, nullptr);
  }

  void TearDown() override {
    stop_worker();
    if (port_) port_->stop();
    if (pool_) rte_mempool_free(pool_);
    rte_ring_free(rx_);
    rte_ring_free(tx_);
  }

  void start_worker(const Lab& lab) {
    identity_ = identity_for(lab);
    clock_.publish(model_for(lab));
    // Like the control thread: republish often, so that the TSC rate DPDK
    // estimated at start-up (which can be off on a loaded VM) never has
    // time to drift the model away from CLOCK_REALTIME.
    ticking_.store(true);
    ticker_ = std::thread([this, lab] {
      while (ticking_.load()) {
        clock_.publish(model_for(lab));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    WorkerConfig wc;
    wc.port_id = port_->id();
    wc.queue = 0;
    wc.identity = &identity_;
    wc.clock = &clock_;
    wc.caps = port_->capabilities();
    wc.counters = &counters_;
    wc.stop = &stop_;
    worker_ = std::make_unique<Worker>(wc);
    stop_.store(false);
    ASSERT_EQ(rte_eal_remote_launch(&Worker::lcore_main, worker_.get(), 1), 0);
    running_ = true;
  }

  void stop_worker() {
    if (!running_) return;
    stop_.store(true);
    rte_eal_wait_lcore(1);
    running_ = false;
    ticking_.store(false);
    ticker_.join();
  }

  // Sends the scenarios in bursts and checks every answer as it comes back.
  void exchange(const std::vector<Scenario>& scenarios) {
    constexpr int64_t kSlackNs = 1'000'000;  // TSC model vs CLOCK_REALTIME
    for (size_t first = 0; first < scenarios.size(); first += kBurstSize) {
      const size_t n = std::min<size_t>(kBurstSize, scenarios.size() - first);
      rte_mbuf* burst[kBurstSize];
      std::vector<const Scenario*> answered;
      ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool_, burst, static_cast<unsigned>(n)), 0);
      for (size_t i = 0; i < n; ++i) {
        const Scenario& s = scenarios[first + i];
        char* data = rte_pktmbuf_append(burst[i], static_cast<uint16_t>(s.request.size()));
        ASSERT_NE(data, nullptr);
        std::copy(s.request.begin(), s.request.end(), data);
        if (s.answered) answered.push_back(&s);
        ++expected_drops_[s.answered ? core::DropReason::kCount_ : s.reason];
      }
      const core::NtpTimestamp earliest = core::ntp_from_unix_nanos(realtime_ns() - kSlackNs);
      ASSERT_EQ(rte_ring_enqueue_burst(rx_, reinterpret_cast<void**>(burst), static_cast<unsigned>(n), nullptr), n);

      std::vector<rte_mbuf*> answers;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (answers.size() < answered.size() && std::chrono::steady_clock::now() < deadline) {
        void* out[kBurstSize];
        const unsigned got = rte_ring_dequeue_burst(tx_, out, kBurstSize, nullptr);
        for (unsigned i = 0; i < got; ++i) answers.push_back(static_cast<rte_mbuf*>(out[i]));
        if (got == 0) std::this_thread::yield();
      }
      // Wait for the worker to finish the burst, then nothing more may come.
      while (rte_ring_count(rx_) != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      void* extra[1];
      EXPECT_EQ(rte_ring_dequeue_burst(tx_, extra, 1, nullptr), 0u) << "an answer nobody asked for";
      const core::NtpTimestamp latest = core::ntp_from_unix_nanos(realtime_ns() + kSlackNs);

      ASSERT_EQ(answers.size(), answered.size()) << "missing answers in burst at " << first;
      for (size_t i = 0; i < answers.size(); ++i) {
        const uint8_t* d = rte_pktmbuf_mtod(answers[i], const uint8_t*);
        const Bytes actual(d, d + rte_pktmbuf_data_len(answers[i]));
        EXPECT_EQ(check_answer(*answered[i], actual, earliest, latest), "") << answered[i]->name;
        ++answers_checked_;
      }
      rte_pktmbuf_free_bulk(answers.data(), static_cast<unsigned>(answers.size()));
    }
  }

  void expect_drops_counted() {
    for (size_t r = 0; r < core::kDropReasonCount; ++r) {
      const auto reason = static_cast<core::DropReason>(r);
      EXPECT_EQ(counters_.ntp.drops[r].load(), expected_drops_[reason]) << core::drop_reason_name(reason);
    }
  }

  rte_ring* rx_ = nullptr;
  rte_ring* tx_ = nullptr;
  std::optional<Port> port_;
  rte_mempool* pool_ = nullptr;
  PortIdentity identity_;
  core::ClockPublisher clock_;
  WorkerCounters counters_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<Worker> worker_;
  bool running_ = false;
  std::atomic<bool> ticking_{false};
  std::thread ticker_;
  std::map<core::DropReason, uint64_t> expected_drops_;
  size_t answers_checked_ = 0;
};

TEST_F(RingDataplane, AnswersThousandsOfVariedFramesByteForByte) {
  const Lab lab = default_lab(0);
  start_worker(lab);
  exchange(varied_scenarios(lab, 21, 4000));
  stop_worker();
  expect_drops_counted();
  EXPECT_GT(answers_checked_, 2500u);
  EXPECT_EQ(counters_.rx_packets.load(), 4000u);
  EXPECT_EQ(counters_.tx_packets.load(), answers_checked_);
  EXPECT_EQ(counters_.tx_dropped.load(), 0u);
  // Every mbuf came back: answers were freed by the test, drops by the worker.
  EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
}

TEST_F(RingDataplane, AnswersOnItsVlanAndDropsOtherTags) {
  const Lab lab = default_lab(100);
  start_worker(lab);
  exchange(varied_scenarios(lab, 22, 2000));
  const Lab untagged = default_lab(0);
  auto others = varied_scenarios(untagged, 23, 200);
  for (auto& s : others) {
    if (s.request.size() < 14 || s.name == "stacked-vlan") continue;  // dropped for their own reasons
    s.answered = false;
    s.reason = core::DropReason::kVlanMismatch;
  }
  exchange(others);
  stop_worker();
  expect_drops_counted();
  EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
}

TEST_F(RingDataplane, TxQueueFullFreesAndCountsUnsentAnswers) {
  // Fill the TX ring so the worker's tx_burst cannot take everything.
  const Lab lab = default_lab(0);
  start_worker(lab);
  constexpr unsigned kLeft = 10;  // room for only part of the burst
  std::vector<rte_mbuf*> held(rte_ring_free_count(tx_) - kLeft);
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool_, held.data(), static_cast<unsigned>(held.size())), 0);
  ASSERT_EQ(rte_ring_enqueue_burst(tx_, reinterpret_cast<void**>(held.data()), static_cast<unsigned>(held.size()),
                                   nullptr),
            held.size());
  const unsigned left = rte_ring_free_count(tx_);
  rte_mbuf* burst[kBurstSize];
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(pool_, burst, kBurstSize), 0);
  Bytes ntp(48, 0);
  ntp[0] = 0x23;
  const Bytes frame = udp_frame(lab.client, lab.server, false, 0, ntp);
  for (auto* m : burst) {
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    std::copy(frame.begin(), frame.end(), d);
  }
  ASSERT_EQ(rte_ring_enqueue_burst(rx_, reinterpret_cast<void**>(burst), kBurstSize, nullptr), kBurstSize);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (counters_.rx_packets.load() < kBurstSize && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  stop_worker();
  ASSERT_EQ(left, kLeft);
  EXPECT_EQ(counters_.tx_packets.load(), left);
  EXPECT_EQ(counters_.tx_dropped.load(), kBurstSize - left);
  std::vector<void*> out(4096);
  const unsigned n = rte_ring_dequeue_burst(tx_, out.data(), 4096, nullptr);
  rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(out.data()), n);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
}

}  // namespace
}  // namespace tachyon::dp

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Its own file prefix and no hugepages: runs beside any other DPDK test.
  const std::string prefix = "--file-prefix=tachyon_ring_" + std::to_string(getpid());
  const std::string lcores = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "--lcores=0@0,1@1" : "--lcores=0@0,1@0";
  std::vector<std::string> args = {"ring_test", "--no-huge", "--no-shconf", "-m", "256", "--no-pci", "--no-telemetry",
                                   "--log-level=4", prefix, lcores};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  tachyon::dp::cleanup_eal();
  return rc;
}
