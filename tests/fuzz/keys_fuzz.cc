// libFuzzer target: the keys-file parser (src/auth/key_file.h) on arbitrary
// text, in each format. Invariants checked beyond "no crash": a file with
// errors yields no keys; a file without them yields keys that are valid
// for their algorithm, sorted and unique, and findable by id; every message
// points into the file.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/key_file.h"

using namespace tachyon::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const KeyFileFormat format = static_cast<KeyFileFormat>(data[0] % 3);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const KeyFileResult r = parse_key_file(text, "fuzz.keys", format);

  if (format != KeyFileFormat::kAuto && r.format != format) std::abort();
  if (r.format == KeyFileFormat::kAuto) std::abort();
  uint32_t lines = 1;
  for (const char c : text) lines += c == '\n';
  for (const auto* list : {&r.errors, &r.warnings}) {
    for (const KeyFileError& e : *list) {
      if (e.file != "fuzz.keys" || e.line > lines || e.message.empty()) std::abort();
    }
  }
  if (!r.ok()) {
    if (!r.keys.empty()) std::abort();
    return 0;
  }
  uint32_t previous = 0;
  for (const Key& k : r.keys.keys()) {
    if (k.id == 0 || k.id <= previous) std::abort();
    previous = k.id;
    if (k.size == 0 || k.size > kMaxKeySize) std::abort();
    if (k.algorithm == Algorithm::kAes128Cmac && k.size != kCmacKeySize) std::abort();
    if (r.keys.find(k.id) != &k) std::abort();
  }
  return 0;
}
