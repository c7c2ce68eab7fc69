// tachyon-gen: a DPDK load generator for NTP servers.
//
//   tachyon-gen -d DEVICE -s SERVER [--rate R | --ramp ...] [--json FILE]
//
// The main lcore sets the port up (EAL, port, link, the server's MAC),
// then steers the worker lcores step by step (send, drain, collect),
// keeps our clock's TSC map fresh, prints the progress line and finally
// the table and the JSON document. See docs/tachyon-gen.md.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "core/clock_model.h"
#include "dpdk/eal.h"
#include "dpdk/port.h"
#include "tools/gen/options.h"
#include "tools/gen/report.h"
#include "tools/gen/resolve.h"
#include "tools/gen/signing_keys.h"
#include "tools/gen/worker.h"

namespace tachyon::gen {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// How often our clock's TSC map is refreshed (as tachyond does).
constexpr auto kClockPeriod = std::chrono::milliseconds(100);
// The warm-up never offers more than this: it only lets a kernel server
// resolve the clients' addresses and caches warm up.
constexpr double kMaxWarmupRate = 10'000;
// Bounds of the per-worker table of requests in flight.
constexpr size_t kMinFlight = 4096;
constexpr size_t kMaxFlight = size_t{1} << 22;
constexpr double kAssumedMaxRate = 20e6;

// Our clock, for the validation bounds and the offsets: CLOCK_REALTIME
// read against the TSC (the tightest of a few TSC-realtime-TSC sandwiches),
// re-anchored every kClockPeriod. The TSC rate is measured from the first
// sample on, once 0.2 s have passed (before that: the nominal rate, which
// may be off by 0.1 %: 100 us in a period); the history restarts if the
// realtime clock jumps against the previous sample (someone stepped it).
class LocalClock {
 public:
  core::TimeMap update() {
    const Sample s = sample();
    if (have_first_) {
      const double predicted = static_cast<double>(last_.realtime_ns) +
                               static_cast<double>(s.tsc - last_.tsc) * 1e9 / rate_hz_;
      if (std::fabs(predicted - static_cast<double>(s.realtime_ns)) > 1e6) have_first_ = false;
    }
    if (!have_first_) {
      first_ = s;
      have_first_ = true;
      rate_hz_ = static_cast<double>(rte_get_tsc_hz());
    }
    const int64_t span = s.realtime_ns - first_.realtime_ns;
    if (span >= 200'000'000) rate_hz_ = static_cast<double>(s.tsc - first_.tsc) * 1e9 / static_cast<double>(span);
    last_ = s;
    return core::TimeMap::at(s.tsc, core::ntp_from_unix_nanos(s.realtime_ns), rate_hz_);
  }

  // The TSC rate as measured so far (the nominal one before 0.2 s).
  double rate_hz() const noexcept { return rate_hz_; }

 private:
  struct Sample {
    uint64_t tsc = 0;  // middle of the sandwich
    int64_t realtime_ns = 0;
  };
  static Sample sample() {
    Sample best;
    uint64_t width = UINT64_MAX;
    for (int i = 0; i < 5; ++i) {
      const uint64_t a = rte_rdtsc();
      timespec ts{};
      clock_gettime(CLOCK_REALTIME, &ts);
      const uint64_t b = rte_rdtsc();
      if (b - a < width) {
        width = b - a;
        best = Sample{a + (b - a) / 2, int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec};
      }
    }
    return best;
  }

  Sample first_;
  Sample last_;
  bool have_first_ = false;
  double rate_hz_ = 0;
};

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string cpu_list_string(const std::vector<uint32_t>& cpus) {
  std::string s;
  for (uint32_t c : cpus) s += (s.empty() ? "" : ",") + std::to_string(c);
  return s;
}

// Where the human-readable output goes: stdout, or stderr when the JSON
// document takes stdout.
struct Output {
  std::FILE* human = stdout;
  bool progress_tty = false;
  bool quiet = false;
  bool progress_pending = false;  // a \r progress line is on the terminal

  void progress(const std::string& line) {
    if (quiet) return;
    if (progress_tty) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      progress_pending = true;
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }
  void end_progress() {
    if (progress_pending) std::fprintf(stderr, "\r\033[K");
    progress_pending = false;
  }
  void line(const std::string& text) {
    end_progress();
    std::fprintf(human, "%s", text.c_str());
    std::fflush(human);
  }
};

class Generator {
 public:
  explicit Generator(const GenOptions& o) : o_(o) {}
  ~Generator() { shutdown(); }

  Status start();
  int run();
  void shutdown();

 private:
  struct StepRun {
    StepStats stats;
    bool interrupted = false;
    StopReason reason = StopReason::kNone;
  };

  StepRun run_step(double rate, double length_s, unsigned number, const char* phase, bool warmup);
  void tick_clock();
  void sleep_a_little(SteadyClock::time_point until);

  const GenOptions& o_;
  Output out_;
  bool eal_ = false;
  std::optional<dp::Port> port_;
  unsigned workers_n_ = 1;
  bool workers_running_ = false;

  void publish_clock() {
    core::ClockModel m;
    m.tsc = local_clock_.update();
    clock_.publish(m);
  }

  LocalClock local_clock_;
  core::ClockPublisher clock_;
  double tsc_hz_ = 0;  // measured
  SteadyClock::time_point next_clock_;

  std::vector<IpAddress> clients_;
  ClientSet client_set_;
  std::optional<SigningKeys> keys_;  // --keys
  std::optional<RequestBuilder> builder_;
  std::vector<uint8_t> schedule_;
  Control control_;
  std::unique_ptr<WorkerShared[]> shared_;
  std::unique_ptr<std::atomic<uint64_t>[]> flows_;  // --interleaved: per client, the next origin
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<rte_ring*> rings_;
  RunInfo info_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  uint64_t counted_sent_ = 0;  // sent in measured steps so far (for --count)
};

Status Generator::start() {
  out_.human = o_.json_path == "-" ? stderr : stdout;
  out_.progress_tty = isatty(STDERR_FILENO) == 1;
  out_.quiet = o_.quiet;
  workers_n_ = static_cast<unsigned>(o_.cpus.size());

  // The keys file first: its errors are the user's to fix before DPDK starts.
  std::vector<auth::MacEngine> engines;
  if (!o_.keys_path.empty()) {
    auto keys = load_signing_keys(o_.keys_path, o_.keys_format, o_.mac_key_id);
    if (!keys) return keys.status();
    keys_ = std::move(keys.value());
    for (const std::string& w : keys_->warnings) std::fprintf(stderr, "tachyon-gen: warning: %s\n", w.c_str());
    for (unsigned i = 0; i < workers_n_; ++i) {
      auto engine = auth::MacEngine::create();
      if (!engine) return Status::error("--keys: " + engine.message());
      engines.push_back(std::move(engine.value()));
    }
  }

  dp::EalOptions eal;
  eal.program = "tachyon-gen";
  eal.hugepages = o_.hugepages;
  eal.memory_mb = o_.memory_mb;
  eal.file_prefix = o_.file_prefix;
  eal.control_cpu = o_.main_cpu;
  eal.worker_cpus = o_.cpus;
  eal.device = o_.device;
  eal.log_level = o_.log_level;
  eal.extra_args = o_.eal_args;
  eal.without_hugepages = "leave out --hugepages";
  if (Status s = dp::init_eal(eal); !s) {
    // Hugepage trouble is in the message already; the device is not to blame.
    if (!dp::hugepages_trouble(eal).empty()) return Status::error("DPDK did not start (" + s.message() + ")");
    return Status::error("DPDK did not start (" + s.message() + "; see its messages above): check --device (" +
                         o_.device + ": a vdev such as net_memif0,..., net_af_xdp0,..., net_af_packet0,... or a "
                         "PCI address) and any --eal arguments");
  }
  eal_ = true;

  auto port_id = dp::find_single_port(o_.device);
  if (!port_id) return port_id.status();
  rte_eth_dev_info dev{};
  if (rte_eth_dev_info_get(*port_id, &dev) != 0) return Status::error("cannot read the port's device info");
  const std::string driver = dev.driver_name ? dev.driver_name : "?";
  if (workers_n_ > std::min(dev.max_rx_queues, dev.max_tx_queues)) {
    return Status::error("--cpus gives " + std::to_string(workers_n_) +
                         " workers, one queue pair each, but " + driver + " offers at most " +
                         std::to_string(std::min(dev.max_rx_queues, dev.max_tx_queues)));
  }
  if (workers_n_ > 1 && (dev.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP)) == 0) {
    return Status::error("--cpus gives " + std::to_string(workers_n_) + " workers, which needs RSS, and " + driver +
                         " has none: use one CPU");
  }
  dp::PortOptions po;
  po.queues = static_cast<uint16_t>(workers_n_);
  po.rx_descriptors = o_.rx_descriptors;
  po.tx_descriptors = o_.tx_descriptors;
  po.hw_timestamps = false;     // our timestamps are TSC readings per burst
  po.checksum_offload = false;  // requests carry complete checksums
  for (unsigned i = 0; i < workers_n_; ++i) po.worker_lcores.push_back(i + 1);
  auto port = dp::Port::open(*port_id, po);
  if (!port) return Status::error("port " + o_.device + ": " + port.message());
  port_ = std::move(port.value());
  if (Status s = port_->start(); !s) return Status::error("port " + o_.device + ": " + s.message());
  if (Status s = wait_for_link(port_->id(), o_.link_timeout_s); !s) return s;

  // DPDK's TSC rate may be off by a fraction of a percent (this VM reports
  // 2450 MHz for 2445.4): measure it over 0.2 s, and use that for pacing,
  // durations and round-trip times.
  publish_clock();
  std::this_thread::sleep_for(std::chrono::milliseconds(210));
  publish_clock();
  tsc_hz_ = local_clock_.rate_hz();
  next_clock_ = SteadyClock::now() + kClockPeriod;

  std::vector<IpAddress> exclude{o_.server};
  if (o_.gateway) exclude.push_back(*o_.gateway);
  auto clients = client_addresses(o_.source, o_.clients, exclude);
  if (!clients) return Status::error("--source: " + clients.message());
  clients_ = std::move(clients.value());
  client_set_ = ClientSet(clients_);

  RxFilter filter;
  filter.mac = port_->capabilities().mac;
  filter.vlan = o_.vlan;
  filter.server = o_.server;
  filter.server_port = o_.server_port;
  filter.clients = &client_set_;

  Mac server_mac{};
  if (o_.server_mac) {
    server_mac = *o_.server_mac;
  } else {
    auto mac = resolve_mac(port_->id(), po.queues, port_->pool(0), filter, clients_.front(),
                           o_.gateway ? *o_.gateway : o_.server, o_.resolve_timeout_s);
    if (!mac) return mac.status();
    server_mac = *mac;
  }

  std::random_device entropy;
  const uint64_t seed = (uint64_t{entropy()} << 32) ^ entropy();
  RequestParams params;
  params.src_mac = filter.mac;
  params.dst_mac = server_mac;
  params.vlan = o_.vlan;
  params.server = o_.server;
  params.server_port = o_.server_port;
  params.mac_key_id = o_.mac_key_id;
  params.mac_key = keys_ ? keys_->key : nullptr;
  auto builder = RequestBuilder::make(params, o_.mix, clients_, seed);
  if (!builder) return builder.status();
  builder_ = std::move(builder.value());
  schedule_ = mix_schedule(o_.mix);

  int rx_tsc_offset = -1;
  if (workers_n_ > 1) {
    static const rte_mbuf_dynfield kRxTsc = {"tachyon_gen_rx_tsc", sizeof(uint64_t), alignof(uint64_t), 0};
    rx_tsc_offset = rte_mbuf_dynfield_register(&kRxTsc);
    if (rx_tsc_offset < 0) return Status::error("cannot register the mbuf dynamic field for forwarded answers");
  }

  const double top_rate = o_.ramp ? (o_.ramp_options.max_rate > 0 ? o_.ramp_options.max_rate : kAssumedMaxRate)
                                  : (o_.rate > 0 ? o_.rate : kAssumedMaxRate);
  const auto flight = static_cast<size_t>(top_rate / workers_n_ * std::max(o_.timeout_s, 0.05) * 2);
  shared_ = std::make_unique<WorkerShared[]>(workers_n_);
  if (o_.interleaved) flows_ = std::make_unique<std::atomic<uint64_t>[]>(builder_->client_count());
  const OriginCodec codec((uint64_t{entropy()} << 32) ^ entropy());
  for (unsigned i = 0; i < workers_n_; ++i) {
    if (workers_n_ > 1) {
      const std::string name = "gen_inbox_" + std::to_string(i);
      rte_ring* r = rte_ring_create(name.c_str(), 4096, static_cast<int>(rte_lcore_to_socket_id(i + 1)),
                                    RING_F_SC_DEQ);
      if (r == nullptr) return Status::error("cannot create the inbox ring of worker " + std::to_string(i));
      rings_.push_back(r);
      shared_[i].inbox = r;
    }
  }
  for (unsigned i = 0; i < workers_n_; ++i) {
    WorkerSetup ws;
    ws.index = i;
    ws.count = workers_n_;
    ws.port = port_->id();
    ws.queue = static_cast<uint16_t>(i);
    ws.pool = port_->pool(static_cast<uint16_t>(i));
    ws.builder = &*builder_;
    ws.keys = keys_ ? &keys_->store : nullptr;
    ws.schedule = schedule_.data();
    ws.codec = codec;
    ws.echo = o_.echo;
    ws.burst = static_cast<uint16_t>(o_.burst);
    ws.clock = &clock_;
    ws.tsc_hz = tsc_hz_;
    ws.timeout_ticks = static_cast<uint64_t>(o_.timeout_s * ws.tsc_hz);
    ws.yield_ticks = static_cast<uint64_t>(o_.yield_us * ws.tsc_hz / 1e6);
    ws.validator.max_offset_ns = static_cast<int64_t>(o_.max_offset_s * 1e9);
    ws.validator.reject_unsync = o_.reject_unsync;
    ws.filter = filter;
    ws.source_port_min = o_.source_port_min;
    ws.source_port_max = o_.source_port_max;
    ws.seed = seed + 0x9e37'79b9'7f4a'7c15ull * (i + 1);
    ws.flows = flows_.get();
    if (o_.count) ws.count_limit = o_.count / workers_n_ + (i < o_.count % workers_n_ ? 1 : 0);
    ws.table_capacity = std::clamp(flight, kMinFlight, kMaxFlight);
    ws.rx_tsc_offset = rx_tsc_offset;
    ws.control = &control_;
    ws.shared = shared_.get();
    std::optional<auth::MacEngine> engine;
    if (!engines.empty()) engine.emplace(std::move(engines[i]));
    workers_.push_back(std::make_unique<Worker>(ws, std::move(engine)));
  }
  if (o_.count != 0 && o_.count < workers_n_) {
    return Status::error("--count must be at least the number of workers (" + std::to_string(workers_n_) + ")");
  }
  for (unsigned i = 0; i < workers_n_; ++i) {
    if (rte_eal_remote_launch(&Worker::lcore_main, workers_[i].get(), i + 1) != 0) {
      control_.post(Phase::kExit);
      rte_eal_mp_wait_lcore();
      return Status::error("cannot launch worker " + std::to_string(i) + " on lcore " + std::to_string(i + 1));
    }
  }
  workers_running_ = true;

  info_.version = TACHYON_VERSION;
  info_.command_line = o_.command_line;
  info_.device = o_.device;
  info_.driver = port_->capabilities().driver;
  info_.local_mac = to_string(filter.mac);
  info_.server = to_string(o_.server);
  info_.server_port = o_.server_port;
  info_.server_mac = to_string(server_mac);
  info_.server_mac_resolved = !o_.server_mac;
  info_.vlan = o_.vlan;
  info_.source = to_string(o_.source);
  info_.clients = builder_->client_count();
  info_.mix = mix_string(o_.mix);
  for (const MixEntry& e : o_.mix) info_.kinds.push_back(e.name());
  if (keys_) {
    info_.keys_file = o_.keys_path;
    info_.key_id = keys_->key->id;
    info_.key_algorithm = auth::algorithm_name(keys_->key->algorithm);
  }
  info_.workers = workers_n_;
  info_.cpus = cpu_list_string(o_.cpus);
  info_.ramp = o_.ramp;
  info_.rate = o_.rate;
  info_.ramp_options = o_.ramp_options;
  info_.step_s = o_.step_s;
  info_.timeout_s = o_.timeout_s;
  info_.max_offset_s = o_.max_offset_s;
  info_.reject_unsync = o_.reject_unsync;
  info_.echo = o_.echo;
  info_.interleaved = o_.interleaved;
  info_.tsc_hz = tsc_hz_;
  info_.started = now_iso8601();
  return Status();
}

void Generator::tick_clock() {
  if (SteadyClock::now() < next_clock_) return;
  publish_clock();
  next_clock_ += kClockPeriod;
  if (next_clock_ < SteadyClock::now()) next_clock_ = SteadyClock::now() + kClockPeriod;
}

void Generator::sleep_a_little(SteadyClock::time_point until) {
  const auto cap = SteadyClock::now() + std::chrono::milliseconds(50);  // few wake-ups on a worker's CPU
  std::this_thread::sleep_until(std::min({until, cap, next_clock_}));
  tick_clock();
}

Generator::StepRun Generator::run_step(double rate, double length_s, unsigned number, const char* phase,
                                       bool warmup) {
  StepRun r;
  const auto start = SteadyClock::now();
  const auto end = length_s > 0 ? start + std::chrono::duration_cast<SteadyClock::duration>(
                                              std::chrono::duration<double>(length_s))
                                : SteadyClock::time_point::max();
  const auto interval = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(o_.progress_interval_s));
  auto next_progress = start + interval;
  auto sum = [&](core::Counter WorkerShared::*field) {
    uint64_t n = 0;
    for (unsigned i = 0; i < workers_n_; ++i) n += (shared_[i].*field).load();
    return n;
  };
  const uint64_t sent_at_start = sum(&WorkerShared::sent);
  uint64_t last_sent = sent_at_start, last_answered = sum(&WorkerShared::answered);
  auto last_time = start;

  control_.rate.store(rate / workers_n_, std::memory_order_relaxed);
  control_.counted.store(!warmup, std::memory_order_relaxed);
  control_.post(Phase::kSend);
  while (true) {
    sleep_a_little(std::min(end, next_progress));
    const auto now = SteadyClock::now();
    const uint64_t sent = sum(&WorkerShared::sent);
    if (g_stop.load()) {
      r.interrupted = true;
      r.reason = StopReason::kInterrupted;
      break;
    }
    if (!link_up(port_->id())) {
      r.interrupted = true;
      r.reason = StopReason::kLinkDown;
      break;
    }
    if (!warmup && o_.count && counted_sent_ + (sent - sent_at_start) >= o_.count) {
      r.reason = StopReason::kCount;
      break;
    }
    if (!warmup && now >= deadline_) {
      r.interrupted = o_.ramp;  // a fixed-rate step simply ends at --duration
      r.reason = StopReason::kDuration;
      break;
    }
    if (now >= next_progress) {
      const double dt = std::chrono::duration<double>(now - last_time).count();
      const uint64_t answered = sum(&WorkerShared::answered);
      Progress p;
      p.step = number;
      p.phase = phase;
      p.offered_rate = rate;
      p.elapsed_s = std::chrono::duration<double>(now - start).count();
      p.length_s = length_s;
      p.sent_rate = static_cast<double>(sent - last_sent) / dt;
      p.answered_rate = static_cast<double>(answered - last_answered) / dt;
      p.invalid = sum(&WorkerShared::invalid);
      p.sent_total = sent;
      out_.progress(format_progress(p));
      last_sent = sent;
      last_answered = answered;
      last_time = now;
      next_progress += interval;
    }
    if (now >= end) break;
  }

  if (r.reason == StopReason::kLinkDown) {
    control_.post(Phase::kHalt);
  } else {
    // Drain: answers may still be on their way for up to --timeout.
    control_.post(Phase::kDrain);
    const auto drained = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                  std::chrono::duration<double>(o_.timeout_s));
    while (SteadyClock::now() < drained) sleep_a_little(drained);
  }

  control_.post(Phase::kCollect);
  const uint64_t seq = control_.sequence();
  for (unsigned i = 0; i < workers_n_; ++i) {
    while (shared_[i].ack.load(std::memory_order_acquire) != seq) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    r.stats.merge(shared_[i].result);
  }
  if (r.reason != StopReason::kLinkDown) control_.post(Phase::kIdle);
  if (!warmup) counted_sent_ += r.stats.c.sent;
  return r;
}

int Generator::run() {
  out_.line(format_header(info_));
  const double tsc_hz = tsc_hz_;
  RatePlan plan = o_.ramp ? RatePlan::ramp(o_.ramp_options) : RatePlan::fixed(o_.rate, o_.ramp_options.max_loss_pct);
  std::vector<StepResult> steps;
  StopReason stop = StopReason::kNone;

  if (o_.warmup_s > 0 && !g_stop.load()) {
    const double first = o_.ramp ? o_.ramp_options.start_rate : o_.rate;
    const double rate = first > 0 ? std::min(first, kMaxWarmupRate) : kMaxWarmupRate;
    StepRun w = run_step(rate, o_.warmup_s, 0, "warm-up", true);
    if (w.reason == StopReason::kInterrupted || w.reason == StopReason::kLinkDown) stop = w.reason;
  }

  const double fixed_length = o_.duration_s > 0 ? o_.duration_s : (o_.count ? 0 : 10);
  if (o_.ramp && o_.duration_s > 0) {
    deadline_ = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                         std::chrono::duration<double>(o_.duration_s));
  }
  while (stop == StopReason::kNone) {
    const std::optional<PlannedStep> next = plan.next();
    if (!next) {
      stop = plan.stop_reason();
      break;
    }
    const auto number = static_cast<unsigned>(steps.size() + 1);
    StepRun run = run_step(next->rate, o_.ramp ? o_.step_s : fixed_length, number, step_kind_name(next->kind),
                           false);
    StepResult result = make_result(number, next->kind, next->rate, run.stats, tsc_hz, run.interrupted,
                                    o_.ramp_options.max_loss_pct);
    steps.push_back(result);
    plan.record({result.offered_rate, result.sent_rate, result.failed_pct, result.generator_limited,
                 result.back_pressure});
    if (!o_.quiet && o_.ramp) out_.line(format_step_line(result));
    if (run.reason != StopReason::kNone) stop = run.reason;
  }
  if (stop == StopReason::kNone) stop = plan.stop_reason();
  if (!o_.ramp && stop == StopReason::kDuration) stop = StopReason::kCompleted;

  RunSummary summary = summarize(steps, stop);
  rte_eth_stats es{};
  if (rte_eth_stats_get(port_->id(), &es) == 0) {
    summary.port = PortCounters{es.ipackets, es.opackets, es.imissed, es.ierrors, es.oerrors, es.rx_nombuf};
  }
  out_.line(format_table(info_, steps, summary));
  int status = 0;
  if (!o_.json_path.empty()) {
    const std::string doc = to_json(info_, steps, summary).dump(2) + "\n";
    if (o_.json_path == "-") {
      std::fwrite(doc.data(), 1, doc.size(), stdout);
      std::fflush(stdout);
    } else {
      std::ofstream f(o_.json_path);
      f << doc;
      if (!f) {
        std::fprintf(stderr, "tachyon-gen: cannot write %s\n", o_.json_path.c_str());
        status = 1;
      }
    }
  }
  return status;
}

void Generator::shutdown() {
  if (workers_running_) {
    control_.post(Phase::kExit);
    rte_eal_mp_wait_lcore();
    workers_running_ = false;
  }
  workers_.clear();
  for (rte_ring* r : rings_) {
    // Answers still waiting in an inbox go back to their pool.
    void* m = nullptr;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  rings_.clear();
  if (port_) {
    port_->stop();
    port_.reset();
  }
  if (eal_) {
    dp::cleanup_eal();
    eal_ = false;
  }
}

}  // namespace
}  // namespace tachyon::gen

int main(int argc, char** argv) {
  using namespace tachyon::gen;
  int exit_code = 0;
  const std::optional<GenOptions> options = parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  install_signal_handlers();
  Generator gen(*options);
  if (tachyon::Status s = gen.start(); !s) {
    std::fprintf(stderr, "tachyon-gen: %s\n", s.message().c_str());
    gen.shutdown();
    return 1;
  }
  const int status = gen.run();
  gen.shutdown();
  return status;
}
