#include "tools/query/report.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "tools/query/fields.h"

namespace tachyon::query {
namespace {

using Json = nlohmann::ordered_json;

constexpr int kBarHalfWidth = 25;

double to_s(int64_t ns) { return static_cast<double>(ns) / 1e9; }  // correctly rounded: 31310 -> 3.131e-05

std::string version_mode(const core::NtpHeader& h) {
  return std::to_string(h.version) + "/" + std::to_string(static_cast<int>(h.mode)) + " (" +
         mode_name(h.mode) + ")";
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string interval_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

// "wrong mode 3 (client), expected 4 (server)" and the like.
std::string invalid_reason(const Sample& s, const Target& t) {
  const core::NtpHeader& h = s.answer;
  switch (s.verdict) {
    case AnswerVerdict::kWrongMode: {
      const core::Mode want = answer_mode_for(t.mode);
      return "wrong mode " + std::to_string(static_cast<int>(h.mode)) + " (" + mode_name(h.mode) + "), expected " +
             std::to_string(static_cast<int>(want)) + " (" + mode_name(want) + ")";
    }
    case AnswerVerdict::kWrongVersion:
      return "wrong version " + std::to_string(h.version) + ", expected " + std::to_string(t.version) +
             " (the version of the request)";
    case AnswerVerdict::kZeroTimestamp:
      return h.receive.is_zero() ? "receive timestamp is zero" : "transmit timestamp is zero";
    default: return answer_verdict_name(s.verdict);
  }
}

std::string kod_text(const Sample& s) {
  const std::string code = kiss_code(s.answer.refid);
  const char* meaning = kiss_code_meaning(code);
  return "kiss-o'-death " + code + (meaning ? std::string(": ") + meaning : std::string(": unknown kiss code"));
}

const char* status_name(const Attempt& a) {
  if (!a.sample) return "no answer";
  switch (a.sample->verdict) {
    case AnswerVerdict::kOk: return "ok";
    case AnswerVerdict::kUnsynchronized: return "unsynchronized";
    case AnswerVerdict::kKissOfDeath: return "kod";
    default: return "invalid";
  }
}

// "label            value" with the labels in one column.
void row(std::ostringstream& out, const char* label, const std::string& value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "  %-17s", label);
  out << buf << value << "\n";
}

std::string seconds_and_duration(double s, bool sign) {
  // Offsets carry a sign; magnitudes get a leading space so digits align.
  const std::string secs = sign ? signed_seconds_text(s) : " " + seconds_text(s);
  return secs + " s  (" + (sign ? signed_duration_text(s) : duration_text(s)) + ")";
}

Json stats_json(const SampleStats& s) {
  return Json{{"min", s.min}, {"mean", s.mean}, {"max", s.max}, {"stddev", s.stddev}};
}

}  // namespace

std::string offset_bar(double offset_s, double scale_s, int half_width) {
  std::string bar(static_cast<size_t>(2 * half_width + 1), ' ');
  bar[static_cast<size_t>(half_width)] = '|';
  const double x = scale_s > 0 ? offset_s / scale_s * half_width : 0;
  if (x > half_width) {
    bar.back() = '>';
  } else if (x < -half_width) {
    bar.front() = '<';
  } else {
    bar[static_cast<size_t>(half_width + std::lround(x))] = '*';
  }
  return "[" + bar + "]";
}

double stripchart_scale_for(double offset_s) {
  const double a = std::fabs(offset_s);
  double scale = 1e-5;
  while (scale < 1000 && 2 * a > scale) scale *= 10;
  return scale;
}

Report::Report(Style style, Target target, bool allow_unsync)
    : style_(style), target_(std::move(target)), allow_unsync_(allow_unsync) {}

bool Report::usable(const Sample& s) const {
  return s.verdict == AnswerVerdict::kOk || (allow_unsync_ && s.verdict == AnswerVerdict::kUnsynchronized);
}

std::string Report::begin(int64_t now_unix_ns) const {
  const Target& t = target_;
  const std::string request = "NTPv" + std::to_string(t.version) + " " + mode_name(t.mode) + " (mode " +
                              std::to_string(static_cast<int>(t.mode)) + ")";
  std::string samples;
  if (t.count == 0) {
    samples = "samples " + interval_text(t.interval_s) + " apart until interrupted";
  } else if (t.count > 1) {
    samples = std::to_string(t.count) + " samples " + interval_text(t.interval_s) + " apart";
  }
  switch (style_) {
    case Style::kJson: return "";
    case Style::kStripchart: {
      // w32tm writes "[ADDRESS:PORT]"; an IPv6 address brings its own brackets.
      const std::string where = t.address.find(':') != std::string::npos
                                    ? "[" + t.address + "]:" + std::to_string(t.port)
                                    : "[" + t.address + ":" + std::to_string(t.port) + "]";
      std::string s = "Tracking " + t.name + " " + where + ", " + request + ".\n";
      s += t.count == 0 ? "Collecting samples until interrupted.\n"
                        : "Collecting " + plural(t.count, "sample", "samples") + ".\n";
      s += "The current time is " + utc_text(now_unix_ns, 3) + ".\n";
      return s;
    }
    case Style::kText: {
      std::string s = "server " + t.name;
      if (t.name != t.address) s += " (" + t.address + ")";
      s += " port " + std::to_string(t.port) + ", " + request;
      if (!t.local.empty()) s += " from " + t.local;
      if (!samples.empty()) s += ", " + samples;
      return s + "\n";
    }
  }
  return "";
}

std::string Report::add(const Attempt& attempt) {
  attempts_.push_back(attempt);
  switch (style_) {
    case Style::kJson: return "";
    case Style::kStripchart: return stripchart_line(attempts_.back());
    case Style::kText: return text_block(attempts_.back());
  }
  return "";
}

std::string Report::sample_title(const Attempt& a) const {
  std::string s = "sample " + std::to_string(a.index);
  if (target_.count > 1) s += " of " + std::to_string(target_.count);
  return s;
}

std::string Report::text_block(const Attempt& a) const {
  std::ostringstream out;
  const std::string from = "from " + target_.address + " port " + std::to_string(target_.port);
  if (!a.sample) {
    out << sample_title(a) << ": " << a.error << "\n";
  } else {
    const Sample& s = *a.sample;
    const core::NtpHeader& h = s.answer;
    if (s.verdict == AnswerVerdict::kKissOfDeath) {
      out << sample_title(a) << ": " << kod_text(s) << " (" << from << ")\n";
      row(out, "stratum", std::to_string(h.stratum));
      row(out, "refid", kiss_code(h.refid) + " (" + refid_hex(h.refid) + ")");
      row(out, "leap", leap_name(h.leap));
      row(out, "poll", log2_seconds_text(h.poll));
      row(out, "version/mode", version_mode(h));
    } else if (!s.has_time()) {
      out << sample_title(a) << ": invalid answer " << from << ": " << invalid_reason(s, target_) << "\n";
    } else {
      out << sample_title(a) << ": answer " << from << " at " << utc_text(s.t4_unix_ns) << "\n";
      row(out, "offset", seconds_and_duration(to_s(s.measured.offset_ns), true));
      row(out, "delay", seconds_and_duration(to_s(s.measured.delay_ns), false));
      row(out, "root distance", seconds_and_duration(to_s(s.root_distance_ns()), false));
      row(out, "stratum", std::to_string(h.stratum));
      row(out, "refid", refid_text(h.refid, h.stratum));
      row(out, "leap", leap_name(h.leap));
      row(out, "precision", log2_seconds_text(h.precision));
      row(out, "root delay", seconds_and_duration(to_s(core::nanos_from_ntp_short(h.root_delay)), false));
      row(out, "root dispersion", seconds_and_duration(to_s(core::nanos_from_ntp_short(h.root_dispersion)), false));
      row(out, "poll", log2_seconds_text(h.poll));
      row(out, "version/mode", version_mode(h));
      row(out, "reference time", ntp_time_text(h.reference, s.t4_unix_ns));
      row(out, "server time", ntp_time_text(h.transmit, s.t4_unix_ns, 9));
      if (s.verdict == AnswerVerdict::kUnsynchronized) {
        out << "  unsynchronized: the server says its clock is not synchronized (LI="
            << static_cast<int>(h.leap) << ", stratum " << static_cast<int>(h.stratum) << ")\n";
      }
    }
  }
  if (a.ignored > 0) {
    out << "  (ignored " << plural(a.ignored, "packet", "packets") << " not answering this request)\n";
  }
  return out.str();
}

std::string Report::stripchart_line(const Attempt& a) {
  std::string prefix;
  // HH:MM:SS.mmm of the request, as w32tm prints the local time of day.
  const std::string when = utc_text(a.sent_unix_ns, 3).substr(11, 12);
  std::string line = when + ", ";
  if (!a.sample) {
    line += "error: " + a.error;
  } else if (a.sample->verdict == AnswerVerdict::kKissOfDeath) {
    line += "error: " + kod_text(*a.sample);
  } else if (!a.sample->has_time()) {
    line += "error: invalid answer: " + invalid_reason(*a.sample, target_);
  } else {
    const double offset = to_s(a.sample->measured.offset_ns);
    if (scale_s_ == 0) {
      scale_s_ = stripchart_scale_for(offset);
      prefix = "Offset bar: " + duration_text(scale_s_) + " to each side, | marks zero.\n";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "d:%+.9fs o:%+.9fs  ", to_s(a.sample->measured.delay_ns), offset);
    line += buf + offset_bar(offset, scale_s_, kBarHalfWidth);
    if (a.sample->verdict == AnswerVerdict::kUnsynchronized) line += " unsynchronized";
  }
  return prefix + line + "\n";
}

SampleStats Report::offset_stats() const {
  std::vector<double> v;
  for (const Attempt& a : attempts_) {
    if (a.sample && usable(*a.sample)) v.push_back(to_s(a.sample->measured.offset_ns));
  }
  return summarize(v);
}

SampleStats Report::delay_stats() const {
  std::vector<double> v;
  for (const Attempt& a : attempts_) {
    if (a.sample && usable(*a.sample)) v.push_back(to_s(a.sample->measured.delay_ns));
  }
  return summarize(v);
}

std::string Report::summary_text() const {
  uint64_t usable_n = 0, unsync = 0, kod = 0, invalid = 0, lost = 0;
  for (const Attempt& a : attempts_) {
    if (!a.sample) {
      ++lost;
    } else if (usable(*a.sample)) {
      ++usable_n;
    } else if (a.sample->verdict == AnswerVerdict::kUnsynchronized) {
      ++unsync;
    } else if (a.sample->verdict == AnswerVerdict::kKissOfDeath) {
      ++kod;
    } else {
      ++invalid;
    }
  }
  std::ostringstream out;
  out << "\n--- " << target_.name << " NTP statistics ---\n";
  out << plural(attempts_.size(), "request", "requests") << ", " << usable_n << " usable, ";
  if (unsync) out << unsync << " unsynchronized, ";
  if (kod) out << kod << " kiss-o'-death, ";
  if (invalid) out << invalid << " invalid, ";
  out << lost << " lost\n";
  if (usable_n > 0) {
    const SampleStats o = offset_stats();
    const SampleStats d = delay_stats();
    char buf[160];
    std::snprintf(buf, sizeof buf, "offset min/mean/max/stddev = %+.9f/%+.9f/%+.9f/%.9f s\n", o.min, o.mean,
                  o.max, o.stddev);
    out << buf;
    std::snprintf(buf, sizeof buf, "delay  min/mean/max/stddev = %.9f/%.9f/%.9f/%.9f s\n", d.min, d.mean, d.max,
                  d.stddev);
    out << buf;
  }
  return out.str();
}

std::string Report::end() const {
  if (style_ != Style::kJson) return attempts_.size() > 1 ? summary_text() : "";
  Json doc;
  doc["server"] = target_.name;
  doc["address"] = target_.address;
  doc["port"] = target_.port;
  doc["local"] = target_.local;
  doc["request"] = {{"version", target_.version},
                    {"mode", static_cast<int>(target_.mode)},
                    {"mode_name", mode_name(target_.mode)}};
  Json samples = Json::array();
  for (const Attempt& a : attempts_) {
    Json j;
    j["index"] = a.index;
    j["sent"] = utc_text(a.sent_unix_ns, 9);
    j["status"] = status_name(a);
    if (!a.error.empty()) j["error"] = a.error;
    if (a.ignored) j["ignored_packets"] = a.ignored;
    if (a.sample) {
      const Sample& s = *a.sample;
      const core::NtpHeader& h = s.answer;
      if (s.verdict == AnswerVerdict::kKissOfDeath) j["kiss_code"] = kiss_code(h.refid);
      if (!s.has_time() && s.verdict != AnswerVerdict::kKissOfDeath) j["error"] = invalid_reason(s, target_);
      if (s.has_time()) {
        j["offset_s"] = to_s(s.measured.offset_ns);
        j["delay_s"] = to_s(s.measured.delay_ns);
        j["root_distance_s"] = to_s(s.root_distance_ns());
      }
      j["stratum"] = h.stratum;
      j["refid"] = h.stratum == 0 ? kiss_code(h.refid) : refid_text(h.refid, h.stratum);
      j["refid_hex"] = refid_hex(h.refid);
      j["leap"] = leap_name(h.leap);
      j["precision"] = h.precision;
      j["precision_s"] = std::ldexp(1.0, h.precision);
      j["root_delay_s"] = to_s(core::nanos_from_ntp_short(h.root_delay));
      j["root_dispersion_s"] = to_s(core::nanos_from_ntp_short(h.root_dispersion));
      j["poll"] = h.poll;
      j["version"] = h.version;
      j["mode"] = static_cast<int>(h.mode);
      j["reference_time"] = ntp_time_text(h.reference, s.t4_unix_ns, 9);
      j["t1"] = ntp_time_text(h.origin, s.t4_unix_ns, 9);
      j["t2"] = ntp_time_text(h.receive, s.t4_unix_ns, 9);
      j["t3"] = ntp_time_text(h.transmit, s.t4_unix_ns, 9);
      j["t4"] = utc_text(s.t4_unix_ns, 9);
    }
    samples.push_back(std::move(j));
  }
  doc["samples"] = std::move(samples);
  const SampleStats o = offset_stats();
  Json summary;
  summary["requests"] = attempts_.size();
  summary["usable"] = o.count;
  if (o.count > 0) {
    summary["offset_s"] = stats_json(o);
    summary["delay_s"] = stats_json(delay_stats());
  }
  doc["summary"] = std::move(summary);
  doc["exit_code"] = exit_code();
  return doc.dump(2) + "\n";
}

int Report::exit_code() const {
  bool kod = false, unsync = false, any_usable = false;
  for (const Attempt& a : attempts_) {
    if (!a.sample) continue;
    kod |= a.sample->verdict == AnswerVerdict::kKissOfDeath;
    unsync |= a.sample->verdict == AnswerVerdict::kUnsynchronized;
    any_usable |= usable(*a.sample);
  }
  if (kod || (unsync && !allow_unsync_)) return kExitUnsynchronized;
  return any_usable ? kExitOk : kExitNoAnswer;
}

std::string Report::failure_message() const {
  const std::string who = target_.name + " port " + std::to_string(target_.port);
  switch (exit_code()) {
    case kExitOk: return "";
    case kExitUnsynchronized:
      for (const Attempt& a : attempts_) {
        if (a.sample && a.sample->verdict == AnswerVerdict::kKissOfDeath) {
          return who + " sent a " + kod_text(*a.sample);
        }
      }
      return who + " is unsynchronized (use --allow-unsync to accept its time anyway)";
    default: return "no usable answer from " + who;
  }
}

}  // namespace tachyon::query
