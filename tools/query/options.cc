#include "tools/query/options.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

namespace tachyon::query {
namespace {

constexpr uint32_t kMaxCount = 1'000'000;

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

Result<uint64_t> parse_uint(std::string_view name, std::string_view text, uint64_t lo, uint64_t hi) {
  uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < lo || v > hi) {
    return Result<uint64_t>::error(std::string(name) + ": expected an integer from " + std::to_string(lo) +
                                   " to " + std::to_string(hi) + ", found " + quoted(text));
  }
  return v;
}

// Seconds as a decimal number ("1", "0.5", "2e-3"), within [lo, hi].
Result<double> parse_seconds(std::string_view name, std::string_view text, double lo, double hi) {
  double v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v) || v < lo ||
      v > hi) {
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", lo, hi);
    return Result<double>::error(std::string(name) + ": expected seconds from " + range + ", found " +
                                 quoted(text));
  }
  return v;
}

// One option as written: "--count=3" -> name "--count", value "3".
struct Token {
  std::string_view name;
  std::optional<std::string_view> value;
};

// Walks argv: options with their values, and positional arguments.
class Scanner {
 public:
  explicit Scanner(std::span<const std::string_view> args) : args_(args) {}

  bool done() const { return i_ >= args_.size(); }
  // True if the next argument is an option (and "--" has not been seen).
  bool at_option() const {
    const std::string_view a = args_[i_];
    return !dashdash_ && a.size() > 1 && a[0] == '-';
  }
  // Consumes "--" and returns true if it is next.
  bool take_dashdash() {
    if (!dashdash_ && args_[i_] == "--") {
      dashdash_ = true;
      ++i_;
      return true;
    }
    return false;
  }
  std::string_view take_positional() { return args_[i_++]; }

  // REQUIRES: at_option(). "-c3" and "--count=3" carry their value.
  Token take_option() {
    const std::string_view a = args_[i_++];
    if (a.starts_with("--")) {
      const size_t eq = a.find('=');
      if (eq == std::string_view::npos) return {a, std::nullopt};
      return {a.substr(0, eq), a.substr(eq + 1)};
    }
    if (a.size() > 2) return {a.substr(0, 2), a.substr(2)};
    return {a, std::nullopt};
  }
  // The value of an option that takes one: attached, or the next argument.
  Result<std::string_view> value_of(const Token& t) {
    if (t.value) return *t.value;
    if (done()) return Result<std::string_view>::error(std::string(t.name) + ": missing value");
    return args_[i_++];
  }

 private:
  std::span<const std::string_view> args_;
  size_t i_ = 0;
  bool dashdash_ = false;
};

Status flag_without_value(const Token& t) {
  if (t.value) return Status::error(std::string(t.name) + ": takes no value, found " + quoted(*t.value));
  return Status();
}

Result<Command> parse_status(std::span<const std::string_view> args) {
  Command cmd;
  cmd.kind = Command::Kind::kStatus;
  StatusOptions& o = cmd.status;
  Scanner s(args);
  while (!s.done()) {
    if (s.take_dashdash()) continue;
    if (!s.at_option()) return Result<Command>::error("status: unexpected argument " + quoted(s.take_positional()));
    const Token t = s.take_option();
    if (t.name == "-h" || t.name == "--help") {
      cmd.kind = Command::Kind::kHelp;
      return cmd;
    }
    if (t.name == "--json") {
      if (Status st = flag_without_value(t); !st) return st;
      o.json = true;
    } else if (t.name == "--url") {
      auto v = s.value_of(t);
      if (!v) return v.status();
      if (auto u = parse_http_url(*v); !u) return Result<Command>::error("--url: " + u.message());
      o.url = std::string(*v);
    } else if (t.name == "-t" || t.name == "--timeout") {
      auto v = s.value_of(t);
      if (!v) return v.status();
      auto secs = parse_seconds(t.name, *v, 0.001, 600);
      if (!secs) return secs.status();
      o.timeout_s = *secs;
    } else {
      return Result<Command>::error("status: unknown option " + quoted(t.name));
    }
  }
  return cmd;
}

Result<Command> parse_query(std::span<const std::string_view> args) {
  Command cmd;
  QueryOptions& o = cmd.query;
  std::optional<std::string_view> server;
  std::optional<uint16_t> port_option;
  Scanner s(args);
  while (!s.done()) {
    if (s.take_dashdash()) continue;
    if (!s.at_option()) {
      const std::string_view p = s.take_positional();
      if (server) return Result<Command>::error("unexpected argument " + quoted(p) + ": only one SERVER");
      server = p;
      continue;
    }
    const Token t = s.take_option();
    const std::string_view n = t.name;
    if (n == "-h" || n == "--help") {
      cmd.kind = Command::Kind::kHelp;
      return cmd;
    }
    // Flags.
    if (n == "-4" || n == "-6" || n == "--json" || n == "--stripchart" || n == "--allow-unsync") {
      if (Status st = flag_without_value(t); !st) return st;
      if (n == "-4") o.family = Family::kIpv4;
      if (n == "-6") o.family = Family::kIpv6;
      if (n == "--json") o.json = true;
      if (n == "--stripchart") o.stripchart = true;
      if (n == "--allow-unsync") o.allow_unsync = true;
      continue;
    }
    // Options with a value.
    const bool known = n == "--version" || n == "--mode" || n == "-c" || n == "--count" || n == "-i" ||
                       n == "--interval" || n == "-t" || n == "--timeout" || n == "-p" || n == "--port";
    if (!known) return Result<Command>::error("unknown option " + quoted(n));
    auto v = s.value_of(t);
    if (!v) return v.status();
    if (n == "--version") {
      auto x = parse_uint(n, *v, 1, 4);
      if (!x) return x.status();
      o.version = static_cast<uint8_t>(*x);
    } else if (n == "--mode") {
      if (*v == "client") {
        o.mode = core::Mode::kClient;
      } else if (*v == "symmetric") {
        o.mode = core::Mode::kSymmetricActive;
      } else {
        return Result<Command>::error("--mode: expected \"client\" or \"symmetric\", found " + quoted(*v));
      }
    } else if (n == "-c" || n == "--count") {
      auto x = parse_uint(n, *v, 0, kMaxCount);
      if (!x) return x.status();
      o.count = static_cast<uint32_t>(*x);
    } else if (n == "-i" || n == "--interval") {
      auto x = parse_seconds(n, *v, 0.01, 86400);
      if (!x) return x.status();
      o.interval_s = *x;
    } else if (n == "-t" || n == "--timeout") {
      auto x = parse_seconds(n, *v, 0.001, 600);
      if (!x) return x.status();
      o.timeout_s = *x;
    } else {  // -p, --port
      auto x = parse_uint(n, *v, 1, 65535);
      if (!x) return x.status();
      port_option = static_cast<uint16_t>(*x);
    }
  }
  if (!server) return Result<Command>::error("missing SERVER");
  if (o.json && o.stripchart) return Result<Command>::error("--json and --stripchart exclude each other");
  auto hp = split_host_port(*server);
  if (!hp) return Result<Command>::error("SERVER " + quoted(*server) + ": " + hp.message());
  if (hp->port && port_option && *hp->port != *port_option) {
    return Result<Command>::error("SERVER " + quoted(*server) + " names port " + std::to_string(*hp->port) +
                                  " but --port says " + std::to_string(*port_option));
  }
  o.host = hp->host;
  if (hp->port) o.port = *hp->port;
  if (port_option) o.port = *port_option;
  return cmd;
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_' || c == ':' || c == '%';
}

}  // namespace

Result<Command> parse_command_line(std::span<const std::string_view> args) {
  if (!args.empty() && args[0] == "status") return parse_status(args.subspan(1));
  return parse_query(args);
}

Result<HostPort> split_host_port(std::string_view server) {
  HostPort hp;
  std::string_view host = server;
  std::optional<std::string_view> port;
  if (server.starts_with('[')) {
    const size_t close = server.find(']');
    if (close == std::string_view::npos) return Result<HostPort>::error("missing ']' after the IPv6 address");
    host = server.substr(1, close - 1);
    const std::string_view rest = server.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Result<HostPort>::error("expected ':PORT' after ']'");
      port = rest.substr(1);
    }
    if (host.find(':') == std::string_view::npos) {
      return Result<HostPort>::error("brackets hold an IPv6 address, found " + quoted(host));
    }
  } else if (const size_t colon = server.find(':');
             colon != std::string_view::npos && server.find(':', colon + 1) == std::string_view::npos) {
    // Exactly one colon: HOST:PORT. Two or more: a bare IPv6 address.
    host = server.substr(0, colon);
    port = server.substr(colon + 1);
  }
  if (host.empty()) return Result<HostPort>::error("empty host");
  for (char c : host) {
    if (!valid_host_char(c)) return Result<HostPort>::error("invalid character in host " + quoted(host));
  }
  if (port) {
    auto p = parse_uint("port", *port, 1, 65535);
    if (!p) return p.status();
    hp.port = static_cast<uint16_t>(*p);
  }
  hp.host = std::string(host);
  return hp;
}

std::string HttpUrl::host_port() const {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) {
    if (url.starts_with("https://")) {
      return Result<HttpUrl>::error("https is not supported: tachyond's stats endpoint is plain HTTP");
    }
    return Result<HttpUrl>::error("expected http://HOST[:PORT][/PATH], found " + quoted(url));
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  HttpUrl u;
  u.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  if (u.path.empty() || u.path == "/") u.path = "/status";
  auto hp = split_host_port(authority);
  if (!hp) return Result<HttpUrl>::error(quoted(url) + ": " + hp.message());
  // A bare IPv6 address would make "::1:9123" ambiguous: URLs bracket it.
  if (hp->host.find(':') != std::string::npos && !authority.starts_with('[')) {
    return Result<HttpUrl>::error(quoted(url) + ": write an IPv6 address in brackets, http://[::1]:9123");
  }
  u.host = hp->host;
  if (hp->port) u.port = *hp->port;
  return u;
}

std::string usage() {
  return R"(tachyon-query )" TACHYON_VERSION R"(: ask an NTP server for the time, or a tachyond for its status.

usage: tachyon-query [options] SERVER[:PORT]
       tachyon-query status [--url URL] [--json] [-t SECONDS]

SERVER is a host name or a literal address: 192.0.2.1, 192.0.2.1:123,
2001:db8::1, [2001:db8::1]:123.

query options:
  -4, -6               use IPv4 / IPv6 addresses of SERVER only
  --version N          NTP version of the request, 1 to 4 (default 4)
  --mode MODE          client (mode 3, default) or symmetric (mode 1, as
                       w32time sends when it is a server itself)
  -c, --count N        samples to take (default 1; 0: until Ctrl-C)
  -i, --interval S     seconds between samples (default 1, fractions allowed)
  -t, --timeout S      seconds to wait for each answer (default 2)
  -p, --port PORT      server's UDP port (default 123)
  --stripchart         one line per sample with an offset bar, like
                       w32tm /stripchart
  --json               one JSON document with every sample and the summary
  --allow-unsync       an unsynchronized server (LI=3, stratum 16) is not
                       an error
  -h, --help           this text

status options:
  --url URL            tachyond's stats endpoint (default
                       http://127.0.0.1:9123; path default /status)
  --json               print the /status document itself, pretty-printed
  -t, --timeout S      seconds to wait for the endpoint (default 2)

exit status: 0 ok, 1 no usable answer, 2 usage error, 3 server
unsynchronized or kiss-o'-death, 4 local error (name resolution, socket),
5 status endpoint unreachable or invalid.
)";
}

}  // namespace tachyon::query
