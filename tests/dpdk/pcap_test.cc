// The hardware-timestamp path with known timestamps: net_pcap replays a
// capture and fills each mbuf's RX timestamp dynfield with the frame's
// capture time (microseconds since the Unix epoch). The answers written to
// the TX capture must carry exactly those instants as their receive
// timestamps, mapped through the same clock model the daemon publishes.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "clock/clock_control.h"
#include "clock/clock_sources.h"
#include "clock/system_source.h"
#include "core/ntp_packet.h"
#include "dpdk/eal.h"
#include "dpdk/port.h"
#include "dpdk/tsc.h"
#include "dpdk/worker.h"
#include "tests/support/pcap_file.h"
#include "tests/support/scenarios.h"

namespace tachyon::dp {
namespace replay {

using namespace tachyon::testing;

std::string g_dir;
constexpr int kFrames = 200;
// Capture times: an hour ago, 1234 us apart, with odd microseconds.
int64_t g_first_us = 0;

int64_t capture_us(int i) { return g_first_us + int64_t{i} * 1234 + (i % 7); }

class Tsc final : public clock::TickSource {
 public:
  uint64_t now() noexcept override { return read_tsc(); }
  double nominal_hz() const noexcept override { return static_cast<double>(tsc_hz()); }
};

void write_input_capture(const std::string& path) {
  const Lab lab = default_lab();
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_MICRO);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  ASSERT_NE(d, nullptr);
  for (int i = 0; i < kFrames; ++i) {
    Bytes ntp(48, 0);
    ntp[0] = static_cast<uint8_t>(0x23 - (i % 2) * 8);  // NTPv4 and NTPv3
    ntp[46] = 1;  // a transmit timestamp: zero is dropped
    ntp[47] = static_cast<uint8_t>(i);
    Host c = lab.client;
    c.port = static_cast<uint16_t>(30000 + i);
    const Bytes f = udp_frame(c, lab.server, i % 3 == 0, 0, ntp);
    pcap_pkthdr h{};
    h.ts.tv_sec = capture_us(i) / 1'000'000;
    h.ts.tv_usec = capture_us(i) % 1'000'000;
    h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

}  // namespace replay

namespace {

using namespace tachyon::testing;
using replay::capture_us;
using replay::g_dir;
using replay::kFrames;
using replay::Tsc;

TEST(PcapReplay, ReceiveTimestampsAreTheCaptureTimes) {
  auto id = find_single_port("net_pcap0");
  ASSERT_TRUE(id.ok()) << id.message();
  PortOptions o;
  auto opened = Port::open(*id, o);
  ASSERT_TRUE(opened.ok()) << opened.message();
  Port port = std::move(opened.value());
  ASSERT_EQ(port.capabilities().hw_clock, core::HwClock::kUnixMicros);
  ASSERT_NE(port.capabilities().rx_timestamp_flag, 0u);
  ASSERT_TRUE(port.start().ok());

  // The daemon's own clock pipeline: system reference, TSC, NIC map.
  const Lab lab = default_lab();
  Tsc tsc;
  clock::SystemKernelClock kernel;
  clock::SystemSource source(tsc, kernel);
  clock::ClockControlOptions co;
  co.local_stratum = 1;
  co.hw_clock = port.capabilities().hw_clock;
  clock::ClockControl control(co, tsc, source, clock::LeapTable::fixed(0));
  core::ClockPublisher publisher(control.update());

  PortIdentity identity = identity_for(lab);
  WorkerCounters counters;
  std::atomic<bool> stop{false};
  WorkerConfig wc{port.id(), 0, &identity, &publisher, port.capabilities(), &counters, &stop};
  Worker worker(wc);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (counters.rx_packets.load() < kFrames && std::chrono::steady_clock::now() < deadline) worker.poll_once();
  ASSERT_EQ(counters.rx_packets.load(), static_cast<uint64_t>(kFrames));
  EXPECT_EQ(counters.hw_timestamps.load(), static_cast<uint64_t>(kFrames));
  EXPECT_EQ(counters.tx_packets.load(), static_cast<uint64_t>(kFrames));
  port.stop();  // closes and flushes the TX capture

  const auto out = read_capture(g_dir + "/out.pcap");
  ASSERT_EQ(out.size(), static_cast<size_t>(kFrames));
  for (const auto& frame : out) {
    const auto udp = udp_of(frame.bytes);
    ASSERT_TRUE(udp.has_value());
    ASSERT_EQ(udp->payload.size(), 48u);
    const core::NtpHeader h = core::decode_header(udp->payload);
    const int i = udp->dst_port - 30000;
    ASSERT_GE(i, 0);
    ASSERT_LT(i, kFrames);
    const core::NtpTimestamp expected = core::ntp_from_unix_nanos(capture_us(i) * 1000);
    EXPECT_LE(std::abs(core::ntp_diff_nanos(h.receive, expected)), 1) << "frame " << i;
    EXPECT_EQ(h.version, i % 2 ? 3 : 4);
    // The transmit timestamp is now (software); processing of a replayed
    // hour-old capture is an hour long, which is what the answer says.
    EXPECT_GT(core::ntp_diff_nanos(h.transmit, h.receive), 3'000'000'000'000);
  }
}

}  // namespace
}  // namespace tachyon::dp

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  char tmpl[] = "/tmp/tachyon-pcap-XXXXXX";
  using tachyon::dp::replay::g_dir;
  g_dir = mkdtemp(tmpl);
  tachyon::dp::replay::g_first_us = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() -
               3'600'000'000;
  tachyon::dp::replay::write_input_capture(g_dir + "/in.pcap");
  const std::string vdev = "--vdev=net_pcap0,rx_pcap=" + g_dir + "/in.pcap,tx_pcap=" + g_dir + "/out.pcap";
  const std::string prefix = "--file-prefix=tachyon_pcap_" + std::to_string(getpid());
  std::vector<std::string> args = {"pcap_test", "--no-huge", "--no-shconf", "-m", "256", "--no-pci", "--no-telemetry",
                                   "--log-level=4", "--lcores=0@0", prefix, vdev};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  tachyon::dp::cleanup_eal();
  std::filesystem::remove_all(g_dir);
  return rc;
}
