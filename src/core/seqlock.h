// A single-writer, many-reader cell for a small trivially copyable value:
// readers never block and never see a torn value, the writer never waits.
// The payload is stored as relaxed atomic words bracketed by a sequence
// number that is odd while a write is in progress (Boehm, "Can seqlocks
// get along with programming language memory models?", 2012): standard
// C++, TSan-clean.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tachyon::core {

template <typename T>
class SeqlockCell {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  SeqlockCell() noexcept { write(T{}); }
  explicit SeqlockCell(const T& value) noexcept { write(value); }

  // REQUIRES: a single writer thread.
  void write(const T& value) noexcept {
    Words w{};
    std::memcpy(w.data(), &value, sizeof value);
    const uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    for (size_t i = 0; i < kWords; ++i) words_[i].store(w[i], std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }

  // Retries only while a write is in flight (a few dozen stores).
  T read() const noexcept {
    Words w;
    load(w);
    T value;
    std::memcpy(static_cast<void*>(&value), w.data(), sizeof value);
    return value;
  }

  // A reader's cached copy: if the cell still holds the version `seen`
  // names, `value` is left alone and false returned (one load of the
  // sequence number, which stays in the reader's cache until a write);
  // otherwise `value` gets a consistent copy, `seen` its version, and true
  // is returned. Start `seen` at kNeverSeen.
  static constexpr uint64_t kNeverSeen = ~uint64_t{0};  // odd: never a finished version
  bool refresh(T& value, uint64_t& seen) const noexcept {
    if (seq_.load(std::memory_order_acquire) == seen) return false;
    Words w;
    seen = load(w);
    std::memcpy(static_cast<void*>(&value), w.data(), sizeof value);
    return true;
  }

  uint64_t sequence() const noexcept { return seq_.load(std::memory_order_acquire); }

 private:
  static constexpr size_t kWords = (sizeof(T) + 7) / 8;
  using Words = std::array<uint64_t, kWords>;

  // A consistent copy of the payload; returns its (even) version.
  uint64_t load(Words& w) const noexcept {
    for (;;) {
      const uint64_t s1 = seq_.load(std::memory_order_acquire);
      for (size_t i = 0; i < kWords; ++i) w[i] = words_[i].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      const uint64_t s2 = seq_.load(std::memory_order_relaxed);
      if (s1 == s2 && (s1 & 1) == 0) return s1;
    }
  }

  alignas(64) std::atomic<uint64_t> seq_{0};
  std::array<std::atomic<uint64_t>, kWords> words_{};
};

}  // namespace tachyon::core
