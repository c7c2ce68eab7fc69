// fake_ptp: an LD_PRELOAD library that serves a simulated PTP hardware
// clock at /dev/ptp0 (or $FAKE_PTP_DEVICE), so tachyond's real PHC code
// (open, PTP_CLOCK_GETCAPS, PTP_SYS_OFFSET_PRECISE / _EXTENDED /
// PTP_SYS_OFFSET, close) runs on a machine without one.
//
// The simulated PHC reads
//
//   phc(t) = t + offset_ns + (t - epoch) * ppm * 1e-6 + noise
//
// where t is the real CLOCK_REALTIME, so a test knows exactly what the PHC
// says. $FAKE_PTP_CONTROL names a text file of "key value" lines, re-read
// whenever it changes, that steers it while the process runs:
//
//   offset_ns  N    PHC - CLOCK_REALTIME at the epoch (default 37e9: TAI)
//   ppm        X    rate error against CLOCK_REALTIME
//   epoch_ns   N    CLOCK_REALTIME at which offset_ns holds (default: load time)
//   noise_ns   X    Gaussian noise of every PHC reading
//   read_ns    N    how long a register read takes (the sandwich width)
//   fail       0|1  every sampling ioctl fails with EIO (the clock stopped answering)
//   precise    0|1  PTP_SYS_OFFSET_PRECISE supported (default 1)
//   extended   0|1  PTP_SYS_OFFSET_EXTENDED supported (default 1)
//
// $FAKE_PTP_LOG, if set, gets one line per PTP ioctl: "NAME ok" or
// "NAME ERRNO_NAME", so a test can check the order methods were tried in.
//
// Everything else (other paths, other descriptors, other ioctls) goes to
// the real calls.

// meson builds with -D_FILE_OFFSET_BITS=64, under which glibc renames open()
// to open64() in its headers; this file defines both itself.
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

struct Control {
  double offset_ns = 37e9;
  double ppm = 0;
  int64_t epoch_ns = 0;
  double noise_ns = 0;
  int64_t read_ns = 300;
  bool fail = false;
  bool precise = true;
  bool extended = true;
};

Control g_control;
timespec g_control_mtime{};
off_t g_control_size = -1;
int64_t g_load_ns = 0;
uint64_t g_rng = 0x9e3779b97f4a7c15ull;
constexpr int kMaxFd = 65536;
std::atomic<bool> g_fake_fd[kMaxFd];

using OpenFn = int (*)(const char*, int, ...);
using OpenAtFn = int (*)(int, const char*, int, ...);
using CloseFn = int (*)(int);
using IoctlFn = int (*)(int, unsigned long, ...);

template <typename F>
F real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

const char* device() {
  const char* d = getenv("FAKE_PTP_DEVICE");
  return d != nullptr ? d : "/dev/ptp0";
}

bool is_device(const char* path) { return path != nullptr && strcmp(path, device()) == 0; }

void reload_control() {
  const char* path = getenv("FAKE_PTP_CONTROL");
  if (path == nullptr) return;
  struct stat st{};
  if (stat(path, &st) != 0) return;
  if (st.st_mtim.tv_sec == g_control_mtime.tv_sec && st.st_mtim.tv_nsec == g_control_mtime.tv_nsec &&
      st.st_size == g_control_size) {
    return;
  }
  FILE* f = fopen(path, "r");
  if (f == nullptr) return;
  Control c;
  char key[64];
  double value = 0;
  while (fscanf(f, "%63s %lf", key, &value) == 2) {
    if (strcmp(key, "offset_ns") == 0) c.offset_ns = value;
    else if (strcmp(key, "ppm") == 0) c.ppm = value;
    else if (strcmp(key, "epoch_ns") == 0) c.epoch_ns = static_cast<int64_t>(value);
    else if (strcmp(key, "noise_ns") == 0) c.noise_ns = value;
    else if (strcmp(key, "read_ns") == 0) c.read_ns = static_cast<int64_t>(value);
    else if (strcmp(key, "fail") == 0) c.fail = value != 0;
    else if (strcmp(key, "precise") == 0) c.precise = value != 0;
    else if (strcmp(key, "extended") == 0) c.extended = value != 0;
  }
  fclose(f);
  g_control = c;
  g_control_mtime = st.st_mtim;
  g_control_size = st.st_size;
}

void log_call(const char* name, int error) {
  const char* path = getenv("FAKE_PTP_LOG");
  if (path == nullptr) return;
  FILE* f = fopen(path, "a");
  if (f == nullptr) return;
  fprintf(f, "%s %s\n", name, error == 0 ? "ok" : error == EOPNOTSUPP ? "EOPNOTSUPP" : error == EIO ? "EIO" : "error");
  fclose(f);
}

double gaussian() {
  // xorshift64* and Box-Muller: no library state shared with the host program.
  const auto next = [] {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return static_cast<double>((g_rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
  };
  const double u1 = next() + 1e-300, u2 = next();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
}

int64_t phc_at(int64_t t) {
  const Control& c = g_control;
  const int64_t epoch = c.epoch_ns != 0 ? c.epoch_ns : g_load_ns;
  const double drift = static_cast<double>(t - epoch) * c.ppm * 1e-6;
  const double noise = c.noise_ns > 0 ? c.noise_ns * gaussian() : 0;
  return t + static_cast<int64_t>(std::llround(c.offset_ns + drift + noise));
}

ptp_clock_time to_ptp(int64_t ns) {
  ptp_clock_time t{};
  t.sec = ns / 1'000'000'000;
  t.nsec = static_cast<uint32_t>(ns % 1'000'000'000);
  return t;
}

// One (system, PHC, system) reading, the PHC read taking read_ns.
void read_triple(ptp_clock_time* before, ptp_clock_time* phc, ptp_clock_time* after) {
  const int64_t a = realtime_ns();
  int64_t t = a;
  while (t - a < g_control.read_ns / 2) t = realtime_ns();
  *phc = to_ptp(phc_at(t));
  int64_t b = realtime_ns();
  while (b - a < g_control.read_ns) b = realtime_ns();
  *before = to_ptp(a);
  *after = to_ptp(b);
}

int fake_ioctl(unsigned long request, void* arg) {
  reload_control();
  const Control& c = g_control;
  const auto fail = [](const char* name, int e) {
    log_call(name, e);
    errno = e;
    return -1;
  };
  if (request == PTP_CLOCK_GETCAPS || request == PTP_CLOCK_GETCAPS2) {
    auto* caps = static_cast<ptp_clock_caps*>(arg);
    memset(caps, 0, sizeof *caps);
    caps->max_adj = 500000;
    caps->cross_timestamping = c.precise ? 1 : 0;
    log_call("PTP_CLOCK_GETCAPS", 0);
    return 0;
  }
  if (request == PTP_SYS_OFFSET_PRECISE || request == PTP_SYS_OFFSET_PRECISE2) {
    if (!c.precise) return fail("PTP_SYS_OFFSET_PRECISE", EOPNOTSUPP);
    if (c.fail) return fail("PTP_SYS_OFFSET_PRECISE", EIO);
    auto* p = static_cast<ptp_sys_offset_precise*>(arg);
    const int64_t t = realtime_ns();
    p->sys_realtime = to_ptp(t);
    p->device = to_ptp(phc_at(t));
    timespec raw{};
    clock_gettime(CLOCK_MONOTONIC_RAW, &raw);
    p->sys_monoraw = to_ptp(int64_t{raw.tv_sec} * 1'000'000'000 + raw.tv_nsec);
    log_call("PTP_SYS_OFFSET_PRECISE", 0);
    return 0;
  }
  if (request == PTP_SYS_OFFSET_EXTENDED || request == PTP_SYS_OFFSET_EXTENDED2) {
    if (!c.extended) return fail("PTP_SYS_OFFSET_EXTENDED", EOPNOTSUPP);
    if (c.fail) return fail("PTP_SYS_OFFSET_EXTENDED", EIO);
    auto* p = static_cast<ptp_sys_offset_extended*>(arg);
    if (p->n_samples == 0 || p->n_samples > PTP_MAX_SAMPLES) return fail("PTP_SYS_OFFSET_EXTENDED", EINVAL);
    for (unsigned i = 0; i < p->n_samples; ++i) read_triple(&p->ts[i][0], &p->ts[i][1], &p->ts[i][2]);
    log_call("PTP_SYS_OFFSET_EXTENDED", 0);
    return 0;
  }
  if (request == PTP_SYS_OFFSET || request == PTP_SYS_OFFSET2) {
    if (c.fail) return fail("PTP_SYS_OFFSET", EIO);
    auto* p = static_cast<ptp_sys_offset*>(arg);
    if (p->n_samples == 0 || p->n_samples > PTP_MAX_SAMPLES) return fail("PTP_SYS_OFFSET", EINVAL);
    // As the kernel does it: sys, phc, sys, phc, ..., sys.
    int64_t t = realtime_ns();
    p->ts[0] = to_ptp(t);
    for (unsigned i = 0; i < p->n_samples; ++i) {
      const int64_t a = t;
      while (t - a < g_control.read_ns / 2) t = realtime_ns();
      p->ts[2 * i + 1] = to_ptp(phc_at(t));
      while (t - a < g_control.read_ns) t = realtime_ns();
      p->ts[2 * i + 2] = to_ptp(t);
    }
    log_call("PTP_SYS_OFFSET", 0);
    return 0;
  }
  log_call("unknown", EOPNOTSUPP);
  errno = EOPNOTSUPP;
  return -1;
}

int fake_open() {
  static const OpenFn real_open = real<OpenFn>("open");
  const int fd = real_open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && fd < kMaxFd) g_fake_fd[fd].store(true);
  return fd;
}

bool is_fake(int fd) { return fd >= 0 && fd < kMaxFd && g_fake_fd[fd].load(); }

__attribute__((constructor)) void init() { g_load_ns = realtime_ns(); }

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (is_device(path)) return fake_open();
  static const OpenFn real_open = real<OpenFn>("open");
  return real_open(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (is_device(path)) return fake_open();
  static const OpenFn real_open64 = real<OpenFn>("open64");
  return real_open64(path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (is_device(path)) return fake_open();
  static const OpenAtFn real_openat = real<OpenAtFn>("openat");
  return real_openat(dirfd, path, flags, mode);
}

int close(int fd) {
  if (is_fake(fd)) g_fake_fd[fd].store(false);
  static const CloseFn real_close = real<CloseFn>("close");
  return real_close(fd);
}

int ioctl(int fd, unsigned long request, ...) noexcept {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (is_fake(fd)) return fake_ioctl(request, arg);
  static const IoctlFn real_ioctl = real<IoctlFn>("ioctl");
  return real_ioctl(fd, request, arg);
}

}  // extern "C"
