// Answers per second of the real worker on an in-process net_ring port,
// against a baseline measured in the same run: a reflector that only swaps
// the Ethernet addresses and sends each frame back (the cost of the rings,
// the mbufs and the generator itself).
//
//   build/bench/ring_bench [seconds]
//
// The generator runs on lcore 0 (CPU 0), the worker or reflector on lcore 1
// (CPU 1). It keeps a fixed window of requests in flight and recycles each
// answer into a new request, so it measures the loop's sustained rate.
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#include "dpdk/eal.h"
#include "dpdk/port.h"
#include "dpdk/worker.h"
#include "tests/support/pcap_file.h"
#include "tests/support/scenarios.h"

namespace {

using namespace tachyon;
using namespace tachyon::testing;

constexpr unsigned kWindow = 1024;

struct Reflector {
  uint16_t port;
  std::atomic<bool>* stop;
  static int main(void* arg) {
    auto* r = static_cast<Reflector*>(arg);
    rte_mbuf* pkts[dp::kBurstSize];
    while (!r->stop->load(std::memory_order_relaxed)) {
      const uint16_t n = rte_eth_rx_burst(r->port, 0, pkts, dp::kBurstSize);
      for (uint16_t i = 0; i < n; ++i) {
        auto* e = rte_pktmbuf_mtod(pkts[i], rte_ether_hdr*);
        rte_ether_addr tmp = e->dst_addr;
        e->dst_addr = e->src_addr;
        e->src_addr = tmp;
      }
      const uint16_t sent = n ? rte_eth_tx_burst(r->port, 0, pkts, n) : 0;
      if (sent < n) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
    return 0;
  }
};

std::vector<Bytes> request_frames(const Lab& lab) {
  std::vector<Bytes> frames;
  for (const char* f : {"ntpdig.pcap", "sntp.pcap", "chronyd-client.pcap"}) {
    for (const auto& frame : read_capture(captures_dir() + "/" + f)) {
      const auto udp = udp_of(frame.bytes);
      if (!udp || udp->dst_port != 123) continue;
      Host c = lab.client;
      c.port = udp->src_port;
      frames.push_back(udp_frame(c, lab.server, false, 0, udp->payload));
    }
  }
  return frames;
}

// Runs the generator for `seconds`; returns answers per second.
double generate(rte_ring* rx, rte_ring* tx, rte_mempool* pool, const std::vector<Bytes>& frames, double seconds) {
  std::vector<rte_mbuf*> window(kWindow);
  if (rte_pktmbuf_alloc_bulk(pool, window.data(), kWindow) != 0) return 0;
  size_t next = 0;
  auto fill = [&](rte_mbuf* m) {
    const Bytes& f = frames[next++ % frames.size()];
    m->data_off = RTE_PKTMBUF_HEADROOM;
    std::memcpy(rte_pktmbuf_mtod(m, void*), f.data(), f.size());
    m->data_len = m->pkt_len = static_cast<uint16_t>(f.size());
    m->ol_flags = 0;
  };
  for (auto* m : window) fill(m);
  rte_ring_enqueue_burst(rx, reinterpret_cast<void**>(window.data()), kWindow, nullptr);

  uint64_t answers = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  void* burst[dp::kBurstSize];
  while (true) {
    const unsigned n = rte_ring_dequeue_burst(tx, burst, dp::kBurstSize, nullptr);
    answers += n;
    for (unsigned i = 0; i < n; ++i) fill(static_cast<rte_mbuf*>(burst[i]));
    if (n) rte_ring_enqueue_burst(rx, burst, n, nullptr);
    if ((answers & 0xfff) < dp::kBurstSize && std::chrono::steady_clock::now() >= end) break;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(answers) / elapsed;
}

void drain(rte_ring* r) {
  void* out[64];
  unsigned n;
  while ((n = rte_ring_dequeue_burst(r, out, 64, nullptr)) != 0) {
    rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(out), n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::stod(argv[1]) : 3.0;
  const std::string prefix = "--file-prefix=tachyon_ringbench_" + std::to_string(getpid());
  std::vector<std::string> args = {"ring_bench", "--no-huge", "--no-shconf", "-m", "512", "--no-pci", "--no-telemetry",
                                   "--log-level=4", prefix, "--lcores=0@0,1@1"};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) return 1;

  rte_ring* rx = rte_ring_create("bench_rx", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* tx = rte_ring_create("bench_tx", 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  const int port_id = rte_eth_from_rings("bench_ring", &rx, 1, &tx, 1, 0);
  dp::PortOptions po;
  po.worker_lcores = {1};
  auto port = dp::Port::open(static_cast<uint16_t>(port_id), po);
  if (!port || !port->start()) return 1;
  rte_mempool* pool = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);

  const Lab lab = default_lab();
  const std::vector<Bytes> frames = request_frames(lab);
  std::atomic<bool> stop{false};

  // Baseline: the reflector.
  Reflector reflector{port->id(), &stop};
  rte_eal_remote_launch(&Reflector::main, &reflector, 1);
  const double reflected = generate(rx, tx, pool, frames, seconds);
  stop = true;
  rte_eal_wait_lcore(1);
  drain(rx);
  drain(tx);

  // tachyond's worker.
  dp::PortIdentity identity = identity_for(lab);
  core::ClockPublisher clock;
  core::ClockModel m;
  m.tsc = core::TimeMap::at(rte_rdtsc(), core::NtpTimestamp{0xeeab'0000'0000'0000ull},
                            static_cast<double>(rte_get_tsc_hz()));
  m.answer = core::AnswerTemplate(lab.state);
  clock.publish(m);
  dp::WorkerCounters counters;
  stop = false;
  dp::Worker worker(dp::WorkerConfig{port->id(), 0, &identity, &clock, port->capabilities(), &counters, &stop});
  rte_eal_remote_launch(&dp::Worker::lcore_main, &worker, 1);
  const double answered = generate(rx, tx, pool, frames, seconds);
  stop = true;
  rte_eal_wait_lcore(1);
  drain(rx);
  drain(tx);

  std::printf("in-process net_ring pair, %.1f s each, %u requests in flight, real-client NTP requests\n", seconds,
              kWindow);
  std::printf("%-28s %14s\n", "loop on lcore 1", "answers/s");
  std::printf("%-28s %14.0f\n", "reflector (MAC swap only)", reflected);
  std::printf("%-28s %14.0f\n", "tachyond worker", answered);
  std::printf("ratio worker/reflector: %.2f\n", reflected > 0 ? answered / reflected : 0.0);
  uint64_t drops = 0;
  for (const auto& d : counters.ntp.drops) drops += d.load();
  std::printf("worker drops: %lu, TX refused: %lu\n", static_cast<unsigned long>(drops),
              static_cast<unsigned long>(counters.tx_dropped.load()));
  port->stop();
  tachyon::dp::cleanup_eal();
  return 0;
}
