#include "daemon/stats_server.h"

#include <httplib.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <charconv>

namespace tachyon {

Result<ListenAddress> parse_listen_address(const std::string& text) {
  ListenAddress a;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Result<ListenAddress>::error("expected [IPv6]:PORT, found \"" + text + "\"");
    }
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return Result<ListenAddress>::error("expected HOST:PORT, found \"" + text + "\"");
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return Result<ListenAddress>::error("bad port in \"" + text + "\"");
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

Result<std::unique_ptr<StatsServer>> StatsServer::start(const std::string& listen, SnapshotFn snapshot, int cpu) {
  auto address = parse_listen_address(listen);
  if (!address) return Result<std::unique_ptr<StatsServer>>::error("stats.listen: " + address.message());
  std::unique_ptr<StatsServer> s(new StatsServer);
  s->address_ = *address;
  s->server_ = std::make_unique<httplib::Server>();
  httplib::Server& srv = *s->server_;
  // One request at a time on one thread: a scrape is cheap, and the
  // control CPU is shared with the clock discipline.
  srv.new_task_queue = [] { return new httplib::ThreadPool(1); };
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second tachyond
  // bind the same address and take half the scrapes: only SO_REUSEADDR.
  srv.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  srv.Get("/metrics", [snapshot](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_metrics(snapshot()), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/status", [snapshot](const httplib::Request&, httplib::Response& res) {
    res.set_content(render_status(snapshot()), "application/json");
  });
  srv.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("tachyond stats endpoint\n  /metrics  Prometheus metrics\n  /status   JSON status\n",
                    "text/plain; charset=utf-8");
  });
  if (!srv.bind_to_port(s->address_.host, s->address_.port)) {
    return Result<std::unique_ptr<StatsServer>>::error("stats.listen: cannot listen on " + listen +
                                                       " (address in use, or not an address of this host?)");
  }
  s->thread_ = std::thread([&srv, cpu] {
    pthread_setname_np(pthread_self(), "tachyond-stats");
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    }
    srv.listen_after_bind();
  });
  return s;
}

void StatsServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

StatsServer::~StatsServer() { stop(); }

}  // namespace tachyon
