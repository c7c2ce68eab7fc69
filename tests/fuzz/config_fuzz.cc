// libFuzzer target: the configuration parser on arbitrary text. Beyond "no
// crash": every error names the file and says something.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "daemon/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const tachyon::ConfigResult r = tachyon::parse_config(text, "fuzz.toml");
  for (const auto& e : r.errors) {
    if (e.message.empty() || e.file.empty()) std::abort();
  }
  return 0;
}
