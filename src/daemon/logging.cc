#include "daemon/logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>

namespace tachyon {

Status setup_logging(const Config::Log& log) {
  spdlog::sink_ptr sink;
  try {
    if (log.file.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      // Under systemd the journal adds its own timestamps and takes the
      // level from the <N> prefix.
      if (std::getenv("JOURNAL_STREAM") != nullptr) sink->set_pattern("%v");
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
