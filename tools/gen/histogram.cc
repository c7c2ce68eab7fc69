#include "tools/gen/histogram.h"

#include <algorithm>
#include <cmath>

namespace tachyon::gen {
namespace {

uint64_t rank_of(double q, uint64_t count) {
  const double r = std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count));
  return std::clamp<uint64_t>(static_cast<uint64_t>(r), 1, count);
}

}  // namespace

uint64_t LogHistogram::bucket_low(size_t b) noexcept {
  if (b < kSub) return b;
  const uint64_t shift = b / kSub - 1;
  return (kSub + b % kSub) << shift;
}

uint64_t LogHistogram::bucket_width(size_t b) noexcept {
  if (b < kSub) return 1;
  return uint64_t{1} << (b / kSub - 1);
}

void LogHistogram::merge(const LogHistogram& other) noexcept {
  for (size_t i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

size_t LogHistogram::bucket_at_rank(uint64_t rank, bool descending) const noexcept {
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    const size_t b = descending ? kBuckets - 1 - i : i;
    seen += buckets_[b];
    if (seen >= rank) return b;
  }
  return descending ? 0 : kBuckets - 1;
}

uint64_t LogHistogram::percentile(double q) const noexcept {
  if (count_ == 0) return 0;
  if (q <= 0) return min();  // the extremes are known exactly
  if (q >= 1) return max_;
  const size_t b = bucket_at_rank(rank_of(q, count_), false);
  const uint64_t mid = bucket_low(b) + bucket_width(b) / 2;
  return std::clamp(mid, min(), max_);
}

int64_t SignedHistogram::min() const noexcept {
  if (negative_.count()) return -static_cast<int64_t>(negative_.max());
  return static_cast<int64_t>(positive_.min());
}

int64_t SignedHistogram::max() const noexcept {
  if (positive_.count()) return static_cast<int64_t>(positive_.max());
  return -static_cast<int64_t>(negative_.min());
}

double SignedHistogram::mean() const noexcept {
  const uint64_t n = count();
  if (n == 0) return 0.0;
  return (positive_.mean() * static_cast<double>(positive_.count()) -
          negative_.mean() * static_cast<double>(negative_.count())) /
         static_cast<double>(n);
}

int64_t SignedHistogram::percentile(double q) const noexcept {
  const uint64_t n = count();
  if (n == 0) return 0;
  if (q <= 0) return min();
  if (q >= 1) return max();
  const uint64_t rank = rank_of(q, n);
  if (rank <= negative_.count()) {
    // The most negative values are the largest magnitudes: walk those from
    // the top.
    const size_t b = negative_.bucket_at_rank(rank, true);
    const uint64_t mid = LogHistogram::bucket_low(b) + LogHistogram::bucket_width(b) / 2;
    return -static_cast<int64_t>(std::clamp(mid, negative_.min(), negative_.max()));
  }
  return static_cast<int64_t>(positive_.percentile(static_cast<double>(rank - negative_.count()) /
                                                   static_cast<double>(positive_.count())));
}

}  // namespace tachyon::gen
