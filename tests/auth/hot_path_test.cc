// The per-packet contract of the auth module (src/auth/mac_engine.h), in a
// process of its own because it replaces the allocator:
//
//  1. No heap allocation: 10,000 check_request() + sign() calls after a
//     warm-up, over MD5, SHA1 and two AES-CMAC keys that share a slot of
//     the engine's key-schedule cache (so AES is re-keyed on every switch),
//     and the failing cases, while counting
//       - OpenSSL's allocations (CRYPTO_set_mem_functions(), set before
//         OpenSSL allocates anything),
//       - C++ allocations (a replaced global operator new),
//       - every malloc/calloc/realloc in the process (interposed over
//         glibc's), except under AddressSanitizer, which owns malloc.
//  2. No system call: the same loop runs in a child process under
//     SECCOMP_MODE_STRICT, where any system call but read, write, exit and
//     sigreturn kills the process.
//  3. Constant-time comparison: CRYPTO_memcmp is wrapped at link time
//     (-Wl,--wrap=CRYPTO_memcmp), and every verification must have compared
//     the received digest through it.
//
// Prints one line per check and exits non-zero if any failed.
#include <linux/seccomp.h>
#include <openssl/crypto.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "auth/mac_engine.h"
#include "auth/policy.h"
#include "core/ntp_packet.h"

#if defined(__SANITIZE_ADDRESS__)
#define TACHYON_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TACHYON_ASAN 1
#endif
#endif

namespace {

bool g_counting = false;
long g_openssl_allocs = 0;
long g_new_allocs = 0;
long g_malloc_allocs = 0;

void* counting_crypto_malloc(size_t n, const char*, int) {
  if (g_counting) ++g_openssl_allocs;
  return std::malloc(n);
}
void* counting_crypto_realloc(void* p, size_t n, const char*, int) {
  if (g_counting) ++g_openssl_allocs;
  return std::realloc(p, n);
}
void counting_crypto_free(void* p, const char*, int) { std::free(p); }

struct Compare {
  const void* a;
  const void* b;
  size_t length;
};
Compare g_compares[64];
size_t g_compare_count = 0;

}  // namespace

void* operator new(size_t n) {
  if (g_counting) ++g_new_allocs;
  if (void* p = std::malloc(n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

#ifndef TACHYON_ASAN
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* malloc(size_t n) {
  if (g_counting) ++g_malloc_allocs;
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  if (g_counting) ++g_malloc_allocs;
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  if (g_counting) ++g_malloc_allocs;
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
}
#endif

extern "C" int __real_CRYPTO_memcmp(const void* a, const void* b, size_t length);
extern "C" int __wrap_CRYPTO_memcmp(const void* a, const void* b, size_t length) {
  if (g_compare_count < std::size(g_compares)) g_compares[g_compare_count++] = {a, b, length};
  return __real_CRYPTO_memcmp(a, b, length);
}

namespace {

using namespace tachyon::auth;
using tachyon::core::kNtpHeaderSize;

int g_failed = 0;
void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
  if (!ok) ++g_failed;
}

Key make_key(uint32_t id, Algorithm a, uint8_t fill) {
  Key k;
  k.id = id;
  k.algorithm = a;
  k.size = a == Algorithm::kAes128Cmac ? 16 : 20;
  for (size_t i = 0; i < k.size; ++i) k.bytes[i] = static_cast<uint8_t>(fill + i);
  return k;
}

struct Packet {
  uint8_t bytes[128] = {};
  size_t size = kNtpHeaderSize;
};

// A request as a client sends it: header, then key id + MAC if `key`.
Packet request(MacEngine& e, const Key* key, uint8_t seed) {
  Packet p;
  p.bytes[0] = 0x23;
  for (size_t i = 40; i < 48; ++i) p.bytes[i] = static_cast<uint8_t>(seed * 31 + i);
  if (key != nullptr) {
    p.size += e.sign(*key, std::span<const uint8_t>(p.bytes, kNtpHeaderSize),
                     std::span<uint8_t>(p.bytes + kNtpHeaderSize, sizeof p.bytes - kNtpHeaderSize));
  }
  return p;
}

// What a worker does per request: check, then answer in place and sign.
// Returns how many answers were signed.
long serve(MacEngine& e, const KeyStore& keys, std::vector<Packet>& requests, int rounds) {
  long signed_answers = 0;
  for (int r = 0; r < rounds; ++r) {
    for (Packet& p : requests) {
      Packet work = p;
      const RequestCheck c = e.check_request(std::span<const uint8_t>(work.bytes, work.size), keys);
      const AuthDecision d = decide(c.result, false);
      work.bytes[0] = 0x24;          // the answer's header, in place
      work.bytes[40] = static_cast<uint8_t>(r);  // its transmit timestamp
      if (d.action == AuthAction::kAnswerSigned) {
        signed_answers += e.sign(*c.key, std::span<const uint8_t>(work.bytes, kNtpHeaderSize),
                                 std::span<uint8_t>(work.bytes + kNtpHeaderSize, c.key->mac_size())) != 0;
      } else if (d.action == AuthAction::kAnswerCryptoNak) {
        write_crypto_nak(std::span<uint8_t>(work.bytes + kNtpHeaderSize, 4));
      }
    }
  }
  return signed_answers;
}

}  // namespace

int main() {
  // Before anything makes OpenSSL allocate.
  if (CRYPTO_set_mem_functions(counting_crypto_malloc, counting_crypto_realloc, counting_crypto_free) != 1) {
    std::printf("FAIL: CRYPTO_set_mem_functions refused (OpenSSL allocated already)\n");
    return 1;
  }
#ifdef TACHYON_ASAN
  std::printf("note: AddressSanitizer owns malloc: counting OpenSSL's and C++ allocations only\n");
#endif

  tachyon::Result<MacEngine> created = MacEngine::create();
  if (!created.ok()) {
    std::printf("FAIL: %s\n", created.message().c_str());
    return 1;
  }
  MacEngine e = std::move(created).value();
  const KeyStore keys(std::vector<Key>{make_key(1, Algorithm::kMd5, 0x10), make_key(2, Algorithm::kSha1, 0x20),
                                       make_key(3, Algorithm::kAes128Cmac, 0x30),
                                       make_key(35, Algorithm::kAes128Cmac, 0x40)});  // 35: key 3's cache slot
  const Key stranger = make_key(9, Algorithm::kMd5, 0x90);
  const Key impostor = make_key(1, Algorithm::kMd5, 0x99);  // right id, wrong secret

  std::vector<Packet> requests;
  requests.reserve(16);
  for (uint8_t seed = 0; seed < 2; ++seed) {
    for (const uint32_t id : {1u, 2u, 3u, 35u}) requests.push_back(request(e, keys.find(id), seed));
  }
  requests.push_back(request(e, &stranger, 7));
  requests.push_back(request(e, &impostor, 8));
  requests.push_back(request(e, nullptr, 9));
  Packet nak = request(e, nullptr, 10);
  nak.size += 4;  // crypto-NAK
  requests.push_back(nak);

  // 1. Allocations. First, that the counters see what they should.
  g_counting = true;
  OPENSSL_free(OPENSSL_malloc(8));
  delete new int(1);  // NOLINT: an allocation on purpose
  g_counting = false;
  check(g_openssl_allocs == 1 && g_new_allocs == 1, "the allocation counters work");
#ifndef TACHYON_ASAN
  check(g_malloc_allocs == 2, "the malloc counter works");
#endif
  g_openssl_allocs = g_new_allocs = g_malloc_allocs = 0;

  serve(e, keys, requests, 100);  // warm-up
  g_counting = true;
  const int rounds = 10'000 / static_cast<int>(requests.size()) + 1;
  const long signed_answers = serve(e, keys, requests, rounds);
  g_counting = false;
  const long operations = rounds * static_cast<long>(requests.size());
  std::printf("%ld requests checked, %ld answers signed: %ld OpenSSL, %ld operator new, %ld malloc allocations\n",
              operations, signed_answers, g_openssl_allocs, g_new_allocs, g_malloc_allocs);
  check(operations >= 10'000 && signed_answers == rounds * 8L, "every valid request was verified and its answer signed");
  check(g_openssl_allocs == 0, "no OpenSSL allocation per request");
  check(g_new_allocs == 0, "no C++ allocation per request");
#ifndef TACHYON_ASAN
  check(g_malloc_allocs == 0, "no malloc/calloc/realloc at all per request");
#endif
  check(e.failures() == 0, "no OpenSSL call failed");

  // 2. System calls: the same loop under strict seccomp. First, that a
  // system call there does kill the child.
  const pid_t probe = fork();
  if (probe == 0) {
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) syscall(SYS_exit, 2);
    syscall(SYS_getpid);
    syscall(SYS_exit, 0);
  }
  int probe_status = 0;
  waitpid(probe, &probe_status, 0);
  check(WIFSIGNALED(probe_status) && WTERMSIG(probe_status) == SIGKILL, "strict seccomp kills a process that makes a system call");

  int fds[2];
  if (pipe(fds) != 0) return 1;
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) syscall(SYS_exit, 2);
    const long n = serve(e, keys, requests, 1000);
    if (write(fds[1], &n, sizeof n) != sizeof n) syscall(SYS_exit, 3);
    syscall(SYS_exit, 0);  // exit_group is not allowed in strict mode
  }
  close(fds[1]);
  long child_signed = -1;
  const bool got = read(fds[0], &child_signed, sizeof child_signed) == sizeof child_signed;
  int status = 0;
  waitpid(child, &status, 0);
  const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (killed) std::printf("the child was killed: a system call on the per-packet path\n");
  check(got && !killed && WIFEXITED(status) && WEXITSTATUS(status) == 0 && child_signed == 8000,
        "no system call per request (SECCOMP_MODE_STRICT)");

  // 3. Constant-time comparison of the received digest.
  bool all_compared = true;
  for (const uint32_t id : {1u, 2u, 3u}) {
    const Packet& p = requests[id - 1];
    g_compare_count = 0;
    const MacCheck m = e.verify(std::span<const uint8_t>(p.bytes, p.size), kNtpHeaderSize, p.size - kNtpHeaderSize, keys);
    const uint8_t* received = p.bytes + kNtpHeaderSize + kKeyIdSize;
    bool compared = false;
    for (size_t i = 0; i < g_compare_count; ++i) {
      const Compare& c = g_compares[i];
      if ((c.a == received || c.b == received) && c.length == digest_size(keys.find(id)->algorithm)) compared = true;
    }
    all_compared = all_compared && compared && m.status == MacStatus::kValid;
  }
  g_compare_count = 0;
  const Packet& bad = requests[9];  // the impostor: same length, wrong digest
  const MacCheck m = e.verify(std::span<const uint8_t>(bad.bytes, bad.size), kNtpHeaderSize, 20, keys);
  check(all_compared && m.status == MacStatus::kBadMac && g_compare_count >= 1,
        "received digests are compared with CRYPTO_memcmp");

  std::printf("%s\n", g_failed == 0 ? "all hot-path checks passed" : "some hot-path checks failed");
  return g_failed == 0 ? 0 : 1;
}
