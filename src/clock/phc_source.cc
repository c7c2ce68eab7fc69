#include "clock/phc_source.h"

#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>

namespace tachyon::clock {
namespace {

int64_t nanos(const ptp_clock_time& t) noexcept { return int64_t{t.sec} * 1'000'000'000 + t.nsec; }

std::string errno_text(int e) { return std::system_category().message(e); }

// The device does not implement this ioctl (older driver or kernel).
bool unsupported(int e) noexcept { return e == EOPNOTSUPP || e == ENOTTY || e == EINVAL || e == ENOSYS; }

// CLOCK_REALTIME against the ticks across one ioctl: a larger disagreement
// than the brackets' widths, 2 us and 0.1% means the system clock was
// stepped in between and the sample is void.
constexpr double kMaxBracketSlackNs = 2000;
constexpr double kMaxBracketRateError = 1e-3;

}  // namespace

const char* PhcSource::method_name(Method m) noexcept {
  switch (m) {
    case Method::kPrecise: return "PTP_SYS_OFFSET_PRECISE";
    case Method::kExtended: return "PTP_SYS_OFFSET_EXTENDED";
    case Method::kBasic: return "PTP_SYS_OFFSET";
  }
  return "?";
}

Result<std::unique_ptr<PhcSource>> PhcSource::open(const std::string& device, Timescale timescale, TickSource& ticks,
                                                   KernelClock& kernel, int samples) {
  using R = Result<std::unique_ptr<PhcSource>>;
  const int fd = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return R::error(device + ": cannot open: " + errno_text(errno));
  ptp_clock_caps caps{};
  if (::ioctl(fd, PTP_CLOCK_GETCAPS, &caps) != 0) {
    const int e = errno;
    ::close(fd);
    return R::error(device + ": not a PTP hardware clock (PTP_CLOCK_GETCAPS: " + errno_text(e) + ")");
  }
  samples = std::clamp(samples, 1, PTP_MAX_SAMPLES);
  return std::unique_ptr<PhcSource>(new PhcSource(fd, device, timescale, ticks, kernel, samples));
}

PhcSource::PhcSource(int fd, std::string device, Timescale timescale, TickSource& ticks, KernelClock& kernel,
                     int samples)
    : fd_(fd), device_(std::move(device)), timescale_(timescale), ticks_(ticks), kernel_(kernel), samples_(samples) {}

PhcSource::~PhcSource() { ::close(fd_); }

std::string PhcSource::describe() const {
  return "PHC " + device_ + " (" + method_name(method_) + ", " + (timescale_ == Timescale::kTai ? "TAI" : "UTC") +
         ")";
}

std::vector<std::string> PhcSource::take_notes() {
  std::vector<std::string> out;
  out.swap(notes_);
  return out;
}

PhcSource::Bracket PhcSource::bracket() {
  // The tightest of three: a preempted read shows as a wide bracket.
  Bracket best;
  best.width = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    const uint64_t t1 = ticks_.now();
    const int64_t rt = kernel_.realtime_ns();
    const uint64_t t2 = ticks_.now();
    if (t2 - t1 < best.width) best = Bracket{t1 + (t2 - t1) / 2, rt, t2 - t1};
  }
  return best;
}

int PhcSource::try_method(Method m, ReferenceSample* out, std::string* error) {
  const Bracket before = bracket();
  int64_t sys_ns = 0, phc_ns = 0, half_width_ns = 0;
  int rc = 0;
  switch (m) {
    case Method::kPrecise: {
      ptp_sys_offset_precise p{};
      rc = ::ioctl(fd_, PTP_SYS_OFFSET_PRECISE, &p);
      if (rc == 0) {
        sys_ns = nanos(p.sys_realtime);
        phc_ns = nanos(p.device);
      }
      break;
    }
    case Method::kExtended: {
      ptp_sys_offset_extended p{};
      p.n_samples = static_cast<unsigned>(samples_);
      rc = ::ioctl(fd_, PTP_SYS_OFFSET_EXTENDED, &p);
      if (rc == 0) {
        int64_t best = INT64_MAX;
        for (unsigned i = 0; i < p.n_samples && i < PTP_MAX_SAMPLES; ++i) {
          const int64_t a = nanos(p.ts[i][0]), b = nanos(p.ts[i][2]);
          if (b >= a && b - a < best) {
            best = b - a;
            sys_ns = a + (b - a) / 2;
            phc_ns = nanos(p.ts[i][1]);
          }
        }
        if (best == INT64_MAX) {
          *error = std::string(method_name(m)) + ": no usable reading";
          return -1;
        }
        half_width_ns = best / 2;
      }
      break;
    }
    case Method::kBasic: {
      ptp_sys_offset p{};
      p.n_samples = static_cast<unsigned>(samples_);
      rc = ::ioctl(fd_, PTP_SYS_OFFSET, &p);
      if (rc == 0) {
        int64_t best = INT64_MAX;
        for (unsigned i = 0; i < p.n_samples && i < PTP_MAX_SAMPLES; ++i) {
          const int64_t a = nanos(p.ts[2 * i]), b = nanos(p.ts[2 * i + 2]);
          if (b >= a && b - a < best) {
            best = b - a;
            sys_ns = a + (b - a) / 2;
            phc_ns = nanos(p.ts[2 * i + 1]);
          }
        }
        if (best == INT64_MAX) {
          *error = std::string(method_name(m)) + ": no usable reading";
          return -1;
        }
        half_width_ns = best / 2;
      }
      break;
    }
  }
  if (rc != 0) {
    const int e = errno;
    *error = device_ + ": " + method_name(m) + ": " + errno_text(e);
    return e != 0 ? e : EIO;
  }
  const Bracket after = bracket();

  // The ticks at the kernel's system timestamp: between the two brackets,
  // at the nominal rate (over the microseconds involved its error is far
  // below a nanosecond). If CLOCK_REALTIME moved against the ticks in
  // between, someone stepped it: the sample is void.
  const auto span_ticks = static_cast<double>(after.ticks - before.ticks);
  const double span_by_ticks_ns = span_ticks * 1e9 / ticks_.nominal_hz();
  const int64_t span_ns = after.realtime_ns - before.realtime_ns;
  const double slack_ns = kMaxBracketSlackNs + kMaxBracketRateError * span_by_ticks_ns +
                          static_cast<double>(before.width + after.width) * 1e9 / ticks_.nominal_hz();
  if (std::fabs(static_cast<double>(span_ns) - span_by_ticks_ns) > slack_ns || sys_ns < before.realtime_ns - 1'000'000 ||
      sys_ns > after.realtime_ns + 1'000'000) {
    *error = device_ + ": CLOCK_REALTIME moved during " + method_name(m) + " (stepped?)";
    return -1;
  }
  const double offset_ticks = static_cast<double>(sys_ns - before.realtime_ns) * ticks_.nominal_hz() / 1e9;
  out->ticks = before.ticks + static_cast<uint64_t>(static_cast<int64_t>(std::llround(offset_ticks)));
  out->time_ns = phc_ns;
  const double bracket_half_ns = static_cast<double>(std::max(before.width, after.width)) * 0.5e9 / ticks_.nominal_hz();
  out->uncertainty_ns = half_width_ns + static_cast<int64_t>(std::ceil(bracket_half_ns));
  return 0;
}

Result<ReferenceSample> PhcSource::sample() {
  for (;;) {
    ReferenceSample s;
    std::string error;
    const int e = try_method(method_, &s, &error);
    if (e == 0) return s;
    if (e > 0 && unsupported(e) && method_ != Method::kBasic) {
      const Method next = method_ == Method::kPrecise ? Method::kExtended : Method::kBasic;
      notes_.push_back(error + "; using " + method_name(next));
      method_ = next;
      continue;
    }
    return Result<ReferenceSample>::error(error);
  }
}

}  // namespace tachyon::clock
