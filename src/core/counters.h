// Per-worker counters: one writer (the worker that owns the block), any
// number of readers (the control thread summing them at scrape time).
//
// A Counter is a relaxed atomic that the owner increments with a plain
// load + store: no locked instruction on the hot path, and readers never see
// a torn value. Blocks are cache-line aligned so workers never share a line.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/drop_reason.h"

namespace tachyon::core {

inline constexpr size_t kCacheLine = 64;

class Counter {
 public:
  // REQUIRES: called only by the block's owning thread.
  void add(uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t load() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Kiss-o'-Death codes we send (RFC 5905 section 7.4).
enum class KissCode : uint8_t { kRate, kDeny, kRstr, kCount_ };
inline constexpr size_t kKissCodeCount = static_cast<size_t>(KissCode::kCount_);

struct alignas(kCacheLine) NtpCounters {
  // Answers by the request's mode (0-7) and version (0-7).
  std::array<std::array<Counter, 8>, 8> replies{};
  std::array<Counter, kKissCodeCount> kod{};
  std::array<Counter, kDropReasonCount> drops{};

  void drop(DropReason r) noexcept { drops[static_cast<size_t>(r)].add(); }
  void reply(uint8_t mode, uint8_t version) noexcept { replies[mode & 7u][version & 7u].add(); }
  void kiss(KissCode c) noexcept { kod[static_cast<size_t>(c)].add(); }
};

}  // namespace tachyon::core
