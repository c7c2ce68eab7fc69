#include "tools/query/answer.h"

namespace tachyon::query {

using core::Leap;
using core::Mode;
using core::NtpHeader;

void encode_request(const Request& request, std::span<uint8_t> out) noexcept {
  NtpHeader h;
  // LI=3 and stratum 0: we announce no time of our own, so a symmetric-mode
  // peer (ntpd with an open `peer` policy) can never pick us as a source.
  h.leap = Leap::kUnsync;
  h.version = request.version;
  h.mode = request.mode;
  h.stratum = 0;
  h.transmit = request.xmt;
  core::encode_header(h, out);
}

Mode answer_mode_for(Mode request_mode) noexcept {
  return request_mode == Mode::kSymmetricActive ? Mode::kSymmetricPassive : Mode::kServer;
}

const char* answer_verdict_name(AnswerVerdict v) noexcept {
  switch (v) {
    case AnswerVerdict::kOk: return "ok";
    case AnswerVerdict::kTooShort: return "shorter than 48 bytes";
    case AnswerVerdict::kBogusOrigin: return "origin timestamp is not our transmit timestamp";
    case AnswerVerdict::kWrongMode: return "wrong mode";
    case AnswerVerdict::kWrongVersion: return "wrong version";
    case AnswerVerdict::kKissOfDeath: return "kiss-o'-death";
    case AnswerVerdict::kZeroTimestamp: return "zero receive or transmit timestamp";
    case AnswerVerdict::kUnsynchronized: return "unsynchronized";
  }
  return "unknown";
}

AnswerVerdict check_answer(std::span<const uint8_t> bytes, const Request& request) noexcept {
  if (bytes.size() < core::kNtpHeaderSize) return AnswerVerdict::kTooShort;
  const NtpHeader h = core::decode_header(bytes);
  // RFC 5905 section 8: an answer whose origin is not the transmit timestamp
  // we sent is a duplicate of an older exchange or a forgery.
  if (h.origin != request.xmt) return AnswerVerdict::kBogusOrigin;
  if (h.mode != answer_mode_for(request.mode)) return AnswerVerdict::kWrongMode;
  if (h.version != request.version) return AnswerVerdict::kWrongVersion;
  // RFC 5905 section 7.4: stratum 0 in an answer is a kiss-o'-death, whose
  // timestamps need not be meaningful.
  if (h.stratum == core::kStratumKiss) return AnswerVerdict::kKissOfDeath;
  if (h.receive.is_zero() || h.transmit.is_zero()) return AnswerVerdict::kZeroTimestamp;
  if (h.leap == Leap::kUnsync || h.stratum >= core::kStratumUnsynchronized) return AnswerVerdict::kUnsynchronized;
  return AnswerVerdict::kOk;
}

OnWire on_wire(const Exchange& e) noexcept {
  const int64_t t21 = core::ntp_diff_nanos(e.t2, e.t1);
  const int64_t t34 = core::ntp_diff_nanos(e.t3, e.t4);
  const int64_t t41 = core::ntp_diff_nanos(e.t4, e.t1);
  const int64_t t32 = core::ntp_diff_nanos(e.t3, e.t2);
  return OnWire{(t21 + t34) / 2, t41 - t32};
}

int64_t Sample::root_distance_ns() const noexcept {
  const int64_t delay = measured.delay_ns > 0 ? measured.delay_ns : 0;
  return core::nanos_from_ntp_short(answer.root_delay) / 2 + core::nanos_from_ntp_short(answer.root_dispersion) +
         delay / 2;
}

Sample make_sample(std::span<const uint8_t> bytes, AnswerVerdict verdict, int64_t t1_unix_ns,
                   int64_t t4_unix_ns) noexcept {
  Sample s;
  s.verdict = verdict;
  s.answer = core::decode_header(bytes);
  s.t1_unix_ns = t1_unix_ns;
  s.t4_unix_ns = t4_unix_ns;
  if (s.has_time()) {
    // t1 is the origin the server echoed (checked equal to what we sent).
    s.measured = on_wire(Exchange{s.answer.origin, s.answer.receive, s.answer.transmit,
                                  core::ntp_from_unix_nanos(t4_unix_ns)});
  }
  return s;
}

}  // namespace tachyon::query
