#include "tools/query/ntp_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace tachyon::query {
namespace {

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * core::kNanosPerSecond + ts.tv_nsec;
}

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * core::kNanosPerSecond + ts.tv_nsec;
}

std::string numeric_host(const sockaddr* sa, socklen_t len) {
  char host[NI_MAXHOST];
  if (getnameinfo(sa, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "?";
  return host;
}

uint16_t port_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return 0;
}

// Same address and port. The socket is connected, so the kernel already
// filters; this is the check RFC 5905 section 8 asks of the client, kept
// here so it holds whatever the socket set-up.
bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

std::string seconds_text_short(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

}  // namespace

Result<std::vector<ServerAddress>> resolve(const std::string& host, uint16_t port, Family family) {
  addrinfo hints{};
  hints.ai_family = family == Family::kIpv4 ? AF_INET : family == Family::kIpv6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    const char* what = family == Family::kIpv4 ? " as an IPv4 address" : family == Family::kIpv6 ? " as an IPv6 address" : "";
    return Result<std::vector<ServerAddress>>::error("cannot resolve " + host + what + ": " +
                                                     (rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc)));
  }
  std::vector<ServerAddress> out;
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    ServerAddress a;
    std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    a.text = numeric_host(ai->ai_addr, ai->ai_addrlen);
    out.push_back(std::move(a));
  }
  freeaddrinfo(list);
  if (out.empty()) return Result<std::vector<ServerAddress>>::error("cannot resolve " + host + ": no address");
  return out;
}

Result<NtpClient> NtpClient::open(const std::vector<ServerAddress>& addresses) {
  std::string errors;
  for (const ServerAddress& a : addresses) {
    const int fd = socket(a.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) {
      errors += (errors.empty() ? "" : "; ") + a.text + ": socket: " + std::strerror(errno);
      continue;
    }
    // The kernel's software receive timestamp, taken when the answer enters
    // the stack: closer to the wire than a clock read after recvmsg(), and
    // free of our own scheduling delay.
    const int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0 ||
        connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.length) != 0) {
      errors += (errors.empty() ? "" : "; ") + a.text + ": " + std::strerror(errno);
      ::close(fd);
      continue;
    }
    return NtpClient(fd, a);
  }
  return Result<NtpClient>::error("cannot reach any address: " + errors);
}

NtpClient::NtpClient(NtpClient&& other) noexcept : fd_(other.fd_), server_(std::move(other.server_)) {
  other.fd_ = -1;
}

NtpClient::~NtpClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::string NtpClient::local_text() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  return numeric_host(reinterpret_cast<const sockaddr*>(&ss), len) + " port " + std::to_string(port_of(ss));
}

Attempt NtpClient::exchange(uint32_t index, uint8_t version, core::Mode mode, double timeout_s,
                            const volatile std::sig_atomic_t* stop) {
  Attempt a;
  a.index = index;
  const std::string unreachable = "port unreachable: nothing listens on " + server_.text + " port " +
                                  std::to_string(port_of(server_.addr)) + " (ICMP)";

  // The header is encoded first; the clock is read last, right before
  // send(), and only the transmit timestamp is written after it.
  Request request{version, mode, {}};
  uint8_t packet[core::kNtpHeaderSize];
  encode_request(request, packet);
  a.sent_unix_ns = realtime_ns();
  // xmt carries our real time, as ntpdig and sntp send it (chrony sends a
  // random cookie instead): offsets are computed from our own copy of the
  // send time either way, but a capture then shows the client's clock, and
  // the 30-odd unpredictable nanosecond bits plus the random source port
  // keep off-path forgery hard.
  request.xmt = core::ntp_from_unix_nanos(a.sent_unix_ns);
  core::store_be64(packet + core::off::kTransmit, request.xmt.raw);
  if (send(fd_, packet, sizeof packet, 0) < 0) {
    a.error = errno == ECONNREFUSED ? unreachable : std::string("send: ") + std::strerror(errno);
    return a;
  }

  const int64_t deadline = monotonic_ns() + static_cast<int64_t>(timeout_s * 1e9);
  for (;;) {
    if (stop && *stop) {
      a.error = "interrupted";
      return a;
    }
    const int64_t left = deadline - monotonic_ns();
    if (left <= 0) {
      a.error = "no answer within " + seconds_text_short(timeout_s);
      return a;
    }
    pollfd pfd{fd_, POLLIN, 0};
    const timespec wait{static_cast<time_t>(left / core::kNanosPerSecond),
                        static_cast<long>(left % core::kNanosPerSecond)};
    const int ready = ppoll(&pfd, 1, &wait, nullptr);
    if (ready <= 0) continue;  // timeout or EINTR: the loop head decides

    uint8_t buf[2048];
    sockaddr_storage from{};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec)) * 4];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      a.error = errno == ECONNREFUSED ? unreachable : std::string("recvmsg: ") + std::strerror(errno);
      return a;
    }
    int64_t t4 = 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        t4 = int64_t{ts.tv_sec} * core::kNanosPerSecond + ts.tv_nsec;
      }
    }
    if (t4 == 0) t4 = realtime_ns();  // no kernel timestamp: the next best thing

    if (!same_endpoint(from, server_.addr)) {
      ++a.ignored;
      continue;
    }
    const std::span<const uint8_t> bytes(buf, static_cast<size_t>(n));
    const AnswerVerdict verdict = check_answer(bytes, request);
    if (is_ignorable(verdict)) {
      ++a.ignored;
      continue;
    }
    a.sample = make_sample(bytes, verdict, a.sent_unix_ns, t4);
    return a;
  }
}

}  // namespace tachyon::query
