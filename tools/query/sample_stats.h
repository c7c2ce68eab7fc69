// Summary statistics of a series of samples (offsets or delays), as ping
// prints them: min, mean, max and standard deviation. Pure; thread-compatible.
#pragma once

#include <cstddef>
#include <span>

namespace tachyon::query {

struct SampleStats {
  size_t count = 0;
  double min = 0;
  double mean = 0;
  double max = 0;
  double stddev = 0;  // sample standard deviation (n - 1); 0 for a single value
};

// All zero for an empty series.
SampleStats summarize(std::span<const double> values) noexcept;

}  // namespace tachyon::query
