#include "core/responder.h"

namespace tachyon::core {
namespace {

// Whether a request mode is answered, or why not. RFC 5905 section 9.2
// (dispatch table): a client (3) gets a server (4) answer; a symmetric
// active peer (1) we have no association with gets a symmetric passive (2)
// answer and no state is kept (Windows w32time hosts that are themselves
// servers send mode 1); write_reply() picks the answer's mode. Modes 2, 4
// and 5 are answers or broadcasts, never requests.
struct ModeDecision {
  bool answer;
  DropReason reason;
};

constexpr ModeDecision decide_mode(Mode mode, uint8_t version, uint16_t client_port) noexcept {
  switch (mode) {
    case Mode::kClient:
    case Mode::kSymmetricActive:
      return {true, {}};
    case Mode::kReserved:
      // NTPv1 (RFC 1059) has no mode field: a client is told apart from a
      // peer by its source port. Never answer with mode 0 (as chrony).
      if (version == 1 && client_port != kNtpPort) return {true, {}};
      return {false, DropReason::kNtpModeReserved};
    case Mode::kSymmetricPassive:
      return {false, DropReason::kNtpModeSymPassive};
    case Mode::kServer:
      return {false, DropReason::kNtpModeServer};
    case Mode::kBroadcast:
      return {false, DropReason::kNtpModeBroadcast};
    case Mode::kControl:
      return {false, DropReason::kNtpModeControl};
    case Mode::kPrivate:
      return {false, DropReason::kNtpModePrivate};
  }
  return {false, DropReason::kNtpModeReserved};
}

}  // namespace

Verdict respond_general(const Request& req, const AnswerTemplate& answer, std::span<uint8_t> out) noexcept {
  const Verdict v = classify(req);
  if (v.action == Action::kReply) write_reply(req, v, answer, out);
  return v;
}

Verdict classify(const Request& req) noexcept {
  const std::span<const uint8_t> pkt = req.packet;
  if (pkt.empty()) return Verdict::drop(DropReason::kNtpTruncated);

  // Mode before length: control (mode 6, 12-byte header) and private (mode 7)
  // requests are shorter than an NTP header and are counted as what they are.
  const uint8_t lvm = pkt[off::kLiVnMode];
  const uint8_t version = version_of(lvm);
  const auto mode = mode_of(lvm);
  const auto mode_index = static_cast<uint8_t>(mode);
  if (version == 0 || version > 4) return Verdict::drop(DropReason::kNtpBadVersion, mode_index, version);

  if (mode == Mode::kControl) {
    return Verdict{Action::kControl, DropReason::kNtpModeControl, mode_index, version, 0};
  }
  const ModeDecision decision = decide_mode(mode, version, req.client_port);
  if (!decision.answer) return Verdict::drop(decision.reason, mode_index, version);
  if (pkt.size() < kNtpHeaderSize) return Verdict::drop(DropReason::kNtpTruncated, mode_index, version);
  // RFC 5905 section 8: a client matches an answer to its request by the
  // request's transmit timestamp, echoed as our origin. With a zero one no
  // client can, and ours would look like an answer to any zero-origin probe.
  if (load_be64(pkt.data() + off::kTransmit) == 0) {
    return Verdict::drop(DropReason::kNtpZeroTransmit, mode_index, version);
  }

  // Requests that carry more than the header are checked before answering:
  // a malformed chain means a broken or hostile sender. Unknown but
  // well-formed extension fields are ignored (RFC 7822 section 3).
  if (pkt.size() > kNtpHeaderSize) [[unlikely]] {
    if (parse_trailer(pkt, version).status != TrailerStatus::kOk) {
      return Verdict::drop(DropReason::kNtpBadTrailer, mode_index, version);
    }
  }

  return Verdict{Action::kReply, DropReason{}, mode_index, version, static_cast<uint16_t>(kNtpHeaderSize)};
}

uint32_t kiss_refid(KissCode code) noexcept {
  switch (code) {
    case KissCode::kRate: return refid_from_ascii("RATE");
    case KissCode::kDeny: return refid_from_ascii("DENY");
    case KissCode::kRstr: return refid_from_ascii("RSTR");
    case KissCode::kCount_: break;
  }
  return 0;
}

const char* kiss_code_name(KissCode code) noexcept {
  switch (code) {
    case KissCode::kRate: return "RATE";
    case KissCode::kDeny: return "DENY";
    case KissCode::kRstr: return "RSTR";
    case KissCode::kCount_: break;
  }
  return "????";
}

Verdict build_kod(std::span<const uint8_t> request, KissCode code, int8_t poll,
                  std::span<uint8_t> out) noexcept {
  const uint8_t lvm = request[off::kLiVnMode];
  const uint8_t version = version_of(lvm);
  const auto mode = mode_of(lvm);
  const auto reply_mode = mode == Mode::kSymmetricActive ? Mode::kSymmetricPassive : Mode::kServer;
  const auto req_poll = static_cast<int8_t>(request[off::kPoll]);
  const uint64_t client_xmt = load_be64(request.data() + off::kTransmit);

  uint8_t* p = out.data();
  p[off::kLiVnMode] = pack_li_vn_mode(Leap::kUnsync, version, reply_mode);
  p[off::kStratum] = kStratumKiss;
  p[off::kPoll] = static_cast<uint8_t>(req_poll > poll ? req_poll : poll);
  p[off::kPrecision] = 0;
  store_be32(p + off::kRootDelay, 0);
  store_be32(p + off::kRootDispersion, 0);
  store_be32(p + off::kRefid, kiss_refid(code));
  store_be64(p + off::kReference, 0);
  // The origin must match for the client to believe the kiss (RFC 5905
  // section 7.4); the other timestamps give no time away.
  store_be64(p + off::kOrigin, client_xmt);
  store_be64(p + off::kReceive, client_xmt);
  store_be64(p + off::kTransmit, client_xmt);
  return Verdict{Action::kReplyKod, DropReason{}, static_cast<uint8_t>(mode), version,
                 static_cast<uint16_t>(kNtpHeaderSize)};
}

}  // namespace tachyon::core
