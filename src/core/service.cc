#include "core/service.h"

#include <chrono>
#include <thread>

namespace tachyon::core {

NtpService::NtpService(const RateLimitOptions& table) : limiter_(table) {}

PolicyBox::PolicyBox(std::unique_ptr<const ServicePolicy> initial, size_t workers)
    : current_(initial.get()), slots_(workers), owned_(std::move(initial)) {}

bool PolicyBox::replace(std::unique_ptr<const ServicePolicy> next, int timeout_ms) {
  std::unique_ptr<const ServicePolicy> old = std::move(owned_);
  owned_ = std::move(next);
  current_.store(owned_.get(), std::memory_order_release);
  // A worker whose announced epoch is at least `target` announced it after
  // the store above, and loads the policy after announcing: it holds the
  // new one.
  const uint64_t target = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (const Slot& slot : slots_) {
    while (slot.epoch.load(std::memory_order_acquire) < target) {
      if (std::chrono::steady_clock::now() > deadline) {
        retired_.push_back(std::move(old));  // a worker may still read it: keep it
        return false;
      }
      std::this_thread::yield();
    }
  }
  return true;  // `old` freed here
}

}  // namespace tachyon::core
