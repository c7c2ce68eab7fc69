// tachyond's log: spdlog to stderr (the journal under systemd) or to a
// rotating file. Control path only; workers never log.
#pragma once

#include <string>

#include "core/result.h"
#include "daemon/config.h"

namespace tachyon {

// Installs the default logger described by `log`. Safe to call again (a
// reload): the new sinks replace the old ones.
Status setup_logging(const Config::Log& log);

}  // namespace tachyon
