// Matching answers to requests without a hash table.
//
// Each request's transmit timestamp is a keyed permutation of its sequence
// number (OriginCodec): random-looking on the wire, as RFC 9109 asks of
// clients, yet the answer's origin timestamp decodes straight back to the
// sequence number. The top 8 bits of the sequence number name the lcore
// that sent it, the low 56 count that lcore's requests. Each lcore keeps
// the send time of its recent requests in a ring indexed by that count
// (FlightTable), so matching an answer is one decode and one lookup.
//
// An answer whose origin decodes to a request never sent is forged or
// corrupted; one whose slot was reused is late; one whose slot is already
// marked answered is a duplicate.
//
// Interleaved mode (draft-ietf-ntp-interleaved-modes) answers with origin =
// the request's receive field instead of its transmit field. So a request
// carries its sequence number in both (receive_field_stamp(),
// transmit_field_stamp()), tagged in the receive field: either answer
// decodes to it, and the tag tells which kind it is. The table then also
// keeps, per request, the client (flow) that sent it and the origin it
// carried (record_flow()).
//
// OriginCodec is immutable (thread-safe). A FlightTable belongs to one
// lcore (thread-compatible); its per-request methods are noexcept and
// allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tachyon::gen {

inline constexpr unsigned kWorkerBits = 8;
inline constexpr unsigned kCounterBits = 64 - kWorkerBits;
inline constexpr uint64_t kCounterMask = (uint64_t{1} << kCounterBits) - 1;

constexpr uint64_t make_sequence(unsigned worker, uint64_t counter) noexcept {
  return (uint64_t{worker} << kCounterBits) | (counter & kCounterMask);
}
constexpr unsigned worker_of(uint64_t sequence) noexcept { return static_cast<unsigned>(sequence >> kCounterBits); }
constexpr uint64_t counter_of(uint64_t sequence) noexcept { return sequence & kCounterMask; }

// Marks a sequence number carried in a request's receive field. Free:
// worker indices stay below 128 (--cpus allows 64), so an untagged
// sequence number never has it, and a tagged one never names a worker.
inline constexpr uint64_t kReceiveFieldTag = uint64_t{1} << 63;
constexpr bool is_receive_field(uint64_t sequence) noexcept { return (sequence & kReceiveFieldTag) != 0; }
constexpr uint64_t untagged(uint64_t sequence) noexcept { return sequence & ~kReceiveFieldTag; }

// A bijection on 64-bit values: the splitmix64 finalizer (Steele, Lea and
// Flood, "Fast splittable pseudorandom number generators", 2014) applied to
// the sequence number xor a per-run key. Each step (xorshift, multiplication
// by an odd constant) is invertible, so decode() undoes encode() exactly.
class OriginCodec {
 public:
  explicit constexpr OriginCodec(uint64_t key = 0) noexcept : key_(key) {}

  constexpr uint64_t encode(uint64_t sequence) const noexcept {
    uint64_t z = sequence ^ key_;
    z = (z ^ (z >> 30)) * kM1;
    z = (z ^ (z >> 27)) * kM2;
    return z ^ (z >> 31);
  }

  constexpr uint64_t decode(uint64_t origin) const noexcept {
    uint64_t z = origin;
    z = z ^ (z >> 31) ^ (z >> 62);
    z *= inverse(kM2);
    z = z ^ (z >> 27) ^ (z >> 54);
    z *= inverse(kM1);
    z = z ^ (z >> 30) ^ (z >> 60);
    return z ^ key_;
  }

 private:
  static constexpr uint64_t kM1 = 0xbf58'476d'1ce4'e5b9;
  static constexpr uint64_t kM2 = 0x94d0'49bb'1331'11eb;

  // Multiplicative inverse modulo 2^64 of an odd number (Newton: each step
  // doubles the correct low bits, from 3 to 96).
  static constexpr uint64_t inverse(uint64_t a) noexcept {
    uint64_t x = a;
    for (int i = 0; i < 5; ++i) x *= 2 - a * x;
    return x;
  }

  uint64_t key_;
};

// The two stamps of an interleaved-mode request: distinct (as the draft
// requires of a request that asks for interleaved mode) and both leading
// back to `sequence`.
constexpr uint64_t transmit_field_stamp(const OriginCodec& codec, uint64_t sequence) noexcept {
  return codec.encode(sequence);
}
constexpr uint64_t receive_field_stamp(const OriginCodec& codec, uint64_t sequence) noexcept {
  return codec.encode(sequence | kReceiveFieldTag);
}

enum class Match : uint8_t {
  kOk,         // a request waiting for its answer: now marked answered
  kUnknown,    // no such request was ever sent
  kLate,       // sent so long ago that its slot has been reused
  kDuplicate,  // already answered
};

// Interleaved mode: who sent a request and what origin it carried.
struct FlowRecord {
  uint64_t origin = 0;  // the server's receive timestamp of the flow's previous answer; 0: none
  uint32_t flow = 0;    // the client's index
};

class FlightTable {
 public:
  // Remembers the last `capacity` requests (rounded up to a power of two);
  // with `flows`, their FlowRecord too.
  explicit FlightTable(size_t capacity, bool flows = false) : mask_(round_up_pow2(capacity) - 1) {
    slots_.resize(mask_ + 1);
    if (flows) flows_.resize(mask_ + 1);
  }

  // Records request `counter` (of this lcore), sent at `tsc` from template
  // `tmpl` (0-127).
  void record(uint64_t counter, uint8_t tmpl, uint64_t tsc) noexcept {
    Slot& s = slots_[counter & mask_];
    s.key = (counter << 8) | tmpl;
    s.tsc = tsc;
  }

  // Looks request `counter` up, given that `next_counter` is the next one
  // this lcore will send. On kOk, marks it answered and returns its
  // template and send time.
  Match match(uint64_t counter, uint64_t next_counter, uint8_t& tmpl, uint64_t& tsc) noexcept {
    if (counter >= next_counter) return Match::kUnknown;
    Slot& s = slots_[counter & mask_];
    if ((s.key >> 8) != counter || next_counter - counter > mask_ + 1) return Match::kLate;
    if (s.key & kAnswered) return Match::kDuplicate;
    s.key |= kAnswered;
    tmpl = static_cast<uint8_t>(s.key & kTemplateMask);
    tsc = s.tsc;
    return Match::kOk;
  }

  // Interleaved mode: the flow of request `counter`, recorded next to
  // record() and read after match() returned kOk. REQUIRES: `flows`.
  void record_flow(uint64_t counter, const FlowRecord& f) noexcept { flows_[counter & mask_] = f; }
  const FlowRecord& flow_of(uint64_t counter) const noexcept { return flows_[counter & mask_]; }

  size_t capacity() const noexcept { return mask_ + 1; }

 private:
  static constexpr uint64_t kAnswered = 0x80;
  static constexpr uint64_t kTemplateMask = 0x7f;

  static uint64_t round_up_pow2(size_t n) noexcept {
    uint64_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  struct Slot {
    uint64_t key = ~uint64_t{0};  // counter << 8 | answered << 7 | template
    uint64_t tsc = 0;
  };

  std::vector<Slot> slots_;
  std::vector<FlowRecord> flows_;  // empty unless interleaved
  uint64_t mask_;
};

}  // namespace tachyon::gen
