// --keys: the keys file tachyon-gen signs its +mac requests with and
// checks the answers' MACs against (src/auth reads it, as tachyond does).
//
// Control path only. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "auth/key_file.h"
#include "auth/keys.h"
#include "core/result.h"

namespace tachyon::gen {

struct SigningKeys {
  auth::KeyStore store;
  const auth::Key* key = nullptr;     // the one requests are signed with (in `store`)
  std::vector<std::string> warnings;  // "FILE:LINE: ..." (a key file readable by all, short keys)
};

// Reads `path` (in `format`) and picks key `key_id`. Errors: every problem
// of the file, one per line, each with file, line and column; or a key id
// the file does not have (naming the ids it has). No message quotes key
// material.
Result<SigningKeys> load_signing_keys(const std::string& path, auth::KeyFileFormat format, uint32_t key_id);

}  // namespace tachyon::gen
