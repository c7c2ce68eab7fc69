#include "tools/gen/report.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace tachyon::gen {
namespace {

std::string printf_string(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string printf_string(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// Microseconds with a precision that suits their size.
std::string us(double v, uint64_t count) {
  if (count == 0) return "-";
  const double a = std::fabs(v);
  if (a < 10) return printf_string("%.2f", v);
  if (a < 1000) return printf_string("%.1f", v);
  return printf_string("%.0f", v);
}

nlohmann::json percentiles_json(const Percentiles& p) {
  if (p.count == 0) return nullptr;
  return {{"count", p.count}, {"min", p.min}, {"mean", p.mean}, {"p50", p.p50}, {"p90", p.p90},
          {"p99", p.p99},     {"p999", p.p999}, {"max", p.max}};
}

nlohmann::json kinds_json(const RunInfo& info, const StepCounters& c) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < info.kinds.size() && i < c.by_kind.size(); ++i) {
    const KindCounters& k = c.by_kind[i];
    a.push_back({{"kind", info.kinds[i]},
                 {"sent", k.sent},
                 {"answered", k.usable},
                 {"refused", k.refused},
                 {"invalid", k.invalid},
                 {"lost", k.lost()},
                 {"lost_pct", k.lost_pct()}});
  }
  return a;
}

// Invalid answers in % of those received: "0" only when there were none
// (a single bad answer in millions must not round to nothing).
std::string invalid_percent(const StepResult& s) {
  if (s.invalid == 0) return "0";
  if (s.invalid_pct < 0.001) return "<0.001";
  return printf_string("%.3f", s.invalid_pct);
}

std::string step_state(const StepResult& s) {
  if (s.interrupted) return "cut";
  return s.passed ? "pass" : "FAIL";
}

}  // namespace

std::string human_rate(double v) {
  if (v >= 1e6) return printf_string("%.3gM", v / 1e6);
  if (v >= 1e3) return printf_string("%.3gk", v / 1e3);
  return printf_string("%.0f", v);
}

RunSummary summarize(const std::vector<StepResult>& steps, StopReason stop) {
  RunSummary s;
  s.stop = stop;
  for (const StepResult& r : steps) {
    if (r.passed && (!s.max_loss_free_rate || r.sent_rate > *s.max_loss_free_rate)) {
      s.max_loss_free_rate = r.sent_rate;
      s.max_loss_free_step = r.number;
    }
  }
  s.lower_bound = stop == StopReason::kGeneratorLimit || stop == StopReason::kMaxRate;
  for (size_t i = 1; i < steps.size(); ++i) {
    const StepResult& retry = steps[i];
    if (retry.kind != StepKind::kRetry || !retry.passed) continue;
    // Back over the failed runs of this rate (several with --loss-retries 2 or more).
    size_t first = i;
    while (first > 0 && !steps[first - 1].passed && !steps[first - 1].interrupted &&
           steps[first - 1].offered_rate == retry.offered_rate) {
      --first;
    }
    if (first < i) s.passed_when_run_again.push_back({steps[first].number, retry.number});
  }
  return s;
}

std::string format_header(const RunInfo& info) {
  std::string h = "tachyon-gen " + info.version + ": server " + info.server + " port " +
                  std::to_string(info.server_port) + " (MAC " + info.server_mac +
                  (info.server_mac_resolved ? ", resolved" : ", given") + ")";
  if (info.echo) h += ", reflector (--echo)";
  h += "\n  via " + info.device + " (" + info.driver + ", MAC " + info.local_mac + ")";
  if (info.vlan) h += ", VLAN " + std::to_string(info.vlan);
  h += ", " + std::to_string(info.workers) + (info.workers == 1 ? " worker" : " workers") + " on CPU " + info.cpus;
  h += "\n  " + std::to_string(info.clients) + " clients from " + info.source + ", mix " + info.mix;
  if (info.interleaved) h += ", interleaved mode";
  if (!info.keys_file.empty()) {
    h += "\n  +mac requests signed with key " + std::to_string(info.key_id) + " (" + info.key_algorithm + ") from " +
         info.keys_file + "; their answers' MACs checked";
  }
  if (info.ramp) {
    h += printf_string("\n  ramp from %s/s x%.3g per %.3g s step, fails above %.3g%% without a usable answer",
                       human_rate(info.ramp_options.start_rate).c_str(), info.ramp_options.multiplier, info.step_s,
                       info.ramp_options.max_loss_pct);
    if (info.ramp_options.max_rate > 0) h += ", up to " + human_rate(info.ramp_options.max_rate) + "/s";
    if (info.ramp_options.bisect) h += ", " + std::to_string(info.ramp_options.bisect) + " bisection steps";
    if (info.ramp_options.loss_retries) {
      h += ", a failed step run again up to " + std::to_string(info.ramp_options.loss_retries) +
           (info.ramp_options.loss_retries == 1 ? " time" : " times");
    }
  } else {
    h += "\n  fixed rate " + (info.rate > 0 ? human_rate(info.rate) + "/s" : std::string("max"));
  }
  h += printf_string("; answers later than %.3g s are lost", info.timeout_s);
  return h + "\n";
}

std::string format_table(const RunInfo& info, const std::vector<StepResult>& steps, const RunSummary& summary) {
  std::string t;
  t += printf_string("%4s %-6s %10s %10s %10s %8s %8s %5s | %8s %8s %8s | %7s %7s | %8s %4s\n", "step", "kind",
                     "offered/s", "sent/s", "answered/s", "lost%", "invalid%", "KoD", "rtt p50", "p99", "p99.9",
                     "proc p50", "p99", "xmt-rx50", "");
  t += printf_string("%4s %-6s %10s %10s %10s %8s %8s %5s | %8s %8s %8s | %7s %7s | %8s %4s\n", "", "", "", "", "",
                     "", "", "", "us", "us", "us", "us", "us", "us", "");
  for (const StepResult& s : steps) {
    t += printf_string("%4u %-6s %10s %10.0f %10.0f %8.3f %8s %5llu | %8s %8s %8s | %7s %7s | %8s %4s\n",
                       s.number, step_kind_name(s.kind),
                       s.offered_rate > 0 ? printf_string("%.0f", s.offered_rate).c_str() : "max", s.sent_rate,
                       s.answered_rate, s.lost_pct, invalid_percent(s).c_str(),
                       static_cast<unsigned long long>(s.c.kod_total()), us(s.rtt.p50, s.rtt.count).c_str(),
                       us(s.rtt.p99, s.rtt.count).c_str(), us(s.rtt.p999, s.rtt.count).c_str(),
                       us(s.processing.p50, s.processing.count).c_str(),
                       us(s.processing.p99, s.processing.count).c_str(),
                       us(s.xmt_offset.p50, s.xmt_offset.count).c_str(), step_state(s).c_str());
  }

  StepCounters total;
  for (const StepResult& s : steps) total.merge(s.c);
  if (info.ramp) {
    if (summary.max_loss_free_rate) {
      t += printf_string("max loss-free rate: %s%.0f requests/s (step %u)\n", summary.lower_bound ? ">= " : "",
                         *summary.max_loss_free_rate, summary.max_loss_free_step);
    } else {
      t += "max loss-free rate: none (no step passed)\n";
    }
  }
  t += std::string("run ended: ") + stop_reason_description(summary.stop) + "\n";
  if (!summary.passed_when_run_again.empty()) {
    std::string list;
    for (const RunSummary::RunAgain& r : summary.passed_when_run_again) {
      list += (list.empty() ? "" : ", ") + std::to_string(r.failed) + " -> " + std::to_string(r.passed);
    }
    const size_t count = summary.passed_when_run_again.size();
    t += printf_string("%zu failed step%s passed when run again at the same rate (%s): without --loss-retries "
                       "the ramp would have ended at step %u\n",
                       count, count == 1 ? "" : "s", list.c_str(), summary.passed_when_run_again.front().failed);
  }
  if (info.kinds.size() > 1) {
    // Per kind over the whole run: a kind the server ignores is otherwise
    // only a loss percentage in the table.
    t += printf_string("%-16s %10s %10s %8s %8s %7s\n", "request kind", "sent", "answered", "lost%", "KoD/NAK",
                       "invalid");
    for (size_t i = 0; i < info.kinds.size() && i < total.by_kind.size(); ++i) {
      const KindCounters& k = total.by_kind[i];
      t += printf_string("  %-14s %10llu %10llu %8.3f %8llu %7llu%s\n", info.kinds[i].c_str(),
                         static_cast<unsigned long long>(k.sent), static_cast<unsigned long long>(k.usable),
                         k.lost_pct(), static_cast<unsigned long long>(k.refused),
                         static_cast<unsigned long long>(k.invalid),
                         k.sent != 0 && k.lost() == k.sent ? "  never answered" : "");
    }
  }
  if (info.interleaved) {
    const uint64_t usable = total.good + total.unsync;
    const uint64_t basic = usable - std::min(total.interleaved, usable);
    t += printf_string("interleaved mode: %llu interleaved answers, %llu basic (%.1f%% interleaved; a client's first "
                       "answers are basic)\n",
                       static_cast<unsigned long long>(total.interleaved), static_cast<unsigned long long>(basic),
                       usable ? 100.0 * static_cast<double>(total.interleaved) / static_cast<double>(usable) : 0.0);
  }
  if (total.invalid_total()) {
    t += "invalid answers:";
    for (size_t i = 0; i < kInvalidCount; ++i) {
      if (total.invalid[i] == 0) continue;
      t += printf_string("\n  %-22s %10llu  %s", invalid_name(static_cast<Invalid>(i)),
                         static_cast<unsigned long long>(total.invalid[i]),
                         invalid_description(static_cast<Invalid>(i)));
    }
    t += "\n";
  }
  if (total.kod_total()) {
    t += "Kiss-o'-Death answers:";
    for (size_t k = 0; k < kKissCount; ++k) {
      if (total.kod[k]) {
        t += printf_string(" %s=%llu", kiss_name(static_cast<Kiss>(k)), static_cast<unsigned long long>(total.kod[k]));
      }
    }
    t += "\n";
  }
  if (total.unsync) {
    t += printf_string("%llu answers came from an unsynchronized server (LI=3 or stratum 16): counted as answered "
                       "(--reject-unsync counts them as invalid)\n",
                       static_cast<unsigned long long>(total.unsync));
  }
  if (total.crypto_nak) {
    t += printf_string("%llu crypto-NAK answers (the server could not authenticate a +mac request)\n",
                       static_cast<unsigned long long>(total.crypto_nak));
  }
  if (total.late || total.duplicates) {
    t += printf_string("%llu late answers (after --timeout or to an earlier step), %llu duplicates\n",
                       static_cast<unsigned long long>(total.late), static_cast<unsigned long long>(total.duplicates));
  }
  const PortCounters& p = summary.port;
  if (p.rx_missed || p.rx_errors || p.tx_errors || p.rx_no_mbuf) {
    t += printf_string("port: %llu frames dropped on receive (no descriptor), %llu receive errors, %llu transmit "
                       "errors, %llu receive mbuf failures\n",
                       static_cast<unsigned long long>(p.rx_missed), static_cast<unsigned long long>(p.rx_errors),
                       static_cast<unsigned long long>(p.tx_errors), static_cast<unsigned long long>(p.rx_no_mbuf));
  }
  if (total.tx_full || total.tx_skipped || total.no_mbuf) {
    t += printf_string("generator: %llu requests refused by the full TX queue, %llu skipped while behind schedule, "
                       "%llu without an mbuf\n",
                       static_cast<unsigned long long>(total.tx_full),
                       static_cast<unsigned long long>(total.tx_skipped),
                       static_cast<unsigned long long>(total.no_mbuf));
  }
  return t;
}

std::string format_step_line(const StepResult& s) {
  return printf_string("step %u %s %s/s: sent %s/s, answered %s/s, %.3f%% without a usable answer, %llu invalid, "
                       "rtt p99 %s us: %s\n",
                       s.number, step_kind_name(s.kind),
                       s.offered_rate > 0 ? human_rate(s.offered_rate).c_str() : "max", human_rate(s.sent_rate).c_str(),
                       human_rate(s.answered_rate).c_str(), s.failed_pct, static_cast<unsigned long long>(s.invalid),
                       us(s.rtt.p99, s.rtt.count).c_str(), step_state(s).c_str());
}

std::string format_progress(const Progress& p) {
  std::string line = printf_string("step %u %-7s", p.step, p.phase);
  line += p.offered_rate > 0 ? printf_string(" %8s/s", human_rate(p.offered_rate).c_str()) : std::string("      max");
  line += p.length_s > 0 ? printf_string("  %5.1f/%.1f s", p.elapsed_s, p.length_s)
                         : printf_string("  %5.1f s", p.elapsed_s);
  line += printf_string("  sent %9.0f/s  answered %9.0f/s", p.sent_rate, p.answered_rate);
  line += printf_string("  invalid %llu  total sent %llu", static_cast<unsigned long long>(p.invalid),
                        static_cast<unsigned long long>(p.sent_total));
  return line;
}

nlohmann::json to_json(const RunInfo& info, const std::vector<StepResult>& steps, const RunSummary& summary) {
  using nlohmann::json;
  json config = {
      {"command_line", info.command_line},
      {"device", info.device},
      {"driver", info.driver},
      {"local_mac", info.local_mac},
      {"server", info.server},
      {"server_port", info.server_port},
      {"server_mac", info.server_mac},
      {"server_mac_resolved", info.server_mac_resolved},
      {"vlan", info.vlan},
      {"source", info.source},
      {"clients", info.clients},
      {"mix", info.mix},
      {"workers", info.workers},
      {"cpus", info.cpus},
      {"mode", info.ramp ? "ramp" : "fixed"},
      {"timeout_s", info.timeout_s},
      {"max_offset_s", info.max_offset_s},
      {"reject_unsync", info.reject_unsync},
      {"echo", info.echo},
      {"interleaved", info.interleaved},
      {"keys", info.keys_file.empty() ? json(nullptr)
                                      : json{{"file", info.keys_file},
                                             {"key_id", info.key_id},
                                             {"algorithm", info.key_algorithm}}},
      {"tsc_hz", info.tsc_hz},
  };
  if (info.ramp) {
    config["ramp"] = {{"start_rate", info.ramp_options.start_rate},
                      {"multiplier", info.ramp_options.multiplier},
                      {"step_s", info.step_s},
                      {"max_loss_pct", info.ramp_options.max_loss_pct},
                      {"max_rate", info.ramp_options.max_rate > 0 ? json(info.ramp_options.max_rate) : json(nullptr)},
                      {"bisect", info.ramp_options.bisect},
                      {"generator_retries", info.ramp_options.generator_retries},
                      {"loss_retries", info.ramp_options.loss_retries}};
  } else {
    config["rate"] = info.rate > 0 ? json(info.rate) : json("max");
  }

  json jsteps = json::array();
  for (const StepResult& s : steps) {
    json invalid = json::object();
    for (size_t i = 0; i < kInvalidCount; ++i) {
      if (s.c.invalid[i]) invalid[invalid_name(static_cast<Invalid>(i))] = s.c.invalid[i];
    }
    json kod = json::object();
    for (size_t k = 0; k < kKissCount; ++k) kod[kiss_name(static_cast<Kiss>(k))] = s.c.kod[k];
    jsteps.push_back({
        {"step", s.number},
        {"kind", step_kind_name(s.kind)},
        {"offered_rate", s.offered_rate > 0 ? json(s.offered_rate) : json(nullptr)},
        {"duration_s", s.duration_s},
        {"sent", s.c.sent},
        {"sent_rate", s.sent_rate},
        {"answered", s.c.good + s.c.unsync},
        {"answered_rate", s.answered_rate},
        {"good", s.c.good},
        {"unsynchronized", s.c.unsync},
        {"lost", s.lost},
        {"lost_pct", s.lost_pct},
        {"invalid", s.invalid},
        {"invalid_pct", s.invalid_pct},
        {"invalid_by_reason", invalid},
        {"kod", kod},
        {"crypto_nak", s.c.crypto_nak},
        {"late", s.c.late},
        {"duplicates", s.c.duplicates},
        {"failed_pct", s.failed_pct},
        {"tx_full", s.c.tx_full},
        {"tx_skipped", s.c.tx_skipped},
        {"no_mbuf", s.c.no_mbuf},
        {"other_frames", s.c.other_frames},
        {"arp_replies", s.c.arp_replies},
        {"nd_replies", s.c.nd_replies},
        {"forwarded", s.c.forwarded},
        {"generator_limited", s.generator_limited},
        {"back_pressure", s.back_pressure},
        {"interrupted", s.interrupted},
        {"passed", s.passed},
        {"rtt_us", percentiles_json(s.rtt)},
        {"processing_us", percentiles_json(s.processing)},
        {"xmt_offset_us", percentiles_json(s.xmt_offset)},
        {"offset_us", percentiles_json(s.offset)},
        {"by_kind", kinds_json(info, s.c)},
    });
    if (info.interleaved) {
      json& js = jsteps.back();
      js["interleaved"] = s.c.interleaved;
      js["basic"] = s.basic;
      js["interleaved_pct"] = s.interleaved_pct;
    }
  }

  json passed_again = json::array();  // the retries' numbers
  for (const RunSummary::RunAgain& r : summary.passed_when_run_again) passed_again.push_back(r.passed);
  json result = {
      {"stop_reason", stop_reason_name(summary.stop)},
      {"max_loss_free_rate", summary.max_loss_free_rate ? json(*summary.max_loss_free_rate) : json(nullptr)},
      {"max_loss_free_step", summary.max_loss_free_rate ? json(summary.max_loss_free_step) : json(nullptr)},
      {"lower_bound", summary.lower_bound},
      {"passed_when_run_again", passed_again},
  };
  const PortCounters& p = summary.port;
  json port = {{"rx_packets", p.rx_packets}, {"tx_packets", p.tx_packets}, {"rx_missed", p.rx_missed},
               {"rx_errors", p.rx_errors},   {"tx_errors", p.tx_errors},   {"rx_no_mbuf", p.rx_no_mbuf}};
  return {{"tool", "tachyon-gen"}, {"version", info.version}, {"started", info.started}, {"config", config},
          {"steps", jsteps},       {"result", result},         {"port", port}};
}

}  // namespace tachyon::gen
