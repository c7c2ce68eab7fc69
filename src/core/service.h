// Who gets an answer: the admission stage of the NTP pipeline (chrony's
// ntp_core.c order: parse -> mode -> access -> rate limit -> auth -> KoD ->
// transmit), per worker.
//
// ServicePolicy is what the operator configured (access list, mode 6
// allow-list, rate-limit actions): immutable, shared by all workers, and
// replaced as a whole on reload (see PolicyBox). NtpService is one
// worker's own state: its rate-limit table and the policy it uses for the
// current burst. admit() is O(1), noexcept, allocation-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <vector>

#include "core/ntp_time.h"
#include "core/prefix_set.h"
#include "core/quiescent_box.h"
#include "core/rate_limiter.h"

namespace tachyon::core {

enum class Refusal : uint8_t {
  kDrop,  // no answer
  kKod,   // a Kiss-o'-Death (DENY for the access list, RATE for the limiter)
};

enum class Rule : uint8_t { kDeny, kAllow };

struct ServicePolicy {
  // Access list: longest matching prefix decides; no match: default_allow.
  PrefixSet<Rule> access;
  bool default_allow = true;
  Refusal denied = Refusal::kDrop;

  // Mode 6 (ntpq) is answered only to these prefixes (empty: nobody);
  // deny entries carve exceptions out of allowed prefixes.
  PrefixSet<Rule> control_allow;

  bool rate_limit = false;
  Refusal limited = Refusal::kKod;
  RateLimitParams rate;  // the limits; each worker's table is sized at start
  int8_t kod_poll = 10;  // poll (log2 s) a KoD RATE asks the client to back off to

  bool access_trivial() const noexcept { return access.empty() && default_allow; }
  bool control_allowed(const IpAddress& client) const noexcept {
    const Rule* rule = control_allow.lookup(client);
    return rule != nullptr && *rule == Rule::kAllow;
  }
};

enum class Admission : uint8_t {
  kAnswer,
  kAnswerLeaked,  // over the rate limit but let through by the random leak
  kDenied,        // access list: drop or KoD DENY per policy
  kLimited,       // rate limit: drop or KoD RATE per policy
};

class NtpService {
 public:
  // Allocates the rate-limit table from `memory` (control path).
  explicit NtpService(const RateLimitOptions& table,
                      std::pmr::memory_resource* memory = std::pmr::get_default_resource());

  // Uses `policy` from now on. REQUIRES: called by the owning worker
  // between bursts (see PolicyBox::enter()).
  void use(const ServicePolicy* policy) noexcept { policy_ = policy; }
  const ServicePolicy& policy() const noexcept { return *policy_; }

  // Whether admit() can only ever answer kAnswer (the fast path skips it).
  bool admits_everyone() const noexcept { return !policy_->rate_limit && policy_->access_trivial(); }

  Admission admit(const IpAddress& client, NtpTimestamp now) noexcept {
    const ServicePolicy& p = *policy_;
    if (!p.access_trivial()) {
      const Rule* rule = p.access.lookup(client);
      if (!(rule != nullptr ? *rule == Rule::kAllow : p.default_allow)) return Admission::kDenied;
    }
    if (p.rate_limit) {
      switch (limiter_.check(client, now, p.rate)) {
        case RateLimiter::Decision::kAllow: return Admission::kAnswer;
        case RateLimiter::Decision::kLeak: return Admission::kAnswerLeaked;
        case RateLimiter::Decision::kLimited: return Admission::kLimited;
      }
    }
    return Admission::kAnswer;
  }

  // Starts loading what admit(client, ...) will touch that is likely out
  // of cache (the client's rate-limit bucket); a no-op without a limit.
  void prefetch(const IpAddress& client) const noexcept {
    if (policy_->rate_limit) limiter_.prefetch(client, policy_->rate);
  }

  const RateLimiter& limiter() const noexcept { return limiter_; }

 private:
  const ServicePolicy* policy_ = nullptr;
  RateLimiter limiter_;
};

// The box workers take their policy from (see quiescent_box.h).
using PolicyBox = QuiescentBox<ServicePolicy>;

}  // namespace tachyon::core
