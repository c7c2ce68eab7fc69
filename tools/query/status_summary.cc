#include "tools/query/status_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "core/ntp_time.h"
#include "tools/query/fields.h"

namespace tachyon::query {
namespace {

using Json = StatusJson;

constexpr size_t kTopDropReasons = 5;

std::string format_double(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Any JSON value on one line: counters as integers, floats as %g, lists
// joined with ", ", objects as "key value, ...".
std::string value_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) return format_double("%g", v.get<double>());
  if (v.is_null()) return "-";
  std::string out;
  if (v.is_array()) {
    for (const Json& e : v) out += (out.empty() ? "" : ", ") + value_text(e);
    return out.empty() ? "none" : out;
  }
  for (const auto& [k, e] : v.items()) out += (out.empty() ? "" : ", ") + k + " " + value_text(e);
  return out.empty() ? "none" : out;
}

std::string seconds_value(double s, bool sign) {
  return (sign ? signed_seconds_text(s) : seconds_text(s)) + " s (" +
         (sign ? signed_duration_text(s) : duration_text(s)) + ")";
}

std::string uptime_text(double s) {
  std::string out = format_double("%.1f s", s);
  if (s < 60) return out;
  const auto total = static_cast<uint64_t>(s);
  char buf[64];
  if (total >= 86400) {
    std::snprintf(buf, sizeof buf, " (%llud %02lluh %02llum)", static_cast<unsigned long long>(total / 86400),
                  static_cast<unsigned long long>(total / 3600 % 24),
                  static_cast<unsigned long long>(total / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, " (%lluh %02llum %02llus)", static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total / 60 % 60), static_cast<unsigned long long>(total % 60));
  }
  return out + buf;
}

// "2026-12-28T00:00:00Z" -> Unix seconds.
std::optional<int64_t> parse_utc(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      static_cast<size_t>(consumed) != s.size()) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

// "insert" and "2030-07-01T00:00:00Z" (the midnight that ends the leap's
// day) -> "23:59:60 inserted at the end of 2030-06-30 (in 220 days)", as
// tachyond's log says it.
std::string next_leap_text(const std::string& kind, const std::string& utc, int64_t now_unix_ns) {
  const auto end = parse_utc(utc);
  if (kind == "none" || !end || (kind != "insert" && kind != "delete")) {
    return kind == "none" ? "none in the leap file" : kind + (utc.empty() ? "" : " " + utc);
  }
  const time_t day = static_cast<time_t>(*end - 86400);
  std::tm tm{};
  gmtime_r(&day, &tm);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  std::string out = kind == "insert" ? "23:59:60 inserted" : "23:59:59 deleted";
  out += std::string(" at the end of ") + date;
  const int64_t seconds = *end - now_unix_ns / core::kNanosPerSecond;
  if (seconds >= 86400) {
    out += " (in " + std::to_string(seconds / 86400) + " days)";
  } else if (seconds > 0) {
    out += " (in " + std::to_string(seconds / 3600) + "h " + std::to_string(seconds / 60 % 60) + "m)";
  }
  return out;
}

// The lines of one group. Reading a key marks it shown; whatever is left
// at the end is printed generically, so new fields appear unasked.
class Group {
 public:
  Group(std::string title, const Json* object) : title_(std::move(title)) {
    if (object && object->is_object()) object_ = object;
  }

  bool present() const { return object_ != nullptr; }

  // The value under `key`, marked shown; nullptr if absent or null.
  const Json* take(const char* key) {
    if (!object_) return nullptr;
    const auto it = object_->find(key);
    if (it == object_->end() || it->is_null()) return nullptr;
    used_.insert(key);
    return &*it;
  }
  // Typed reads: a value of another type is left for leftovers().
  std::optional<double> number(const char* key) {
    const Json* v = peek(key, &Json::is_number);
    if (!v) return std::nullopt;
    used_.insert(key);
    return v->get<double>();
  }
  std::optional<std::string> string(const char* key) {
    const Json* v = peek(key, &Json::is_string);
    if (!v) return std::nullopt;
    used_.insert(key);
    return v->get<std::string>();
  }
  std::optional<bool> boolean(const char* key) {
    const Json* v = peek(key, &Json::is_boolean);
    if (!v) return std::nullopt;
    used_.insert(key);
    return v->get<bool>();
  }
  // A counter (any scalar, shown as is).
  std::optional<std::string> scalar(const char* key) {
    const Json* v = peek(key, &Json::is_primitive);
    if (!v) return std::nullopt;
    used_.insert(key);
    return value_text(*v);
  }

  void line(const std::string& label, const std::string& value) { lines_.emplace_back(label, value); }
  void line_if(const char* label, const std::optional<std::string>& value) {
    if (value) line(label, *value);
  }

  // Every key not read yet, as "key : value".
  void leftovers() {
    if (!object_) return;
    for (const auto& [k, v] : object_->items()) {
      if (!used_.contains(k)) line(k, value_text(v));
    }
  }

  std::string render() const {
    if (lines_.empty()) return "";
    std::string out = title_ + "\n";
    for (const auto& [label, value] : lines_) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "  %-19s: ", label.c_str());
      out += buf + value + "\n";
    }
    return out;
  }

 private:
  const Json* peek(const char* key, bool (Json::*is_type)() const noexcept) const {
    if (!object_) return nullptr;
    const auto it = object_->find(key);
    if (it == object_->end() || !((*it).*is_type)()) return nullptr;
    return &*it;
  }

  std::string title_;
  const Json* object_ = nullptr;
  std::set<std::string, std::less<>> used_;
  std::vector<std::pair<std::string, std::string>> lines_;
};

const Json* member(const Json& doc, const char* key) {
  const auto it = doc.find(key);
  return it == doc.end() ? nullptr : &*it;
}

std::string on_off(bool b) { return b ? "on" : "off"; }

std::string server_group(const Json& doc) {
  Group g("Server", member(doc, "server"));
  g.line_if("Version", g.string("version"));
  if (auto v = g.number("uptime_s")) g.line("Uptime", uptime_text(*v));
  g.line_if("Device", g.string("device"));
  g.line_if("Driver", g.string("driver"));
  g.line_if("MAC address", g.string("mac"));
  const auto queues = g.scalar("queues");
  const auto rss = g.boolean("rss");
  if (queues || rss) {
    std::string v = queues.value_or("?");
    if (rss) v += std::string(" (RSS ") + on_off(*rss) + ")";
    g.line("Queues", v);
  }
  if (auto v = g.boolean("checksum_offload")) g.line("Checksum offload", on_off(*v));
  g.line_if("RX timestamps", g.string("rx_timestamps"));
  if (const Json* a = g.take("addresses")) g.line("Addresses", value_text(*a));
  g.line_if("NTP port", g.scalar("ntp_port"));
  if (auto v = g.number("vlan")) g.line("VLAN", *v == 0 ? "none (untagged)" : format_double("%.0f", *v));
  g.leftovers();
  return g.render();
}

std::string reference_group(const Json& doc, int64_t now_unix_ns) {
  Group g("Reference", member(doc, "reference"));
  g.line_if("Source", g.string("source"));
  g.line_if("State", g.string("state"));
  g.line_if("Stratum", g.scalar("stratum"));
  g.line_if("Reference ID", g.scalar("refid"));
  if (auto v = g.number("precision")) g.line("Precision", log2_seconds_text(static_cast<int>(*v)));
  if (auto v = g.number("root_delay_s")) g.line("Root delay", seconds_value(*v, false));
  if (auto v = g.number("root_dispersion_s")) g.line("Root dispersion", seconds_value(*v, false));
  if (auto v = g.number("offset_s")) g.line("Last offset", seconds_value(*v, true));
  if (auto v = g.number("frequency_ppm")) g.line("Frequency", format_double("%+.3f ppm", *v));
  g.line_if("Leap status", g.string("leap"));
  const auto smear = g.boolean("leap_smear");
  const auto smear_offset = g.number("smear_offset_s");
  if (smear || smear_offset) {
    std::string v = smear ? on_off(*smear) : "?";
    if (smear_offset && (*smear_offset != 0 || (smear && *smear))) {
      v += ", correction " + seconds_value(*smear_offset, true);
    }
    g.line("Leap smear", v);
  }
  const auto sample_age = g.number("last_sample_age_s");
  const auto holdover = g.number("holdover_s");  // the same age, taken with the last model: shown if it is all there is
  if (sample_age || holdover) g.line("Last sample", format_double("%.3f s ago", sample_age ? *sample_age : *holdover));
  const auto samples = g.scalar("samples");
  const auto rejected = g.scalar("samples_rejected");
  const auto steps = g.scalar("steps");
  if (samples || rejected || steps) {
    std::string v;
    if (samples) v += *samples + " good";
    if (rejected) v += (v.empty() ? "" : ", ") + *rejected + " rejected";
    if (steps) v += (v.empty() ? "" : ", ") + *steps + " steps";
    g.line("Samples", v);
  }
  if (auto v = g.number("tai_offset_s")) g.line("TAI offset", *v == 0 ? "unknown" : format_double("%.0f s", *v));
  if (auto v = g.string("leap_file")) g.line("Leap file", v->empty() ? "none" : *v);
  if (auto v = g.string("leap_file_expiry")) {
    std::string text = v->empty() ? "none" : *v;
    if (const auto expiry = parse_utc(*v)) {
      const int64_t days = (*expiry - now_unix_ns / core::kNanosPerSecond) / 86400;
      if (*expiry * core::kNanosPerSecond <= now_unix_ns) {
        text += " (EXPIRED " + std::to_string(-days) + " days ago)";
      } else {
        text += " (in " + std::to_string(days) + " days)";
      }
    }
    g.line("Leap file expiry", text);
  }
  const auto next_leap = g.string("next_leap");
  const auto next_leap_utc = g.string("next_leap_utc");
  if (next_leap) g.line("Next leap second", next_leap_text(*next_leap, next_leap_utc.value_or(""), now_unix_ns));
  // The reference and the servo following it (docs/clock.md).
  g.line_if("Description", g.string("description"));
  if (auto v = g.number("error_s")) g.line("Servo RMS error", duration_text(*v));
  if (auto v = g.number("window")) g.line("Servo window", format_double("%.0f samples", *v));
  const auto errors = g.scalar("source_errors");
  const auto last_error = g.string("last_error");
  if (errors || (last_error && !last_error->empty())) {
    std::string v = errors.value_or("?");
    if (last_error && !last_error->empty()) v += " (last: " + *last_error + ")";
    g.line("Read errors", v);
  }
  g.leftovers();
  return g.render();
}

// The non-zero drop reasons, largest first.
std::vector<std::pair<std::string, double>> drop_reasons(const Json* drops) {
  std::vector<std::pair<std::string, double>> out;
  if (!drops || !drops->is_object()) return out;
  for (const auto& [k, v] : drops->items()) {
    if (v.is_number() && v.get<double>() > 0) out.emplace_back(k, v.get<double>());
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

std::string traffic_group(const Json& doc) {
  Group g("Traffic", member(doc, "traffic"));
  g.line_if("Received", g.scalar("received"));
  g.line_if("Sent", g.scalar("sent"));
  g.line_if("NTP answers", g.scalar("ntp_answers"));
  const auto kod_sent = g.scalar("kod_sent");
  const Json* kod = member(doc, "kod");
  if (kod_sent || (kod && kod->is_object())) {
    std::string v = kod_sent.value_or("?");
    if (kod && kod->is_object() && !kod->empty()) v += " (" + value_text(*kod) + ")";
    g.line("KoD sent", v);
  }
  if (kod && !kod->is_object() && !kod->is_null()) g.line("kod", value_text(*kod));
  g.line_if("Control answers", g.scalar("control_answers"));
  g.line_if("ARP replies", g.scalar("arp_replies"));
  g.line_if("ND advertisements", g.scalar("nd_advertisements"));
  g.line_if("ICMP echo replies", g.scalar("icmp_echo_replies"));
  g.line_if("ICMPv6 echo replies", g.scalar("icmpv6_echo_replies"));
  g.line_if("TX refused", g.scalar("tx_refused"));
  g.line_if("HW RX timestamps", g.scalar("hw_rx_timestamps"));
  g.line_if("Rate-limit leaks", g.scalar("ratelimit_leaks"));
  const auto dropped = g.number("dropped");
  const Json* drops = member(doc, "drops");
  const auto reasons = drop_reasons(drops);
  if (dropped) g.line("Dropped", format_double("%.0f", *dropped));
  if (dropped || (drops && drops->is_object())) {
    for (size_t i = 0; i < reasons.size() && i < kTopDropReasons; ++i) {
      std::string v = format_double("%.0f", reasons[i].second);
      if (dropped && *dropped > 0) v += format_double(" (%.1f%%)", 100.0 * reasons[i].second / *dropped);
      g.line("  " + reasons[i].first, v);
    }
    if (reasons.size() > kTopDropReasons) {
      double rest = 0;
      for (size_t i = kTopDropReasons; i < reasons.size(); ++i) rest += reasons[i].second;
      g.line("  " + std::to_string(reasons.size() - kTopDropReasons) + " more reasons", format_double("%.0f", rest));
    }
  }
  if (drops && !drops->is_object() && !drops->is_null()) g.line("drops", value_text(*drops));
  g.leftovers();
  return g.render();
}

std::string answers_group(const Json& doc) {
  Group g("Answers", member(doc, "answers"));
  if (const Json* v = g.take("by_version")) {
    std::string text;
    if (v->is_object()) {
      for (const auto& [k, n] : v->items()) text += (text.empty() ? "v" : ", v") + k + " " + value_text(n);
    } else {
      text = value_text(*v);
    }
    g.line("By version", text.empty() ? "none" : text);
  }
  if (const Json* v = g.take("by_mode")) g.line("By mode", value_text(*v));
  g.leftovers();
  return g.render();
}

// [auth]: the keys loaded and what became of MACed requests. Signed
// answers and crypto-NAKs (a 4-byte MAC of zero: unknown key id or wrong
// MAC) are NTP answers too; a signing failure is an answer withheld
// (docs/authentication.md).
std::string auth_group(const Json& doc) {
  Group g("Authentication", member(doc, "auth"));
  if (auto v = g.number("keys")) g.line("Keys", *v == 0 ? "none" : format_double("%.0f", *v));
  if (auto v = g.boolean("required")) {
    g.line("MAC required", *v ? "yes (requests without a valid MAC get no answer)" : "no");
  }
  g.line_if("Signed answers", g.scalar("signed_answers"));
  g.line_if("Crypto-NAKs sent", g.scalar("crypto_naks"));
  g.line_if("Signing failures", g.scalar("sign_failures"));
  g.leftovers();
  return g.render();
}

// Interleaved mode: whether it is on, and the share of NTP answers it gave
// (`traffic.ntp_answers` counts both kinds).
std::string interleaved_group(const Json& doc) {
  Group g("Interleaved mode", member(doc, "interleaved"));
  const auto enabled = g.boolean("enabled");
  const auto entries = g.number("table_entries");
  if (enabled) {
    std::string v = *enabled ? "yes" : "no";
    if (*enabled && entries) v += format_double(", %.0f records per worker", *entries);
    g.line("Enabled", v);
  } else if (entries) {
    g.line("Records per worker", format_double("%.0f", *entries));
  }
  if (auto answers = g.number("answers")) {
    std::string v = format_double("%.0f", *answers);
    const Json* traffic = member(doc, "traffic");
    if (traffic && traffic->is_object()) {
      const auto it = traffic->find("ntp_answers");
      if (it != traffic->end() && it->is_number() && it->get<double>() > 0) {
        v += format_double(" (%.1f%% of NTP answers)", 100.0 * *answers / it->get<double>());
      }
    }
    g.line("Interleaved answers", v);
  }
  if (auto v = g.scalar("misses")) g.line("Misses", *v + " (record gone: basic answer)");
  g.leftovers();
  return g.render();
}

std::string processing_group(const Json& doc) {
  Group g("Processing time", member(doc, "processing_time_s"));
  g.line_if("Answers timed", g.scalar("count"));
  if (auto v = g.number("mean")) g.line("Mean", duration_text(*v));
  if (auto v = g.number("p50")) g.line("Median (p50)", duration_text(*v));
  if (auto v = g.number("p99")) g.line("p99", duration_text(*v));
  if (auto v = g.number("p999")) g.line("p99.9", duration_text(*v));
  g.leftovers();
  return g.render();
}

std::string queues_group(const Json& doc) {
  const Json* queues = member(doc, "queues");
  if (!queues || !queues->is_array() || queues->empty()) {
    if (queues && !queues->is_null() && !queues->is_array()) return "Queues\n  " + value_text(*queues) + "\n";
    return "";
  }
  std::string out = "Queues\n";
  size_t i = 0;
  for (const Json& q : *queues) {
    if (!q.is_object()) {
      out += "  " + value_text(q) + "\n";
      continue;
    }
    // "Queue 0: received 100, sent 90, ...": the known counters in reading
    // order (JSON objects come back sorted by name), then any newer ones.
    static constexpr const char* kOrder[] = {"received", "sent", "tx_refused", "dropped"};
    std::string label = "Queue " + std::to_string(i);
    std::string value;
    auto append = [&](const std::string& k, const Json& v) {
      std::string name = k;
      std::replace(name.begin(), name.end(), '_', ' ');
      value += (value.empty() ? "" : ", ") + name + " " + value_text(v);
    };
    for (const char* k : kOrder) {
      if (q.contains(k)) append(k, q.at(k));
    }
    for (const auto& [k, v] : q.items()) {
      if (k == "queue") {
        label = "Queue " + value_text(v);
      } else if (std::find(std::begin(kOrder), std::end(kOrder), k) == std::end(kOrder)) {
        append(k, v);
      }
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, "  %-19s: ", label.c_str());
    out += buf + value + "\n";
    ++i;
  }
  return out;
}

std::string mbufs_group(const Json& doc) {
  Group g("Mbufs", member(doc, "mbufs"));
  const auto in_use = g.number("in_use");
  const auto total = g.number("total");
  if (in_use && total) {
    std::string v = format_double("%.0f", *in_use) + " of " + format_double("%.0f", *total);
    if (*total > 0) v += format_double(" (%.1f%%)", 100.0 * *in_use / *total);
    g.line("In use", v);
  } else if (in_use) {
    g.line("In use", format_double("%.0f", *in_use));
  } else if (total) {
    g.line("Total", format_double("%.0f", *total));
  }
  g.leftovers();
  return g.render();
}

// The workers' large tables and how much of them the kernel keeps on
// transparent huge pages (less than all: TLB misses on lookups).
std::string table_memory_group(const Json& doc) {
  Group g("Table memory", member(doc, "table_memory"));
  const auto mib = [](double bytes) { return format_double("%.1f MiB", bytes / (1 << 20)); };
  const auto bytes = g.number("bytes");
  const auto huge = g.number("huge_bytes");
  if (bytes) g.line("Mapped", mib(*bytes));
  if (huge) {
    std::string v = mib(*huge);
    if (bytes && *bytes > 0) v += format_double(" (%.1f%%)", 100.0 * *huge / *bytes);
    g.line("On huge pages", v);
  }
  g.leftovers();
  return g.render();
}

}  // namespace

Result<StatusJson> parse_status_document(std::string_view body) {
  Json doc;
  try {
    doc = Json::parse(body);
  } catch (const Json::parse_error& e) {
    // e.what() names the line and column and what the parser expected there.
    return Result<StatusJson>::error(std::string("invalid JSON: ") + e.what());
  }
  if (!doc.is_object()) {
    return Result<StatusJson>::error(std::string("expected a JSON object at the top level, found ") +
                                     doc.type_name());
  }
  return doc;
}

std::string summarize_status(const StatusJson& status, int64_t now_unix_ns) {
  static constexpr const char* kKnown[] = {"server", "reference",         "traffic", "answers", "kod",
                                           "drops",  "auth",              "interleaved", "processing_time_s",
                                           "queues", "mbufs",             "table_memory"};
  std::vector<std::string> parts = {
      server_group(status),      reference_group(status, now_unix_ns), traffic_group(status),
      answers_group(status),     auth_group(status),                   interleaved_group(status),
      processing_group(status),  queues_group(status),                 mbufs_group(status),
      table_memory_group(status),
  };
  // Groups this version does not know: shown as they come.
  for (const auto& [k, v] : status.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), k) != std::end(kKnown)) continue;
    if (v.is_object()) {
      Group g(k, &v);
      g.leftovers();
      parts.push_back(g.render());
    } else {
      parts.push_back(k + "\n  " + value_text(v) + "\n");
    }
  }
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += "\n";
    out += p;
  }
  if (out.empty()) out = "(the /status document has no fields)\n";
  return out;
}

}  // namespace tachyon::query
