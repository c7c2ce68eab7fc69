// libFuzzer target: core::respond() and the trailer parser on arbitrary
// bytes. Invariants checked beyond "no crash": an answer is never longer
// than its request and always carries the request's transmit timestamp.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/responder.h"

using namespace tachyon::core;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ServerState state;
  state.synchronized = (size & 1) != 0;
  state.stratum = 1;
  state.leap = Leap::kNone;
  state.refid = refid_from_ascii("GPS\0");

  // In place, as the dataplane does it: the answer overwrites the request.
  std::vector<uint8_t> buf(data, data + size);
  if (buf.size() < kNtpHeaderSize) buf.resize(kNtpHeaderSize);
  const Request req{std::span<const uint8_t>(buf.data(), size), NtpTimestamp{0x1234}, 40000};
  const Verdict v = respond(req, AnswerTemplate(state), buf);
  if (v.action == Action::kReply || v.action == Action::kReplyKod) {
    if (v.length > size) std::abort();
    if (std::memcmp(buf.data() + off::kOrigin, data + off::kTransmit, 8) != 0) std::abort();
  }
  if (size >= kNtpHeaderSize) {
    const Trailer t = parse_trailer(std::span<const uint8_t>(data, size), version_of(data[0]));
    if (t.status == TrailerStatus::kOk && size_t{t.mac_offset} + t.mac_length > size) std::abort();
  }
  return 0;
}
