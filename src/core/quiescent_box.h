// Publishes replacements of an immutable value to poll-mode workers without
// locks, by quiescent-state-based reclamation: each worker enters a new
// quiescent period between bursts (enter()), and the control thread frees a
// replaced value only once every worker has entered a period that began
// after the replacement. Used for the per-worker policies (access list,
// rate limits, keys), replaced on SIGHUP.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace tachyon::core {

template <typename T>
class QuiescentBox {
 public:
  QuiescentBox(std::unique_ptr<const T> initial, size_t workers)
      : current_(initial.get()), slots_(workers), owned_(std::move(initial)) {}

  // Worker side, once per poll iteration: announces quiescence and
  // returns the value to use until the next call.
  const T* enter(size_t worker) noexcept {
    slots_[worker].epoch.store(epoch_.load(std::memory_order_acquire), std::memory_order_release);
    return current_.load(std::memory_order_acquire);
  }
  // A worker that stopped polling: never waited for again.
  void leave(size_t worker) noexcept { slots_[worker].epoch.store(kOffline, std::memory_order_release); }

  // Control side: installs `next`, waits until no worker can still hold
  // the old one (bounded by `timeout_ms`), frees it. Returns false if the
  // wait timed out (the old value is then kept alive, leaked on purpose).
  bool replace(std::unique_ptr<const T> next, int timeout_ms = 1000) {
    std::unique_ptr<const T> old = std::move(owned_);
    owned_ = std::move(next);
    current_.store(owned_.get(), std::memory_order_release);
    // A worker whose announced epoch is at least `target` announced it
    // after the store above, and loads the value after announcing: it
    // holds the new one.
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

  const T* current() const noexcept { return current_.load(std::memory_order_acquire); }

 private:
  static constexpr uint64_t kOffline = ~uint64_t{0};
  struct alignas(64) Slot {
    std::atomic<uint64_t> epoch{kOffline};
  };
  std::atomic<const T*> current_;
  std::atomic<uint64_t> epoch_{1};
  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<const T>> retired_;  // kept after a timeout
  std::unique_ptr<const T> owned_;                 // the current one
};

}  // namespace tachyon::core
