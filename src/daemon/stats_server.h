// The stats endpoint: HTTP on the management address (default
// 127.0.0.1:9123), served by one thread of the control side pinned to the
// control CPU, never by a worker. GET /metrics (Prometheus text), GET
// /status (JSON), GET / (an index). Each request takes a fresh snapshot.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/result.h"
#include "daemon/stats.h"

namespace httplib {
class Server;
}

namespace tachyon {

struct ListenAddress {
  std::string host;  // IPv4 or IPv6 literal
  uint16_t port = 0;
};

// "127.0.0.1:9123" or "[::1]:9123".
Result<ListenAddress> parse_listen_address(const std::string& text);

class StatsServer {
 public:
  using SnapshotFn = std::function<StatsSnapshot()>;

  // Binds `listen` (errors are returned, e.g. address in use) and serves
  // from a thread pinned to `cpu` (-1: unpinned).
  static Result<std::unique_ptr<StatsServer>> start(const std::string& listen, SnapshotFn snapshot, int cpu);
  ~StatsServer();
  StatsServer(const StatsServer&) = delete;
  StatsServer& operator=(const StatsServer&) = delete;

  void stop();
  const ListenAddress& address() const noexcept { return address_; }

 private:
  StatsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  ListenAddress address_;
};

}  // namespace tachyon
