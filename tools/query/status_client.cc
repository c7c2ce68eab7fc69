#include "tools/query/status_client.h"

#include <httplib.h>

#include <chrono>

namespace tachyon::query {

Result<std::string> fetch_status(const HttpUrl& url, double timeout_s) {
  httplib::Client client(url.host, url.port);
  const auto timeout = std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6));
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  const std::string where = "http://" + url.host_port() + url.path;
  const httplib::Result res = client.Get(url.path);
  if (!res) {
    const httplib::Error e = res.error();
    if (e == httplib::Error::Connection || e == httplib::Error::ConnectionTimeout) {
      return Result<std::string>::error(
          "cannot connect to " + url.host_port() + (e == httplib::Error::ConnectionTimeout ? " (timed out)" : "") +
          ": is tachyond running? is [stats] listen = \"" + url.host_port() +
          "\" set in its configuration? (tachyond in a network namespace listens inside it: "
          "run tachyon-query there with ip netns exec)");
    }
    return Result<std::string>::error("GET " + where + " failed: " + httplib::to_string(e));
  }
  if (res->status != 200) {
    // The first line of a plain-text error body says why; an HTML error
    // page says nothing the status code does not.
    std::string body = res->body.substr(0, res->body.find_first_of("\r\n"));
    if (body.starts_with('<')) body.clear();
    if (body.size() > 120) body = body.substr(0, 120) + "...";
    return Result<std::string>::error("GET " + where + ": HTTP " + std::to_string(res->status) +
                                      (body.empty() ? "" : " (" + body + ")") +
                                      ": is this tachyond's stats endpoint, and does this version serve /status?");
  }
  return res->body;
}

}  // namespace tachyon::query
