#include "tools/gen/validator.h"

namespace tachyon::gen {
namespace {

AnswerCheck invalid(Invalid why) noexcept {
  AnswerCheck c;
  c.verdict = Verdict::kInvalid;
  c.invalid = why;
  return c;
}

Kiss kiss_of(uint32_t refid) noexcept {
  switch (refid) {
    case core::refid_from_ascii("RATE"): return Kiss::kRate;
    case core::refid_from_ascii("DENY"): return Kiss::kDeny;
    case core::refid_from_ascii("RSTR"): return Kiss::kRstr;
    default: return Kiss::kOther;
  }
}

}  // namespace

AnswerCheck check_answer(std::span<const uint8_t> ntp, const Expectation& expected, const LocalTimes& local,
                         const ValidatorOptions& options) noexcept {
  using core::off::kLiVnMode;
  if (ntp.size() < core::kNtpHeaderSize) return invalid(Invalid::kTruncated);
  const uint8_t* p = ntp.data();
  const uint8_t lvm = p[kLiVnMode];
  const uint8_t version = core::version_of(lvm);

  bool crypto_nak = false;
  if (ntp.size() > core::kNtpHeaderSize) [[unlikely]] {
    const core::Trailer t = core::parse_trailer(ntp, version);
    if (t.status != core::TrailerStatus::kOk) return invalid(Invalid::kBadTrailer);
    crypto_nak = t.crypto_nak;
  }
  // RFC 5905 section 8: the origin timestamp ties the answer to the request
  // (and defeats off-path spoofing: it was random). An interleaved answer
  // to a request that gave no previous receive timestamp cannot be one.
  if (core::load_be64(p + core::off::kOrigin) != expected.origin ||
      (expected.interleaved && expected.previous_receive == 0)) {
    return invalid(Invalid::kOriginMismatch);
  }
  if (core::mode_of(lvm) != expected.reply_mode) return invalid(Invalid::kMode);
  if (version != expected.version) return invalid(Invalid::kVersion);

  const uint8_t stratum = p[core::off::kStratum];
  if (stratum == core::kStratumKiss) {
    // RFC 5905 section 7.4: a kiss code in the refid, no time.
    AnswerCheck c;
    c.verdict = Verdict::kKissOfDeath;
    c.kiss = kiss_of(core::load_be32(p + core::off::kRefid));
    return c;
  }
  if (crypto_nak) {
    AnswerCheck c;
    c.verdict = Verdict::kCryptoNak;
    return c;
  }
  if (stratum > core::kStratumUnsynchronized) return invalid(Invalid::kStratum);
  const bool unsync = core::leap_of(lvm) == core::Leap::kUnsync || stratum == core::kStratumUnsynchronized;
  if (unsync && options.reject_unsync) return invalid(Invalid::kUnsynchronized);

  const core::NtpTimestamp rec{core::load_be64(p + core::off::kReceive)};
  const core::NtpTimestamp xmt{core::load_be64(p + core::off::kTransmit)};
  if (rec.is_zero() || xmt.is_zero()) return invalid(Invalid::kZeroTimestamp);
  // An answer leaves after its request came in. Interleaved, T3 is the
  // previous answer's, whose T2 the request carried as its origin.
  const core::NtpTimestamp answered_rec = expected.interleaved ? core::NtpTimestamp{expected.previous_receive} : rec;
  const int64_t processing = core::ntp_diff_nanos(xmt, answered_rec);
  if (processing < 0) return invalid(Invalid::kReceiveAfterTransmit);
  // T2 and T3 must lie in [T1 - bound, T4 + bound]: the server stamped the
  // request between our sending and receiving it, give or take how far its
  // clock may be from ours. (T2 <= T3 bounds the other sides; an
  // interleaved T3 is older, so T2's upper side is checked apart and T3's
  // lower side would need the previous exchange's T1.)
  const int64_t rec_after_t1 = core::ntp_diff_nanos(rec, local.sent);
  const int64_t xmt_after_t4 = core::ntp_diff_nanos(xmt, local.received);
  if (!unsync && (rec_after_t1 < -options.max_offset_ns || xmt_after_t4 > options.max_offset_ns ||
                  (expected.interleaved && core::ntp_diff_nanos(rec, local.received) > options.max_offset_ns))) {
    return invalid(Invalid::kOutOfBounds);
  }

  AnswerCheck c;
  c.verdict = unsync ? Verdict::kUnsynchronized : Verdict::kGood;
  c.processing_ns = processing;
  if (!expected.interleaved) {
    c.xmt_offset_ns = xmt_after_t4;
    c.offset_ns = (rec_after_t1 + xmt_after_t4) / 2;
  }
  return c;
}

AnswerCheck check_answer_mac(const AnswerCheck& check, std::span<const uint8_t> ntp, uint32_t key_id,
                             auth::MacEngine& engine, const auth::KeyStore& keys) noexcept {
  if (check.verdict != Verdict::kGood && check.verdict != Verdict::kUnsynchronized) return check;
  if (ntp.size() == core::kNtpHeaderSize) return invalid(Invalid::kUnsignedAnswer);
  // check_answer() found the trailer well-formed.
  const core::Trailer t = core::parse_trailer(ntp, core::version_of(ntp[core::off::kLiVnMode]));
  if (!t.has_mac()) return invalid(Invalid::kUnsignedAnswer);
  // RFC 5905 section 7.3: the server answers with the key the request used.
  if (t.key_id(ntp) != key_id) return invalid(Invalid::kBadMac);
  if (engine.verify(ntp, t.mac_offset, t.mac_length, keys).status != auth::MacStatus::kValid) {
    return invalid(Invalid::kBadMac);
  }
  return check;
}

const char* invalid_name(Invalid i) noexcept {
  switch (i) {
    case Invalid::kTruncated: return "truncated";
    case Invalid::kBadTrailer: return "bad_trailer";
    case Invalid::kOriginMismatch: return "origin_mismatch";
    case Invalid::kUnknownOrigin: return "unknown_origin";
    case Invalid::kMode: return "mode";
    case Invalid::kVersion: return "version";
    case Invalid::kStratum: return "stratum";
    case Invalid::kZeroTimestamp: return "zero_timestamp";
    case Invalid::kReceiveAfterTransmit: return "receive_after_transmit";
    case Invalid::kOutOfBounds: return "out_of_bounds";
    case Invalid::kIpChecksum: return "ip_checksum";
    case Invalid::kUnsynchronized: return "unsynchronized";
    case Invalid::kUnsignedAnswer: return "unsigned_answer";
    case Invalid::kBadMac: return "bad_mac";
    case Invalid::kCount_: break;
  }
  return "unknown";
}

const char* invalid_description(Invalid i) noexcept {
  switch (i) {
    case Invalid::kTruncated: return "shorter than the 48-byte NTP header";
    case Invalid::kBadTrailer: return "malformed extension fields or MAC after the header";
    case Invalid::kOriginMismatch:
      return "origin timestamp is not the request's transmit timestamp (or, interleaved, its receive timestamp)";
    case Invalid::kUnknownOrigin: return "origin timestamp matches no request sent in this run";
    case Invalid::kMode: return "wrong mode (expected 4, or 2 for a mode-1 request)";
    case Invalid::kVersion: return "version of the request not echoed";
    case Invalid::kStratum: return "stratum 17-255 (reserved)";
    case Invalid::kZeroTimestamp: return "receive or transmit timestamp is zero";
    case Invalid::kReceiveAfterTransmit:
      return "receive timestamp later than transmit timestamp (interleaved: those of the previous answer)";
    case Invalid::kOutOfBounds: return "server timestamps further than --max-offset from our clock";
    case Invalid::kIpChecksum: return "IPv4 header checksum wrong";
    case Invalid::kUnsynchronized: return "unsynchronized server (LI=3 or stratum 16) with --reject-unsync";
    case Invalid::kUnsignedAnswer: return "answer to a signed request (--keys) carries no MAC";
    case Invalid::kBadMac: return "answer's MAC is not under the request's key, or does not verify";
    case Invalid::kCount_: break;
  }
  return "unknown";
}

const char* kiss_name(Kiss k) noexcept {
  switch (k) {
    case Kiss::kRate: return "RATE";
    case Kiss::kDeny: return "DENY";
    case Kiss::kRstr: return "RSTR";
    case Kiss::kOther: return "other";
    case Kiss::kCount_: break;
  }
  return "other";
}

}  // namespace tachyon::gen
