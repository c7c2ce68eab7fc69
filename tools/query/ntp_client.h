// The kernel-socket side of tachyon-query: resolves the server, sends one
// request at a time over a connected UDP socket and waits for its answer,
// timestamping the answer with the kernel's receive time (SO_TIMESTAMPNS).
// All checks on the answer's contents are in answer.h; this file only moves
// bytes and reads clocks. Not thread-safe: one NtpClient per thread.
#pragma once

#include <sys/socket.h>

#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "tools/query/answer.h"
#include "tools/query/options.h"
#include "tools/query/report.h"

namespace tachyon::query {

struct ServerAddress {
  sockaddr_storage addr{};
  socklen_t length = 0;
  std::string text;  // numeric address, no port: "192.0.2.1", "2001:db8::1"
};

// getaddrinfo() for a UDP service: literal addresses without DNS, names
// through the resolver, in the resolver's order of preference.
Result<std::vector<ServerAddress>> resolve(const std::string& host, uint16_t port, Family family);

class NtpClient {
 public:
  // Opens a UDP socket connected to the first address that has a route
  // (connect() on UDP fails at once with ENETUNREACH otherwise). Connecting
  // lets the kernel report ICMP port unreachable as ECONNREFUSED, and the
  // kernel picks an ephemeral source port (RFC 9109).
  static Result<NtpClient> open(const std::vector<ServerAddress>& addresses);

  NtpClient(NtpClient&& other) noexcept;
  NtpClient& operator=(NtpClient&&) = delete;
  NtpClient(const NtpClient&) = delete;
  ~NtpClient();

  const ServerAddress& server() const { return server_; }
  std::string local_text() const;  // "192.0.2.2 port 40000"

  // Sends one request and waits up to timeout_s for its answer. Packets
  // that do not answer it (wrong source, origin, length) are counted and
  // skipped. Returns early, without a sample, when *stop becomes non-zero.
  Attempt exchange(uint32_t index, uint8_t version, core::Mode mode, double timeout_s,
                   const volatile std::sig_atomic_t* stop);

 private:
  NtpClient(int fd, ServerAddress server) : fd_(fd), server_(std::move(server)) {}

  int fd_ = -1;
  ServerAddress server_;
};

}  // namespace tachyon::query
