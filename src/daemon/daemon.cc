#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <chrono>
#include <thread>

#include "dpdk/eal.h"
#include "dpdk/tsc.h"
#include "daemon/logging.h"

namespace tachyon {
namespace {

// How often the control thread publishes a new clock model.
constexpr auto kClockPeriod = std::chrono::milliseconds(100);

class TscTicks final : public clock::TickSource {
 public:
  uint64_t now() noexcept override { return dp::read_tsc(); }
  double nominal_hz() const noexcept override { return static_cast<double>(dp::tsc_hz()); }
};

std::string mac_string(const dp::MacAddress& m) {
  char buf[18];
  snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

std::string ipv4_string(uint32_t net_order) {
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &net_order, buf, sizeof buf);
  return buf;
}

std::string ipv6_string(const dp::Ipv6Address& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
  return buf;
}

uint32_t parse_refid(const std::string& s) {
  if (s.empty()) return 0;
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) == 1) return ntohl(a.s_addr);
  uint32_t r = 0;
  for (size_t i = 0; i < 4; ++i) r = (r << 8) | (i < s.size() ? static_cast<uint8_t>(s[i]) : 0u);
  return r;
}

}  // namespace

Daemon::Daemon(Config config, std::vector<ConfigOverride> overrides)
    : config_(std::move(config)), overrides_(std::move(overrides)) {}

Daemon::~Daemon() { shutdown(); }

Status Daemon::start() {
  const Config& c = config_;
  std::vector<uint32_t> worker_cpus = c.eal.worker_cpus;
  if (worker_cpus.empty()) {
    for (uint32_t q = 0; q < c.port.queues; ++q) worker_cpus.push_back(q + 1);
  }

  dp::EalOptions eal;
  eal.hugepages = c.eal.memory == "hugepages";
  eal.memory_mb = c.eal.memory_mb;
  eal.file_prefix = c.eal.file_prefix;
  eal.control_cpu = c.eal.control_cpu;
  eal.worker_cpus = worker_cpus;
  eal.device = c.port.device;
  eal.log_level = c.eal.log_level;
  eal.extra_args = c.eal.args;
  if (Status s = dp::init_eal(eal); !s) return s;
  eal_started_ = true;

  auto port_id = dp::find_single_port(c.port.device);
  if (!port_id) return port_id.status();

  dp::PortOptions po;
  po.queues = c.port.queues;
  po.rx_descriptors = c.port.rx_descriptors;
  po.tx_descriptors = c.port.tx_descriptors;
  po.hw_timestamps = c.port.hw_timestamps != "off";
  po.checksum_offload = c.port.checksum_offload != "off";
  for (uint16_t q = 0; q < c.port.queues; ++q) po.worker_lcores.push_back(q + 1u);
  auto port = dp::Port::open(*port_id, po);
  if (!port) return Status::error("port " + c.port.device + ": " + port.message());
  port_ = std::move(port.value());

  identity_ = dp::PortIdentity{};
  identity_.mac = port_->capabilities().mac;
  identity_.vlan = c.server.vlan;
  identity_.ntp_port = c.server.ntp_port;
  for (const auto& p : c.server.ipv4) identity_.add_ipv4(p.address, p.length);
  for (const auto& p : c.server.ipv6) identity_.add_ipv6(p.address);
  identity_.add_ipv6(identity_.link_local());

  // The first clock model is published before any worker polls.
  ticks_ = std::make_unique<TscTicks>();
  kernel_ = std::make_unique<clock::SystemKernelClock>();
  clock::SystemReferenceOptions ro;
  ro.stratum = c.reference.stratum;
  ro.refid = parse_refid(c.reference.refid);
  ro.local_stratum = c.reference.local_stratum;
  ro.hw_clock = port_->capabilities().hw_clock;
  reference_ = std::make_unique<clock::SystemReference>(ro, *ticks_, *kernel_);
  publish_clock();

  if (Status s = port_->start(); !s) return s;

  for (uint16_t q = 0; q < c.port.queues; ++q) {
    counters_.push_back(std::make_unique<dp::WorkerCounters>());
    dp::WorkerConfig wc;
    wc.port_id = port_->id();
    wc.queue = q;
    wc.identity = &identity_;
    wc.clock = &clock_;
    wc.caps = port_->capabilities();
    wc.counters = counters_.back().get();
    wc.stop = &workers_stop_;
    workers_.push_back(std::make_unique<dp::Worker>(wc));
  }
  log_banner();
  workers_stop_.store(false);
  for (uint16_t q = 0; q < c.port.queues; ++q) {
    const unsigned lcore = q + 1u;
    if (int rc = rte_eal_remote_launch(&dp::Worker::lcore_main, workers_[q].get(), lcore); rc != 0) {
      workers_stop_.store(true);
      rte_eal_mp_wait_lcore();
      return Status::error("cannot launch worker " + std::to_string(q) + " on lcore " + std::to_string(lcore));
    }
  }
  workers_running_ = true;
  started_at_ = std::chrono::steady_clock::now();

  if (!c.stats.listen.empty()) {
    auto server = StatsServer::start(c.stats.listen, [this] { return stats_snapshot(); },
                                     static_cast<int>(c.eal.control_cpu));
    if (!server) return server.status();
    stats_server_ = std::move(server.value());
    spdlog::info("stats endpoint on http://{}/metrics and /status", c.stats.listen);
  }
  return Status();
}

void Daemon::publish_clock() {
  core::ClockModel m = reference_->update();
  m.generation = ++clock_generation_;
  clock_.publish(m);

  const core::ServerState& st = m.answer.state();
  {
    clock::ClockStatus cs;
    cs.source = config_.reference.source;
    cs.state = reference_->using_local_override() ? clock::ReferenceState::kLocalOverride
               : st.synchronized                  ? clock::ReferenceState::kSynchronized
                                                  : clock::ReferenceState::kUnsynchronized;
    cs.stratum = st.wire_stratum();
    cs.refid = st.refid;
    cs.precision = st.precision;
    cs.root_delay_ns = core::nanos_from_ntp_short(st.root_delay);
    cs.root_dispersion_ns = core::nanos_from_ntp_short(st.root_dispersion);
    cs.leap = st.wire_leap();
    cs.frequency_ppm = (reference_->rate_hz() / ticks_->nominal_hz() - 1.0) * 1e6;
    cs.last_sample_unix_ns = core::unix_nanos_from_ntp(st.reference_time, kernel_->realtime_ns());
    cs.samples = clock_generation_;
    cs.tai_offset_s = reference_->last_status().tai_offset_s;
    std::lock_guard lock(status_mutex_);
    clock_status_ = cs;
  }
  if (clock_generation_ == 1 || st.synchronized != was_synchronized_) {
    if (reference_->using_local_override()) {
      spdlog::warn("reference: the kernel says the system clock is unsynchronized; serving anyway at "
                   "local_stratum {} (reference.local_stratum is set)",
                   st.stratum);
    } else if (st.synchronized) {
      spdlog::info("reference: system clock synchronized (max error {} us), serving at stratum {}",
                   reference_->last_status().max_error_ns / 1000, st.stratum);
    } else {
      spdlog::warn("reference: the kernel says the system clock is unsynchronized: answering LI=3, stratum 16 "
                   "(set reference.local_stratum to serve anyway in a lab)");
    }
    was_synchronized_ = st.synchronized;
  }
}

void Daemon::run(const std::atomic<bool>& stop, std::atomic<bool>& reload_requested) {
  auto next = std::chrono::steady_clock::now();
  while (!stop.load()) {
    next += kClockPeriod;
    std::this_thread::sleep_until(next);
    publish_clock();
    if (reload_requested.exchange(false)) reload();
  }
}

void Daemon::reload() {
  sd_notify(0, "RELOADING=1");
  spdlog::info("reload: reading {}", config_.path);
  const ConfigResult r = load_config(config_.path, overrides_);
  if (!r.ok()) {
    for (const auto& e : r.errors) spdlog::error("reload: {}", e.to_string());
    spdlog::error("reload failed ({} error{}): keeping the running configuration", r.errors.size(),
                  r.errors.size() == 1 ? "" : "s");
    sd_notify(0, "READY=1\nSTATUS=reload failed: running configuration kept");
    return;
  }
  const Config& next = r.config;
  // Live: the log. The rest shapes the port, the memory or the workers and
  // takes a restart; say so instead of silently ignoring it.
  if (!(next.log == config_.log)) {
    // Said before switching, so that a quieter level still records it.
    spdlog::info("reload: log level {}{}", next.log.level, next.log.file.empty() ? "" : ", file " + next.log.file);
    if (Status s = setup_logging(next.log); !s) {
      spdlog::error("reload: {}: keeping the current log settings", s.message());
    } else {
      config_.log = next.log;
    }
  }
  const std::pair<const char*, bool> restart_only[] = {
      {"[eal]", next.eal == config_.eal},       {"[port]", next.port == config_.port},
      {"[server]", next.server == config_.server}, {"[reference]", next.reference == config_.reference},
      {"[stats]", next.stats == config_.stats},
  };
  for (const auto& [table, same] : restart_only) {
    if (!same) spdlog::warn("reload: {} changed: restart tachyond to apply it (the running settings stay)", table);
  }
  spdlog::info("reload: done");
  sd_notify(0, "READY=1");
}

void Daemon::shutdown() {
  // The stats endpoint reads the port and the workers' counters: it goes first.
  stats_server_.reset();
  if (workers_running_) {
    workers_stop_.store(true);
    rte_eal_mp_wait_lcore();
    workers_running_ = false;
    const CounterTotals t = totals();
    spdlog::info("stopped: {} packets received, {} answers sent ({} NTP, {} ARP, {} NDP, {} ICMP, {} ICMPv6), "
                 "{} answers the TX queue refused, {} hardware RX timestamps",
                 t.rx_packets, t.tx_packets, t.ntp_replies, t.arp, t.nd, t.icmp, t.icmpv6, t.tx_dropped,
                 t.hw_timestamps);
    std::string drops;
    for (size_t r = 0; r < core::kDropReasonCount; ++r) {
      if (t.drops[r] == 0) continue;
      drops += (drops.empty() ? "" : ", ") + std::string(core::drop_reason_name(static_cast<core::DropReason>(r))) +
               "=" + std::to_string(t.drops[r]);
    }
    spdlog::info("dropped: {}", drops.empty() ? "nothing" : drops);
    for (size_t q = 0; q < counters_.size(); ++q) {
      spdlog::info("queue {}: {} received, {} sent", q, counters_[q]->rx_packets.load(),
                   counters_[q]->tx_packets.load());
    }
  }
  if (port_) {
    port_->stop();
    port_.reset();
  }
  if (eal_started_) {
    dp::cleanup_eal();
    eal_started_ = false;
  }
}

clock::ClockStatus Daemon::clock_status() const {
  std::lock_guard lock(status_mutex_);
  return clock_status_;
}

StatsSnapshot Daemon::stats_snapshot() const {
  StatsSnapshot s;
  s.version = TACHYON_VERSION;
  s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  s.device = config_.port.device;
  s.ntp_port = config_.server.ntp_port;
  s.vlan = config_.server.vlan;
  for (size_t i = 0; i < identity_.ipv4_count; ++i) s.addresses.push_back(ipv4_string(identity_.ipv4[i]));
  for (size_t i = 0; i < identity_.ipv6_count; ++i) s.addresses.push_back(ipv6_string(identity_.ipv6[i]));
  if (port_) {
    const auto& caps = port_->capabilities();
    s.driver = caps.driver;
    s.mac = mac_string(caps.mac);
    s.queues = port_->queues();
    s.rss = caps.rss;
    s.checksum_offload = caps.checksum_offload;
    s.rx_timestamps = caps.hw_clock == core::HwClock::kNone ? "software" : "hardware";
    s.mbufs_in_use = port_->mbufs_in_use();
    s.mbufs_total = port_->mbufs_total();
    s.nic_xstats = port_->xstats();
  }
  s.clock = clock_status();
  for (const auto& c : counters_) s.workers.push_back(dp::snapshot(*c));
  return s;
}

CounterTotals Daemon::totals() const {
  CounterTotals t;
  for (const auto& c : counters_) {
    t.rx_packets += c->rx_packets.load();
    t.tx_packets += c->tx_packets.load();
    t.tx_dropped += c->tx_dropped.load();
    t.hw_timestamps += c->hw_timestamps.load();
    t.arp += c->arp_replies.load();
    t.nd += c->nd_advertisements.load();
    t.icmp += c->icmp_echo_replies.load();
    t.icmpv6 += c->icmpv6_echo_replies.load();
    t.control += c->control_replies.load();
    for (const auto& by_version : c->ntp.replies) {
      for (const auto& n : by_version) t.ntp_replies += n.load();
    }
    for (const auto& k : c->ntp.kod) t.kod += k.load();
    for (size_t r = 0; r < core::kDropReasonCount; ++r) t.drops[r] += c->ntp.drops[r].load();
  }
  return t;
}

void Daemon::log_banner() const {
  const auto& caps = port_->capabilities();
  std::string addresses;
  for (size_t i = 0; i < identity_.ipv4_count; ++i) addresses += " " + ipv4_string(identity_.ipv4[i]);
  for (size_t i = 0; i < identity_.ipv6_count; ++i) addresses += " " + ipv6_string(identity_.ipv6[i]);
  const char* hw = caps.hw_clock == core::HwClock::kNone        ? "software (TSC)"
                   : caps.hw_clock == core::HwClock::kUnixMicros ? "hardware (capture time, us)"
                                                                 : "hardware (NIC clock)";
  spdlog::info("tachyond serving on {} (driver {}, MAC {}), {} queue(s){}, UDP port {}{}", config_.port.device,
               caps.driver, mac_string(caps.mac), port_->queues(), caps.rss ? " with RSS" : "",
               config_.server.ntp_port, config_.server.vlan ? ", VLAN " + std::to_string(config_.server.vlan) : "");
  spdlog::info("addresses:{}", addresses);
  spdlog::info("RX timestamps: {}; checksums: {}; reference: {} (precision 2^{} s); memory: {} MB {}; "
               "{} mbufs",
               hw, caps.checksum_offload ? "NIC offload" : "software", config_.reference.source,
               reference_->precision(), config_.eal.memory_mb,
               config_.eal.memory == "hugepages" ? "hugepages" : "without hugepages", port_->mbufs_total());
}

}  // namespace tachyon
