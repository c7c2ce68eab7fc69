#include "tools/query/sample_stats.h"

#include <algorithm>
#include <cmath>

namespace tachyon::query {

SampleStats summarize(std::span<const double> values) noexcept {
  SampleStats s;
  if (values.empty()) return s;
  s.min = values[0];
  s.max = values[0];
  // Welford's update: stable when the values are close together and far
  // from zero (offsets of a distant server).
  double mean = 0;
  double m2 = 0;
  for (const double v : values) {
    ++s.count;
    const double d = v - mean;
    mean += d / static_cast<double>(s.count);
    m2 += d * (v - mean);
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = mean;
  s.stddev = s.count > 1 ? std::sqrt(m2 / static_cast<double>(s.count - 1)) : 0.0;
  return s;
}

}  // namespace tachyon::query
