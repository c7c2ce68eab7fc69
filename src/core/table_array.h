// The bucket array of a fixed-size hash table (the rate limiter's, the
// interleave table's), in memory from a std::pmr::memory_resource. The
// daemon hands these tables memory on transparent huge pages
// (daemon/table_memory.h): a lookup in a table of a few MiB on 4 KiB pages
// is a TLB miss as well as a cache miss, and in a VM the page walk is a
// nested one (docs/performance.md, *Admission on the wire*). Tests and
// tools use the default resource (operator new).
//
// Every element is value-initialised (zero: "free") when the array is
// made, so each page is touched then, on the control path, and not on the
// first request that lands on it.
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <type_traits>
#include <utility>

namespace tachyon::core {

template <typename T>
class TableArray {
  static_assert(std::is_trivially_destructible_v<T>, "freed without destructors");

 public:
  TableArray() = default;
  TableArray(size_t n, std::pmr::memory_resource* memory) : memory_(memory), n_(n) {
    data_ = static_cast<T*>(memory_->allocate(n * sizeof(T), alignof(T)));
    std::uninitialized_value_construct_n(data_, n);
  }
  TableArray(TableArray&& o) noexcept
      : memory_(o.memory_), data_(std::exchange(o.data_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  TableArray& operator=(TableArray&& o) noexcept {
    if (this != &o) {
      release();
      memory_ = o.memory_;
      data_ = std::exchange(o.data_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  TableArray(const TableArray&) = delete;
  TableArray& operator=(const TableArray&) = delete;
  ~TableArray() { release(); }

  T& operator[](size_t i) noexcept { return data_[i]; }
  const T& operator[](size_t i) const noexcept { return data_[i]; }

 private:
  void release() noexcept {
    if (data_ != nullptr) memory_->deallocate(data_, n_ * sizeof(T), alignof(T));
    data_ = nullptr;
    n_ = 0;
  }

  std::pmr::memory_resource* memory_ = nullptr;
  T* data_ = nullptr;
  size_t n_ = 0;
};

}  // namespace tachyon::core
