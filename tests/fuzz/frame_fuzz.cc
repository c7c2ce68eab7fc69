// libFuzzer target: the worker's whole frame path (dp::handle_frame and the
// transmit stamp) on arbitrary frames, with an admission policy in place
// (access list with KoD DENY, rate limiting with KoD RATE and the leak,
// mode 6 allowed for part of the lab's prefix, symmetric keys for every
// algorithm, interleaved mode on for half the inputs). Beyond "no crash":
// - an answer fits the buffer and goes to a unicast MAC;
// - it is never longer than its request, except mode 6 to an allowed source.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "auth/mac_engine.h"
#include "dpdk/frame_handler.h"

using namespace tachyon;

namespace {

struct Rig {
  dp::PortIdentity id;
  core::AnswerTemplate answer;
  core::ServicePolicy policy;
  std::unique_ptr<core::NtpService> service;
  core::SeqlockCell<core::SystemVariables> control;
  auth::MacEngine mac = auth::MacEngine::create().value();
  auth::AuthPolicy auth;
  core::InterleaveTable interleave{256};

  Rig() {
    std::vector<auth::Key> keys;
    for (uint32_t key_id = 1; key_id <= 3; ++key_id) {
      auth::Key k;
      k.id = key_id;
      k.algorithm = key_id == 1   ? auth::Algorithm::kMd5
                    : key_id == 2 ? auth::Algorithm::kSha1
                                  : auth::Algorithm::kAes128Cmac;
      k.size = 16;
      for (uint8_t i = 0; i < 16; ++i) k.bytes[i] = static_cast<uint8_t>(key_id * 16 + i);
      keys.push_back(k);
    }
    auth.keys = auth::KeyStore(std::move(keys));
    id.mac = {0x02, 0, 0, 0, 0, 1};
    id.add_ipv4(0xc0000201, 24);  // 192.0.2.1/24
    const auto v6 = core::IpAddress::parse("2001:db8::1");
    dp::Ipv6Address a;
    std::memcpy(a.data(), v6->bytes.data(), 16);
    id.add_ipv6(a);
    id.add_ipv6(id.link_local());
    core::ServerState s;
    s.synchronized = true;
    s.leap = core::Leap::kNone;
    s.stratum = 1;
    answer = core::AnswerTemplate(s);
    const auto denied = core::parse_prefix("192.0.2.128/26");
    policy.access.add(denied->address, denied->length, core::Rule::kDeny);
    policy.access.build();
    policy.denied = core::Refusal::kKod;
    const auto ctl = core::parse_prefix("192.0.2.0/25");
    policy.control_allow.add(ctl->address, ctl->length, core::Rule::kAllow);
    policy.control_allow.build();
    core::RateLimitOptions rate;
    rate.table_entries = 256;
    rate.burst = 2;
    rate.seed = 1;
    policy.rate_limit = true;
    policy.rate = core::RateLimitParams::from(rate);
    service = std::make_unique<core::NtpService>(rate);
    service->use(&policy);
  }
};

bool is_mode6_answer(const uint8_t* frame, const dp::FrameVerdict& v) {
  return v.udp && v.length > v.ntp_offset && (frame[v.ntp_offset] & 7) == 6;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Rig rig;
  constexpr size_t kCapacity = 2048;
  if (size > 1600) size = 1600;
  std::vector<uint8_t> buf(kCapacity, 0);
  std::memcpy(buf.data(), data, size);
  const bool offload = size % 3 == 0;
  dp::FrameContext ctx(&rig.id, &rig.answer, core::NtpTimestamp{0xeeab'0000'0000'0000ull + size}, offload);
  ctx.service = rig.service.get();
  ctx.control = &rig.control;
  ctx.mac = &rig.mac;
  ctx.auth = &rig.auth;
  if (size % 2 == 0) {
    ctx.interleave = &rig.interleave;
    ctx.rx = rig.interleave.mark_unique(ctx.rx);
    // Some inputs find their origin remembered.
    if (size >= 8) rig.interleave.remember(core::NtpTimestamp{core::load_be64(data) | 1}, ctx.rx);
  }
  dp::WorkerCounters counters;
  const dp::FrameVerdict v = dp::handle_frame(buf.data(), static_cast<uint16_t>(size), kCapacity, ctx, counters);
  if (v.action == dp::FrameAction::kDrop) return 0;
  if (v.length > kCapacity || v.length < 14) std::abort();
  if ((buf[0] & 1) != 0) std::abort();  // never to a multicast/broadcast MAC
  if (v.length > size && !is_mode6_answer(buf.data(), v)) std::abort();
  if (v.action == dp::FrameAction::kSendNtp) {
    if (v.ntp_offset + 48 > v.length) std::abort();
    if (!dp::stamp_ntp_frame(buf.data(), v, core::NtpTimestamp{0xeeab'0000'0000'1000ull}, offload, &rig.mac)) {
      std::abort();  // signing never fails with these keys
    }
  }
  return 0;
}
