// The request mix: which kinds of NTP request tachyon-gen sends, and in
// what proportion.
//
//   --mix 'v4=90,v3=5,v4+sym=2,v4+ef=2,v4+mac=1'
//
// Each entry is vN (NTP version 1-4) followed by any of +sym (mode 1,
// symmetric active, instead of mode 3, client), +ef (an RFC 7822 extension
// field: NTPv4 only) and +mac (a legacy key id + 16-byte digest), then
// optionally =WEIGHT (a positive integer, default 1).
//
// Control path only; the per-packet path reads the schedule, a fixed table
// of template indices. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tachyon::gen {

struct MixEntry {
  uint8_t version = 4;
  bool symmetric = false;   // mode 1 instead of mode 3
  bool extension = false;   // an extension field after the header
  bool mac = false;         // a legacy MAC after the header (and the extension field)
  uint32_t weight = 1;

  // The entry as written in --mix, without the weight ("v4+sym+mac").
  std::string name() const;
  friend bool operator==(const MixEntry&, const MixEntry&) = default;
};

inline constexpr size_t kMaxMixEntries = 32;
// Size of the schedule: proportions are kept to 1/kScheduleSize.
inline constexpr size_t kScheduleSize = 1024;

Result<std::vector<MixEntry>> parse_mix(std::string_view spec);

// The mix as text, weights included ("v4=90,v3=10").
std::string mix_string(const std::vector<MixEntry>& mix);

// kScheduleSize entry indices in which entry i appears in proportion to its
// weight (at least once), spread evenly (smooth weighted round robin), so
// any window of the schedule carries about the same mix.
// REQUIRES: 1 <= mix.size() <= kMaxMixEntries.
std::vector<uint8_t> mix_schedule(const std::vector<MixEntry>& mix);

}  // namespace tachyon::gen
