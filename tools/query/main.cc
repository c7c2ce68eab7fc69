// tachyon-query: asks any NTP server for the time like ntpdig or
// `w32tm /stripchart`, or a tachyond for its status like `chronyc tracking`.
//
//   tachyon-query -c 3 192.0.2.1
//   tachyon-query status --url http://127.0.0.1:9123
//
// Everything that decides what to print lives in the tachyon_query library
// (options, answer, report, status_summary); this file wires it to the
// sockets, the clock, signals and stdout.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "tools/query/exit_codes.h"
#include "tools/query/ntp_client.h"
#include "tools/query/options.h"
#include "tools/query/report.h"
#include "tools/query/status_client.h"
#include "tools/query/status_summary.h"

namespace {

using namespace tachyon::query;

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) { g_stop = 1; }

// Without SA_RESTART, so a wait in ppoll() or clock_nanosleep() ends at once.
void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until_monotonic(int64_t deadline_ns) {
  const timespec ts{static_cast<time_t>(deadline_ns / 1'000'000'000), static_cast<long>(deadline_ns % 1'000'000'000)};
  while (!g_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

void error_line(const std::string& s) { std::fprintf(stderr, "tachyon-query: %s\n", s.c_str()); }

int run_query(const QueryOptions& o) {
  auto addresses = resolve(o.host, o.port, o.family);
  if (!addresses) {
    error_line(addresses.message());
    return kExitLocalError;
  }
  auto client = NtpClient::open(*addresses);
  if (!client) {
    error_line(client.message());
    return kExitLocalError;
  }

  Target target;
  target.name = o.host;
  target.address = client->server().text;
  target.port = o.port;
  target.local = client->local_text();
  target.version = o.version;
  target.mode = o.mode;
  target.count = o.count;
  target.interval_s = o.interval_s;
  const Report::Style style = o.json ? Report::Style::kJson
                              : o.stripchart ? Report::Style::kStripchart
                                             : Report::Style::kText;
  Report report(style, target, o.allow_unsync);
  print(report.begin(clock_ns(CLOCK_REALTIME)));

  const int64_t start = clock_ns(CLOCK_MONOTONIC);
  const auto interval_ns = static_cast<int64_t>(o.interval_s * 1e9);
  for (uint32_t i = 1; o.count == 0 || i <= o.count; ++i) {
    // Requests start on a fixed grid, whatever each exchange took.
    if (i > 1) sleep_until_monotonic(start + static_cast<int64_t>(i - 1) * interval_ns);
    if (g_stop) break;
    const Attempt a = client->exchange(i, o.version, o.mode, o.timeout_s, &g_stop);
    if (g_stop && !a.sample) break;  // interrupted while waiting: not a lost sample
    print(report.add(a));
    // RFC 5905 section 7.4: a kiss-o'-death asks us to stop (DENY, RSTR) or
    // slow down (RATE); either way this run sends nothing more.
    if (a.sample && a.sample->verdict == AnswerVerdict::kKissOfDeath) break;
  }
  if (report.attempts() == 0 && g_stop) return kExitInterrupted;
  print(report.end());
  const int code = report.exit_code();
  if (code != kExitOk) error_line(report.failure_message());
  return code;
}

int run_status(const StatusOptions& o) {
  auto url = parse_http_url(o.url);
  if (!url) {
    error_line("--url: " + url.message());
    return kExitUsage;
  }
  auto body = fetch_status(*url, o.timeout_s);
  if (!body) {
    error_line(body.message());
    return kExitStatusError;
  }
  auto doc = parse_status_document(*body);
  if (!doc) {
    error_line("http://" + url->host_port() + url->path + ": " + doc.message());
    return kExitStatusError;
  }
  print(o.json ? doc->dump(2) + "\n" : summarize_status(*doc, clock_ns(CLOCK_REALTIME)));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  auto cmd = parse_command_line(args);
  if (!cmd) {
    error_line(cmd.message());
    std::fprintf(stderr, "Try 'tachyon-query --help'.\n");
    return kExitUsage;
  }
  install_signal_handlers();
  try {
    switch (cmd->kind) {
      case Command::Kind::kHelp: print(usage()); return kExitOk;
      case Command::Kind::kStatus: return run_status(cmd->status);
      case Command::Kind::kQuery: return run_query(cmd->query);
    }
  } catch (const std::exception& e) {
    error_line(e.what());
    return kExitLocalError;
  }
  return kExitOk;
}
