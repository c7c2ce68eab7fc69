#include "clock/clock_sources.h"

#include <sys/timex.h>
#include <time.h>

namespace tachyon::clock {

int64_t SystemKernelClock::realtime_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

KernelStatus SystemKernelClock::status() noexcept {
  timex tx{};
  const int state = adjtimex(&tx);
  KernelStatus s;
  s.synchronized = state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
  s.max_error_ns = int64_t{tx.maxerror} * 1000;
  s.est_error_ns = int64_t{tx.esterror} * 1000;
  // TIME_WAIT: the leap has been applied and the flag not yet cleared by
  // the daemon; the kernel will not apply it again, nor should we.
  s.leap = state == TIME_WAIT ? 0 : (tx.status & STA_INS) ? 1 : (tx.status & STA_DEL) ? -1 : 0;
  s.tai_offset_s = tx.tai;
  return s;
}

}  // namespace tachyon::clock
