// libFuzzer target for the leap-seconds.list parser (LeapTable::parse):
// any input either parses into a table whose lookups hold together or is
// refused with a message; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clock/leap_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = tachyon::clock::LeapTable::parse(text, "fuzz.list");
  if (!t) {
    if (t.message().empty()) std::abort();
    return 0;
  }
  for (const auto& l : t->leaps()) {
    if (l.step() != 1 && l.step() != -1) std::abort();
    const int64_t at = l.tai_event_s() * 1'000'000'000;
    if (t->tai_utc_at_tai(at) != l.tai_utc_after) std::abort();
    if (t->tai_utc_at_utc(l.utc_s * 1'000'000'000) != l.tai_utc_after) std::abort();
    if (!t->previous_leap(at) || !(*t->previous_leap(at) == l)) std::abort();
  }
  (void)t->expired(0);
  return 0;
}
