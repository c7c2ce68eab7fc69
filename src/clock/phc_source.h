// The `phc` reference: a PTP hardware clock (/dev/ptpN) kept on time by
// ptp4l or a GNSS receiver, usually on TAI.
//
// The kernel pairs the PHC with CLOCK_REALTIME; we pair CLOCK_REALTIME with
// the tick source by a (ticks, realtime, ticks) sandwich just before and
// just after the ioctl and interpolate between the two, so a sample pairs
// the PHC with the TSC. Methods, best first, as the device supports them:
//
//   PTP_SYS_OFFSET_PRECISE   the NIC's cross-timestamp (PTM, ART): PHC and
//                            system time at one instant
//   PTP_SYS_OFFSET_EXTENDED  n (system, PHC, system) triples taken by the
//                            driver right around its register read
//   PTP_SYS_OFFSET           n interleaved system/PHC readings
//
// The tightest triple of a call is the sample; its half-width plus the
// interpolation's is the sample's uncertainty. A method the device refuses
// (EOPNOTSUPP, ENOTTY, EINVAL) is dropped for the next one, once, with a
// note; any other error is a failed sample (the control goes to holdover).
//
// Thread-compatible: used by the control thread only. Owns the descriptor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "clock/clock_sources.h"
#include "clock/reference_source.h"

namespace tachyon::clock {

class PhcSource final : public ReferenceSource {
 public:
  enum class Method : uint8_t { kPrecise, kExtended, kBasic };
  static const char* method_name(Method m) noexcept;

  // Opens `device` and checks it is a PTP clock (PTP_CLOCK_GETCAPS).
  // `timescale`: what the PHC counts (PTP: TAI). `samples`: readings per
  // EXTENDED/basic call, 1 to 25.
  static Result<std::unique_ptr<PhcSource>> open(const std::string& device, Timescale timescale, TickSource& ticks,
                                                 KernelClock& kernel, int samples = 9);
  ~PhcSource() override;
  PhcSource(const PhcSource&) = delete;
  PhcSource& operator=(const PhcSource&) = delete;

  Result<ReferenceSample> sample() override;
  // A PHC says nothing about its own synchronization: its health shows in
  // the samples (failures, steps, outliers).
  ReferenceStatus status() override { return ReferenceStatus{}; }
  Timescale timescale() const override { return timescale_; }
  std::string describe() const override;
  std::vector<std::string> take_notes() override;

  Method method() const noexcept { return method_; }

 private:
  PhcSource(int fd, std::string device, Timescale timescale, TickSource& ticks, KernelClock& kernel, int samples);

  struct Bracket {
    uint64_t ticks = 0;  // midpoint
    int64_t realtime_ns = 0;
    uint64_t width = 0;  // ticks
  };
  Bracket bracket();
  // 0 and a sample, or the errno of the failed ioctl (-1 for a bad bracket).
  int try_method(Method m, ReferenceSample* out, std::string* error);

  int fd_;
  std::string device_;
  Timescale timescale_;
  TickSource& ticks_;
  KernelClock& kernel_;
  int samples_;
  Method method_ = Method::kPrecise;
  std::vector<std::string> notes_;
};

}  // namespace tachyon::clock
