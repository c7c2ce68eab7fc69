// Test-only mode 6 server: core::respond() then core::respond_control() on
// kernel UDP sockets, so the real ntpq can be pointed at the protocol core
// without DPDK (tests/core/ntpq_control.sh). Loopback only: it binds
// 127.0.0.1 and ::1 on one ephemeral port, prints that port on stdout and
// serves fixed SystemVariables until SIGTERM or --lifetime seconds.
//
//   control_udp_server [--extreme] [--lifetime SECONDS]
//
// --extreme serves every variable at its widest (the largest answers).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <string>

#include "core/control.h"
#include "core/responder.h"

namespace {

using namespace tachyon::core;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

// What tests/core/ntpq_control.sh expects to read back through ntpq.
SystemVariables fixed_variables(int64_t now_unix) {
  ServerState s;
  s.synchronized = true;
  s.leap = Leap::kNone;
  s.stratum = 1;
  s.precision = -24;
  s.refid = refid_from_ascii("PHC\0");
  s.root_delay = ntp_short_from_nanos(0);
  s.root_dispersion = NtpShort{0x0000'0400};  // 15.625 ms exactly
  s.reference_time = ntp_from_unix_nanos((now_unix - 3) * kNanosPerSecond);
  SystemVariables v;
  v.set_server(s);
  v.sync_source = SyncSource::kOther;
  v.poll = 4;
  v.offset_ns = -1'234;        // -0.001234 ms
  v.jitter_ns = 5'678;         // 0.005678 ms
  v.frequency_ppm = 12.5;
  v.tai_offset_s = 37;
  v.leap_file_expiry_unix = 1'782'777'600;  // 2026-06-30T00:00Z
  v.uptime_s = 4242;
  v.reference_select = PeerSelect::kSysPeer;
  v.reach = 0xff;
  v.reference_address = 0x7f7f'0102;  // 127.127.1.2
  v.reference_delay_ns = 250;
  v.last_sample = ntp_from_unix_nanos((now_unix - 2) * kNanosPerSecond);
  set_text(v.version, "tachyond 0.1.0-test");
  set_text(v.source, "phc");
  set_text(v.state, "synchronized");
  return v;
}

SystemVariables extreme_variables(int64_t now_unix) {
  SystemVariables v = fixed_variables(now_unix);
  v.leap = Leap::kUnsync;
  v.stratum = 255;
  v.precision = -128;
  v.refid = 0xffff'ffff;
  v.root_delay = NtpShort{0xffff'ffff};
  v.root_dispersion = NtpShort{0xffff'ffff};
  v.reference_time = NtpTimestamp{~uint64_t{0}};
  v.poll = 127;
  v.offset_ns = std::numeric_limits<int64_t>::min();
  v.jitter_ns = std::numeric_limits<int64_t>::max();
  v.frequency_ppm = -1e300;
  v.tai_offset_s = std::numeric_limits<int32_t>::max();
  v.leap_file_expiry_unix = std::numeric_limits<int64_t>::max();
  v.uptime_s = std::numeric_limits<int64_t>::max();
  v.reference_select = PeerSelect::kSysPeer;
  v.reach = 0xff;
  v.reference_address = 0x7f7f'ffff;
  v.reference_delay_ns = std::numeric_limits<int64_t>::max();
  v.reference_dispersion_ns = std::numeric_limits<int64_t>::max();
  v.last_sample = NtpTimestamp{~uint64_t{0}};
  set_text(v.version, std::string(SystemVariables::kVersionSize, 'v'));
  set_text(v.source, std::string(SystemVariables::kNameSize, 's'));
  set_text(v.state, std::string(SystemVariables::kNameSize, 't'));
  return v;
}

int bind_udp(int family, uint16_t port) {
  const int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int rc;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    const int on = 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    rc = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
}

}  // namespace

int main(int argc, char** argv) {
  bool extreme = false;
  long lifetime_s = 120;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--extreme") {
      extreme = true;
    } else if (arg == "--lifetime" && i + 1 < argc) {
      lifetime_s = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--extreme] [--lifetime SECONDS]\n", argv[0]);
      return 2;
    }
  }

  // One port for both families: take an ephemeral IPv4 port, then the same
  // on ::1, retrying if another process holds it there.
  int fds[2] = {-1, -1};
  for (int attempt = 0; attempt < 50 && fds[1] < 0; ++attempt) {
    if (fds[0] >= 0) close(fds[0]);
    fds[0] = bind_udp(AF_INET, 0);
    if (fds[0] < 0) {
      std::perror("bind 127.0.0.1");
      return 1;
    }
    fds[1] = bind_udp(AF_INET6, port_of(fds[0]));
  }
  if (fds[1] < 0) {
    std::perror("bind ::1");
    return 1;
  }
  std::printf("%u\n", port_of(fds[0]));
  std::fflush(stdout);

  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  const time_t deadline = std::time(nullptr) + lifetime_s;
  uint64_t answered = 0, dropped = 0;
  alignas(64) uint8_t buf[2048];  // the dataplane's mbuf: the answer is written in place
  while (g_stop == 0 && std::time(nullptr) < deadline) {
    pollfd pfds[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    if (poll(pfds, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if ((pfds[i].revents & POLLIN) == 0) continue;
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = recvfrom(fds[i], buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) continue;
      timespec ts{};
      clock_gettime(CLOCK_REALTIME, &ts);
      const int64_t now_ns = int64_t{ts.tv_sec} * kNanosPerSecond + ts.tv_nsec;
      const SystemVariables vars = extreme ? extreme_variables(ts.tv_sec) : fixed_variables(ts.tv_sec);
      const std::span<const uint8_t> request(buf, static_cast<size_t>(n));
      // As the dataplane: respond() classifies, mode 6 goes to the handler.
      const Verdict v = respond(Request{request, ntp_from_unix_nanos(now_ns), 40000}, AnswerTemplate(), buf);
      if (v.action != Action::kControl) {
        ++dropped;
        continue;
      }
      const ControlResult r = respond_control(request, ntp_from_unix_nanos(now_ns), vars, buf);
      if (!r.answer) {
        std::fprintf(stderr, "control_udp_server: dropped (%s)\n", drop_reason_name(r.reason));
        ++dropped;
        continue;
      }
      ++answered;
      sendto(fds[i], buf, r.length, 0, reinterpret_cast<sockaddr*>(&from), from_len);
    }
  }
  std::fprintf(stderr, "control_udp_server: %llu answered, %llu dropped\n",
               static_cast<unsigned long long>(answered), static_cast<unsigned long long>(dropped));
  close(fds[0]);
  close(fds[1]);
  return 0;
}
