#include "clock/leap_table.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstdio>
#include <system_error>

#include "clock/sha1.h"
#include "core/ntp_time.h"

namespace tachyon::clock {
namespace {

// The file counts NTP seconds since 1900.
constexpr int64_t kNtpToUnix = core::kNtpToUnixSeconds;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    const size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::string digits_of(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c >= '0' && c <= '9') out += c;
  }
  return out;
}

}  // namespace

LeapTable LeapTable::fixed(int tai_utc) {
  LeapTable t;
  t.initial_ = tai_utc;
  return t;
}

Result<LeapTable> LeapTable::load(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Result<LeapTable>::error(path + ": " + std::system_category().message(errno));
  std::string text;
  char buffer[16 * 1024];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  const int read_errno = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (read_errno != 0) return Result<LeapTable>::error(path + ": " + std::system_category().message(read_errno));
  return parse(text, path);
}

Result<LeapTable> LeapTable::parse(std::string_view text, const std::string& name) {
  const auto error = [&](size_t line, const std::string& what) {
    return Result<LeapTable>::error(name + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
  };
  std::optional<int64_t> updated, expiry;
  std::optional<Sha1::Digest> hash;
  std::string hashed_data;  // the digits of the data lines, in file order
  struct Entry {
    int64_t ntp_s;
    int offset;
  };
  std::vector<Entry> entries;

  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (line.size() < 2) continue;
      const char tag = line[1];
      const std::string_view rest = trim(line.substr(2));
      if (tag == '$' || tag == '@') {
        const auto v = parse_int(rest);
        if (!v || *v <= 0) return error(line_no, std::string("expected an NTP time after #") + tag);
        (tag == '$' ? updated : expiry) = *v;
      } else if (tag == 'h') {
        const auto words = fields(rest);
        if (words.size() != 5) return error(line_no, "expected five hexadecimal words after #h");
        Sha1::Digest d{};
        for (size_t i = 0; i < 5; ++i) {
          uint32_t w = 0;
          const auto [p, ec] = std::from_chars(words[i].data(), words[i].data() + words[i].size(), w, 16);
          if (ec != std::errc() || p != words[i].data() + words[i].size() || words[i].size() > 8) {
            return error(line_no, "expected five hexadecimal words after #h");
          }
          d[i] = w;
        }
        hash = d;
      }
      continue;
    }
    // "NTP_SECONDS TAI-UTC # comment"
    const auto f = fields(line.substr(0, line.find('#')));
    if (f.size() < 2) return error(line_no, "expected \"NTP_SECONDS TAI-UTC\"");
    const auto ntp_s = parse_int(f[0]);
    const auto offset = parse_int(f[1]);
    if (!ntp_s || !offset || *ntp_s <= 0 || *offset < -1000 || *offset > 1000) {
      return error(line_no, "expected \"NTP_SECONDS TAI-UTC\" with two integers");
    }
    if (!entries.empty() && *ntp_s <= entries.back().ntp_s) return error(line_no, "entries out of order");
    if (!entries.empty() && std::abs(*offset - entries.back().offset) != 1) {
      return error(line_no, "TAI-UTC changes by more than one second");
    }
    entries.push_back(Entry{*ntp_s, static_cast<int>(*offset)});
    hashed_data += digits_of(f[0]);
    hashed_data += digits_of(f[1]);
  }
  if (entries.empty()) return error(0, "no leap second entries");
  if (!updated) return error(0, "no \"#$\" line (last update)");
  if (!expiry) return error(0, "no \"#@\" line (expiry)");
  if (!hash) return error(0, "no \"#h\" line (SHA-1 of the data)");
  // The IERS definition: SHA-1 over the digits of "#$", then of "#@", then
  // of the first two fields of every data line, with everything else
  // (blanks, comments) left out.
  const Sha1::Digest computed =
      Sha1::of(digits_of(std::to_string(*updated)) + digits_of(std::to_string(*expiry)) + hashed_data);
  if (computed != *hash) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%08x %08x %08x %08x %08x", computed[0], computed[1], computed[2], computed[3],
                  computed[4]);
    return error(0, std::string("hash mismatch: the data hash to ") + buf + ", not what \"#h\" says");
  }

  LeapTable t;
  t.path_ = name;
  t.updated_unix_ = *updated - kNtpToUnix;
  t.expiry_unix_ = *expiry - kNtpToUnix;
  t.initial_ = entries.front().offset;
  for (size_t i = 1; i < entries.size(); ++i) {
    t.leaps_.push_back(LeapSecond{entries[i].ntp_s - kNtpToUnix, entries[i - 1].offset, entries[i].offset});
  }
  return t;
}

int LeapTable::tai_utc_at_utc(int64_t utc_ns) const noexcept {
  int offset = initial_;
  for (const LeapSecond& l : leaps_) {
    // Floor division: instants before 1970 stay before every leap.
    if (utc_ns >= l.utc_s * core::kNanosPerSecond) offset = l.tai_utc_after;
  }
  return offset;
}

int LeapTable::tai_utc_at_tai(int64_t tai_ns) const noexcept {
  int offset = initial_;
  for (const LeapSecond& l : leaps_) {
    if (tai_ns >= l.tai_event_s() * core::kNanosPerSecond) offset = l.tai_utc_after;
  }
  return offset;
}

std::optional<LeapSecond> LeapTable::next_leap(int64_t tai_ns) const noexcept {
  for (const LeapSecond& l : leaps_) {
    if (l.tai_event_s() * core::kNanosPerSecond > tai_ns) return l;
  }
  return std::nullopt;
}

std::optional<LeapSecond> LeapTable::previous_leap(int64_t tai_ns) const noexcept {
  std::optional<LeapSecond> last;
  for (const LeapSecond& l : leaps_) {
    if (l.tai_event_s() * core::kNanosPerSecond <= tai_ns) last = l;
  }
  return last;
}

void LeapTable::add(int64_t utc_s, int step) {
  if (step != 1 && step != -1) return;
  auto it = std::lower_bound(leaps_.begin(), leaps_.end(), utc_s,
                             [](const LeapSecond& l, int64_t t) { return l.utc_s < t; });
  if (it != leaps_.end() && it->utc_s == utc_s) return;
  const int before = it == leaps_.begin() ? initial_ : std::prev(it)->tai_utc_after;
  it = leaps_.insert(it, LeapSecond{utc_s, before, before + step});
  for (auto later = std::next(it); later != leaps_.end(); ++later) {
    later->tai_utc_before += step;
    later->tai_utc_after += step;
  }
}

int LeapTable::latest_tai_utc() const noexcept { return leaps_.empty() ? initial_ : leaps_.back().tai_utc_after; }

}  // namespace tachyon::clock
