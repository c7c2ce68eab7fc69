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
#include "core/ntp_packet.h"
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

  // With `policy`, the worker admits clients through it (and answers mode 6
  // to its allow-list); without, every valid request is answered.
  void start_worker(const Lab& lab, const core::ServicePolicy* policy = nullptr,
                    core::InterleaveTable* interleave = nullptr) {
    identity_ = identity_for(lab);
    if (policy != nullptr) {
      core::RateLimitOptions table;
      table.table_entries = 1024;
      service_ = std::make_unique<core::NtpService>(table);
      service_->use(policy);
    }
    start_ticker(lab);
    WorkerConfig wc;
    wc.port_id = port_->id();
    wc.queue = 0;
    wc.identity = &identity_;
    wc.clock = &clock_;
    wc.caps = port_->capabilities();
    wc.counters = &counters_;
    wc.stop = &stop_;
    wc.service = service_.get();
    wc.control = &control_vars_;
    wc.interleave = interleave;
    worker_ = std::make_unique<Worker>(wc);
    stop_.store(false);
    ASSERT_EQ(rte_eal_remote_launch(&Worker::lcore_main, worker_.get(), 1), 0);
    running_ = true;
  }

  // The bursts tests' clients: 24 IPv4 (192.0.2.70-93) and, from index
  // kBurstV6 on, 8 IPv6 ones, each in its own /64 (the rate limit's unit).
  static constexpr size_t kBurstV6 = 24;
  static std::vector<Host> burst_clients(const Lab& lab) {
    std::vector<Host> clients;
    for (uint32_t i = 0; i < kBurstV6; ++i) {
      Host h = lab.client;
      h.ipv4 = ipv4_from_string("192.0.2.70") + i;
      clients.push_back(h);
    }
    for (uint8_t i = 0; i < 8; ++i) {
      Host h = lab.client;
      h.ipv6 = ipv6_from_string("2001:db8:0:" + std::to_string(10 + i) + "::2");
      clients.push_back(h);
    }
    return clients;
  }

  // Hands `frames` to the worker as one burst; its answers in order, all
  // of them unless 5 s pass first.
  std::vector<rte_mbuf*> exchange_burst(const std::vector<Bytes>& frames) {
    const auto n = static_cast<unsigned>(frames.size());
    rte_mbuf* burst[kBurstSize];
    std::vector<rte_mbuf*> answers;
    if (rte_pktmbuf_alloc_bulk(pool_, burst, n) != 0) {
      ADD_FAILURE() << "no mbufs for a burst of " << n;
      return answers;
    }
    for (unsigned i = 0; i < n; ++i) {
      const Bytes& f = frames[i];
      std::copy(f.begin(), f.end(), rte_pktmbuf_append(burst[i], static_cast<uint16_t>(f.size())));
    }
    EXPECT_EQ(rte_ring_enqueue_burst(rx_, reinterpret_cast<void**>(burst), n, nullptr), n);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (answers.size() < n && std::chrono::steady_clock::now() < deadline) {
      void* out[kBurstSize];
      const unsigned got = rte_ring_dequeue_burst(tx_, out, kBurstSize, nullptr);
      for (unsigned i = 0; i < got; ++i) answers.push_back(static_cast<rte_mbuf*>(out[i]));
      if (got == 0) std::this_thread::yield();
    }
    return answers;
  }

  // Publishes lab's clock model now and every 5 ms, like the control
  // thread: republishing often keeps the TSC rate DPDK estimated at
  // start-up (which can be off on a loaded VM) from drifting the model
  // away from CLOCK_REALTIME.
  void start_ticker(const Lab& lab) {
    clock_.publish(model_for(lab));
    ticking_.store(true);
    ticker_ = std::thread([this, lab] {
      while (ticking_.load()) {
        clock_.publish(model_for(lab));
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }

  // From now on the published model is lab's (the worker keeps running).
  void switch_clock(const Lab& lab) {
    ticking_.store(false);
    ticker_.join();
    start_ticker(lab);
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
  std::unique_ptr<core::NtpService> service_;
  core::SeqlockCell<core::SystemVariables> control_vars_;
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

// The worker copies the clock model only when a new one is published (a
// sequence check per burst): each answer must still carry the latest.
TEST_F(RingDataplane, AnswersFollowEveryNewClockModel) {
  Lab lab = default_lab(0);
  start_worker(lab);
  exchange(varied_scenarios(lab, 5, 200));
  for (uint8_t stratum : {3, 9, 1}) {
    lab.state.stratum = stratum;
    lab.state.refid = 0xc0000200u + stratum;
    lab.state.leap = stratum == 9 ? core::Leap::kInsert : core::Leap::kNone;
    switch_clock(lab);
    exchange(varied_scenarios(lab, 5 + stratum, 200));
  }
  stop_worker();
  EXPECT_GT(answers_checked_, 400u);
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
  ntp[47] = 1;  // a transmit timestamp: zero is dropped
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

// A hostile frame, the reason it must be dropped for, and how the mbuf is
// set up (NIC flags, segmentation) before the worker sees it.
struct Hostile {
  std::string name;
  Bytes frame;
  core::DropReason reason;
  uint64_t ol_flags = 0;
  bool segmented = false;
};

Bytes with(Bytes f, size_t at, std::initializer_list<uint8_t> bytes) {
  for (uint8_t b : bytes) f.at(at++) = b;
  return f;
}

void fix_ipv4_checksum(Bytes& f, size_t ip) {
  f[ip + 10] = f[ip + 11] = 0;
  const uint16_t c = internet_checksum(f, ip, (f[ip] & 0xfu) * 4u);
  f[ip + 10] = static_cast<uint8_t>(c >> 8);
  f[ip + 11] = static_cast<uint8_t>(c);
}

std::vector<Hostile> hostile_frames(const Lab& lab) {
  using R = core::DropReason;
  Bytes ntp(48, 0);
  ntp[0] = 0x23;
  ntp[47] = 7;
  const Bytes good4 = udp_frame(lab.client, lab.server, false, 0, ntp);
  const Bytes good6 = udp_frame(lab.client, lab.server, true, 0, ntp);
  constexpr size_t ip = 14, udp = 34, nt = 42;
  std::vector<Hostile> h;
  auto add = [&](std::string name, Bytes f, R reason) { h.push_back({std::move(name), std::move(f), reason}); };
  auto ntp_with = [&](Bytes payload) { return udp_frame(lab.client, lab.server, false, 0, payload); };

  // Ethernet and VLAN.
  add("empty frame", Bytes(1, 0), R::kFrameTruncated);
  add("13-byte frame", Bytes(good4.begin(), good4.begin() + 13), R::kFrameTruncated);
  add("truncated VLAN tag", with(Bytes(good4.begin(), good4.begin() + 16), 12, {0x81, 0x00}), R::kFrameTruncated);
  {
    Bytes f = good4;
    f.insert(f.begin() + 12, {0x81, 0x00, 0x00, 0x00, 0x81, 0x00, 0x00, 0x00});
    add("two 802.1Q tags", f, R::kVlanStacked);
    Bytes q = good4;
    q.insert(q.begin() + 12, {0x88, 0xa8, 0x00, 0x05});
    add("802.1ad outer tag", q, R::kVlanStacked);
  }
  add("broadcast source MAC", with(good4, 6, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), R::kBadSource);
  add("unknown EtherType", with(good4, 12, {0x88, 0xb5}), R::kEtherTypeUnsupported);
  // IPv4.
  add("truncated IPv4 header", Bytes(good4.begin(), good4.begin() + ip + 10), R::kIpv4Malformed);
  {
    Bytes f = with(good4, ip, {0x44});
    fix_ipv4_checksum(f, ip);
    add("IHL 4", f, R::kIpv4Malformed);
  }
  {
    Bytes f = good4;
    f.insert(f.begin() + ip + 20, {0x94, 0x04, 0x00, 0x00});  // router alert option
    f[ip] = 0x46;
    f[ip + 3] = static_cast<uint8_t>(f.size() - ip);
    fix_ipv4_checksum(f, ip);
    add("IPv4 options", f, R::kIpv4Options);
  }
  for (auto [name, flags] : {std::pair{"IPv4 first fragment (MF)", uint16_t{0x2000}},
                             std::pair{"IPv4 later fragment (offset)", uint16_t{0x0010}}}) {
    Bytes f = with(good4, ip + 6, {static_cast<uint8_t>(flags >> 8), static_cast<uint8_t>(flags)});
    fix_ipv4_checksum(f, ip);
    add(name, f, R::kIpv4Fragment);
  }
  {
    Bytes f = with(good4, ip + 2, {0x05, 0xdc});  // total length 1500 in a short frame
    fix_ipv4_checksum(f, ip);
    add("IPv4 total length past the frame", f, R::kIpv4Malformed);
    Bytes g = with(good4, ip + 2, {0x00, 0x10});  // 16 < header
    fix_ipv4_checksum(g, ip);
    add("IPv4 total length below its header", g, R::kIpv4Malformed);
  }
  add("bad IPv4 header checksum", with(good4, ip + 10, {0xde, 0xad}), R::kChecksumBad);
  // UDP.
  {
    Bytes f = with(good4, ip + 2, {0x00, 24});  // IP says 4 bytes of UDP
    fix_ipv4_checksum(f, ip);
    f.resize(ip + 24);
    add("truncated UDP header", f, R::kUdpMalformed);
  }
  add("UDP length past the IP payload", with(good4, udp + 4, {0x01, 0x00}), R::kUdpMalformed);
  add("UDP length below its header", with(good4, udp + 4, {0x00, 0x04}), R::kUdpMalformed);
  add("UDP source port 0", with(good4, udp, {0, 0}), R::kBadSource);
  // NTP.
  add("truncated NTP header", ntp_with(Bytes(ntp.begin(), ntp.begin() + 20)), R::kNtpTruncated);
  add("zero transmit timestamp", ntp_with(with(ntp, 40, {0, 0, 0, 0, 0, 0, 0, 0})), R::kNtpZeroTransmit);
  add("NTP version 0", ntp_with(with(ntp, 0, {0x03})), R::kNtpBadVersion);
  add("NTP version 7", ntp_with(with(ntp, 0, {0x3b})), R::kNtpBadVersion);
  {
    Bytes ef = ntp;
    ef.insert(ef.end(), {0x01, 0x04, 0xff, 0xfc});  // extension field claiming 65532 bytes
    ef.resize(48 + 28, 0);
    add("extension field length overflows", ntp_with(ef), R::kNtpBadTrailer);
    Bytes small = ntp;
    small.insert(small.end(), {0x01, 0x04, 0x00, 0x08});  // below the 16-byte minimum
    small.resize(48 + 28, 0);
    add("extension field shorter than 16 bytes", ntp_with(small), R::kNtpBadTrailer);
    Bytes odd = ntp;
    odd.insert(odd.end(), {0x01, 0x04, 0x00, 0x1e});  // 30: not a multiple of 4
    odd.resize(48 + 32, 0);
    add("extension field length not a multiple of 4", ntp_with(odd), R::kNtpBadTrailer);
    Bytes v3 = with(ntp, 0, {0x1b});
    v3.insert(v3.end(), {0x01, 0x04, 0x00, 0x1c});
    v3.resize(48 + 28, 0);
    add("extension field in NTPv3", ntp_with(v3), R::kNtpBadTrailer);
  }
  add("mode 7 (ntpdc monlist)", ntp_with(Bytes{0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0}), R::kNtpModePrivate);
  add("mode 6 with a bogus count", ntp_with(Bytes{0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff}),
      R::kNtpControlMalformed);
  add("mode 6 with a bogus offset", ntp_with(Bytes{0x16, 0x02, 0, 1, 0, 0, 0, 0, 0x01, 0x00, 0, 0}),
      R::kNtpControlMalformed);
  add("mode 6 truncated header", ntp_with(Bytes{0x16, 0x02, 0, 1}), R::kNtpControlMalformed);
  // IPv6 and neighbor discovery.
  add("truncated IPv6 header", Bytes(good6.begin(), good6.begin() + 14 + 30), R::kIpv6Malformed);
  add("IPv6 payload length past the frame", with(good6, 14 + 4, {0x05, 0xdc}), R::kIpv6Malformed);
  add("IPv6 fragment header", with(good6, 14 + 6, {44}), R::kIpv6ExtensionHeader);
  {
    Bytes ns = neighbor_solicitation(lab.client, lab.server.ipv6, true, lab.server.mac, true, 0);
    add("neighbor solicitation with hop limit 64", with(ns, 14 + 7, {64}), R::kIcmpMalformed);
    Host dad = lab.client;
    dad.ipv6 = Ip6{};
    add("duplicate address detection (unspecified source)",
        neighbor_solicitation(dad, lab.server.ipv6, true, lab.server.mac, false, 0), R::kBadSource);
    Bytes zero_option = ns;
    zero_option[14 + 40 + 25] = 0;  // option length 0 would loop forever
    add("neighbor solicitation option of length 0", zero_option, R::kIcmpMalformed);
  }
  // ARP and ICMP.
  {
    const Bytes arp = arp_request(lab.client, lab.server.ipv4, 0);
    add("truncated ARP", Bytes(arp.begin(), arp.begin() + 30), R::kArpMalformed);
  }
  add("ARP reply (not a request)", with(arp_request(lab.client, lab.server.ipv4, 0), 14 + 7, {2}), R::kArpIgnored);
  add("ICMP echo with a bad checksum", with(icmp_echo(lab.client, lab.server, 0, false, 1, 1, Bytes(8, 1)), 34 + 2,
                                            {0, 0}),
      R::kChecksumBad);
  {
    Bytes f = icmp_echo(lab.client, lab.server, 0, false, 1, 1, {});
    f[ip + 3] = 24;  // IP total: 4 bytes of ICMP
    fix_ipv4_checksum(f, ip);
    f.resize(ip + 24);
    add("truncated ICMP", f, R::kIcmpMalformed);
  }
  // What the NIC says and how the frame arrives.
  h.push_back({"NIC-reported bad L4 checksum", good4, R::kChecksumBad, RTE_MBUF_F_RX_L4_CKSUM_BAD, false});
  h.push_back({"frame in two segments", good4, R::kFrameSegmented, 0, true});
  (void)nt;
  return h;
}

TEST_F(RingDataplane, HostileFramesAreDroppedByReasonOneByOne) {
  const Lab lab = default_lab(0);
  core::ServicePolicy policy;  // mode 6 allowed from the lab client, so bogus counts reach the handler
  const auto client = core::parse_prefix("192.0.2.0/24");
  policy.control_allow.add(client->address, client->length, core::Rule::kAllow);
  policy.control_allow.build();
  policy.access.build();
  start_worker(lab, &policy);
  for (const Hostile& h : hostile_frames(lab)) {
    SCOPED_TRACE(h.name);
    uint64_t before[core::kDropReasonCount];
    for (size_t r = 0; r < core::kDropReasonCount; ++r) before[r] = counters_.ntp.drops[r].load();
    const uint64_t rx_before = counters_.rx_packets.load();

    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    ASSERT_NE(m, nullptr);
    const size_t first = h.segmented ? h.frame.size() / 2 : h.frame.size();
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(first));
    std::copy(h.frame.begin(), h.frame.begin() + static_cast<long>(first), d);
    if (h.segmented) {
      rte_mbuf* tail = rte_pktmbuf_alloc(pool_);
      char* t = rte_pktmbuf_append(tail, static_cast<uint16_t>(h.frame.size() - first));
      std::copy(h.frame.begin() + static_cast<long>(first), h.frame.end(), t);
      ASSERT_EQ(rte_pktmbuf_chain(m, tail), 0);
    }
    m->ol_flags |= h.ol_flags;
    ASSERT_EQ(rte_ring_enqueue(rx_, m), 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (counters_.rx_packets.load() == rx_before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_EQ(counters_.rx_packets.load(), rx_before + 1) << "the worker never took the frame";
    for (size_t r = 0; r < core::kDropReasonCount; ++r) {
      const uint64_t delta = counters_.ntp.drops[r].load() - before[r];
      EXPECT_EQ(delta, r == static_cast<size_t>(h.reason) ? 1u : 0u)
          << core::drop_reason_name(static_cast<core::DropReason>(r));
    }
    void* out;
    EXPECT_NE(rte_ring_dequeue(tx_, &out), 0) << "a hostile frame got an answer";
  }
  stop_worker();
  EXPECT_EQ(counters_.tx_packets.load(), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);  // every hostile mbuf was freed
}

// With an access list or a rate limit, the worker fetches each client's
// rate-limit record a few frames ahead of the frame it handles: every frame
// of a burst, whatever the burst's size and its place in it, must still be
// judged as its own client's request.
TEST_F(RingDataplane, AdmissionJudgesEveryFrameOfABurstAsItsOwnClients) {
  const Lab lab = default_lab(0);
  core::ServicePolicy policy;
  core::RateLimitOptions limits;
  limits.interval_log2 = 10;  // no refill within the test
  limits.burst = 3;
  limits.leak_log2 = 0;
  policy.rate_limit = true;
  policy.limited = core::Refusal::kKod;
  policy.rate = core::RateLimitParams::from(limits);
  policy.denied = core::Refusal::kKod;
  const auto denied = core::parse_prefix("192.0.2.77/32");
  policy.access.add(denied->address, denied->length, core::Rule::kDeny);
  policy.access.build();
  policy.control_allow.build();
  start_worker(lab, &policy);

  // burst_clients() (.77 denied), drawn at random into bursts of sizes
  // around every prefetch distance.
  const std::vector<Host> clients = burst_clients(lab);
  const auto is_v6 = [](size_t c) { return c >= kBurstV6; };
  std::map<size_t, int> seen;  // requests per client so far
  uint32_t random = 12345;
  uint64_t transmit = 0x1234'5678'0000'0000ull;
  size_t answered = 0, limited = 0, refused = 0;
  for (const unsigned n : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 13u, 17u, 31u, 32u, 32u, 6u, 32u, 1u, 32u}) {
    SCOPED_TRACE("burst of " + std::to_string(n));
    std::vector<Bytes> frames;
    std::vector<size_t> who;
    std::vector<uint64_t> sent;
    for (unsigned i = 0; i < n; ++i) {
      random = random * 1103515245u + 12345u;
      const size_t c = (random >> 16) % clients.size();
      Bytes ntp(48, 0);
      ntp[0] = 0x23;
      core::store_be64(ntp.data() + core::off::kTransmit, ++transmit);
      frames.push_back(udp_frame(clients[c], lab.server, is_v6(c), 0, ntp));
      who.push_back(c);
      sent.push_back(transmit);
    }
    // Every request gets an answer or a KoD, in order.
    std::vector<rte_mbuf*> answers = exchange_burst(frames);
    ASSERT_EQ(answers.size(), n);
    for (unsigned i = 0; i < n; ++i) {
      const size_t c = who[i];
      const uint8_t* ntp = rte_pktmbuf_mtod(answers[i], const uint8_t*) + ntp_offset(is_v6(c), 0);
      const uint32_t refid = core::load_be32(ntp + core::off::kRefid);
      EXPECT_EQ(core::load_be64(ntp + core::off::kOrigin), sent[i]) << "answer " << i << " is not to its request";
      if (clients[c].ipv4 == ipv4_from_string("192.0.2.77") && !is_v6(c)) {
        EXPECT_EQ(refid, core::kiss_refid(core::KissCode::kDeny)) << "client " << c;
        ++refused;
      } else if (++seen[c] <= 3) {
        EXPECT_EQ(ntp[core::off::kStratum], lab.state.stratum) << "client " << c << " request " << seen[c];
        ++answered;
      } else {
        EXPECT_EQ(ntp[core::off::kStratum], 0) << "client " << c << " request " << seen[c];
        EXPECT_EQ(refid, core::kiss_refid(core::KissCode::kRate)) << "client " << c;
        ++limited;
      }
    }
    rte_pktmbuf_free_bulk(answers.data(), static_cast<unsigned>(answers.size()));
  }
  stop_worker();
  EXPECT_GT(answered, 60u);
  EXPECT_GT(limited, 50u);
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
}

// Interleaved mode through the real worker, in bursts around every
// prefetch distance: each client's third and later requests name its
// previous answer (origin = that answer's receive field), and must get
// that answer's transmit timestamp, never another client's.
TEST_F(RingDataplane, InterleavedClientsInBurstsEachGetTheirOwnPreviousTransmit) {
  const Lab lab = default_lab(0);
  core::InterleaveTable table(1024);
  start_worker(lab, nullptr, &table);

  const std::vector<Host> clients = burst_clients(lab);
  const auto is_v6 = [](size_t c) { return c >= kBurstV6; };
  struct State {
    uint64_t last_receive = 0;  // the receive field of the client's last answer
    size_t last_burst = 0;      // and the burst it came in
    int requests = 0;
  };
  std::vector<uint64_t> burst_receive;  // per burst: the earliest receive timestamp of its answers
  std::vector<State> state(clients.size());
  std::vector<size_t> order(clients.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  uint32_t random = 4242;
  uint64_t stamp = 0x2000'0000'0000'0000ull;
  size_t interleaved = 0;
  for (const unsigned n : {1u, 2u, 3u, 5u, 8u, 9u, 13u, 17u, 32u, 31u, 32u, 4u, 32u, 7u, 32u}) {
    SCOPED_TRACE("burst of " + std::to_string(n));
    // n distinct clients: a client's next request needs its last answer.
    for (size_t i = order.size() - 1; i > 0; --i) {
      random = random * 1103515245u + 12345u;
      std::swap(order[i], order[(random >> 16) % (i + 1)]);
    }
    std::vector<Bytes> frames;
    std::vector<uint64_t> client_receive(n), client_transmit(n);
    for (unsigned i = 0; i < n; ++i) {
      const size_t c = order[i];
      Bytes ntp(48, 0);
      ntp[0] = 0x23;
      client_receive[i] = ++stamp;
      client_transmit[i] = ++stamp;
      core::store_be64(ntp.data() + core::off::kOrigin, state[c].last_receive);
      core::store_be64(ntp.data() + core::off::kReceive, client_receive[i]);
      core::store_be64(ntp.data() + core::off::kTransmit, client_transmit[i]);
      frames.push_back(udp_frame(clients[c], lab.server, is_v6(c), 0, ntp));
    }
    std::vector<rte_mbuf*> answers = exchange_burst(frames);
    ASSERT_EQ(answers.size(), n);
    const auto ntp_of = [&](unsigned i) {
      return rte_pktmbuf_mtod(answers[i], const uint8_t*) + ntp_offset(is_v6(order[i]), 0);
    };
    uint64_t earliest = ~uint64_t{0};
    for (unsigned i = 0; i < n; ++i) earliest = std::min(earliest, core::load_be64(ntp_of(i) + core::off::kReceive) & ~uint64_t{3});
    const size_t this_burst = burst_receive.size();
    burst_receive.push_back(earliest);
    for (unsigned i = 0; i < n; ++i) {
      const size_t c = order[i];
      const uint8_t* ntp = ntp_of(i);
      const uint64_t origin = core::load_be64(ntp + core::off::kOrigin);
      const uint64_t receive = core::load_be64(ntp + core::off::kReceive);
      const uint64_t transmit = core::load_be64(ntp + core::off::kTransmit);
      if (++state[c].requests >= 3) {
        // Interleaved: origin = the client's receive field, transmit = when
        // its previous answer left, before this request arrived.
        EXPECT_EQ(origin, client_receive[i]) << "client " << c << " request " << state[c].requests;
        // Between its previous answer's receive and the next burst's: the
        // transmit timestamp of its own previous burst, no other.
        EXPECT_GT(transmit, state[c].last_receive & ~uint64_t{3}) << "client " << c;
        EXPECT_LT(transmit, burst_receive[state[c].last_burst + 1]) << "client " << c << ": a later burst's";
        ++interleaved;
      } else {
        EXPECT_EQ(origin, client_transmit[i]) << "client " << c << " request " << state[c].requests;
        EXPECT_GT(transmit, receive) << "client " << c;
      }
      state[c].last_receive = receive;
      state[c].last_burst = this_burst;
    }
    rte_pktmbuf_free_bulk(answers.data(), static_cast<unsigned>(answers.size()));
  }
  stop_worker();
  EXPECT_GT(interleaved, 100u);
  EXPECT_EQ(counters_.interleaved.load(), interleaved);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
}

TEST_F(RingDataplane, GarbageTimestampsAreEchoedNotInterpreted) {
  // A server cannot tell a garbage origin/receive/reference timestamp from a
  // real one: it answers, echoing the transmit timestamp bit for bit.
  const Lab lab = default_lab(0);
  start_worker(lab);
  Bytes ntp(48, 0xff);
  ntp[0] = 0x23;
  std::vector<Scenario> one(1);
  one[0].name = "garbage timestamps";
  one[0].request = udp_frame(lab.client, lab.server, false, 0, ntp);
  one[0].answered = true;
  one[0].ntp = true;
  core::NtpHeader a;
  a.leap = lab.state.leap;
  a.version = 4;
  a.mode = core::Mode::kServer;
  a.stratum = lab.state.stratum;
  a.poll = -1;  // 0xff
  a.precision = lab.state.precision;
  a.root_delay = lab.state.root_delay;
  a.root_dispersion = lab.state.root_dispersion;
  a.refid = lab.state.refid;
  a.reference = lab.state.reference_time;
  a.origin = core::NtpTimestamp{~uint64_t{0}};
  Bytes payload(48);
  core::encode_header(a, payload);
  one[0].expected = udp_frame(lab.server, lab.client, false, 0, payload, 64, true);
  exchange(one);
  stop_worker();
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
