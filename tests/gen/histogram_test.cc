// Log-linear histograms: bucket boundaries, percentiles within the bucket
// resolution on known distributions, merging, signed values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "tools/gen/histogram.h"

namespace tachyon::gen {
namespace {

TEST(LogHistogram, BucketsAreContiguousAndNarrow) {
  uint64_t expected_low = 0;
  for (size_t b = 0; b + 1 < LogHistogram::kBuckets; ++b) {
    ASSERT_EQ(LogHistogram::bucket_low(b), expected_low) << b;
    const uint64_t w = LogHistogram::bucket_width(b);
    // At most 1/32 of the bucket's values wide.
    EXPECT_LE(static_cast<double>(w), std::max(1.0, static_cast<double>(expected_low) / 32.0)) << b;
    EXPECT_EQ(LogHistogram::bucket_of(expected_low), b);
    EXPECT_EQ(LogHistogram::bucket_of(expected_low + w - 1), b);
    expected_low += w;
  }
  EXPECT_EQ(LogHistogram::bucket_of(UINT64_MAX), LogHistogram::kBuckets - 1);
  EXPECT_EQ(LogHistogram::bucket_of(uint64_t{1} << 40), LogHistogram::kBuckets - 1);
}

TEST(LogHistogram, PercentilesOfSmallValuesAreExact) {
  LogHistogram h;
  for (uint64_t v = 1; v <= 20; ++v) h.record(v);
  EXPECT_EQ(h.count(), 20u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 20u);
  EXPECT_EQ(h.percentile(0.5), 10u);
  EXPECT_EQ(h.percentile(0.95), 19u);
  EXPECT_EQ(h.percentile(1.0), 20u);
  EXPECT_EQ(h.percentile(0.0), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 10.5);
}

TEST(LogHistogram, PercentilesOfAWideDistributionAreWithinTheResolution) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> d(std::log(20000.0), 1.0);  // RTTs around 20 us in ns
  LogHistogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<uint64_t>(d(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = static_cast<double>(values[static_cast<size_t>(std::ceil(q * values.size())) - 1]);
    EXPECT_NEAR(static_cast<double>(h.percentile(q)), exact, exact / 32.0) << q;
  }
}

TEST(LogHistogram, EmptyIsAllZero) {
  LogHistogram h;
  EXPECT_EQ(h.percentile(0.99), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LogHistogram, MergeEqualsRecordingEverything) {
  LogHistogram a, b, all;
  for (uint64_t v = 0; v < 5000; v += 7) {
    (v % 2 ? a : b).record(v * 13);
    all.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
}

TEST(LogHistogram, HugeValuesLandInTheLastBucketAndKeepTheirMax) {
  LogHistogram h;
  h.record(uint64_t{1} << 50);
  EXPECT_EQ(h.max(), uint64_t{1} << 50);
  EXPECT_EQ(h.percentile(0.5), uint64_t{1} << 50);  // clamped to [min, max]
}

TEST(SignedHistogram, OrdersNegativeBeforePositive) {
  SignedHistogram h;
  for (int64_t v = -100; v <= 100; ++v) h.record(v * 1000);
  EXPECT_EQ(h.count(), 201u);
  EXPECT_EQ(h.min(), -100000);
  EXPECT_EQ(h.max(), 100000);
  EXPECT_NEAR(h.mean(), 0.0, 1e-9);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.5)), 0.0, 1.0);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.01)), -98000.0, 98000.0 / 32);
  EXPECT_NEAR(static_cast<double>(h.percentile(0.99)), 98000.0, 98000.0 / 32);
  EXPECT_EQ(h.percentile(0.0), -100000);
}

TEST(SignedHistogram, AllNegative) {
  SignedHistogram h;
  for (int64_t v = 1; v <= 10; ++v) h.record(-v);
  EXPECT_EQ(h.min(), -10);
  EXPECT_EQ(h.max(), -1);
  EXPECT_EQ(h.percentile(0.5), -6);  // the 5th smallest of -10..-1
  h.record(INT64_MIN);  // no overflow
  EXPECT_EQ(h.count(), 11u);
  EXPECT_EQ(h.min(), -INT64_MAX);
}

}  // namespace
}  // namespace tachyon::gen
