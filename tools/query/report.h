// What tachyon-query prints about a series of samples, in one of three
// styles: a detailed block per sample (default), one w32tm-like line per
// sample with an offset bar (--stripchart), or one JSON document (--json).
// A Report also decides the exit status.
//
// Pure: it is handed the attempts as they complete and returns text; the
// caller writes it. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/query/answer.h"
#include "tools/query/exit_codes.h"
#include "tools/query/sample_stats.h"

namespace tachyon::query {

// Who was asked, and how.
struct Target {
  std::string name;     // SERVER as given
  std::string address;  // numeric address asked: "192.0.2.1", "2001:db8::1"
  uint16_t port = 123;
  std::string local;    // our address and port, "192.0.2.2 port 40000"; "" if unknown
  uint8_t version = 4;
  core::Mode mode = core::Mode::kClient;
  uint32_t count = 1;   // samples asked for; 0: until interrupted
  double interval_s = 1;
};

// One request and what came of it.
struct Attempt {
  uint32_t index = 0;             // 1-based
  int64_t sent_unix_ns = 0;       // local time the request left
  std::optional<Sample> sample;   // the answer, if one came
  std::string error;              // without a sample: "no answer within 2 s", ...
  uint32_t ignored = 0;           // packets dropped as not answering this request
};

class Report {
 public:
  enum class Style : uint8_t { kText, kStripchart, kJson };

  Report(Style style, Target target, bool allow_unsync);

  // Printed before the first request.
  std::string begin(int64_t now_unix_ns) const;
  // Printed as each attempt completes (empty for JSON).
  std::string add(const Attempt& attempt);
  // Printed at the end: the summary (text styles, more than one attempt),
  // or the whole JSON document.
  std::string end() const;

  size_t attempts() const { return attempts_.size(); }
  int exit_code() const;
  // One line for stderr when exit_code() is not kExitOk; "" otherwise.
  std::string failure_message() const;

  SampleStats offset_stats() const;  // seconds, over usable samples
  SampleStats delay_stats() const;
  // Half-width of the stripchart bar in seconds, once the first offset has
  // set it; 0 before.
  double stripchart_scale_s() const { return scale_s_; }

 private:
  bool usable(const Sample& s) const;
  std::string text_block(const Attempt& a) const;
  std::string stripchart_line(const Attempt& a);
  std::string summary_text() const;
  std::string sample_title(const Attempt& a) const;

  Style style_;
  Target target_;
  bool allow_unsync_;
  std::vector<Attempt> attempts_;
  double scale_s_ = 0;
};

// Text of the bar for an offset: 2 * half_width + 1 columns in brackets,
// '|' at zero, '*' at the offset; an offset beyond the scale shows as '<'
// or '>' at the edge.
std::string offset_bar(double offset_s, double scale_s, int half_width);

// The stripchart scale for a first offset: the smallest decade from 10 us
// to 1000 s that holds twice the offset, so the series starts in the
// middle half of the bar.
double stripchart_scale_for(double offset_s);

}  // namespace tachyon::query
