// A ClockControl driven by simulated clocks in simulated time, and what a
// test reads back from the models it publishes.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "clock/clock_control.h"
#include "core/ntp_packet.h"
#include "tests/clock/sim.h"

namespace tachyon::clock::sim {

constexpr int64_t kPeriodNs = 100'000'000;  // the daemon's update period

struct Header {
  int li = 0;
  int stratum = 0;
  int precision = 0;
  uint32_t root_delay = 0;
  uint32_t root_dispersion = 0;
  uint32_t refid = 0;
  int64_t root_dispersion_ns() const { return core::nanos_from_ntp_short(core::NtpShort{root_dispersion}); }
};

inline uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// The header bytes every answer starts with, as they go on the wire.
inline Header header_of(const core::ClockModel& m) {
  const uint8_t* b = m.answer.bytes();
  return Header{b[0] >> 6, b[1], static_cast<int8_t>(b[3]), be32(b + 4), be32(b + 8), be32(b + 12)};
}

struct Rig {
  Rig(double ppm, double wander_ppb, double noise_ns, uint64_t seed, int64_t start_ns, ClockControlOptions o = {},
      LeapTable leaps = LeapTable::fixed(0), Timescale timescale = Timescale::kTai, LeapTable truth = LeapTable::fixed(0))
      : osc(2.5e9, ppm, wander_ppb, seed, start_ns), ticks(osc), ref(osc, timescale, noise_ns, seed * 31 + 7, std::move(truth)) {
    control = std::make_unique<ClockControl>(o, ticks, ref, std::move(leaps));
  }

  void update() {
    model = control->update();
    for (ClockEvent& e : control->take_events()) events.push_back(std::move(e));
  }
  void advance(int64_t dt_ns) { osc.advance_to(osc.now() + dt_ns); }
  // One control period: update now, then move to the next.
  void step() {
    update();
    advance(kPeriodNs);
  }
  // Served time now (by the last model) minus what it should be.
  double error_ns(int64_t expected_ns) const {
    return static_cast<double>(
        core::ntp_diff_nanos(model.tsc.to_ntp(osc.ticks()), core::ntp_from_unix_nanos(expected_ns)));
  }
  Header header() const { return header_of(model); }
  size_t count_events(const std::string& text) const {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), [&](const ClockEvent& e) {
      return e.message.find(text) != std::string::npos;
    }));
  }

  Oscillator osc;
  Ticks ticks;
  Reference ref;
  std::unique_ptr<ClockControl> control;
  core::ClockModel model;
  std::vector<ClockEvent> events;
};

struct ErrorStats {
  double sum2 = 0, max = 0;
  size_t n = 0;
  void add(double e) {
    sum2 += e * e;
    max = std::max(max, std::fabs(e));
    ++n;
  }
  double rms() const { return n ? std::sqrt(sum2 / static_cast<double>(n)) : 0; }
};

}  // namespace tachyon::clock::sim
