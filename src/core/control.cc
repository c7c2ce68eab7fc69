#include "core/control.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <initializer_list>

namespace tachyon::core {
namespace {

// Second header byte: R, E, M and the opcode (RFC 9327 section 2).
constexpr uint8_t kResponseBit = 0x80;
constexpr uint8_t kErrorBit = 0x40;
constexpr uint8_t kMoreBit = 0x20;
constexpr uint8_t kOpcodeMask = 0x1f;

// Peer status bits (RFC 9327 figure 7).
constexpr uint8_t kPeerConfigured = 0x80;
constexpr uint8_t kPeerReachable = 0x10;

constexpr size_t round4(size_t n) noexcept { return (n + 3) & ~size_t{3}; }
constexpr size_t round8(size_t n) noexcept { return (n + 7) & ~size_t{7}; }

// ---------------------------------------------------------------------------
// Value formatting. Hand-written rather than snprintf: no locale (a decimal
// comma would break every client), and each format has a known widest
// output, which the variable tables below add up at compile time.

struct Value {
  char c[48];
  size_t n = 0;

  void ch(char x) noexcept {
    if (n < sizeof c) c[n++] = x;
  }
  void str(std::string_view s) noexcept {
    for (char x : s) ch(x);
  }
};

void put_uint(Value& v, uint64_t x) noexcept {
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + x % 10);
    x /= 10;
  } while (x != 0);
  while (n > 0) v.ch(digits[--n]);
}

void put_int(Value& v, int64_t x) noexcept {
  if (x < 0) {
    v.ch('-');
    put_uint(v, 0 - static_cast<uint64_t>(x));
  } else {
    put_uint(v, static_cast<uint64_t>(x));
  }
}

// `x` in units of 10^-decimals, printed as a decimal fraction ("%.*f").
void put_fixed(Value& v, int64_t x, int decimals) noexcept {
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  uint64_t mag = static_cast<uint64_t>(x);
  if (x < 0) {
    v.ch('-');
    mag = 0 - mag;
  }
  put_uint(v, mag / scale);
  v.ch('.');
  uint64_t frac = mag % scale;
  char digits[20];
  for (int i = decimals - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  for (int i = 0; i < decimals; ++i) v.ch(digits[i]);
}

void put_hex(Value& v, uint64_t x, int min_digits) noexcept {
  constexpr char kHex[] = "0123456789abcdef";
  char digits[16];
  int n = 0;
  do {
    digits[n++] = kHex[x & 0xf];
    x >>= 4;
  } while (x != 0 || n < min_digits);
  while (n > 0) v.ch(digits[--n]);
}

// ntpd's l_fp text form: 0xSSSSSSSS.FFFFFFFF.
void put_timestamp(Value& v, NtpTimestamp t) noexcept {
  v.str("0x");
  put_hex(v, t.seconds(), 8);
  v.ch('.');
  put_hex(v, t.fraction(), 8);
}

void put_ipv4(Value& v, uint32_t a) noexcept {
  for (int shift = 24; shift >= 0; shift -= 8) {
    put_uint(v, (a >> shift) & 0xff);
    if (shift != 0) v.ch('.');
  }
}

// A refid as text, as ntpd's ctl_putrefid(): up to the first NUL, anything
// that is not a visible character (or would end the value early) as '.'.
void put_refid_text(Value& v, uint32_t refid) noexcept {
  for (int shift = 24; shift >= 0; shift -= 8) {
    const auto c = static_cast<char>((refid >> shift) & 0xff);
    if (c == '\0') break;
    v.ch(c > ' ' && c < 0x7f && c != ',' && c != '"' ? c : '.');
  }
}

constexpr size_t kMaxRefidText = 4;

// A text field up to its NUL, and never its last byte (kept for the NUL by
// set_text(); a field filled otherwise is cut there).
template <size_t N>
std::string_view text_of(const char (&field)[N]) noexcept {
  size_t n = 0;
  while (n < N - 1 && field[n] != '\0') ++n;
  return {field, n};
}

// A quoted string; quotes and commas inside would end the value early.
void put_quoted(Value& v, std::string_view s, std::string_view suffix = {}) noexcept {
  v.ch('"');
  for (std::string_view part : {s, suffix}) {
    for (char c : part) v.ch(c >= ' ' && c < 0x7f && c != '"' && c != ',' ? c : '.');
  }
  v.ch('"');
}

// Milliseconds with 6 decimals ("%.6f" of ms, as ntpd's ctl_putdbl6) from
// nanoseconds, saturating at +-1000 s so the width stays bounded.
constexpr int64_t kMaxNanos = 999'999'999'999;
constexpr size_t kMaxMs6 = 14;  // "-999999.999999"
void put_ms6(Value& v, int64_t ns) noexcept {
  put_fixed(v, ns > kMaxNanos ? kMaxNanos : ns < -kMaxNanos ? -kMaxNanos : ns, 6);
}
// The same for quantities that cannot be negative (delay, jitter, dispersion).
void put_ms6_magnitude(Value& v, int64_t ns) noexcept { put_ms6(v, ns < 0 ? 0 : ns); }

// Milliseconds with 3 decimals ("%.3f", ctl_putdbl) from microseconds.
constexpr size_t kMaxMs3 = 12;  // "98304000.000": root distance of two saturated shorts
void put_ms3(Value& v, uint64_t us) noexcept { put_fixed(v, static_cast<int64_t>(us), 3); }

constexpr uint64_t micros_of(NtpShort s) noexcept { return (uint64_t{s.raw} * 1'000'000 + 0x8000) >> 16; }

// Parts per million with 6 decimals, saturating at +-999999.999999.
constexpr size_t kMaxPpm6 = 14;
void put_ppm6(Value& v, double ppm) noexcept {
  constexpr double kLimit = 999'999.999'999;
  if (std::isnan(ppm)) ppm = 0;
  ppm = ppm > kLimit ? kLimit : ppm < -kLimit ? -kLimit : ppm;
  const double micro = ppm * 1e6;
  put_fixed(v, static_cast<int64_t>(micro < 0 ? micro - 0.5 : micro + 0.5), 6);
}

// "YYYY-MM-DDTHH:MMZ" (ntpd's ctl_puttime) from Unix seconds, with the
// civil-from-days algorithm (H. Hinnant); years clamped to 1970..9999.
constexpr size_t kMaxDate = 17;
void put_date(Value& v, int64_t unix_s) noexcept {
  constexpr int64_t kLast = 253'402'300'799;  // 9999-12-31T23:59:59Z
  unix_s = unix_s < 0 ? 0 : unix_s > kLast ? kLast : unix_s;
  const int64_t days = unix_s / 86'400;
  const int64_t secs = unix_s % 86'400;
  const int64_t z = days + 719'468;
  const int64_t era = z / 146'097;
  const int64_t doe = z - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  auto two = [&v](int64_t x) {
    v.ch(static_cast<char>('0' + x / 10));
    v.ch(static_cast<char>('0' + x % 10));
  };
  two(year / 100);
  two(year % 100);
  v.ch('-');
  two(month);
  v.ch('-');
  two(day);
  v.ch('T');
  two(secs / 3600);
  v.ch(':');
  two(secs % 3600 / 60);
  v.ch('Z');
}

// Poll exponents as ntpq expects them (NTP_MINPOLL..NTP_MAXPOLL is 0..17 here;
// ntpq replaces a negative one by its own minimum).
constexpr int kMaxPoll = 17;
int clamp_poll(int8_t p) noexcept { return p < 0 ? 0 : p > kMaxPoll ? kMaxPoll : p; }

// ---------------------------------------------------------------------------
// The variables. Table order is answer order (as ntpd, whatever order the
// request names them in); a request selects by name, which sets a bit.

struct VarSpec {
  std::string_view name;
  size_t max_value;  // widest value text the formatter can produce
  bool by_default;   // sent when the request names no variable
};

// "name=value" items joined by ", ", then "\r\n" (ntpd's trailer, sent when
// it fits): the widest possible answer for a table.
template <size_t N>
constexpr size_t widest_text(const VarSpec (&table)[N]) {
  size_t n = 0;
  for (const VarSpec& v : table) n += v.name.size() + 1 + v.max_value;
  return n + 2 * (N - 1) + 2;
}

enum SysVar : uint8_t {
  kSysVersion, kSysLeap, kSysStratum, kSysPrecision, kSysRootDelay, kSysRootDisp, kSysRootDist,
  kSysRefid, kSysRefTime, kSysTc, kSysPeer, kSysPeerMode, kSysOffset, kSysFrequency, kSysJitter, kSysClock,
  kSysTai, kSysExpire, kSysUptime, kSysSource, kSysState, kSysCount_,
};

// Names as NTPsec 1.2 sends them, so ntpq's `rv`, `sysinfo` and scripts
// written for ntpd find them; ref_source/ref_state are Tachyon's own.
constexpr VarSpec kSysVars[] = {
    {"version", 2 + SystemVariables::kVersionSize - 1, true},
    {"leap", 1, true},
    {"stratum", 3, true},
    {"precision", 4, true},
    {"rootdelay", kMaxMs3, true},
    {"rootdisp", kMaxMs3, true},
    {"rootdist", kMaxMs3, false},
    {"refid", 15, true},  // dotted quad at stratum 2..15, else text
    {"reftime", 19, true},
    {"tc", 2, true},
    {"peer", 5, true},
    {"peermode", 1, false},  // ntpq's sysinfo fails without it
    {"offset", kMaxMs6, true},
    {"frequency", kMaxPpm6, true},
    {"sys_jitter", kMaxMs6, true},
    {"clock", 19, true},
    {"tai", 3, true},
    {"expire", kMaxDate, true},
    {"ss_uptime", 10, true},
    {"ref_source", 2 + SystemVariables::kNameSize - 1, true},
    {"ref_state", 2 + SystemVariables::kNameSize - 1, true},
};
static_assert(sizeof kSysVars / sizeof kSysVars[0] == kSysCount_);
static_assert(widest_text(kSysVars) <= kControlMaxData,
              "every system variable at its widest must fit one fragment");

enum PeerVar : uint8_t {
  kPeerSrcAdr, kPeerSrcHost, kPeerLeap, kPeerStratum, kPeerPrecision, kPeerRootDelay, kPeerRootDisp,
  kPeerRefid, kPeerRefTime, kPeerRec, kPeerReach, kPeerHMode, kPeerPMode, kPeerHPoll, kPeerPPoll,
  kPeerFlash, kPeerOffset, kPeerDelay, kPeerDispersion, kPeerJitter, kPeerCount_,
};

// What `ntpq -p` reads to print a full line (srcadr/srchost, refid,
// stratum, hmode, polls, reach, rec, delay, offset, jitter), plus what `rv 1`
// shows of a reference clock in ntpd.
constexpr VarSpec kPeerVars[] = {
    {"srcadr", 15, true},
    {"srchost", 2 + (SystemVariables::kNameSize - 1) + 5, true},  // "<source>(<unit>)"
    {"leap", 1, true},
    {"stratum", 3, true},
    {"precision", 4, true},
    {"rootdelay", kMaxMs3, true},
    {"rootdisp", kMaxMs3, true},
    {"refid", kMaxRefidText, true},
    {"reftime", 19, true},
    {"rec", 19, true},
    {"reach", 4, true},
    {"hmode", 1, true},
    {"pmode", 1, true},
    {"hpoll", 2, true},
    {"ppoll", 2, true},
    {"flash", 3, true},
    {"offset", kMaxMs6, true},
    {"delay", kMaxMs6, true},
    {"dispersion", kMaxMs6, true},
    {"jitter", kMaxMs6, true},
};
static_assert(sizeof kPeerVars / sizeof kPeerVars[0] == kPeerCount_);
static_assert(widest_text(kPeerVars) <= kControlMaxData,
              "every peer variable at its widest must fit one fragment");
static_assert(kSysCount_ <= 32 && kPeerCount_ <= 32, "selections are 32-bit masks");

template <size_t N>
constexpr uint32_t default_mask(const VarSpec (&table)[N]) {
  uint32_t m = 0;
  for (size_t i = 0; i < N; ++i) m |= table[i].by_default ? uint32_t{1} << i : 0;
  return m;
}

constexpr bool is_space(uint8_t c) noexcept { return c == ' ' || (c >= '\t' && c <= '\r'); }

struct Selection {
  bool ok;
  uint32_t mask;
};

// Parses a READVAR variable list ("name,name=value, name"), as ntpd's
// ctl_getitem(): items end at ',', a name ends at '=' (values are ignored in
// a read), white space around names is skipped. An unknown name fails the
// request (CERR_UNKNOWNVAR); no name at all selects the default set.
template <size_t N>
Selection select_variables(std::span<const uint8_t> data, const VarSpec (&table)[N]) noexcept {
  uint32_t mask = 0;
  size_t i = 0;
  const size_t n = data.size();
  while (i < n) {
    while (i < n && (data[i] == ',' || is_space(data[i]))) ++i;
    if (i == n) break;
    const size_t start = i;
    size_t name_end = n;
    while (i < n && data[i] != ',') {
      if (data[i] == '=' && name_end == n) name_end = i;
      ++i;
    }
    if (name_end == n) name_end = i;
    while (name_end > start && is_space(data[name_end - 1])) --name_end;
    const std::string_view name(reinterpret_cast<const char*>(data.data()) + start, name_end - start);
    size_t k = 0;
    while (k < N && table[k].name != name) ++k;
    if (k == N) return {false, 0};
    mask |= uint32_t{1} << k;
  }
  return {true, mask == 0 ? default_mask(table) : mask};
}

// The data part of a text answer, bounded by kControlMaxData. An item that
// would not fit is left out whole; the tables' static_asserts make that
// impossible, the bound makes it harmless.
class Text {
 public:
  explicit Text(uint8_t* data) noexcept : p_(data) {}

  void put(std::string_view name, const Value& v, size_t max_value) noexcept {
    assert(v.n <= max_value);
    (void)max_value;
    const size_t sep = n_ == 0 ? 0 : 2;
    if (n_ + sep + name.size() + 1 + v.n > kControlMaxData) return;
    if (sep != 0) raw(", ");
    raw(name);
    raw("=");
    raw(std::string_view(v.c, v.n));
  }

  // ntpd ends a text answer with "\r\n" when it fits.
  size_t finish() noexcept {
    if (n_ != 0 && n_ + 2 <= kControlMaxData) raw("\r\n");
    return n_;
  }

 private:
  void raw(std::string_view s) noexcept {
    std::memcpy(p_ + n_, s.data(), s.size());
    n_ += s.size();
  }

  uint8_t* p_;
  size_t n_ = 0;
};

// The reference's stratum: one below the server's (a stratum 1 server's
// reference is a stratum 0 clock), 16 when unsynchronized.
constexpr uint8_t reference_stratum(uint8_t server_stratum) noexcept {
  return server_stratum >= 1 && server_stratum < kStratumUnsynchronized ? server_stratum - 1
                                                                         : kStratumUnsynchronized;
}

bool put_system_variable(SysVar id, const SystemVariables& s, NtpTimestamp now, Value& v) noexcept {
  switch (id) {
    case kSysVersion: put_quoted(v, text_of(s.version)); break;
    case kSysLeap: put_uint(v, static_cast<uint8_t>(s.leap) & 3u); break;
    case kSysStratum: put_uint(v, s.stratum); break;
    case kSysPrecision: put_int(v, s.precision); break;
    case kSysRootDelay: put_ms3(v, micros_of(s.root_delay)); break;
    case kSysRootDisp: put_ms3(v, micros_of(s.root_dispersion)); break;
    case kSysRootDist: put_ms3(v, micros_of(s.root_delay) / 2 + micros_of(s.root_dispersion)); break;
    case kSysRefid:
      // ntpd: an IPv4 address (or hash) between strata 2 and 15, text otherwise.
      if (s.stratum > 1 && s.stratum < kStratumUnsynchronized) {
        put_ipv4(v, s.refid);
      } else {
        put_refid_text(v, s.refid);
      }
      break;
    case kSysRefTime: put_timestamp(v, s.reference_time); break;
    case kSysTc: put_uint(v, static_cast<uint64_t>(clamp_poll(s.poll))); break;
    case kSysPeer: put_uint(v, s.reference_select == PeerSelect::kSysPeer ? kReferenceAssociation : 0); break;
    case kSysPeerMode:  // the system peer's host mode, 0 without one (ntpd)
      put_uint(v, s.reference_select == PeerSelect::kSysPeer ? static_cast<uint8_t>(Mode::kClient) : 0);
      break;
    case kSysOffset: put_ms6(v, s.offset_ns); break;
    case kSysFrequency: put_ppm6(v, s.frequency_ppm); break;
    case kSysJitter: put_ms6_magnitude(v, s.jitter_ns); break;
    case kSysClock: put_timestamp(v, now); break;
    case kSysTai:
      if (s.tai_offset_s <= 0) return false;  // unknown: not shown, as ntpd
      put_uint(v, static_cast<uint64_t>(s.tai_offset_s > 999 ? 999 : s.tai_offset_s));
      break;
    case kSysExpire:
      if (s.leap_file_expiry_unix <= 0) return false;
      put_date(v, s.leap_file_expiry_unix);
      break;
    case kSysUptime:
      put_uint(v, s.uptime_s < 0 ? 0 : s.uptime_s > 0xffff'ffff ? 0xffff'ffff : static_cast<uint64_t>(s.uptime_s));
      break;
    case kSysSource: put_quoted(v, text_of(s.source)); break;
    case kSysState: put_quoted(v, text_of(s.state)); break;
    case kSysCount_: return false;
  }
  return true;
}

bool put_peer_variable(PeerVar id, const SystemVariables& s, Value& v) noexcept {
  switch (id) {
    case kPeerSrcAdr: put_ipv4(v, s.reference_address); break;
    case kPeerSrcHost: {
      // ntpq names a 127.127.T.U peer by srchost, and prints it as a local
      // reference clock ('l') when the name holds a '(' (ntpd: "SHM(0)").
      Value unit;
      unit.ch('(');
      put_uint(unit, s.reference_address & 0xff);
      unit.ch(')');
      put_quoted(v, text_of(s.source), std::string_view(unit.c, unit.n));
      break;
    }
    case kPeerLeap: put_uint(v, static_cast<uint8_t>(s.leap) & 3u); break;
    case kPeerStratum: put_uint(v, reference_stratum(s.stratum)); break;
    case kPeerPrecision: put_int(v, s.precision); break;
    case kPeerRootDelay: put_ms3(v, micros_of(s.root_delay)); break;
    case kPeerRootDisp: put_ms3(v, micros_of(s.root_dispersion)); break;
    case kPeerRefid: put_refid_text(v, s.refid); break;  // a reference clock's refid is text
    case kPeerRefTime:
      if (s.reference_time.is_zero()) return false;
      put_timestamp(v, s.reference_time);
      break;
    case kPeerRec:
      // ntpq's "when" column: seconds since this timestamp.
      if (s.last_sample.is_zero()) return false;
      put_timestamp(v, s.last_sample);
      break;
    case kPeerReach:
      v.str("0x");
      put_hex(v, s.reach, 1);
      break;
    case kPeerHMode: put_uint(v, static_cast<uint8_t>(Mode::kClient)); break;  // we poll it
    case kPeerPMode: put_uint(v, static_cast<uint8_t>(Mode::kServer)); break;
    case kPeerHPoll:
    case kPeerPPoll: put_uint(v, static_cast<uint64_t>(clamp_poll(s.poll))); break;
    case kPeerFlash: v.str("0x0"); break;  // no packet test failed
    case kPeerOffset: put_ms6(v, s.offset_ns); break;
    case kPeerDelay: put_ms6_magnitude(v, s.reference_delay_ns); break;
    case kPeerDispersion: put_ms6_magnitude(v, s.reference_dispersion_ns); break;
    case kPeerJitter: put_ms6_magnitude(v, s.jitter_ns); break;
    case kPeerCount_: return false;
  }
  return true;
}

size_t write_system_variables(uint32_t mask, const SystemVariables& s, NtpTimestamp now, uint8_t* data) noexcept {
  Text text(data);
  for (uint8_t i = 0; i < kSysCount_; ++i) {
    if ((mask >> i & 1u) == 0) continue;
    Value v;
    if (put_system_variable(static_cast<SysVar>(i), s, now, v)) text.put(kSysVars[i].name, v, kSysVars[i].max_value);
  }
  return text.finish();
}

size_t write_peer_variables(uint32_t mask, const SystemVariables& s, uint8_t* data) noexcept {
  Text text(data);
  for (uint8_t i = 0; i < kPeerCount_; ++i) {
    if ((mask >> i & 1u) == 0) continue;
    Value v;
    if (put_peer_variable(static_cast<PeerVar>(i), s, v)) text.put(kPeerVars[i].name, v, kPeerVars[i].max_value);
  }
  return text.finish();
}

// What the answer will be, decided from the request alone (before `out`,
// which may be the request, is written).
enum class Body : uint8_t { kNone, kAssociations, kSystemVariables, kPeerVariables, kError };

struct Plan {
  Body body = Body::kNone;
  uint16_t status = 0;
  uint32_t mask = 0;
  ControlError error = ControlError::kUnspec;

  static Plan fail(ControlError e) noexcept { return Plan{Body::kError, 0, 0, e}; }
};

Plan plan_read_variables(uint16_t association, std::span<const uint8_t> list, const SystemVariables& vars) noexcept {
  if (association == 0) {
    const Selection sel = select_variables(list, kSysVars);
    if (!sel.ok) return Plan::fail(ControlError::kUnknownVariable);
    return Plan{Body::kSystemVariables, system_status_word(vars), sel.mask, {}};
  }
  if (association != kReferenceAssociation) return Plan::fail(ControlError::kBadAssociation);
  const Selection sel = select_variables(list, kPeerVars);
  if (!sel.ok) return Plan::fail(ControlError::kUnknownVariable);
  return Plan{Body::kPeerVariables, reference_status_word(vars), sel.mask, {}};
}

// The opcode table, after NTPsec's ntp_control.c: what we do not serve gets
// the error NTPsec gives an unauthenticated client.
Plan plan(const ControlHeader& q, std::span<const uint8_t> list, const SystemVariables& vars) noexcept {
  switch (static_cast<ControlOpcode>(q.opcode)) {
    case ControlOpcode::kUnspec:
      // No data, just the status word of the association.
      if (q.association == 0) return Plan{Body::kNone, system_status_word(vars), 0, {}};
      if (q.association == kReferenceAssociation) return Plan{Body::kNone, reference_status_word(vars), 0, {}};
      return Plan::fail(ControlError::kBadAssociation);
    case ControlOpcode::kReadStatus:
      if (q.association == 0) return Plan{Body::kAssociations, system_status_word(vars), 0, {}};
      // READSTAT of one association: its default variables (ntpd).
      return plan_read_variables(q.association, {}, vars);
    case ControlOpcode::kReadVariables:
      return plan_read_variables(q.association, list, vars);
    case ControlOpcode::kWriteVariables:
    case ControlOpcode::kWriteClock:
    case ControlOpcode::kConfigure:
    case ControlOpcode::kReadOrderedList:
      // Writes and ntpd's authenticated reads: refused, as to a client
      // without the control key.
      return Plan::fail(ControlError::kPermission);
    case ControlOpcode::kReadClock:
      // No association has a reference clock driver with clock variables.
      return Plan::fail(ControlError::kBadAssociation);
    case ControlOpcode::kReadMru:
    case ControlOpcode::kRequestNonce:
      // No MRU list is kept (rate limiting is per worker and unshared).
      return Plan::fail(ControlError::kBadOpcode);
  }
  return Plan::fail(ControlError::kBadOpcode);
}

}  // namespace

ControlHeader decode_control_header(std::span<const uint8_t> b) noexcept {
  ControlHeader h;
  h.leap = leap_of(b[0]);
  h.version = version_of(b[0]);
  h.mode = mode_of(b[0]);
  h.response = (b[1] & kResponseBit) != 0;
  h.error = (b[1] & kErrorBit) != 0;
  h.more = (b[1] & kMoreBit) != 0;
  h.opcode = b[1] & kOpcodeMask;
  h.sequence = load_be16(b.data() + 2);
  h.status = load_be16(b.data() + 4);
  h.association = load_be16(b.data() + 6);
  h.offset = load_be16(b.data() + 8);
  h.count = load_be16(b.data() + 10);
  return h;
}

void encode_control_header(const ControlHeader& h, std::span<uint8_t> out) noexcept {
  uint8_t* p = out.data();
  p[0] = pack_li_vn_mode(h.leap, h.version, h.mode);
  p[1] = static_cast<uint8_t>((h.response ? kResponseBit : 0) | (h.error ? kErrorBit : 0) | (h.more ? kMoreBit : 0) |
                              (h.opcode & kOpcodeMask));
  store_be16(p + 2, h.sequence);
  store_be16(p + 4, h.status);
  store_be16(p + 6, h.association);
  store_be16(p + 8, h.offset);
  store_be16(p + 10, h.count);
}

uint16_t system_status_word(const SystemVariables& vars) noexcept {
  // LI (2 bits), clock source (6), event count (4), last event (4). Without a
  // selected reference the source is unspecified, as in ntpd; no events are
  // recorded.
  const auto source = vars.reference_select == PeerSelect::kSysPeer ? static_cast<uint8_t>(vars.sync_source) : 0;
  return static_cast<uint16_t>(((static_cast<uint8_t>(vars.leap) & 3u) << 14) | ((source & 0x3fu) << 8));
}

uint16_t reference_status_word(const SystemVariables& vars) noexcept {
  // Status byte: configured, reachable if any recent sample arrived, and the
  // selection code (RFC 9327 figure 8) ntpq turns into the tally character.
  const uint8_t status = static_cast<uint8_t>(kPeerConfigured | (vars.reach != 0 ? kPeerReachable : 0) |
                                              (static_cast<uint8_t>(vars.reference_select) & 7u));
  return static_cast<uint16_t>(status << 8);
}

ControlResult respond_control(std::span<const uint8_t> request, NtpTimestamp now, const SystemVariables& vars,
                              std::span<uint8_t> out) noexcept {
  if (out.size() < kControlMaxAnswer) return ControlResult::drop(DropReason::kNtpControlNoRoom);

  // Checks in ntpd's order (process_control()). What is not a well-formed
  // request gets no answer: a reply to junk would only help spoofers.
  if (request.size() < kControlHeaderSize) return ControlResult::drop(DropReason::kNtpControlMalformed);
  const ControlHeader q = decode_control_header(request);
  if (q.mode != Mode::kControl) return ControlResult::drop(DropReason::kNtpControlMalformed);
  if (q.response || q.error || q.more) return ControlResult::drop(DropReason::kNtpControlNotRequest);
  if (q.version == 0 || q.version > 4) return ControlResult::drop(DropReason::kNtpBadVersion);
  // RFC 9327 section 2: a request is one fragment, data padded to 32 bits.
  if (q.offset != 0 || request.size() % 4 != 0 || q.count > kControlMaxData ||
      kControlHeaderSize + size_t{q.count} > request.size()) {
    return ControlResult::drop(DropReason::kNtpControlMalformed);
  }
  // After the padded data there may be a MAC: key ID + 16- or 20-byte
  // digest, 64-bit aligned (ntpq pads the data to 8 bytes first). Anything
  // else there is junk.
  bool authenticated = false;
  if (request.size() > kControlHeaderSize + round4(q.count)) {
    const size_t mac_at = round8(kControlHeaderSize + q.count);
    const size_t mac_length = request.size() >= mac_at ? request.size() - mac_at : 0;
    if (mac_length != kMd5MacSize && mac_length != kSha1MacSize) {
      return ControlResult::drop(DropReason::kNtpControlMalformed);
    }
    authenticated = true;
  }

  // Authenticated mode 6 is not supported (no control key): a client that
  // signs its request wants a signed answer, so it is refused with the error
  // ntpd gives an unknown key on a write, instead of answered unsigned.
  const Plan p = authenticated ? Plan::fail(ControlError::kPermission)
                               : plan(q, request.subspan(kControlHeaderSize, q.count), vars);

  // From here on `out` is written: the request is not read again.
  ControlHeader a;
  a.leap = vars.leap;
  a.version = q.version;
  a.mode = Mode::kControl;
  a.response = true;
  a.opcode = q.opcode;
  a.sequence = q.sequence;
  a.association = q.association;

  uint8_t* data = out.data() + kControlHeaderSize;
  size_t count = 0;
  switch (p.body) {
    case Body::kError:
      a.error = true;
      a.status = static_cast<uint16_t>(static_cast<uint8_t>(p.error) << 8);
      break;
    case Body::kNone:
      a.status = p.status;
      break;
    case Body::kAssociations:
      // One (association ID, peer status) pair per association.
      a.status = p.status;
      store_be16(data, kReferenceAssociation);
      store_be16(data + 2, reference_status_word(vars));
      count = 4;
      break;
    case Body::kSystemVariables:
      a.status = p.status;
      count = write_system_variables(p.mask, vars, now, data);
      break;
    case Body::kPeerVariables:
      a.status = p.status;
      count = write_peer_variables(p.mask, vars, data);
      break;
  }
  a.count = static_cast<uint16_t>(count);
  encode_control_header(a, out);
  const size_t length = kControlHeaderSize + round4(count);
  std::memset(data + count, 0, length - kControlHeaderSize - count);

  ControlResult r;
  r.answer = true;
  r.length = static_cast<uint16_t>(length);
  r.reason = DropReason{};
  r.error = a.error;
  r.error_code = p.error;
  return r;
}

}  // namespace tachyon::core
