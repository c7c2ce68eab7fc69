// The baseline the memif benchmark measures tachyond against: a DPDK
// program that does the least a server can do with a request. It swaps the
// Ethernet, IP and UDP source and destination of every frame and sends it
// back, unchanged otherwise (the swaps keep every checksum valid), so
// tachyon-gen --echo can match the reflected requests. No ARP, no NTP:
// give the generator --server-mac.
//
//   reflector -d net_memif0,role=server,socket=/tmp/x.sock,mac=02:00:00:00:00:01 [--cpu 0]
//   reflector -d net_af_xdp0,iface=veth0,start_queue=0,queue_count=1 --yield-us 1000 [--hugepages]
//
// One poll loop (lcore 1) on --cpu; the main lcore shares that CPU and
// sleeps until SIGINT/SIGTERM, then prints what it reflected; SIGUSR1
// prints its counters so far (frames, busy time). On a kernel-backed port
// (AF_XDP, AF_PACKET on a veth) give --yield-us as tachyond's worker does
// there (port.yield_us): the kernel's softirq work for our frames runs on
// our CPU, and a loop that never yields can starve it.
#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "dpdk/eal.h"
#include "dpdk/port.h"
#include "dpdk/tsc.h"

namespace {

using namespace tachyon;

std::atomic<bool> g_stop{false};
std::atomic<bool> g_report{false};
extern "C" void on_signal(int) { g_stop.store(true); }
extern "C" void on_report(int) { g_report.store(true); }

constexpr uint16_t kBurst = 32;

template <size_t N>
void swap_bytes(uint8_t* a, uint8_t* b) {
  uint8_t t[N];
  std::memcpy(t, a, N);
  std::memcpy(a, b, N);
  std::memcpy(b, t, N);
}

// Swaps the addresses and ports of one frame in place.
inline void reflect(uint8_t* f, uint16_t len) {
  swap_bytes<6>(f, f + 6);
  size_t l2 = 14;
  uint16_t type = static_cast<uint16_t>(f[12] << 8 | f[13]);
  if (type == 0x8100 && len >= 18) {
    type = static_cast<uint16_t>(f[16] << 8 | f[17]);
    l2 = 18;
  }
  uint8_t* ip = f + l2;
  if (type == 0x0800 && len >= l2 + 28) {
    swap_bytes<4>(ip + 12, ip + 16);
    const size_t ihl = (ip[0] & 0x0f) * 4u;
    if (ip[9] == 17 && len >= l2 + ihl + 8) swap_bytes<2>(ip + ihl, ip + ihl + 2);
  } else if (type == 0x86dd && len >= l2 + 48) {
    swap_bytes<16>(ip + 8, ip + 24);
    if (ip[6] == 17) swap_bytes<2>(ip + 40, ip + 42);
  }
}

struct Loop {
  uint16_t port = 0;
  uint64_t yield_tsc = 0;  // sched_yield() once per this many TSC ticks; 0: never
  std::atomic<bool> stop{false};
  // Written by the poll loop only, read by the main thread (SIGUSR1).
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> busy_tsc{0};  // on polls that found frames, as tachyond's workers count it

  static void add(std::atomic<uint64_t>& c, uint64_t n) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  static int main(void* arg) {
    auto* l = static_cast<Loop*>(arg);
    rte_mbuf* pkts[kBurst];
    uint64_t next_yield = rte_rdtsc() + l->yield_tsc;
    while (!l->stop.load(std::memory_order_relaxed)) {
      const uint64_t t0 = rte_rdtsc();
      if (l->yield_tsc != 0 && t0 >= next_yield) {
        sched_yield();  // once per interval, as tachyond's worker
        next_yield = rte_rdtsc() + l->yield_tsc;
      }
      const uint16_t n = rte_eth_rx_burst(l->port, 0, pkts, kBurst);
      if (n == 0) {
        rte_pause();
        continue;
      }
      for (uint16_t i = 0; i < n; ++i) reflect(rte_pktmbuf_mtod(pkts[i], uint8_t*), pkts[i]->data_len);
      const uint16_t sent = rte_eth_tx_burst(l->port, 0, pkts, n);
      if (unlikely(sent < n)) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
      add(l->received, n);
      add(l->sent, sent);
      add(l->busy_tsc, rte_rdtsc() - t0);
    }
    return 0;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reflector: returns every frame to its sender, addresses and ports swapped (a benchmark baseline)"};
  std::string device;
  uint32_t cpu = 0;
  uint32_t memory_mb = 256;
  bool hugepages = false;
  double yield_us = 0;
  std::string prefix = "reflector-" + std::to_string(getpid());
  app.add_option("-d,--device", device, "DPDK port (vdev or PCI address)")->required();
  app.add_option("--cpu", cpu, "CPU of the poll loop (the main lcore, asleep, shares it)")->capture_default_str();
  app.add_option("--memory-mb", memory_mb, "DPDK memory, MiB")->capture_default_str();
  app.add_flag("--hugepages", hugepages, "use hugepages, as tachyond's eal.memory = \"hugepages\" (default: --no-huge)");
  app.add_option("--file-prefix", prefix, "DPDK --file-prefix")->capture_default_str();
  app.add_option("--yield-us", yield_us,
                 "microseconds between sched_yield() calls of the poll loop (kernel-backed ports); 0: never")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction report {};
  report.sa_handler = on_report;
  sigemptyset(&report.sa_mask);
  sigaction(SIGUSR1, &report, nullptr);

  dp::EalOptions eal;
  eal.program = "reflector";
  eal.memory_mb = memory_mb;
  eal.hugepages = hugepages;
  eal.without_hugepages = "leave out --hugepages";
  eal.file_prefix = prefix;
  eal.control_cpu = cpu;
  eal.worker_cpus = {cpu};
  eal.device = device;
  if (Status s = dp::init_eal(eal); !s) {
    std::fprintf(stderr, "reflector: %s\n", s.message().c_str());
    return 1;
  }
  int status = 0;
  {
    auto id = dp::find_single_port(device);
    dp::PortOptions po;
    po.hw_timestamps = false;
    po.checksum_offload = false;
    po.worker_lcores = {1};
    auto port = id ? dp::Port::open(*id, po) : Result<dp::Port>(id.status());
    if (!port || !port->start()) {
      std::fprintf(stderr, "reflector: port %s: %s\n", device.c_str(),
                   port ? "cannot start" : port.message().c_str());
      dp::cleanup_eal();
      return 1;
    }
    const auto& mac = port->capabilities().mac;
    std::printf("reflector serving on %s (driver %s, MAC %02x:%02x:%02x:%02x:%02x:%02x), CPU %u\n", device.c_str(),
                port->capabilities().driver.c_str(), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], cpu);
    std::fflush(stdout);

    Loop loop;
    loop.port = port->id();
    loop.yield_tsc = static_cast<uint64_t>(yield_us * 1e-6 * static_cast<double>(dp::tsc_hz()));
    if (rte_eal_remote_launch(&Loop::main, &loop, 1) != 0) {
      std::fprintf(stderr, "reflector: cannot launch the poll loop\n");
      status = 1;
    } else {
      const auto busy_seconds = [&] {
        return static_cast<double>(loop.busy_tsc.load()) / static_cast<double>(dp::tsc_hz());
      };
      while (!g_stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        // SIGUSR1: the counters so far, for scripts that compare two
        // moments of a run (bench/memif_bench.sh).
        if (g_report.exchange(false)) {
          std::printf("reflector: so far %llu frames, %.6f s busy\n",
                      static_cast<unsigned long long>(loop.received.load()), busy_seconds());
          std::fflush(stdout);
        }
      }
      loop.stop.store(true);
      rte_eal_mp_wait_lcore();
      const uint64_t received = loop.received.load();
      std::printf("reflector: %llu frames received, %llu sent back\n", static_cast<unsigned long long>(received),
                  static_cast<unsigned long long>(loop.sent.load()));
      if (received != 0) {
        std::printf("reflector: busy %.1f ns per frame (%.3f s busy)\n",
                    busy_seconds() * 1e9 / static_cast<double>(received), busy_seconds());
      }
    }
    port->stop();
  }
  dp::cleanup_eal();
  return status;
}
