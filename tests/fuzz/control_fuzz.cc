// libFuzzer target: core::respond_control() on arbitrary bytes, answered in
// place in a 2 KB buffer as the dataplane does it. Invariants checked beyond
// "no crash": nothing is written past the buffer, an answer is one padded
// fragment (at most 468 data octets) that echoes the request's sequence,
// opcode and association, and only well-formed requests are answered.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/control.h"

using namespace tachyon::core;

namespace {

SystemVariables variables(bool extreme) {
  SystemVariables v;
  v.leap = Leap::kNone;
  v.stratum = 1;
  v.refid = refid_from_ascii("GPS\0");
  v.reference_select = PeerSelect::kSysPeer;
  v.reach = 0xff;
  v.tai_offset_s = 37;
  v.leap_file_expiry_unix = 1'782'777'600;
  if (extreme) {
    v.stratum = 255;
    v.precision = -128;
    v.root_delay = NtpShort{0xffff'ffff};
    v.root_dispersion = NtpShort{0xffff'ffff};
    v.offset_ns = std::numeric_limits<int64_t>::min();
    v.jitter_ns = std::numeric_limits<int64_t>::max();
    v.frequency_ppm = -1e300;
    v.uptime_s = std::numeric_limits<int64_t>::max();
    v.leap_file_expiry_unix = std::numeric_limits<int64_t>::max();
    v.reference_address = 0xffff'ffff;
    std::memset(v.version, 'v', sizeof v.version);  // not NUL-terminated on purpose
    std::memset(v.source, '"', sizeof v.source);
    std::memset(v.state, ',', sizeof v.state);
  }
  return v;
}

const SystemVariables kPlain = variables(false);
const SystemVariables kExtreme = variables(true);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kBuffer = 2048;
  constexpr size_t kGuard = 64;
  if (size > kBuffer) return 0;
  static uint8_t buf[kBuffer + kGuard];
  std::memset(buf + kBuffer, 0xa5, kGuard);
  std::memcpy(buf, data, size);

  const std::span<const uint8_t> request(buf, size);
  const ControlResult r =
      respond_control(request, NtpTimestamp{0xeeab'b75b'4ad5'59c6ull}, (size & 1) ? kExtreme : kPlain,
                      std::span<uint8_t>(buf, kBuffer));
  for (size_t i = kBuffer; i < kBuffer + kGuard; ++i) {
    if (buf[i] != 0xa5) std::abort();
  }
  if (!r.answer) return 0;

  if (size < kControlHeaderSize || size % 4 != 0) std::abort();
  const ControlHeader q = decode_control_header(std::span<const uint8_t>(data, size));
  const ControlHeader a = decode_control_header(std::span<const uint8_t>(buf, r.length));
  if (q.mode != Mode::kControl || q.response || q.error || q.more || q.offset != 0) std::abort();
  if (r.length > kControlMaxAnswer || r.length % 4 != 0) std::abort();
  if (a.count > kControlMaxData || kControlHeaderSize + a.count > r.length) std::abort();
  if (!a.response || a.more || a.mode != Mode::kControl || a.version != q.version) std::abort();
  if (a.sequence != q.sequence || a.opcode != q.opcode || a.association != q.association) std::abort();
  if (a.error != r.error || (a.error && a.count != 0)) std::abort();
  // Text answers stay parseable: printable characters and the final CRLF.
  if (!a.error && a.opcode == static_cast<uint8_t>(ControlOpcode::kReadVariables)) {
    for (size_t i = kControlHeaderSize; i < kControlHeaderSize + a.count; ++i) {
      const uint8_t c = buf[i];
      if (!((c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n')) std::abort();
    }
  }
  return 0;
}
