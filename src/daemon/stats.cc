#include "daemon/stats.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/counters.h"
#include "core/drop_reason.h"
#include "core/responder.h"

namespace tachyon {
namespace {

using dp::WorkerCounters;
using dp::WorkerCountersSnapshot;

// The request modes answers are counted under, as labels.
struct ModeLabel {
  uint8_t mode;
  const char* label;
};
constexpr ModeLabel kAnsweredModes[] = {{3, "client"}, {1, "symmetric_active"}, {0, "ntpv1"}};

const char* leap_name(core::Leap l) {
  switch (l) {
    case core::Leap::kNone: return "none";
    case core::Leap::kInsert: return "insert";
    case core::Leap::kDelete: return "delete";
    case core::Leap::kUnsync: return "unsynchronized";
  }
  return "unknown";
}

std::string iso8601(int64_t unix_s) {
  if (unix_s <= 0) return "";
  const time_t t = unix_s;
  tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Prometheus label values escape backslash, double quote and newline.
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Exposition {
 public:
  // Starts a metric family.
  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << number(value) << '\n';
  }
  void sample(const std::string& name, const std::string& labels, uint64_t value) {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  // A histogram's cumulative buckets (upper bounds le_of(b), the last one
  // "+Inf") and its count (the +Inf bucket); the caller adds the sum.
  template <typename LeOf>
  void histogram(const std::string& name, const std::string& labels, const uint64_t* counts, size_t n, LeOf le_of) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < n; ++b) {
      cumulative += counts[b];
      const std::string le = b + 1 == n ? "+Inf" : le_of(b);
      sample(name + "_bucket", labels + ",le=\"" + le + "\"", cumulative);
    }
    sample(name + "_count", labels, cumulative);
  }
  std::string str() const { return out_.str(); }

 private:
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
  }
  std::ostringstream out_;
};

// Seconds since a Unix-nanosecond instant; -1 if it never happened.
double age_s(int64_t unix_ns) {
  if (unix_ns <= 0) return -1;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec - unix_ns) * 1e-9;
}

std::string queue_label(size_t q) { return "queue=\"" + std::to_string(q) + "\""; }

template <typename F>
void per_queue(Exposition& e, const StatsSnapshot& s, const char* name, const char* type, const char* help, F value) {
  e.family(name, type, help);
  for (size_t q = 0; q < s.workers.size(); ++q) e.sample(name, queue_label(q), value(s.workers[q]));
}

}  // namespace

std::string refid_text(uint32_t refid, uint8_t stratum) {
  if (stratum <= 1 || stratum >= 16) {
    std::string t;
    for (int shift = 24; shift >= 0; shift -= 8) {
      const auto c = static_cast<char>((refid >> shift) & 0xff);
      if (c == 0) break;
      t += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return t;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", refid >> 24, (refid >> 16) & 0xff, (refid >> 8) & 0xff,
                refid & 0xff);
  return buf;
}

double processing_quantile_s(const StatsSnapshot& s, double q) {
  uint64_t buckets[WorkerCounters::kProcessingBuckets] = {};
  uint64_t total = 0;
  for (const auto& w : s.workers) {
    for (size_t b = 0; b < WorkerCounters::kProcessingBuckets; ++b) buckets[b] += w.processing_bucket[b];
  }
  for (uint64_t n : buckets) total += n;
  if (total == 0) return 0;
  const double rank = q * static_cast<double>(total);
  double seen = 0;
  for (size_t b = 0; b < WorkerCounters::kProcessingBuckets; ++b) {
    const double lower = b == 0 ? 0.0 : static_cast<double>(WorkerCounters::kProcessingBucketsNs[b - 1]);
    // The +Inf bucket is reported at its lower bound: we know no more.
    if (b == WorkerCounters::kProcessingBuckets - 1) return lower * 1e-9;
    const double upper = static_cast<double>(WorkerCounters::kProcessingBucketsNs[b]);
    if (seen + static_cast<double>(buckets[b]) >= rank && buckets[b] > 0) {
      const double within = (rank - seen) / static_cast<double>(buckets[b]);
      return (lower + within * (upper - lower)) * 1e-9;
    }
    seen += static_cast<double>(buckets[b]);
  }
  return 0;
}

std::string render_metrics(const StatsSnapshot& s) {
  Exposition e;
  e.family("tachyon_build_info", "gauge", "Build information: always 1, the version is a label.");
  e.sample("tachyon_build_info", "version=\"" + label_value(s.version) + "\"", uint64_t{1});
  e.family("tachyon_uptime_seconds", "gauge", "Seconds since tachyond started serving.");
  e.sample("tachyon_uptime_seconds", "", s.uptime_s);
  e.family("tachyon_queues", "gauge", "RX/TX queue pairs (one worker each).");
  e.sample("tachyon_queues", "", uint64_t{s.queues});

  per_queue(e, s, "tachyon_rx_packets_total", "counter", "Frames received, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.rx_packets; });
  per_queue(e, s, "tachyon_rx_bytes_total", "counter", "Bytes received, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.rx_bytes; });
  per_queue(e, s, "tachyon_tx_packets_total", "counter", "Answers sent, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.tx_packets; });
  per_queue(e, s, "tachyon_tx_bytes_total", "counter", "Bytes sent, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.tx_bytes; });
  per_queue(e, s, "tachyon_tx_refused_total", "counter",
            "Answers the TX queue did not take (freed unsent), per queue.",
            [](const WorkerCountersSnapshot& w) { return w.tx_dropped; });
  per_queue(e, s, "tachyon_hw_rx_timestamps_total", "counter",
            "Requests stamped with the NIC's hardware RX timestamp, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.hw_timestamps; });
  per_queue(e, s, "tachyon_arp_replies_total", "counter", "ARP replies sent, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.arp_replies; });
  per_queue(e, s, "tachyon_nd_advertisements_total", "counter",
            "IPv6 neighbor advertisements sent, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.nd_advertisements; });
  per_queue(e, s, "tachyon_control_answers_total", "counter", "NTP mode 6 (ntpq) answers sent, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.control_replies; });
  per_queue(e, s, "tachyon_ratelimit_leaks_total", "counter",
            "Requests over their client's rate limit answered anyway by the random leak, per queue.",
            [](const WorkerCountersSnapshot& w) { return w.ratelimit_leaks; });
  per_queue(e, s, "tachyon_auth_signed_answers_total", "counter",
            "Answers MACed with the request's key (a valid MAC), per queue.",
            [](const WorkerCountersSnapshot& w) { return w.auth_signed; });
  per_queue(e, s, "tachyon_auth_crypto_naks_total", "counter",
            "Crypto-NAK answers (unknown key id or wrong MAC), per queue.",
            [](const WorkerCountersSnapshot& w) { return w.auth_crypto_naks; });
  per_queue(e, s, "tachyon_auth_sign_failures_total", "counter",
            "Answers not sent because computing their MAC failed (never expected), per queue.",
            [](const WorkerCountersSnapshot& w) { return w.auth_failures; });
  e.family("tachyon_auth_keys", "gauge", "Symmetric keys loaded from auth.keys.");
  e.sample("tachyon_auth_keys", "", uint64_t{s.auth_keys});
  e.family("tachyon_auth_required", "gauge",
           "1 when auth.require is on: requests without a valid MAC get no answer; 0 otherwise.");
  e.sample("tachyon_auth_required", "", uint64_t{s.auth_required});
  per_queue(e, s, "tachyon_interleaved_answers_total", "counter",
            "Interleaved answers (carrying the previous answer's precise transmit timestamp), per queue.",
            [](const WorkerCountersSnapshot& w) { return w.interleaved; });
  per_queue(e, s, "tachyon_interleaved_misses_total", "counter",
            "Interleaved requests whose transmit timestamp was no longer remembered (answered in basic mode), "
            "per queue.",
            [](const WorkerCountersSnapshot& w) { return w.interleaved_misses; });
  e.family("tachyon_interleaved_table_entries", "gauge",
           "Transmit timestamps each worker remembers for interleaved mode (0: interleaved mode off).");
  e.sample("tachyon_interleaved_table_entries", "", s.interleave_entries);

  e.family("tachyon_icmp_echo_replies_total", "counter", "ICMP and ICMPv6 echo replies sent (ping), per queue.");
  for (size_t q = 0; q < s.workers.size(); ++q) {
    e.sample("tachyon_icmp_echo_replies_total", queue_label(q) + ",family=\"ipv4\"", s.workers[q].icmp_echo_replies);
    e.sample("tachyon_icmp_echo_replies_total", queue_label(q) + ",family=\"ipv6\"",
             s.workers[q].icmpv6_echo_replies);
  }

  e.family("tachyon_ntp_answers_total", "counter",
           "NTP time answers sent, per queue, by the request's version and mode (client: mode 3, "
           "symmetric_active: mode 1, ntpv1: NTPv1 without mode); Kiss-o'-Death answers are counted in "
           "tachyon_kod_sent_total.");
  for (size_t q = 0; q < s.workers.size(); ++q) {
    for (const ModeLabel& m : kAnsweredModes) {
      for (uint8_t v = 1; v <= 4; ++v) {
        if (m.mode == 0 && v != 1) continue;
        e.sample("tachyon_ntp_answers_total",
                 queue_label(q) + ",version=\"" + std::to_string(v) + "\",mode=\"" + m.label + "\"",
                 s.workers[q].replies[m.mode][v]);
      }
    }
  }

  e.family("tachyon_kod_sent_total", "counter", "Kiss-o'-Death answers sent, per queue, by kiss code.");
  for (size_t q = 0; q < s.workers.size(); ++q) {
    for (size_t k = 0; k < core::kKissCodeCount; ++k) {
      e.sample("tachyon_kod_sent_total",
               queue_label(q) + ",code=\"" + core::kiss_code_name(static_cast<core::KissCode>(k)) + "\"",
               s.workers[q].kod[k]);
    }
  }

  e.family("tachyon_drops_total", "counter",
           "Frames dropped without an answer, per queue, by reason (docs/dataplane.md lists the reasons).");
  for (size_t q = 0; q < s.workers.size(); ++q) {
    for (size_t r = 0; r < core::kDropReasonCount; ++r) {
      e.sample("tachyon_drops_total",
               queue_label(q) + ",reason=\"" + core::drop_reason_name(static_cast<core::DropReason>(r)) + "\"",
               s.workers[q].drops[r]);
    }
  }

  e.family("tachyon_processing_time_seconds", "histogram",
           "Server processing time of NTP answers: transmit timestamp minus receive timestamp, per queue.");
  for (size_t q = 0; q < s.workers.size(); ++q) {
    const auto& w = s.workers[q];
    e.histogram("tachyon_processing_time_seconds", queue_label(q), w.processing_bucket,
                WorkerCounters::kProcessingBuckets, [](size_t b) {
                  char le[32];
                  std::snprintf(le, sizeof le, "%g", static_cast<double>(WorkerCounters::kProcessingBucketsNs[b]) * 1e-9);
                  return std::string(le);
                });
    e.sample("tachyon_processing_time_seconds_sum", queue_label(q), static_cast<double>(w.processing_sum_ns) * 1e-9);
  }

  if (s.tsc_hz > 0) {
    e.family("tachyon_worker_busy_seconds_total", "counter",
             "Time each queue's worker spent on polls that found frames (receive to transmit): its busy time. "
             "Its rate is the worker's load (1 = saturated); divided by the frames received, what a request "
             "costs it.");
    for (size_t q = 0; q < s.workers.size(); ++q) {
      e.sample("tachyon_worker_busy_seconds_total", queue_label(q),
               static_cast<double>(s.workers[q].busy_tsc) / s.tsc_hz);
    }
  }

  e.family("tachyon_rx_burst_frames", "histogram",
           "Frames per non-empty receive burst, per queue: how bursty the load arrives (a request waits for "
           "those ahead of it in its burst).");
  for (size_t q = 0; q < s.workers.size(); ++q) {
    const auto& w = s.workers[q];
    e.histogram("tachyon_rx_burst_frames", queue_label(q), w.rx_burst_bucket, WorkerCounters::kBurstBuckets,
                [](size_t b) { return std::to_string(1u << b); });
    e.sample("tachyon_rx_burst_frames_sum", queue_label(q), w.rx_packets);
  }

  e.family("tachyon_mbufs_in_use", "gauge", "Packet buffers (mbufs) currently taken from the port's pools.");
  e.sample("tachyon_mbufs_in_use", "", s.mbufs_in_use);
  e.family("tachyon_mbufs_capacity", "gauge", "Packet buffers (mbufs) in the port's pools.");
  e.sample("tachyon_mbufs_capacity", "", s.mbufs_total);

  e.family("tachyon_table_memory_bytes", "gauge",
           "Memory mapped for the workers' rate-limit and interleave tables of 1 MiB and more, in whole 2 MiB "
           "pages.");
  e.sample("tachyon_table_memory_bytes", "", s.table_bytes);
  e.family("tachyon_table_memory_huge_bytes", "gauge",
           "Of tachyon_table_memory_bytes, what the kernel backs with transparent huge pages now; in the rest a "
           "lookup may cost a TLB miss.");
  e.sample("tachyon_table_memory_huge_bytes", "", s.table_huge_bytes);

  e.family("tachyon_nic_xstat", "untyped", "The NIC's extended statistics (rte_eth_xstats), by DPDK's name.");
  for (const auto& [name, value] : s.nic_xstats) e.sample("tachyon_nic_xstat", "name=\"" + label_value(name) + "\"", value);

  const clock::ClockStatus& c = s.clock;
  e.family("tachyon_reference_state", "gauge",
           "State of the reference: 1 for the current state (starting, synchronized, holdover, unsynchronized, "
           "local), 0 for the others.");
  for (auto st : {clock::ReferenceState::kStarting, clock::ReferenceState::kSynchronized,
                  clock::ReferenceState::kHoldover, clock::ReferenceState::kUnsynchronized,
                  clock::ReferenceState::kLocalOverride}) {
    e.sample("tachyon_reference_state",
             std::string("source=\"") + label_value(c.source) + "\",state=\"" + clock::reference_state_name(st) + "\"",
             uint64_t{c.state == st});
  }
  e.family("tachyon_reference_offset_seconds", "gauge", "Last measured offset of the reference against the clock model.");
  e.sample("tachyon_reference_offset_seconds", "", static_cast<double>(c.offset_ns) * 1e-9);
  e.family("tachyon_reference_frequency_ppm", "gauge", "Rate error of the tick source (TSC) against its nominal rate.");
  e.sample("tachyon_reference_frequency_ppm", "", c.frequency_ppm);
  e.family("tachyon_reference_last_sample_age_seconds", "gauge",
           "Age of the last good reference sample (-1: none yet).");
  e.sample("tachyon_reference_last_sample_age_seconds", "", age_s(c.last_sample_unix_ns));
  e.family("tachyon_reference_samples_total", "counter", "Good reference samples taken.");
  e.sample("tachyon_reference_samples_total", "", c.samples);
  e.family("tachyon_reference_samples_rejected_total", "counter", "Reference samples that failed a quality check.");
  e.sample("tachyon_reference_samples_rejected_total", "", c.samples_rejected);
  e.family("tachyon_reference_steps_total", "counter", "Steps of the reference taken as steps.");
  e.sample("tachyon_reference_steps_total", "", c.steps);
  e.family("tachyon_reference_error_seconds", "gauge",
           "RMS error of the servo's prediction of the reference over its window.");
  e.sample("tachyon_reference_error_seconds", "", static_cast<double>(c.error_ns) * 1e-9);
  e.family("tachyon_reference_window_samples", "gauge", "Samples in the servo's regression window.");
  e.sample("tachyon_reference_window_samples", "", uint64_t{c.window});
  e.family("tachyon_reference_holdover_seconds", "gauge", "Time since the last good reference sample, in holdover.");
  e.sample("tachyon_reference_holdover_seconds", "", static_cast<double>(c.holdover_ns) * 1e-9);
  e.family("tachyon_reference_errors_total", "counter", "Samples the reference could not deliver (read errors).");
  e.sample("tachyon_reference_errors_total", "", c.source_errors);
  e.family("tachyon_stratum", "gauge", "Stratum announced in answers (16: unsynchronized).");
  e.sample("tachyon_stratum", "", uint64_t{c.stratum});
  e.family("tachyon_precision_log2_seconds", "gauge", "Precision announced in answers, log2 of seconds.");
  e.sample("tachyon_precision_log2_seconds", "", static_cast<double>(c.precision));
  e.family("tachyon_root_delay_seconds", "gauge", "Root delay announced in answers.");
  e.sample("tachyon_root_delay_seconds", "", static_cast<double>(c.root_delay_ns) * 1e-9);
  e.family("tachyon_root_dispersion_seconds", "gauge", "Root dispersion announced in answers.");
  e.sample("tachyon_root_dispersion_seconds", "", static_cast<double>(c.root_dispersion_ns) * 1e-9);
  e.family("tachyon_leap_indicator", "gauge", "Leap indicator announced: 0 none, 1 insert, 2 delete, 3 unsynchronized.");
  e.sample("tachyon_leap_indicator", "", uint64_t{static_cast<uint8_t>(c.leap)});
  e.family("tachyon_leap_smear_active", "gauge", "1 while a leap smear is in progress.");
  e.sample("tachyon_leap_smear_active", "", uint64_t{c.leap_smear});
  e.family("tachyon_leap_smear_offset_seconds", "gauge", "Current leap smear correction.");
  e.sample("tachyon_leap_smear_offset_seconds", "", static_cast<double>(c.smear_offset_ns) * 1e-9);
  e.family("tachyon_tai_offset_seconds", "gauge", "TAI - UTC in use (0: unknown).");
  e.sample("tachyon_tai_offset_seconds", "", static_cast<uint64_t>(c.tai_offset_s));
  e.family("tachyon_leap_file_expiry_timestamp_seconds", "gauge",
           "Expiry of the leap-seconds file in use, Unix time (0: no file).");
  e.sample("tachyon_leap_file_expiry_timestamp_seconds", "", static_cast<double>(c.leap_file_expiry_unix));
  e.family("tachyon_leap_next_timestamp_seconds", "gauge",
           "Unix time of 00:00:00 UTC right after the next leap second the leap-seconds file lists (0: none).");
  e.sample("tachyon_leap_next_timestamp_seconds", "", static_cast<double>(c.next_leap_unix));
  return e.str();
}

std::string render_status(const StatsSnapshot& s) {
  using nlohmann::json;
  json j;
  j["server"] = {{"version", s.version},   {"uptime_s", s.uptime_s},
                 {"device", s.device},     {"driver", s.driver},
                 {"mac", s.mac},           {"queues", s.queues},
                 {"rss", s.rss},           {"checksum_offload", s.checksum_offload},
                 {"rx_timestamps", s.rx_timestamps}, {"addresses", s.addresses},
                 {"ntp_port", s.ntp_port}, {"vlan", s.vlan}};
  const clock::ClockStatus& c = s.clock;
  j["reference"] = {{"source", c.source},
                    {"state", clock::reference_state_name(c.state)},
                    {"stratum", c.stratum},
                    {"refid", refid_text(c.refid, c.stratum)},
                    {"precision", c.precision},
                    {"root_delay_s", static_cast<double>(c.root_delay_ns) * 1e-9},
                    {"root_dispersion_s", static_cast<double>(c.root_dispersion_ns) * 1e-9},
                    {"offset_s", static_cast<double>(c.offset_ns) * 1e-9},
                    {"frequency_ppm", c.frequency_ppm},
                    {"leap", leap_name(c.leap)},
                    {"leap_smear", c.leap_smear},
                    {"smear_offset_s", static_cast<double>(c.smear_offset_ns) * 1e-9},
                    {"samples", c.samples},
                    {"samples_rejected", c.samples_rejected},
                    {"steps", c.steps},
                    {"tai_offset_s", c.tai_offset_s},
                    {"leap_file", c.leap_file},
                    {"leap_file_expiry", iso8601(c.leap_file_expiry_unix)}};
  if (c.last_sample_unix_ns > 0) j["reference"]["last_sample_age_s"] = age_s(c.last_sample_unix_ns);
  j["reference"]["description"] = c.reference;
  j["reference"]["error_s"] = static_cast<double>(c.error_ns) * 1e-9;
  j["reference"]["window"] = c.window;
  j["reference"]["holdover_s"] = static_cast<double>(c.holdover_ns) * 1e-9;
  j["reference"]["source_errors"] = c.source_errors;
  j["reference"]["last_error"] = c.last_error;
  // The next leap second the file lists: "insert" or "delete", and the
  // midnight UTC that ends its day.
  j["reference"]["next_leap"] = c.next_leap_step > 0 ? "insert" : c.next_leap_step < 0 ? "delete" : "none";
  j["reference"]["next_leap_utc"] = iso8601(c.next_leap_unix);

  uint64_t received = 0, sent = 0, answers = 0, kod = 0, control = 0, arp = 0, nd = 0, icmp = 0, icmpv6 = 0,
           refused = 0, hw = 0, dropped = 0, leaks = 0;
  uint64_t by_version[5] = {}, by_mode[3] = {}, by_kod[core::kKissCodeCount] = {};
  uint64_t drops[core::kDropReasonCount] = {};
  json queues = json::array();
  for (size_t q = 0; q < s.workers.size(); ++q) {
    const auto& w = s.workers[q];
    received += w.rx_packets;
    sent += w.tx_packets;
    answers += w.ntp_answers();
    control += w.control_replies;
    arp += w.arp_replies;
    nd += w.nd_advertisements;
    icmp += w.icmp_echo_replies;
    icmpv6 += w.icmpv6_echo_replies;
    refused += w.tx_dropped;
    hw += w.hw_timestamps;
    dropped += w.dropped();
    leaks += w.ratelimit_leaks;
    for (size_t k = 0; k < core::kKissCodeCount; ++k) {
      kod += w.kod[k];
      by_kod[k] += w.kod[k];
    }
    for (size_t v = 1; v <= 4; ++v) {
      for (const auto& m : w.replies) by_version[v] += m[v];
    }
    for (size_t i = 0; i < 3; ++i) {
      for (size_t v = 0; v < 8; ++v) by_mode[i] += w.replies[kAnsweredModes[i].mode][v];
    }
    for (size_t r = 0; r < core::kDropReasonCount; ++r) drops[r] += w.drops[r];
    queues.push_back({{"queue", q},
                      {"received", w.rx_packets},
                      {"sent", w.tx_packets},
                      {"tx_refused", w.tx_dropped},
                      {"dropped", w.dropped()}});
  }
  j["traffic"] = {{"received", received},         {"sent", sent},
                  {"ntp_answers", answers},        {"kod_sent", kod},
                  {"control_answers", control},    {"arp_replies", arp},
                  {"nd_advertisements", nd},       {"icmp_echo_replies", icmp},
                  {"icmpv6_echo_replies", icmpv6}, {"tx_refused", refused},
                  {"hw_rx_timestamps", hw},        {"dropped", dropped},
                  {"ratelimit_leaks", leaks}};
  json versions = json::object();
  for (size_t v = 1; v <= 4; ++v) versions[std::to_string(v)] = by_version[v];
  json modes = json::object();
  for (size_t i = 0; i < 3; ++i) modes[kAnsweredModes[i].label] = by_mode[i];
  j["answers"] = {{"by_version", versions}, {"by_mode", modes}};
  uint64_t signed_answers = 0, naks = 0, sign_failures = 0, interleaved = 0, misses = 0;
  for (const auto& w : s.workers) {
    signed_answers += w.auth_signed;
    naks += w.auth_crypto_naks;
    sign_failures += w.auth_failures;
    interleaved += w.interleaved;
    misses += w.interleaved_misses;
  }
  j["auth"] = {{"keys", s.auth_keys},
               {"required", s.auth_required},
               {"signed_answers", signed_answers},
               {"crypto_naks", naks},
               {"sign_failures", sign_failures}};
  j["interleaved"] = {{"enabled", s.interleave_entries != 0},
                      {"table_entries", s.interleave_entries},
                      {"answers", interleaved},
                      {"misses", misses}};
  json kods = json::object();
  for (size_t k = 0; k < core::kKissCodeCount; ++k) {
    kods[core::kiss_code_name(static_cast<core::KissCode>(k))] = by_kod[k];
  }
  j["kod"] = kods;
  json drop_map = json::object();
  for (size_t r = 0; r < core::kDropReasonCount; ++r) {
    if (drops[r] != 0) drop_map[core::drop_reason_name(static_cast<core::DropReason>(r))] = drops[r];
  }
  j["drops"] = drop_map;
  uint64_t count = 0, sum_ns = 0;
  for (const auto& w : s.workers) {
    count += w.processing_count();
    sum_ns += w.processing_sum_ns;
  }
  j["processing_time_s"] = {{"count", count},
                            {"mean", count ? static_cast<double>(sum_ns) * 1e-9 / static_cast<double>(count) : 0.0},
                            {"p50", processing_quantile_s(s, 0.5)},
                            {"p99", processing_quantile_s(s, 0.99)},
                            {"p999", processing_quantile_s(s, 0.999)}};
  j["queues"] = queues;
  j["mbufs"] = {{"in_use", s.mbufs_in_use}, {"total", s.mbufs_total}};
  j["table_memory"] = {{"bytes", s.table_bytes}, {"huge_bytes", s.table_huge_bytes}};
  return j.dump(2) + "\n";
}

}  // namespace tachyon
