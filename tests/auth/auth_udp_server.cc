// Test-only NTP server with symmetric-key authentication, on kernel UDP
// sockets: core::classify() + write_reply(), then the auth module exactly
// as a worker will use it (check_request() before the answer overwrites the
// request, decide(), stamp the transmit timestamp, then sign or append a
// crypto-NAK). Lets the real ntpdig and chronyd be pointed at the module
// without DPDK (tests/auth/real_clients.sh). Loopback only: binds
// 127.0.0.1 on an ephemeral port, prints the port on stdout, and serves
// until SIGTERM or --lifetime seconds.
//
//   auth_udp_server --keys FILE [--format auto|ntpd|chrony] [--require]
//                   [--dump DIR] [--lifetime SECONDS]
//
// Logs one line per request to stderr:
//   request 68 bytes v4 mode 3: auth=valid key=1 -> signed answer, 68 bytes
// --dump DIR writes each request's bytes to DIR/request-N.bin (how the
// fixtures in tests/auth/data were captured).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>

#include "auth/key_file.h"
#include "auth/mac_engine.h"
#include "auth/policy.h"
#include "core/responder.h"

namespace {

using namespace tachyon;
using namespace tachyon::core;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

NtpTimestamp now_ntp() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ntp_from_unix_nanos(int64_t{ts.tv_sec} * kNanosPerSecond + ts.tv_nsec);
}

const char* action_name(auth::AuthAction a) {
  switch (a) {
    case auth::AuthAction::kAnswer: return "answer";
    case auth::AuthAction::kAnswerSigned: return "signed answer";
    case auth::AuthAction::kAnswerCryptoNak: return "crypto-NAK answer";
    case auth::AuthAction::kDrop: return "drop";
  }
  return "?";
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --keys FILE [--format auto|ntpd|chrony] [--require] [--dump DIR] [--lifetime SECONDS]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string keys_path, dump_dir;
  auth::KeyFileFormat format = auth::KeyFileFormat::kAuto;
  bool require = false;
  long lifetime_s = 120;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keys" && i + 1 < argc) {
      keys_path = argv[++i];
    } else if (arg == "--format" && i + 1 < argc) {
      const auto f = auth::parse_key_file_format(argv[++i]);
      if (!f) return usage(argv[0]);
      format = *f;
    } else if (arg == "--require") {
      require = true;
    } else if (arg == "--dump" && i + 1 < argc) {
      dump_dir = argv[++i];
    } else if (arg == "--lifetime" && i + 1 < argc) {
      lifetime_s = std::strtol(argv[++i], nullptr, 10);
    } else {
      return usage(argv[0]);
    }
  }
  if (keys_path.empty()) return usage(argv[0]);

  auth::KeyFileResult loaded = auth::load_key_file(keys_path, format);
  for (const auto& w : loaded.warnings) std::fprintf(stderr, "warning: %s\n", w.to_string().c_str());
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "error: %s\n", e.to_string().c_str());
    return 1;
  }
  const auth::KeyStore keys = std::move(loaded.keys);
  Result<auth::MacEngine> created = auth::MacEngine::create();
  if (!created.ok()) {
    std::fprintf(stderr, "error: %s\n", created.message().c_str());
    return 1;
  }
  auth::MacEngine engine = std::move(created).value();
  std::fprintf(stderr, "auth_udp_server: %zu keys (%s format), require=%s\n", keys.size(),
               auth::key_file_format_name(loaded.format), require ? "true" : "false");

  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("bind 127.0.0.1");
    return 1;
  }
  std::printf("%u\n", ntohs(a.sin_port));
  std::fflush(stdout);

  ServerState state;
  state.synchronized = true;
  state.leap = Leap::kNone;
  state.stratum = 1;
  state.precision = -20;
  state.refid = refid_from_ascii("AUTH");
  state.reference_time = NtpTimestamp{now_ntp().raw - (uint64_t{2} << 32)};
  const AnswerTemplate answer(state);

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const time_t deadline = std::time(nullptr) + lifetime_s;
  unsigned dumped = 0;
  alignas(64) uint8_t buf[2048];  // the mbuf: answered in place
  while (g_stop == 0 && std::time(nullptr) < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n <= 0) continue;
    const NtpTimestamp rx = now_ntp();
    if (!dump_dir.empty()) {
      std::ofstream(dump_dir + "/request-" + std::to_string(++dumped) + ".bin", std::ios::binary)
          .write(reinterpret_cast<const char*>(buf), n);
    }
    const std::span<const uint8_t> request(buf, static_cast<size_t>(n));
    const Request req{request, rx, ntohs(reinterpret_cast<sockaddr_in*>(&from)->sin_port)};
    std::fprintf(stderr, "request %zd bytes v%u mode %u: ", n, version_of(buf[0]), mode_of(buf[0]) == Mode::kClient ? 3u : static_cast<unsigned>(mode_of(buf[0])));

    // The pipeline of a worker: classify, (admission), auth, answer.
    const Verdict v = classify(req);
    if (v.action != Action::kReply) {
      std::fprintf(stderr, "dropped by classify (%s)\n", drop_reason_name(v.reason));
      continue;
    }
    // Before write_reply(): the answer overwrites the request's MAC.
    const auth::RequestCheck check = engine.check_request(request, keys);
    const auth::AuthDecision d = auth::decide(check.result, require);
    std::fprintf(stderr, "auth=%s key=%u -> ", auth::request_auth_name(check.result), check.key_id);
    if (d.action == auth::AuthAction::kDrop) {
      std::fprintf(stderr, "drop (%s)\n", drop_reason_name(d.reason));
      continue;
    }
    write_reply(req, v, answer, buf);
    size_t length = kNtpHeaderSize;
    // The transmit timestamp first: the MAC covers it.
    stamp_transmit(buf, now_ntp());
    const std::span<uint8_t> trailer(buf + kNtpHeaderSize, sizeof buf - kNtpHeaderSize);
    if (d.action == auth::AuthAction::kAnswerSigned) {
      const size_t mac = engine.sign(*check.key, std::span<const uint8_t>(buf, kNtpHeaderSize), trailer);
      if (mac == 0) {
        std::fprintf(stderr, "signing failed\n");
        continue;
      }
      length += mac;
    } else if (d.action == auth::AuthAction::kAnswerCryptoNak) {
      length += auth::write_crypto_nak(trailer);
    }
    if (length > static_cast<size_t>(n)) {
      std::fprintf(stderr, "BUG: answer longer than the request\n");
      return 3;
    }
    std::fprintf(stderr, "%s, %zu bytes\n", action_name(d.action), length);
    sendto(fd, buf, length, 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
  close(fd);
  return 0;
}
