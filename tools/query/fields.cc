#include "tools/query/fields.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace tachyon::query {
namespace {

std::string printf_string(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

uint8_t byte_of(uint32_t refid, int i) { return static_cast<uint8_t>(refid >> (24 - 8 * i)); }

// Up to four printable ASCII characters followed only by NULs, first one
// non-NUL: a name rather than an address. The strict form (capitals, then
// capitals or digits, at least three) is for strata where an address is
// expected.
bool is_ascii_name(uint32_t refid, bool upper_alnum_only) {
  bool ended = false;
  if (upper_alnum_only && byte_of(refid, 2) == 0) return false;
  for (int i = 0; i < 4; ++i) {
    const uint8_t c = byte_of(refid, i);
    if (c == 0) {
      if (i == 0) return false;
      ended = true;
      continue;
    }
    if (ended) return false;
    const bool ok = upper_alnum_only ? ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && i > 0))
                                     : (c >= 0x20 && c < 0x7f);
    if (!ok) return false;
  }
  return true;
}

std::string ascii_of(uint32_t refid) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const uint8_t c = byte_of(refid, i);
    if (c == 0) continue;
    s += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return s;
}

}  // namespace

std::string refid_hex(uint32_t refid) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", refid);
  return buf;
}

std::string kiss_code(uint32_t refid) { return ascii_of(refid); }

std::string refid_text(uint32_t refid, uint8_t stratum) {
  if (stratum <= 1) return is_ascii_name(refid, false) ? ascii_of(refid) : refid_hex(refid);
  // Above stratum 1 a refid is an address (or an IPv6 hash); a few servers
  // still put a name there. Only an all-capitals name is read as one: four
  // such bytes are unlikely as an address (all four octets in 65-90).
  if (is_ascii_name(refid, true)) return ascii_of(refid) + " (" + refid_hex(refid) + ")";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u (%s)", byte_of(refid, 0), byte_of(refid, 1), byte_of(refid, 2),
                byte_of(refid, 3), refid_hex(refid).c_str());
  return buf;
}

const char* kiss_code_meaning(std::string_view code) noexcept {
  struct Kiss {
    std::string_view code;
    const char* meaning;
  };
  static constexpr Kiss kCodes[] = {
      {"ACST", "the association belongs to a unicast server"},
      {"AUTH", "server authentication failed"},
      {"AUTO", "autokey sequence failed"},
      {"BCST", "the association belongs to a broadcast server"},
      {"CRYP", "cryptographic authentication or identification failed"},
      {"DENY", "access denied by the server: stop querying it"},
      {"DROP", "lost peer in symmetric mode"},
      {"RSTR", "access denied due to local policy: stop querying it"},
      {"INIT", "the association has not yet synchronized for the first time"},
      {"MCST", "the association belongs to a dynamically discovered server"},
      {"NKEY", "no key found: the key was never installed or is not trusted"},
      {"NTSN", "NTS negative acknowledgment: the NTS cookie was not accepted"},
      {"RATE", "rate exceeded: the server asks to query less often"},
      {"RMOT", "alteration of the association from a remote host running ntpdc"},
      {"STEP", "a step change in system time has occurred, not yet verified"},
  };
  for (const Kiss& k : kCodes) {
    if (k.code == code) return k.meaning;
  }
  return nullptr;
}

const char* leap_name(core::Leap leap) noexcept {
  switch (leap) {
    case core::Leap::kNone: return "none";
    case core::Leap::kInsert: return "insert";
    case core::Leap::kDelete: return "delete";
    case core::Leap::kUnsync: return "unsync";
  }
  return "unknown";
}

const char* mode_name(core::Mode mode) noexcept {
  switch (mode) {
    case core::Mode::kReserved: return "reserved";
    case core::Mode::kSymmetricActive: return "symmetric active";
    case core::Mode::kSymmetricPassive: return "symmetric passive";
    case core::Mode::kClient: return "client";
    case core::Mode::kServer: return "server";
    case core::Mode::kBroadcast: return "broadcast";
    case core::Mode::kControl: return "control";
    case core::Mode::kPrivate: return "private";
  }
  return "unknown";
}

std::string seconds_text(double s) { return printf_string("%.9f", s); }
std::string signed_seconds_text(double s) { return printf_string("%+.9f", s); }

std::string duration_text(double s) {
  const double a = std::fabs(s);
  if (a == 0) return "0 s";
  if (a < 1e-6) return printf_string("%.1f ns", s * 1e9);
  if (a < 1e-3) return printf_string("%.3f us", s * 1e6);
  if (a < 1) return printf_string("%.3f ms", s * 1e3);
  return printf_string("%.3f s", s);
}

std::string signed_duration_text(double s) {
  const std::string d = duration_text(s);
  return s >= 0 ? "+" + d : d;
}

std::string log2_seconds_text(int log2) {
  const double s = std::ldexp(1.0, log2);
  std::string value;
  if (log2 >= 0 && log2 < 63) {
    value = std::to_string(uint64_t{1} << log2) + " s";
  } else {
    value = duration_text(s);
  }
  return "2^" + std::to_string(log2) + " (" + value + ")";
}

std::string utc_text(int64_t unix_ns, int decimals) {
  int64_t sec = unix_ns / core::kNanosPerSecond;
  int64_t ns = unix_ns % core::kNanosPerSecond;
  if (ns < 0) {
    ns += core::kNanosPerSecond;
    sec -= 1;
  }
  const auto t = static_cast<time_t>(sec);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[40];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = date;
  if (decimals > 0) {
    if (decimals > 9) decimals = 9;
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns));
    out.append(frac, static_cast<size_t>(decimals) + 1);
  }
  return out + "Z";
}

std::string ntp_time_text(core::NtpTimestamp ts, int64_t pivot_unix_ns, int decimals) {
  if (ts.is_zero()) return "never";
  return utc_text(core::unix_nanos_from_ntp(ts, pivot_unix_ns), decimals);
}

}  // namespace tachyon::query
