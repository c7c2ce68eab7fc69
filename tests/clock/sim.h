// Simulated clocks for the clock tests: an oscillator (the TSC) with a
// frequency error and random-walk wander, a reference that reads the true
// time with noise, outliers, gaps and steps, a kernel clock and a NIC clock.
// Everything runs in simulated time: a test advances the true time itself,
// nothing sleeps.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "clock/clock_sources.h"
#include "clock/leap_table.h"
#include "clock/nic_source.h"
#include "clock/reference_source.h"
#include "clock/sha1.h"
#include "core/ntp_time.h"

namespace tachyon::clock::sim {

constexpr int64_t kNs = 1'000'000'000;

// Ticks as a function of true time: the frequency is piecewise constant
// over steps of at most 10 ms and does a random walk of `wander_ppb` per
// square root of a second.
class Oscillator {
 public:
  Oscillator(double nominal_hz, double error_ppm, double wander_ppb_per_sqrt_s, uint64_t seed, int64_t start_ns = 0)
      : nominal_hz_(nominal_hz), ppm_(error_ppm), wander_(wander_ppb_per_sqrt_s), rng_(seed), now_ns_(start_ns),
        ticks_(1'000'000'000'000ull + seed * 7919) {}

  // REQUIRES: t_ns >= now().
  void advance_to(int64_t t_ns) {
    while (now_ns_ < t_ns) {
      const int64_t step = std::min<int64_t>(t_ns - now_ns_, 10'000'000);
      const double exact = static_cast<double>(step) * 1e-9 * nominal_hz_ * (1 + ppm_ * 1e-6) + carry_;
      const double whole = std::floor(exact);
      carry_ = exact - whole;
      ticks_ += static_cast<uint64_t>(whole);
      now_ns_ += step;
      if (wander_ > 0) {
        std::normal_distribution<double> n(0, wander_ * 1e-3 * std::sqrt(static_cast<double>(step) * 1e-9));
        ppm_ += n(rng_);
      }
    }
  }
  uint64_t ticks() const noexcept { return ticks_; }
  int64_t now() const noexcept { return now_ns_; }
  double nominal_hz() const noexcept { return nominal_hz_; }
  double error_ppm() const noexcept { return ppm_; }

 private:
  double nominal_hz_;
  double ppm_;
  double wander_;
  std::mt19937_64 rng_;
  int64_t now_ns_;
  uint64_t ticks_;
  double carry_ = 0;
};

class Ticks final : public TickSource {
 public:
  explicit Ticks(const Oscillator& o) : o_(o) {}
  uint64_t now() noexcept override { return o_.ticks(); }
  double nominal_hz() const noexcept override { return o_.nominal_hz(); }

 private:
  const Oscillator& o_;
};

// Reads true time (TAI ns on the oscillator's clock of true time; UTC as
// the kernel keeps it for Timescale::kUtc, i.e. 23:59:59 repeated at an
// inserted leap) with Gaussian noise and programmable faults.
class Reference final : public ReferenceSource {
 public:
  Reference(const Oscillator& o, Timescale timescale, double noise_ns, uint64_t seed, LeapTable truth = LeapTable::fixed(0))
      : o_(o), timescale_(timescale), noise_ns_(noise_ns), rng_(seed), truth_(std::move(truth)) {}

  Result<ReferenceSample> sample() override {
    if (failing) return Result<ReferenceSample>::error("simulated failure");
    std::normal_distribution<double> noise(0, noise_ns_);
    std::uniform_real_distribution<double> u(0, 1);
    int64_t t = o_.now() + offset_ns;
    if (timescale_ == Timescale::kUtc) t -= int64_t{truth_.tai_utc_at_tai(o_.now())} * kNs;
    double err = noise_ns_ > 0 ? noise(rng_) : 0;
    if (outlier_probability > 0 && u(rng_) < outlier_probability) {
      err += (u(rng_) < 0.5 ? -1 : 1) * outlier_ns * (0.5 + u(rng_));
      ++outliers;
    }
    ++samples;
    return ReferenceSample{o_.ticks(), t + std::llround(err), uncertainty_ns};
  }
  ReferenceStatus status() override { return status_value; }
  Timescale timescale() const override { return timescale_; }
  std::string describe() const override { return "simulated reference"; }

  bool failing = false;
  int64_t offset_ns = 0;  // a step of the reference
  double outlier_probability = 0;
  double outlier_ns = 0;
  int64_t uncertainty_ns = 20;
  ReferenceStatus status_value;
  uint64_t samples = 0;
  uint64_t outliers = 0;

 private:
  const Oscillator& o_;
  Timescale timescale_;
  double noise_ns_;
  std::mt19937_64 rng_;
  LeapTable truth_;
};

// A NIC counter at its own rate, and its PTP clock (true TAI + offset).
class Nic final : public NicClock {
 public:
  Nic(const Oscillator& o, double hz, double error_ppm) : o_(o), hz_(hz), ppm_(error_ppm), t0_(o.now()) {}
  Result<uint64_t> read_ticks() override {
    if (failing) return Result<uint64_t>::error("rte_eth_read_clock: Operation not supported");
    return ticks_at(o_.now());
  }
  Result<int64_t> read_time_ns() override {
    if (failing) return Result<int64_t>::error("rte_eth_timesync_read_time: Operation not supported");
    return o_.now() + time_offset_ns;
  }
  std::string describe() const override { return "port 0 (simulated)"; }
  // The NIC tick counter at true time t.
  uint64_t ticks_at(int64_t t_ns) const {
    return 5'000'000 + static_cast<uint64_t>(std::llround(static_cast<double>(t_ns - t0_) * 1e-9 * hz_ * (1 + ppm_ * 1e-6)));
  }

  bool failing = false;
  int64_t time_offset_ns = 0;

 private:
  const Oscillator& o_;
  double hz_;
  double ppm_;
  int64_t t0_;
};

class Kernel final : public KernelClock {
 public:
  explicit Kernel(const Oscillator& o) : o_(o) {}
  int64_t realtime_ns() noexcept override { return o_.now(); }
  KernelStatus status() noexcept override { return value; }
  KernelStatus value;

 private:
  const Oscillator& o_;
};

// A leap-seconds.list file with a correct hash: `entries` are (Unix
// seconds from which TAI - UTC holds, TAI - UTC).
inline std::string leap_file(const std::vector<std::pair<int64_t, int>>& entries, int64_t updated_unix,
                             int64_t expiry_unix, bool break_hash = false) {
  const int64_t e = core::kNtpToUnixSeconds;
  std::string data, text = "# test leap-seconds.list\n#\n";
  text += "#$\t" + std::to_string(updated_unix + e) + "\n";
  text += "#@\t" + std::to_string(expiry_unix + e) + "\n#\n";
  std::string digits = std::to_string(updated_unix + e) + std::to_string(expiry_unix + e);
  for (const auto& [unix_s, offset] : entries) {
    text += std::to_string(unix_s + e) + "\t" + std::to_string(offset) + "\t# comment\n";
    digits += std::to_string(unix_s + e) + std::to_string(offset);
  }
  const Sha1::Digest d = Sha1::of(digits + (break_hash ? "1" : ""));
  char buf[64];
  std::snprintf(buf, sizeof buf, "#h\t%x %x %x %x %x\n", d[0], d[1], d[2], d[3], d[4]);
  return text + buf;
}

// Unix seconds of 00:00:00 UTC on a date.
inline int64_t utc_midnight(int year, int month, int day) {
  // Days from civil (Howard Hinnant's algorithm).
  const int y = year - (month <= 2);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(month + (month > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (int64_t{era} * 146097 + static_cast<int64_t>(doe) - 719468) * 86400;
}

}  // namespace tachyon::clock::sim
