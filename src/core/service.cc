#include "core/service.h"

namespace tachyon::core {

NtpService::NtpService(const RateLimitOptions& table, std::pmr::memory_resource* memory)
    : limiter_(table, memory) {}

}  // namespace tachyon::core
