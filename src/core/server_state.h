// What a server says about its own clock in every answer: the snapshot of
// header fields that core::respond() copies into replies. The clock layer
// produces it (see clock_model.h); respond() only reads it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/ntp_packet.h"
#include "core/ntp_time.h"

namespace tachyon::core {

struct ServerState {
  bool synchronized = false;
  Leap leap = Leap::kUnsync;  // leap warning to announce while synchronized
  uint8_t stratum = kStratumUnsynchronized;
  int8_t precision = -20;
  uint32_t refid = 0;
  NtpShort root_delay;
  NtpShort root_dispersion;
  NtpTimestamp reference_time;

  // The leap indicator and stratum actually sent: RFC 5905 section 7.3 says
  // an unsynchronized server answers LI=3 and stratum 16 so no client
  // follows it.
  Leap wire_leap() const noexcept { return synchronized ? leap : Leap::kUnsync; }
  uint8_t wire_stratum() const noexcept { return synchronized ? stratum : kStratumUnsynchronized; }
};

}  // namespace tachyon::core

namespace tachyon::core {

// The first 24 bytes of every answer (LI, stratum, poll slot, precision, root
// delay, root dispersion, refid, reference timestamp), encoded once per
// snapshot instead of once per answer: respond() copies them and fills in
// only version, mode and poll. Immutable after construction.
class AnswerTemplate {
 public:
  static constexpr size_t kSize = 24;

  AnswerTemplate() noexcept : AnswerTemplate(ServerState{}) {}
  explicit AnswerTemplate(const ServerState& s) noexcept : state_(s) {
    bytes_[off::kLiVnMode] = pack_li_vn_mode(s.wire_leap(), 0, Mode::kReserved);
    bytes_[off::kStratum] = s.wire_stratum();
    bytes_[off::kPoll] = 0;
    bytes_[off::kPrecision] = static_cast<uint8_t>(s.precision);
    store_be32(bytes_ + off::kRootDelay, s.root_delay.raw);
    store_be32(bytes_ + off::kRootDispersion, s.root_dispersion.raw);
    store_be32(bytes_ + off::kRefid, s.refid);
    store_be64(bytes_ + off::kReference, s.reference_time.raw);
  }

  const uint8_t* bytes() const noexcept { return bytes_; }
  const ServerState& state() const noexcept { return state_; }

 private:
  alignas(8) uint8_t bytes_[kSize] = {};
  ServerState state_;
};

}  // namespace tachyon::core
