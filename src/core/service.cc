#include "core/service.h"

namespace tachyon::core {

NtpService::NtpService(const RateLimitOptions& table) : limiter_(table) {}

}  // namespace tachyon::core
