// Fixed-size log-linear histograms for latency percentiles, in the manner
// of HdrHistogram: values below 32 have a bucket each; above, every power
// of two is split into 32 buckets, so a bucket is at most 1/32 (3.1%) of
// its values wide. Values up to 2^40 (440 s of a 2.5 GHz TSC, 18 minutes
// of nanoseconds) are told apart; larger ones land in the last bucket.
//
// record() is noexcept, allocation-free and branch-light (one count
// leading zeros); it is called per answer. A histogram belongs to one
// lcore; merge() combines them after the lcores have handed them over.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tachyon::gen {

class LogHistogram {
 public:
  static constexpr unsigned kSubBits = 5;
  static constexpr uint64_t kSub = uint64_t{1} << kSubBits;  // buckets per power of two
  static constexpr unsigned kMaxBits = 40;                   // values below 2^40 are resolved
  static constexpr size_t kBuckets = (kMaxBits - kSubBits + 1) * kSub;

  void record(uint64_t v) noexcept {
    ++buckets_[bucket_of(v)];
    ++count_;
    sum_ += v;
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
  }

  void merge(const LogHistogram& other) noexcept;
  void reset() noexcept { *this = LogHistogram{}; }

  uint64_t count() const noexcept { return count_; }
  uint64_t min() const noexcept { return count_ ? min_ : 0; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The value at quantile q (0 to 1): the middle of the bucket holding the
  // ceil(q * count)-th smallest value, clamped to [min, max]; exactly min
  // and max for q = 0 and 1. 0 if empty.
  uint64_t percentile(double q) const noexcept;

  static size_t bucket_of(uint64_t v) noexcept {
    if (v < kSub) return static_cast<size_t>(v);
    const unsigned top = 63u - static_cast<unsigned>(__builtin_clzll(v));  // >= kSubBits
    if (top >= kMaxBits) return kBuckets - 1;
    const unsigned shift = top - kSubBits;
    return static_cast<size_t>((shift + 1) * kSub + ((v >> shift) & (kSub - 1)));
  }
  // Smallest value of bucket b, and its width.
  static uint64_t bucket_low(size_t b) noexcept;
  static uint64_t bucket_width(size_t b) noexcept;

  // Ranked walk shared with SignedHistogram: the bucket holding the
  // rank-th smallest value (1-based), counting from the top if `descending`.
  size_t bucket_at_rank(uint64_t rank, bool descending) const noexcept;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

// Signed values (clock offsets): magnitudes of negative and of positive
// values in two LogHistograms.
class SignedHistogram {
 public:
  void record(int64_t v) noexcept {
    if (v < 0) {
      // INT64_MIN's magnitude is stored as INT64_MAX's: min() stays representable.
      negative_.record(v == INT64_MIN ? uint64_t{INT64_MAX} : static_cast<uint64_t>(-v));
    } else {
      positive_.record(static_cast<uint64_t>(v));
    }
  }
  void merge(const SignedHistogram& other) noexcept {
    negative_.merge(other.negative_);
    positive_.merge(other.positive_);
  }
  void reset() noexcept {
    negative_.reset();
    positive_.reset();
  }

  uint64_t count() const noexcept { return negative_.count() + positive_.count(); }
  int64_t min() const noexcept;
  int64_t max() const noexcept;
  double mean() const noexcept;
  int64_t percentile(double q) const noexcept;

 private:
  LogHistogram negative_;  // magnitudes
  LogHistogram positive_;
};

}  // namespace tachyon::gen
