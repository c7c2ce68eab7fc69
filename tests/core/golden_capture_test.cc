// Golden tests: every request a real client sent in tests/data/captures gets
// an answer that this client would accept, and matches chronyd's answer in
// the same capture wherever the two must agree.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/responder.h"
#include "tests/support/pcap_file.h"

namespace tachyon::core {
namespace {

using tachyon::testing::captures_dir;
using tachyon::testing::read_capture;
using tachyon::testing::udp_of;

struct Exchange {
  std::vector<uint8_t> request;
  uint16_t client_port = 0;
  int64_t request_time_ns = 0;
  std::vector<uint8_t> chronyd_answer;  // empty if chronyd did not answer
};

std::vector<Exchange> exchanges(const std::string& file) {
  std::vector<Exchange> out;
  for (const auto& frame : read_capture(captures_dir() + "/" + file)) {
    const auto udp = udp_of(frame.bytes);
    if (!udp) continue;
    if (udp->dst_port == kNtpPort) {
      out.push_back(Exchange{udp->payload, udp->src_port, frame.unix_ns, {}});
    } else if (udp->src_port == kNtpPort && !out.empty()) {
      out.back().chronyd_answer = udp->payload;
    }
  }
  return out;
}

// chronyd in the captures: `local stratum 1`, refid 127.127.1.1, precision -25.
ServerState state_like_chronyd() {
  ServerState s;
  s.synchronized = true;
  s.leap = Leap::kNone;
  s.stratum = 1;
  s.precision = -25;
  s.refid = 0x7f7f0101;
  s.reference_time = NtpTimestamp{0xeeaba4c5ec0b98cbull};
  return s;
}

// What every client in the captures checks before it uses an answer
// (RFC 5905 section 8 and the clients' sources): right mode, same version,
// our origin is its transmit timestamp, a usable stratum and leap, and
// non-zero receive <= transmit.
void expect_acceptable(const std::vector<uint8_t>& req, const std::vector<uint8_t>& ans) {
  const NtpHeader q = decode_header(req);
  const NtpHeader a = decode_header(ans);
  EXPECT_EQ(a.mode, q.mode == Mode::kSymmetricActive ? Mode::kSymmetricPassive : Mode::kServer);
  EXPECT_EQ(a.version, q.version);
  EXPECT_EQ(a.origin, q.transmit);
  EXPECT_NE(a.leap, Leap::kUnsync);
  EXPECT_GE(a.stratum, 1);
  EXPECT_LE(a.stratum, 15);
  EXPECT_FALSE(a.receive.is_zero());
  EXPECT_FALSE(a.transmit.is_zero());
  EXPECT_GE(ntp_diff_nanos(a.transmit, a.receive), 0);
  EXPECT_GE(ntp_diff_nanos(a.receive, a.reference), 0);
}

void expect_matches_chronyd(const std::vector<uint8_t>& ours, const std::vector<uint8_t>& theirs) {
  const NtpHeader a = decode_header(ours);
  const NtpHeader c = decode_header(theirs);
  EXPECT_EQ(a.mode, c.mode);
  EXPECT_EQ(a.version, c.version);
  EXPECT_EQ(a.leap, c.leap);
  EXPECT_EQ(a.stratum, c.stratum);
  EXPECT_EQ(a.poll, c.poll);
  EXPECT_EQ(a.refid, c.refid);
  EXPECT_EQ(a.precision, c.precision);
  EXPECT_EQ(ours.size(), theirs.size());
}

class GoldenCapture : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenCapture, EveryClientRequestGetsAnAcceptableAnswer) {
  const auto xs = exchanges(GetParam());
  ASSERT_FALSE(xs.empty());
  for (const auto& x : xs) {
    const NtpTimestamp rx = ntp_from_unix_nanos(x.request_time_ns + 20'000);
    std::vector<uint8_t> out(x.request.size());
    const Verdict v = respond(Request{x.request, rx, x.client_port}, AnswerTemplate(state_like_chronyd()), out);
    ASSERT_EQ(v.action, Action::kReply);
    out.resize(v.length);
    stamp_transmit(out.data(), ntp_from_unix_nanos(x.request_time_ns + 21'000));
    expect_acceptable(x.request, out);
    if (!x.chronyd_answer.empty()) {
      const NtpHeader theirs = decode_header(x.chronyd_answer);
      if (theirs.origin == decode_header(x.request).transmit) {
        expect_acceptable(x.request, x.chronyd_answer);  // the capture is sane
      } else {
        // chronyd answered in interleaved mode: origin = the client's
        // receive field, transmit = that of its previous answer.
        EXPECT_EQ(theirs.origin, decode_header(x.request).receive);
      }
      expect_matches_chronyd(out, x.chronyd_answer);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RealClients, GoldenCapture,
                         ::testing::Values("ntpdig.pcap", "sntp.pcap", "chronyd-client.pcap",
                                           "chronyd-xleave.pcap"));

TEST(GoldenCapture, InterleavedRequestsGetBasicAnswersUntilXleaveExists) {
  // chronyd's xleave client accepts a basic answer: origin = its transmit.
  const auto xs = exchanges("chronyd-xleave.pcap");
  ASSERT_GE(xs.size(), 3u);
  const NtpHeader second = decode_header(xs[1].request);
  EXPECT_FALSE(second.origin.is_zero());  // the server's earlier receive timestamp
  std::vector<uint8_t> out(kNtpHeaderSize);
  ASSERT_EQ(respond(Request{xs[1].request, NtpTimestamp{1}, xs[1].client_port}, AnswerTemplate(state_like_chronyd()), out).action,
            Action::kReply);
  EXPECT_EQ(decode_header(out).origin, second.transmit);
}

TEST(GoldenCapture, NtpqReadstatIsHandedToTheControlHandler) {
  const auto xs = exchanges("ntpq-peers.pcap");
  ASSERT_FALSE(xs.empty());
  for (const auto& x : xs) {
    // A 12-byte NTPv2 mode 6 header: shorter than an NTP header, still mode 6.
    std::vector<uint8_t> out(kNtpHeaderSize);
    const Verdict v = respond(Request{x.request, NtpTimestamp{1}, x.client_port}, AnswerTemplate(state_like_chronyd()), out);
    EXPECT_EQ(v.action, Action::kControl);
    EXPECT_EQ(v.version, 2);
  }
}

}  // namespace
}  // namespace tachyon::core
