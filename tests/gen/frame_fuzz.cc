// libFuzzer target: whatever arrives on tachyon-gen's port goes through
// classify(), then the answer validator (and, as for an answer to a signed
// request, the check of its MAC), the ARP / neighbor-solicitation
// answerers or the MAC resolution, as in the worker and the resolver. None
// may read or write outside the frame (run under ASan/UBSan).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "auth/key_file.h"
#include "tests/gen/reference_mac.h"
#include "tools/gen/frames.h"
#include "tools/gen/validator.h"

namespace {

using namespace tachyon;
using namespace tachyon::gen;

constexpr size_t kCapacity = 2048;

const ClientSet& clients() {
  static const ClientSet set = [] {
    std::vector<IpAddress> v = *client_addresses(*parse_prefix("192.0.2.128/25"), 200, {});
    const auto v6 = *client_addresses(*parse_prefix("2001:db8::8000/120"), 200, {});
    v.insert(v.end(), v6.begin(), v6.end());
    return ClientSet(v);
  }();
  return set;
}

// --keys: the keys a signed request's answer is checked against.
const auth::KeyStore& keys() {
  static const auth::KeyStore store = [] {
    auth::KeyFileResult file = auth::parse_key_file(testing::kTestKeys, "fuzz.keys");
    return std::move(file.keys);
  }();
  return store;
}

auth::MacEngine& engine() {
  static auth::MacEngine e = std::move(auth::MacEngine::create().value());
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kCapacity || size < 1) return 0;
  // The first byte picks the server's family, the VLAN and the key of a
  // signed request; the rest is the frame.
  const bool v6 = data[0] & 1;
  const uint32_t key_id = 1 + (data[0] >> 2) % 3;
  RxFilter f;
  f.mac = {0x02, 0, 0, 0, 0, 0x02};
  f.vlan = (data[0] & 2) ? 7 : 0;
  f.server = *parse_ip(v6 ? "2001:db8::1" : "192.0.2.1");
  f.clients = &clients();
  ++data;
  --size;

  // Exactly `size` bytes on the heap, so ASan sees any overread; answers
  // may grow into the rest of the capacity, as into an mbuf's.
  std::vector<uint8_t> frame(data, data + size);
  frame.reserve(kCapacity);
  const auto length = static_cast<uint16_t>(size);
  const Classified c = classify(frame.data(), length, f);
  switch (c.kind) {
    case FrameKind::kNtpAnswer: {
      const std::span<const uint8_t> ntp(frame.data() + c.payload_offset, c.payload_length);
      const LocalTimes local{core::NtpTimestamp{0xe000'0000'0000'0000ull}, core::NtpTimestamp{0xe000'0001'0000'0000ull}};
      const uint64_t origin = ntp.size() >= 32 ? core::load_be64(ntp.data() + 24) : 0;
      const AnswerCheck checked = check_answer(ntp, Expectation{4, core::Mode::kServer, origin}, local, ValidatorOptions{});
      (void)check_answer_mac(checked, ntp, key_id, engine(), keys());
      break;
    }
    case FrameKind::kArpRequest:
      (void)answer_arp(frame.data(), length, c, f.mac);
      break;
    case FrameKind::kNeighborSolicitation: {
      std::vector<uint8_t> room(kCapacity);
      std::memcpy(room.data(), frame.data(), size);
      (void)answer_neighbor_solicitation(room.data(), length, static_cast<uint16_t>(kCapacity), c, f.mac);
      break;
    }
    case FrameKind::kArpReply:
    case FrameKind::kNeighborAdvertisement: {
      Mac mac{};
      (void)resolved_mac(frame.data(), length, c, f.server, mac);
      break;
    }
    case FrameKind::kIpChecksumBad:
    case FrameKind::kOther:
      break;
  }
  return 0;
}
