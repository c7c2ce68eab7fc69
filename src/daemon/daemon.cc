#include "daemon/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

#include "auth/key_file.h"
#include "clock/phc_source.h"
#include "clock/system_source.h"
#include "dpdk/eal.h"
#include "dpdk/nic_clock.h"
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

// The port's clock (dpdk/) behind the clock side's interface.
class DpdkNicClock final : public clock::NicClock {
 public:
  explicit DpdkNicClock(dp::NicClock nic) : nic_(std::move(nic)) {}
  Result<uint64_t> read_ticks() override { return nic_.read_ticks(); }
  Result<int64_t> read_time_ns() override { return nic_.read_time_ns(); }
  std::string describe() const override { return nic_.describe(); }

 private:
  dp::NicClock nic_;
};

// Warm-up before the first model: a few samples 20 ms apart give the servo
// a rate, so the first answers are already synchronized.
constexpr int kClockWarmupSamples = 5;
constexpr auto kClockWarmupSpacing = std::chrono::milliseconds(20);

std::string utc_date(int64_t unix_s) {
  const auto t = static_cast<time_t>(unix_s);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &parts);
  return buf;
}

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

core::RateLimitOptions rate_options(const Config& c) {
  core::RateLimitOptions o;
  o.table_entries = c.ratelimit.table_entries;
  o.interval_log2 = c.ratelimit.interval;
  o.burst = c.ratelimit.burst;
  o.leak_log2 = c.ratelimit.leak;
  o.ipv6_prefix = c.ratelimit.ipv6_prefix;
  return o;
}

// Ports whose frames go through the kernel (a system call per burst).
bool kernel_backed(const std::string& driver) {
  return driver == "net_af_xdp" || driver == "net_af_packet" || driver == "net_tap";
}

// port.yield_us, with "auto" resolved for the driver.
uint64_t yield_interval_us(const Config& c, const std::string& driver) {
  if (c.port.yield_us >= 0) return static_cast<uint64_t>(c.port.yield_us);
  return kernel_backed(driver) ? 1000 : 0;
}

// The admission policy the configuration describes. A prefix listed in
// both [access] allow and deny is denied.
std::unique_ptr<core::ServicePolicy> make_policy(const Config& c) {
  auto p = std::make_unique<core::ServicePolicy>();
  for (const auto& prefix : c.access.allow) p->access.add(prefix.address, prefix.length, core::Rule::kAllow);
  for (const auto& prefix : c.access.deny) p->access.add(prefix.address, prefix.length, core::Rule::kDeny);
  p->access.build();
  p->default_allow = c.access.default_allow;
  p->denied = c.access.refuse_with_kod ? core::Refusal::kKod : core::Refusal::kDrop;
  for (const auto& prefix : c.control.allow) p->control_allow.add(prefix.address, prefix.length, core::Rule::kAllow);
  p->control_allow.build();
  p->rate_limit = c.ratelimit.enabled;
  p->limited = c.ratelimit.refuse_with_kod ? core::Refusal::kKod : core::Refusal::kDrop;
  p->rate = core::RateLimitParams::from(rate_options(c));
  p->kod_poll = c.ratelimit.kod_poll;
  return p;
}

// The keys and rules [auth] describes. Errors name the keys file, line
// and column, never a key.
Result<std::unique_ptr<auth::AuthPolicy>> load_auth(const Config::Auth& a) {
  auto policy = std::make_unique<auth::AuthPolicy>();
  policy->required = a.require;
  if (a.keys.empty()) return policy;
  const auto format = auth::parse_key_file_format(a.format).value_or(auth::KeyFileFormat::kAuto);
  auth::KeyFileResult r = auth::load_key_file(a.keys, format);
  for (const auto& w : r.warnings) spdlog::warn("auth: {}", w.to_string());
  if (!r.ok()) {
    std::string message = "auth.keys: " + std::to_string(r.errors.size()) + " error(s) in " + a.keys + ":";
    for (const auto& e : r.errors) message += "\n  " + e.to_string();
    return Result<std::unique_ptr<auth::AuthPolicy>>::error(message);
  }
  policy->keys = std::move(r.keys);
  return policy;
}

std::string describe_keys(const auth::AuthPolicy& p, const Config::Auth& a) {
  if (a.keys.empty()) return "no keys (requests with a MAC get a crypto-NAK)";
  return std::to_string(p.keys.size()) + " key(s) from " + a.keys + " (" +
         std::to_string(p.keys.count(auth::Algorithm::kMd5)) + " MD5, " +
         std::to_string(p.keys.count(auth::Algorithm::kSha1)) + " SHA1, " +
         std::to_string(p.keys.count(auth::Algorithm::kAes128Cmac)) + " AES-CMAC)" +
         (p.required ? ", MAC required" : "");
}

}  // namespace

Daemon::Daemon(Config config, std::vector<ConfigOverride> overrides)
    : config_(std::move(config)), overrides_(std::move(overrides)) {}

Daemon::~Daemon() { shutdown(); }

// One tachyond per device: two would both answer every request. The lock
// lives as long as the process (the kernel drops it on exit, even a crash).
Result<int> lock_device(const std::string& device) {
  std::string name;
  for (char ch : device) name += std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' ? ch : '_';
  const std::string dir = "/run/tachyond";
  mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/" + name.substr(0, 200) + ".lock";
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Result<int>::error("cannot open " + path + ": " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    const ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    close(fd);
    return Result<int>::error("another tachyond already drives " + device +
                              (n > 0 ? " (pid " + std::string(pid, static_cast<size_t>(n)) + ")" : std::string()) +
                              "; lock " + path);
  }
  const std::string me = std::to_string(getpid());
  if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, me.data(), me.size(), 0);
  return fd;
}

Status Daemon::start() {
  const Config& c = config_;
  auto lock = lock_device(c.port.device);
  if (!lock) return lock.status();
  device_lock_ = *lock;
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
  if (Status s = start_clock(); !s) return s;
  publish_clock();

  if (Status s = port_->start(); !s) return s;

  policies_ = std::make_unique<core::PolicyBox>(make_policy(c), c.port.queues);
  auto auth_policy = load_auth(c.auth);
  if (!auth_policy) return auth_policy.status();
  auth_keys_.store(static_cast<uint32_t>(auth_policy.value()->keys.size()));
  auth_required_.store(auth_policy.value()->required);
  auth_ = std::make_unique<core::QuiescentBox<auth::AuthPolicy>>(std::move(auth_policy.value()), c.port.queues);
  publish_control_variables();
  for (uint16_t q = 0; q < c.port.queues; ++q) {
    auto mac = auth::MacEngine::create();
    if (!mac) return Status::error("auth: " + mac.message());
    macs_.push_back(std::make_unique<auth::MacEngine>(std::move(mac.value())));
    if (c.interleaved.enabled) {
      interleave_.push_back(std::make_unique<core::InterleaveTable>(c.interleaved.table_entries, &table_memory_));
    }
    counters_.push_back(std::make_unique<dp::WorkerCounters>());
    services_.push_back(std::make_unique<core::NtpService>(rate_options(c), &table_memory_));
    services_.back()->use(policies_->current());
    dp::WorkerConfig wc;
    wc.port_id = port_->id();
    wc.queue = q;
    wc.identity = &identity_;
    wc.clock = &clock_;
    wc.caps = port_->capabilities();
    wc.counters = counters_.back().get();
    wc.stop = &workers_stop_;
    wc.service = services_.back().get();
    wc.policies = policies_.get();
    wc.policy_slot = q;
    wc.control = &control_vars_;
    wc.mac = macs_.back().get();
    wc.auth = auth_.get();
    wc.interleave = c.interleaved.enabled ? interleave_.back().get() : nullptr;
    wc.tx_timestamp_before_burst = kernel_backed(port_->capabilities().driver);
    wc.yield_interval_tsc = yield_interval_us(c, port_->capabilities().driver) * dp::tsc_hz() / 1'000'000;
    workers_.push_back(std::make_unique<dp::Worker>(wc));
  }
  log_table_memory();
  // The stats endpoint first: a bad stats.listen must fail start-up before
  // anything says "serving".
  started_at_ = std::chrono::steady_clock::now();
  if (!c.stats.listen.empty()) {
    auto server = StatsServer::start(c.stats.listen, [this] { return stats_snapshot(); },
                                     static_cast<int>(c.eal.control_cpu));
    if (!server) return server.status();
    stats_server_ = std::move(server.value());
    spdlog::info("stats endpoint on http://{}/metrics and /status", c.stats.listen);
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
  return Status();
}

Status Daemon::start_clock() {
  const Config::Reference& r = config_.reference;
  ticks_ = std::make_unique<TscTicks>();
  kernel_ = std::make_unique<clock::SystemKernelClock>();
  const auto timescale = r.timescale == "utc" ? clock::Timescale::kUtc : clock::Timescale::kTai;
  const bool counts_tai = r.source != "system" && timescale == clock::Timescale::kTai;

  // Leap seconds: the file, else the configured TAI - UTC, else (system
  // clock only) what the kernel was told.
  clock::LeapTable leaps = clock::LeapTable::fixed(r.tai_offset);
  if (!r.leap_file.empty()) {
    auto table = clock::LeapTable::load(r.leap_file);
    if (table) {
      leaps = std::move(table.value());
    } else {
      spdlog::warn("reference.leap_file: {}; {}", table.message(),
                   r.tai_offset != 0 ? "using reference.tai_offset = " + std::to_string(r.tai_offset) + " s"
                                     : std::string("leap seconds are unknown"));
    }
  }
  if (!leaps.from_file() && r.tai_offset == 0 && r.source == "system") {
    leaps = clock::LeapTable::fixed(kernel_->status().tai_offset_s);
  }
  if (counts_tai && !leaps.from_file() && r.tai_offset == 0) {
    return Status::error("reference.source = \"" + r.source +
                         "\" counts TAI: serving UTC needs TAI - UTC from a readable reference.leap_file or "
                         "reference.tai_offset");
  }
  if (leaps.from_file()) {
    const int64_t now_s = kernel_->realtime_ns() / 1'000'000'000;
    const auto next = std::find_if(leaps.leaps().begin(), leaps.leaps().end(),
                                   [&](const clock::LeapSecond& l) { return l.utc_s > now_s; });
    spdlog::info("leap seconds: {} (TAI - UTC = {} s, expires {}{}){}", leaps.path(),
                 leaps.tai_utc_at_utc(kernel_->realtime_ns()), utc_date(leaps.expiry_unix()),
                 leaps.expired(now_s) ? ", expired" : "",
                 next != leaps.leaps().end() ? ", next leap at the end of " + utc_date(next->utc_s - 1) : "");
  }

  clock::ClockControlOptions o;
  o.source_name = r.source;
  o.stratum = r.effective_stratum();
  o.refid = parse_refid(r.refid);
  o.default_refid = r.source == "system" ? core::refid_from_ascii("SYS\0")
                    : r.source == "phc"  ? core::refid_from_ascii("PHC\0")
                                         : core::refid_from_ascii("NIC\0");
  o.local_stratum = r.local_stratum;
  o.hw_clock = port_->capabilities().hw_clock;
  o.holdover_dispersion_ppm = r.holdover_dispersion_ppm;
  o.holdover_limit_ns = int64_t{r.holdover_limit} * 1'000'000'000;
  o.step_threshold_ns = int64_t{r.step_threshold_us} * 1000;
  o.leap_smear = r.leap_mode == "smear";

  if (r.source == "phc") {
    auto phc = clock::PhcSource::open(r.phc_device, timescale, *ticks_, *kernel_);
    if (!phc) return Status::error("reference.phc_device: " + phc.message());
    source_ = std::move(phc.value());
  } else if (r.source == "nic") {
    auto nic = dp::NicClock::open(port_->id(), true);
    if (!nic) return Status::error("reference.source = \"nic\": " + nic.message());
    nic_clock_ = std::make_unique<DpdkNicClock>(std::move(nic.value()));
    source_ = std::make_unique<clock::NicSource>(*nic_clock_, *ticks_, timescale);
  } else {
    source_ = std::make_unique<clock::SystemSource>(*ticks_, *kernel_);
  }
  // Raw NIC timestamps are mapped through the NIC's tick counter.
  if (o.hw_clock == core::HwClock::kRawTicks && !nic_clock_) {
    auto nic = dp::NicClock::open(port_->id(), false);
    if (nic) {
      nic_clock_ = std::make_unique<DpdkNicClock>(std::move(nic.value()));
    } else {
      spdlog::warn("hardware timestamps: {}; they stay unmapped", nic.message());
    }
  }
  reference_ = std::make_unique<clock::ClockControl>(o, *ticks_, *source_, std::move(leaps), nic_clock_.get());
  spdlog::info("reference: {}, stratum {}, leap seconds {}{}", source_->describe(), o.stratum,
               o.leap_smear ? "smeared over 24 hours" : "inserted at 23:59:60",
               r.local_stratum > 0 && r.source == "system"
                   ? ", local_stratum " + std::to_string(r.local_stratum) + " when the kernel says unsynchronized"
                   : "");
  for (int i = 0; i < kClockWarmupSamples; ++i) {
    reference_->update();
    std::this_thread::sleep_for(kClockWarmupSpacing);
  }
  return Status();
}

void Daemon::publish_clock() {
  // A leap second or a smear boundary before the next regular update: a
  // second model is published right after it, so the leap indicator clears
  // (and the smear's rate changes) on time. Models carry the leap itself
  // (core::TimeMap), so timestamps are right either way.
  for (int round = 0; round < 2; ++round) {
    core::ClockModel m = reference_->update();
    m.generation = ++clock_generation_;
    clock_.publish(m);
    for (const clock::ClockEvent& e : reference_->take_events()) {
      const auto level = e.level == clock::ClockEvent::Level::kError     ? spdlog::level::err
                         : e.level == clock::ClockEvent::Level::kWarning ? spdlog::level::warn
                                                                        : spdlog::level::info;
      spdlog::log(level, "reference: {}", e.message);
    }
    {
      std::lock_guard lock(status_mutex_);
      clock_status_ = reference_->status();
    }
    const auto boundary = reference_->next_boundary_in_ns(
        std::chrono::duration_cast<std::chrono::nanoseconds>(kClockPeriod).count());
    if (!boundary) break;
    std::this_thread::sleep_for(std::chrono::nanoseconds(*boundary) + std::chrono::microseconds(50));
  }
}

void Daemon::run(const std::atomic<bool>& stop, std::atomic<bool>& reload_requested) {
  auto next = std::chrono::steady_clock::now();
  while (!stop.load()) {
    next += kClockPeriod;
    std::this_thread::sleep_until(next);
    publish_clock();
    publish_control_variables();
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
  // Live: who is answered. The rate-limit tables keep their size (and
  // their clients) until a restart.
  if (!(next.access == config_.access) || !(next.ratelimit == config_.ratelimit) ||
      !(next.control == config_.control)) {
    if (next.ratelimit.table_entries != config_.ratelimit.table_entries) {
      spdlog::warn("reload: ratelimit.table_entries changed: restart tachyond to resize the tables");
    }
    if (!policies_->replace(make_policy(next))) {
      spdlog::warn("reload: a worker did not pass a quiescent point in time; the old policy is kept in memory");
    }
    const uint32_t entries = config_.ratelimit.table_entries;
    config_.access = next.access;
    config_.ratelimit = next.ratelimit;
    config_.ratelimit.table_entries = entries;
    config_.control = next.control;
    spdlog::info("reload: access list ({} allow, {} deny, default {}), rate limit {}, mode 6 allowed for {} prefix{}",
                 next.access.allow.size(), next.access.deny.size(), next.access.default_allow ? "allow" : "deny",
                 next.ratelimit.enabled ? "on" : "off", next.control.allow.size(),
                 next.control.allow.size() == 1 ? "" : "es");
  }
  // Live: the keys, re-read on every reload (the file may have changed
  // when the configuration did not). A bad file keeps the running keys.
  if (auto next_auth = load_auth(next.auth); !next_auth) {
    spdlog::error("reload: {}", next_auth.message());
    spdlog::error("reload: keeping the running keys ({} key(s))", auth_keys_.load());
  } else {
    const std::string what = describe_keys(*next_auth.value(), next.auth);
    const auto count = static_cast<uint32_t>(next_auth.value()->keys.size());
    const bool required = next_auth.value()->required;
    if (!auth_->replace(std::move(next_auth.value()))) {
      spdlog::warn("reload: a worker did not pass a quiescent point in time; the old keys are kept in memory");
    }
    auth_keys_.store(count);
    auth_required_.store(required);
    config_.auth = next.auth;
    spdlog::info("reload: auth: {}", what);
  }
  // Live: the leap-seconds file (re-read on every reload: tzdata updates
  // it in place). The rest of [reference] takes a restart.
  if (!next.reference.leap_file.empty()) {
    auto table = clock::LeapTable::load(next.reference.leap_file);
    if (!table) {
      spdlog::error("reload: reference.leap_file: {}; keeping the leap seconds in use", table.message());
    } else {
      const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
      const std::string path = table.value().path();
      const int64_t expiry = table.value().expiry_unix();
      const bool expired = table.value().expired(now_s);
      if (const std::string why = reference_->replace_leaps(std::move(table.value())); !why.empty()) {
        spdlog::error("reload: reference.leap_file {}: {}; keeping the leap seconds in use", path, why);
      } else {
        config_.reference.leap_file = next.reference.leap_file;
        spdlog::info("reload: leap seconds from {} (expires {}{})", path, utc_date(expiry),
                     expired ? ", expired" : "");
      }
    }
  }
  Config::Reference reference_rest = next.reference;
  reference_rest.leap_file = config_.reference.leap_file;
  const std::pair<const char*, bool> restart_only[] = {
      {"[eal]", next.eal == config_.eal},       {"[port]", next.port == config_.port},
      {"[server]", next.server == config_.server}, {"[reference]", reference_rest == config_.reference},
      {"[stats]", next.stats == config_.stats},  {"[interleaved]", next.interleaved == config_.interleaved},
  };
  for (const auto& [table, same] : restart_only) {
    if (!same) spdlog::warn("reload: {} changed: restart tachyond to apply it (the running settings stay)", table);
  }
  spdlog::info("reload: done");
  sd_notifyf(0, "READY=1\nSTATUS=serving on %s", config_.port.device.c_str());
}

void Daemon::shutdown() {
  // The stats endpoint reads the port and the workers' counters: it goes first.
  stats_server_.reset();
  if (workers_running_) {
    workers_stop_.store(true);
    rte_eal_mp_wait_lcore();
    workers_running_ = false;
    const CounterTotals t = totals();
    spdlog::info("stopped: {} packets received, {} answers sent ({} NTP, {} KoD, {} mode 6, {} ARP, {} NDP, "
                 "{} ICMP, {} ICMPv6), {} answers the TX queue refused, {} hardware RX timestamps",
                 t.rx_packets, t.tx_packets, t.ntp_replies, t.kod, t.control, t.arp, t.nd, t.icmp, t.icmpv6,
                 t.tx_dropped, t.hw_timestamps);
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

// What ntpq sees (mode 6), refreshed with every clock update; workers read
// it only when an allowed mode 6 request arrives.
void Daemon::publish_control_variables() {
  const clock::ClockStatus cs = clock_status();
  const core::ClockModel model = clock_.read();
  core::SystemVariables v;
  v.set_server(model.answer.state());
  v.sync_source = cs.state == clock::ReferenceState::kLocalOverride ? core::SyncSource::kLocal
                                                                    : core::SyncSource::kOther;
  const bool usable = cs.state == clock::ReferenceState::kSynchronized ||
                      cs.state == clock::ReferenceState::kLocalOverride;
  v.reference_select = usable ? core::PeerSelect::kSysPeer : core::PeerSelect::kReject;
  v.reach = usable ? 0xff : 0;
  v.offset_ns = cs.offset_ns;
  v.frequency_ppm = cs.frequency_ppm;
  v.tai_offset_s = cs.tai_offset_s;
  v.leap_file_expiry_unix = cs.leap_file_expiry_unix;
  v.uptime_s = started_at_ == std::chrono::steady_clock::time_point{}
                   ? 0
                   : std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_at_)
                         .count();
  if (cs.last_sample_unix_ns > 0) v.last_sample = core::ntp_from_unix_nanos(cs.last_sample_unix_ns);
  core::set_text(v.version, "tachyond " TACHYON_VERSION);
  core::set_text(v.source, cs.source);
  core::set_text(v.state, clock::reference_state_name(cs.state));
  control_vars_.write(v);
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
  s.auth_keys = auth_keys_.load();
  s.auth_required = auth_required_.load();
  s.interleave_entries = interleave_.empty() ? 0 : interleave_.front()->entries();
  s.tsc_hz = static_cast<double>(dp::tsc_hz());
  // Read at every scrape: khugepaged or memory pressure can split the
  // pages after the start-up check (log_table_memory()).
  const TableMemory::Report tables = table_memory_.report();
  s.table_bytes = tables.bytes;
  s.table_huge_bytes = tables.huge_bytes;
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

// Whether the workers' tables got huge pages (table_memory.h): a warning
// if not, as each rate-limit or interleave lookup then costs a TLB miss.
void Daemon::log_table_memory() const {
  const TableMemory::Report r = table_memory_.report();
  if (r.bytes == 0) return;
  const auto mib = [](size_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); };
  if (r.huge_bytes >= r.bytes) {
    spdlog::info("rate-limit and interleave tables: {} on transparent huge pages ({} mapped)", mib(r.table_bytes),
                 mib(r.bytes));
    return;
  }
  const std::string mode = transparent_huge_pages_mode();
  spdlog::warn("rate-limit and interleave tables: {}, but only {} of their {} mapped on transparent huge pages "
               "({} is {}); each lookup in the rest may cost a TLB miss (docs/configuration.md, [eal])",
               mib(r.table_bytes), mib(r.huge_bytes), mib(r.bytes), TableMemory::kModePath,
               mode.empty() ? "unreadable" : "[" + mode + "]");
}

void Daemon::log_banner() const {
  const auto& caps = port_->capabilities();
  std::string addresses;
  for (size_t i = 0; i < identity_.ipv4_count; ++i) addresses += " " + ipv4_string(identity_.ipv4[i]);
  for (size_t i = 0; i < identity_.ipv6_count; ++i) addresses += " " + ipv6_string(identity_.ipv6[i]);
  const char* hw = caps.hw_clock == core::HwClock::kNone        ? "software (TSC)"
                   : caps.hw_clock == core::HwClock::kUnixMicros ? "hardware (capture time, us)"
                                                                 : "hardware (NIC clock)";
  spdlog::info("tachyond serving on {} (driver {}, MAC {}), {} queue(s){}, {} RX descriptors each, UDP port {}{}",
               config_.port.device, caps.driver, mac_string(caps.mac), port_->queues(), caps.rss ? " with RSS" : "",
               caps.rx_descriptors, config_.server.ntp_port,
               config_.server.vlan ? ", VLAN " + std::to_string(config_.server.vlan) : "");
  spdlog::info("addresses:{}", addresses);
  spdlog::info("RX timestamps: {}; checksums: {}; reference: {} (precision 2^{} s); memory: {} MB {}; "
               "{} mbufs",
               hw, caps.checksum_offload ? "NIC offload" : "software", config_.reference.source,
               reference_->precision(), config_.eal.memory_mb,
               config_.eal.memory == "hugepages" ? "hugepages" : "without hugepages", port_->mbufs_total());
  spdlog::info("auth: {}; interleaved mode: {}", describe_keys(*auth_->current(), config_.auth),
               config_.interleaved.enabled
                   ? "on, " + std::to_string(interleave_.front()->entries()) + " transmit timestamps per worker, " +
                         (kernel_backed(caps.driver) ? "taken as tx_burst is called" : "taken after tx_burst")
                   : std::string("off"));
}

}  // namespace tachyon
