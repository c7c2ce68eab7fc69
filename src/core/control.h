// NTP control messages (mode 6, RFC 9327): the read-only subset `ntpq -p`
// and `ntpq -c rv` need, as a pure function like core::respond(): request
// bytes and a snapshot of the server's variables in, one answer datagram
// out. No I/O, no allocation, no lock, no system call, no exception; the
// work is bounded by the request's 468-byte data limit.
//
// What ntpq sees (docs/ntpq.md): association 0 is the server itself (system
// variables); one more association, kReferenceAssociation, is the reference
// (system clock, PHC...), shown as a reference clock at 127.127.T.U whose
// status word says sys.peer while the reference is selected, so `ntpq -p`
// prints it with the `*` tally. Everything else gets the error answer
// ntpd/NTPsec would give, or is dropped with a DropReason when it is not a
// well-formed request.
//
// Answers are always a single datagram with at most 468 data octets
// (ntpd's CTL_MAX_DATA_LEN, the limit ntpq expects per fragment): the
// variable sets are chosen so that even every variable at its widest fits,
// which control.cc checks at compile time.
//
// A mode 6 answer is larger than its request (a 12-byte READVAR gets up to
// 480 bytes back): unlike time answers it amplifies, so the caller answers
// only sources on the control allow-list and drops everything else as
// DropReason::kNtpModeControl before calling respond_control().
//
// Thread-safety: respond_control() is reentrant; it reads `vars` and writes
// only `out`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "core/drop_reason.h"
#include "core/ntp_packet.h"
#include "core/ntp_time.h"
#include "core/server_state.h"

namespace tachyon::core {

inline constexpr size_t kControlHeaderSize = 12;
// RFC 9327 section 2 / ntpd CTL_MAX_DATA_LEN: data octets in one fragment.
inline constexpr size_t kControlMaxData = 468;
// The largest answer respond_control() writes; `out` must hold this much.
inline constexpr size_t kControlMaxAnswer = kControlHeaderSize + kControlMaxData;
// The association ID of the reference (association 0 is the system).
inline constexpr uint16_t kReferenceAssociation = 1;

// Opcodes (RFC 9327 section 3 and NTPsec's additions).
enum class ControlOpcode : uint8_t {
  kUnspec = 0,
  kReadStatus = 1,
  kReadVariables = 2,
  kWriteVariables = 3,
  kReadClock = 4,
  kWriteClock = 5,
  kConfigure = 8,
  kReadMru = 10,
  kReadOrderedList = 11,
  kRequestNonce = 12,
};

// Error codes carried in the status word of an error answer (E bit set).
enum class ControlError : uint8_t {
  kUnspec = 0,
  kPermission = 1,
  kBadFormat = 2,
  kBadOpcode = 3,
  kBadAssociation = 4,
  kUnknownVariable = 5,
  kBadValue = 6,
  kRestricted = 7,
};

// Clock source of the system status word (RFC 9327 figure 5), shown by
// ntpq as sync_pps, sync_ntp, sync_other...
enum class SyncSource : uint8_t {
  kUnspec = 0,
  kPps = 1,
  kLfRadio = 2,
  kHfRadio = 3,
  kUhfRadio = 4,
  kLocal = 5,
  kNtp = 6,
  kOther = 7,
  kWristwatch = 8,
  kTelephone = 9,
};

// Peer selection code of a peer status word (RFC 9327 figure 8); the
// character is the tally ntpq prints in front of the peer.
enum class PeerSelect : uint8_t {
  kReject = 0,     // ' '
  kFalsetick = 1,  // 'x'
  kExcess = 2,     // '.'
  kOutlier = 3,    // '-'
  kCandidate = 4,  // '+'
  kBackup = 5,     // '#'
  kSysPeer = 6,    // '*'
  kPpsPeer = 7,    // 'o'
};

// The 12-byte header, decoded.
struct ControlHeader {
  Leap leap = Leap::kNone;
  uint8_t version = 2;
  Mode mode = Mode::kControl;
  bool response = false;  // R
  bool error = false;     // E
  bool more = false;      // M
  uint8_t opcode = 0;     // 5 bits
  uint16_t sequence = 0;
  uint16_t status = 0;
  uint16_t association = 0;
  uint16_t offset = 0;
  uint16_t count = 0;

  friend bool operator==(const ControlHeader&, const ControlHeader&) = default;
};

// REQUIRES: bytes.size() >= kControlHeaderSize.
ControlHeader decode_control_header(std::span<const uint8_t> bytes) noexcept;
// REQUIRES: out.size() >= kControlHeaderSize.
void encode_control_header(const ControlHeader& h, std::span<uint8_t> out) noexcept;

// Everything ntpq is shown, as plain values: the control thread fills one
// from ServerState and ClockStatus, and each worker keeps a copy it
// refreshes without allocating (the type is trivially copyable, so a seqlock
// or double buffer can publish it with memcpy). Times are Unix or NTP as
// named; text fields are NUL-terminated and truncated by set_text().
struct SystemVariables {
  static constexpr size_t kVersionSize = 32;
  static constexpr size_t kNameSize = 16;

  // The server, as every time answer announces it (wire values: LI=3 and
  // stratum 16 while unsynchronized). set_server() copies a ServerState.
  Leap leap = Leap::kUnsync;
  uint8_t stratum = kStratumUnsynchronized;
  int8_t precision = -20;            // log2 s
  uint32_t refid = 0;
  NtpShort root_delay;
  NtpShort root_dispersion;
  NtpTimestamp reference_time;
  SyncSource sync_source = SyncSource::kOther;  // in the status word while the reference is sys.peer

  // The discipline of the timescale against the reference.
  int8_t poll = 0;                   // log2 s between reference samples (tc, hpoll, ppoll)
  int64_t offset_ns = 0;             // last measured reference - timescale
  int64_t jitter_ns = 0;
  double frequency_ppm = 0;
  int32_t tai_offset_s = 0;          // TAI - UTC; 0: unknown, not shown
  int64_t leap_file_expiry_unix = 0; // 0: no leap-seconds file, not shown
  int64_t uptime_s = 0;              // since tachyond started

  // The reference, shown as association kReferenceAssociation.
  PeerSelect reference_select = PeerSelect::kReject;
  uint8_t reach = 0;                 // 8-bit reachability register of the last samples
  uint32_t reference_address = 0x7f7f'0100;  // 127.127.1.0: ntpq shows 127.127/16 as a refclock
  int64_t reference_delay_ns = 0;    // delay of the last sample
  int64_t reference_dispersion_ns = 0;
  NtpTimestamp last_sample;          // when the last good sample was taken (0: never)

  char version[kVersionSize] = "tachyond";
  char source[kNameSize] = "system";       // reference.source; the reference is "<source>(<unit>)"
  char state[kNameSize] = "starting";      // reference state name

  // Copies the header fields a time answer carries (wire leap and stratum).
  void set_server(const ServerState& s) noexcept {
    leap = s.wire_leap();
    stratum = s.wire_stratum();
    precision = s.precision;
    refid = s.refid;
    root_delay = s.root_delay;
    root_dispersion = s.root_dispersion;
    reference_time = s.reference_time;
  }
};
static_assert(std::is_trivially_copyable_v<SystemVariables>);

// Copies `text` into a fixed text field, truncating; always NUL-terminated.
template <size_t N>
void set_text(char (&field)[N], std::string_view text) noexcept {
  const size_t n = text.size() < N - 1 ? text.size() : N - 1;
  for (size_t i = 0; i < n; ++i) field[i] = text[i];
  for (size_t i = n; i < N; ++i) field[i] = '\0';
}

// Status words (RFC 9327 figures 4 and 7) as respond_control() sends them.
uint16_t system_status_word(const SystemVariables& vars) noexcept;
uint16_t reference_status_word(const SystemVariables& vars) noexcept;

struct ControlResult {
  bool answer = false;    // send out[0, length) back to the source
  uint16_t length = 0;
  DropReason reason = DropReason::kNtpControlMalformed;  // when !answer
  bool error = false;     // the answer is an error answer (E bit) ...
  ControlError error_code = ControlError::kUnspec;  // ... with this code

  static constexpr ControlResult drop(DropReason r) noexcept { return ControlResult{false, 0, r, false, {}}; }
};

// Answers one mode 6 request (the UDP payload) with at most one datagram,
// written to `out`; `now` is the request's receive time (the `clock`
// variable). `out` may alias `request` (answering in place): everything
// needed is read before the first byte is written.
// REQUIRES: out.size() >= kControlMaxAnswer (otherwise dropped as
// kNtpControlNoRoom).
ControlResult respond_control(std::span<const uint8_t> request, NtpTimestamp now, const SystemVariables& vars,
                              std::span<uint8_t> out) noexcept;

}  // namespace tachyon::core
