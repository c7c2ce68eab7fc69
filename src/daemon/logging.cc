#include "daemon/logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iterator>
#include <memory>

namespace tachyon {
namespace {

// The journal reads a line's priority from a "<N>" prefix (sd-daemon(3)).
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPriority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    const auto level = static_cast<size_t>(msg.level);
    const char* p = level < std::size(kPriority) ? kPriority[level] : "<6>";
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPriority>(); }
};

}  // namespace

Status setup_logging(const Config::Log& log) {
  spdlog::sink_ptr sink;
  try {
    if (log.file.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      // Under systemd the journal adds its own timestamps and takes the
      // priority from the <N> prefix, so `journalctl -p warning` works.
      if (std::getenv("JOURNAL_STREAM") != nullptr) {
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<JournalPriority>('*').set_pattern("%*%v");
        sink->set_formatter(std::move(formatter));
      }
    } else {
      std::filesystem::create_directories(std::filesystem::path(log.file).parent_path());
      sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(log.file, size_t{log.max_size_mb} * 1024 * 1024,
                                                                    log.max_files);
    }
  } catch (const std::exception& e) {
    return Status::error("cannot open log " + (log.file.empty() ? std::string("stderr") : log.file) + ": " + e.what());
  }
  auto logger = std::make_shared<spdlog::logger>("tachyond", sink);
  logger->set_level(spdlog::level::from_str(log.level));
  logger->flush_on(spdlog::level::info);
  // Replaces (and unregisters) the previous default logger: safe on reload.
  spdlog::set_default_logger(logger);
  return Status();
}

}  // namespace tachyon
