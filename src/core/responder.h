// The NTP server's answer to one request, as a pure function: bytes in,
// bytes out, no I/O. Shaped like ntpd-rs's `handle()`: the dataplane owns
// sockets/queues, timestamps and counters; this code owns the protocol.
//
// Pipeline (following chrony's ntp_core.c): length -> version -> mode ->
// trailer -> answer. Later stages (access, rate limit, authentication,
// interleaved mode) wrap this in the per-worker responder.
//
// respond() is noexcept, allocation-free and lock-free; it may be called
// concurrently on distinct buffers. The transmit timestamp is left for the
// caller to write last with stamp_transmit(), as close to the wire as it can.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "core/counters.h"
#include "core/drop_reason.h"
#include "core/ntp_packet.h"
#include "core/ntp_time.h"
#include "core/server_state.h"

namespace tachyon::core {

inline constexpr uint16_t kNtpPort = 123;

struct Request {
  std::span<const uint8_t> packet;  // the UDP payload
  NtpTimestamp receive;             // when it arrived (RX timestamp)
  uint16_t client_port = 0;         // UDP source port (NTPv1 tells modes by port)
};

enum class Action : uint8_t {
  kDrop,
  kReply,    // a time answer: the caller stamps the transmit timestamp
  kReplyKod, // a Kiss-o'-Death or other answer carrying no time: send as is
  kControl,  // mode 6: for the control handler (allow-list checked by caller)
};

struct Verdict {
  Action action = Action::kDrop;
  DropReason reason = DropReason::kNtpTruncated;  // meaningful for kDrop
  uint8_t mode = 0;       // request mode, for counting
  uint8_t version = 0;    // request version, for counting
  uint16_t length = 0;    // answer length for kReply / kReplyKod

  static constexpr Verdict drop(DropReason r, uint8_t mode = 0, uint8_t version = 0) noexcept {
    return Verdict{Action::kDrop, r, mode, version, 0};
  }
};

// Writes the answer to `req` into `out` (all fields but the transmit
// timestamp, which is zero), taking the server's header fields from
// `answer` (the snapshot's pre-encoded form). `out` may alias `req.packet`
// (answering in place). REQUIRES: out.size() >= kNtpHeaderSize.
inline Verdict respond(const Request& req, const AnswerTemplate& answer, std::span<uint8_t> out) noexcept;

// respond() for everything but the common case it inlines (a bare 48-byte
// NTPv1-4 client request): other modes, extension fields, MACs, junk.
Verdict respond_general(const Request& req, const AnswerTemplate& answer, std::span<uint8_t> out) noexcept;

namespace detail {
// Writes an answer in `reply_mode` from the template. Reads everything it
// echoes before writing, so `out` may alias the request.
inline void write_answer(std::span<const uint8_t> pkt, NtpTimestamp receive, const AnswerTemplate& answer,
                         uint8_t version, Mode reply_mode, uint8_t* p) noexcept {
  const uint8_t poll = pkt[off::kPoll];
  const uint64_t client_xmt = load_be64(pkt.data() + off::kTransmit);
  std::memcpy(p, answer.bytes(), AnswerTemplate::kSize);
  // The first word (LI/VN/mode, stratum, poll, precision) is built in a
  // register and stored once: the checksum reads it back 4 bytes wide,
  // and a load spanning a byte store and the template's wide store cannot
  // be forwarded (a stall of some 15 cycles per answer, seen in perf).
  const uint8_t first[4] = {static_cast<uint8_t>(answer.bytes()[off::kLiVnMode] |
                                                 pack_li_vn_mode(Leap::kNone, version, reply_mode)),
                            answer.bytes()[off::kStratum], poll, answer.bytes()[off::kPrecision]};
  uint32_t word;
  std::memcpy(&word, first, sizeof word);
  std::memcpy(p + off::kLiVnMode, &word, sizeof word);
  // RFC 5905 section 8: the client's transmit timestamp comes back as our
  // origin timestamp; the client matches answers to requests with it.
  store_be64(p + off::kOrigin, client_xmt);
  store_be64(p + off::kReceive, receive.raw);
  store_be64(p + off::kTransmit, 0);
}
}  // namespace detail

inline Verdict respond(const Request& req, const AnswerTemplate& answer, std::span<uint8_t> out) noexcept {
  if (req.packet.size() == kNtpHeaderSize) [[likely]] {
    const uint8_t lvm = req.packet[off::kLiVnMode];
    const uint8_t version = version_of(lvm);
    if (mode_of(lvm) == Mode::kClient && static_cast<uint8_t>(version - 1) < 4 &&
        load_be64(req.packet.data() + off::kTransmit) != 0) [[likely]] {
      detail::write_answer(req.packet, req.receive, answer, version, Mode::kServer, out.data());
      return Verdict{Action::kReply, DropReason{}, static_cast<uint8_t>(Mode::kClient), version,
                     static_cast<uint16_t>(kNtpHeaderSize)};
    }
  }
  return respond_general(req, answer, out);
}

// respond() in two steps, for callers that decide between the checks and
// the answer (access list, rate limit): classify() makes every check and
// writes nothing; write_reply() writes the answer a kReply verdict admits.
Verdict classify(const Request& req) noexcept;

// REQUIRES: v == classify(req) and v.action == Action::kReply.
inline void write_reply(const Request& req, const Verdict& v, const AnswerTemplate& answer,
                        std::span<uint8_t> out) noexcept {
  const Mode reply = v.mode == static_cast<uint8_t>(Mode::kSymmetricActive) ? Mode::kSymmetricPassive : Mode::kServer;
  detail::write_answer(req.packet, req.receive, answer, v.version, reply, out.data());
}

// Writes the transmit timestamp of a kReply answer.
inline void stamp_transmit(uint8_t* answer, NtpTimestamp xmt) noexcept {
  store_be64(answer + off::kTransmit, xmt.raw);
}

// Builds a Kiss-o'-Death answer (RFC 5905 section 7.4) to a request that
// passed respond()'s checks: LI=3, stratum 0, the kiss code in the refid, and
// no time given away (receive and transmit echo the client's transmit
// timestamp, as ntpd does). `poll` tells the client how long to back off
// (log2 s); the larger of it and the request's poll is sent. `out` may alias
// the request. REQUIRES: request.size() >= kNtpHeaderSize, out too.
Verdict build_kod(std::span<const uint8_t> request, KissCode code, int8_t poll,
                  std::span<uint8_t> out) noexcept;

// The four ASCII characters of a kiss code, as a refid.
uint32_t kiss_refid(KissCode code) noexcept;
const char* kiss_code_name(KissCode code) noexcept;

// Counts a verdict in a worker's block (answers by mode/version, drops by
// reason).
inline void count(NtpCounters& c, const Verdict& v) noexcept {
  if (v.action == Action::kDrop) {
    c.drop(v.reason);
  } else if (v.action != Action::kControl) {
    c.reply(v.mode, v.version);
  }
}

}  // namespace tachyon::core
