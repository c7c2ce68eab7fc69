// Reading a keys file: ntpd's ntp.keys and chrony's chrony.keys formats,
// into a KeyStore (keys.h). Control path only.
//
//   ntpd / NTPsec   ID TYPE KEY      # comment anywhere on a line
//                   TYPE: MD5 (or M), SHA1, AES128CMAC (or AES, AES128, CMAC)
//                   KEY: up to 20 printable characters, used as they are;
//                        longer means hex (at most 64 digits = 32 bytes)
//   chrony          ID [TYPE] KEY    (a line starting with # ! ; % is a comment)
//                   TYPE: MD5 when left out, SHA1, AES128 (CMAC)
//                   KEY: ASCII:text, HEX:digits, or bare text (ASCII)
//
// The two formats disagree on one thing: a bare key longer than 20
// characters is hex to ntpd and text to chrony. kAuto reads a file as
// chrony's if any key line has only two fields or an ASCII:/HEX: key, and
// as ntpd's otherwise (docs/authentication.md).
//
// Key ids are 1..2^32-1 (chrony's range; ntpd and NTPsec clients can only
// use 1..65535). Only MD5, SHA1 and AES-128-CMAC are supported; an
// AES-CMAC key must be exactly 16 bytes.
//
// Every problem is reported at once, each with file, line, column and what
// was expected, and a file with any error yields no keys at all: a typo
// never silently drops a key. Messages never quote the line, so no key
// material can leak into a log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/keys.h"

namespace tachyon::auth {

enum class KeyFileFormat : uint8_t { kAuto, kNtpd, kChrony };

// "auto", "ntpd", "chrony".
const char* key_file_format_name(KeyFileFormat f) noexcept;
std::optional<KeyFileFormat> parse_key_file_format(std::string_view name) noexcept;

struct KeyFileError {
  std::string file;
  uint32_t line = 0;    // 1-based; 0 when not tied to a line
  uint32_t column = 0;  // 1-based; 0 when unknown
  std::string message;

  // "FILE:LINE:COLUMN: MESSAGE" (line and column omitted when 0).
  std::string to_string() const;
};

struct KeyFileResult {
  KeyStore keys;                       // empty unless ok()
  KeyFileFormat format = KeyFileFormat::kAuto;  // the format the file was read as
  std::vector<KeyFileError> errors;    // every problem, in file order
  std::vector<KeyFileError> warnings;  // loaded, but worth fixing (short keys, permissions)

  bool ok() const noexcept { return errors.empty(); }
};

// Reads and parses a keys file. Also warns when the file is readable by
// every user.
KeyFileResult load_key_file(const std::string& path, KeyFileFormat format = KeyFileFormat::kAuto);

// Same, from text (tests, fuzzing); `path` is used in messages only.
KeyFileResult parse_key_file(std::string_view text, const std::string& path,
                             KeyFileFormat format = KeyFileFormat::kAuto);

}  // namespace tachyon::auth
