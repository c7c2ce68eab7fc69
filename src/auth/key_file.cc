#include "auth/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace tachyon::auth {
namespace {

// ---------------------------------------------------------------------------
// Lines and fields. Nothing here copies text: fields are views into the
// caller's buffer, so the only copies of a secret are the caller's and the
// Key it ends up in.

struct Field {
  std::string_view text;
  uint32_t column = 0;  // 1-based
};

struct Line {
  std::string_view text;
  uint32_t number = 0;
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  uint32_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
    lines.push_back({line, ++number});
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// ntpd/NTPsec (authreadkeys.c nexttok()): fields separated by blanks, and a
// '#' ends the line wherever it is.
// chrony (cmdparse.c CPS_NormalizeLine()): a line whose first non-blank is
// one of "#!;%" is a comment; elsewhere '#' is an ordinary character.
std::vector<Field> split_fields(std::string_view line, KeyFileFormat format) {
  std::vector<Field> fields;
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  if (format == KeyFileFormat::kChrony && i < line.size() && std::strchr("#!;%", line[i]) != nullptr) {
    return fields;
  }
  while (i < line.size()) {
    if (format != KeyFileFormat::kChrony && line[i] == '#') break;
    const size_t start = i;
    while (i < line.size() && !is_space(line[i]) && (format == KeyFileFormat::kChrony || line[i] != '#')) ++i;
    fields.push_back({line.substr(start, i - start), static_cast<uint32_t>(start + 1)});
    while (i < line.size() && is_space(line[i])) ++i;
  }
  return fields;
}

bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// chrony's marks, compared case-sensitively as chrony does.
constexpr std::string_view kAsciiPrefix = "ASCII:";
constexpr std::string_view kHexPrefix = "HEX:";

// kAuto: chrony's if any key line has a form only chrony reads (two
// fields, or an ASCII:/HEX: key); ntpd's otherwise. ntpd-style comments are
// cut first: "1 MD5 secret # note" is an ntpd line either way.
KeyFileFormat detect_format(const std::vector<Line>& lines) {
  for (const Line& line : lines) {
    const std::vector<Field> f = split_fields(line.text, KeyFileFormat::kNtpd);
    if (f.size() == 2) return KeyFileFormat::kChrony;
    if (f.size() >= 3 && (starts_with(f[2].text, kAsciiPrefix) || starts_with(f[2].text, kHexPrefix))) {
      return KeyFileFormat::kChrony;
    }
  }
  return KeyFileFormat::kNtpd;
}

// ---------------------------------------------------------------------------
// Fields.

std::optional<uint32_t> parse_key_id(std::string_view s) noexcept {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

struct TypeName {
  std::string_view name;
  Algorithm algorithm;
  bool ntpd_only;
};

// ntpd/NTPsec: MD5 ("M" in old files), SHA1, AES128CMAC; NTPsec also takes
// AES and AES-128 (it appends "-CBC" for OpenSSL's CMAC). chrony: MD5, SHA1,
// AES128. Case does not matter (NTPsec upper-cases the name).
constexpr TypeName kTypes[] = {
    {"MD5", Algorithm::kMd5, false},
    {"M", Algorithm::kMd5, true},
    {"SHA1", Algorithm::kSha1, false},
    {"SHA-1", Algorithm::kSha1, false},
    {"AES128CMAC", Algorithm::kAes128Cmac, false},
    {"AES-128-CMAC", Algorithm::kAes128Cmac, false},
    {"AES128", Algorithm::kAes128Cmac, false},
    {"AES-128", Algorithm::kAes128Cmac, false},
    {"AES", Algorithm::kAes128Cmac, false},
    {"CMAC", Algorithm::kAes128Cmac, false},
};

std::optional<Algorithm> parse_type(std::string_view s, KeyFileFormat format) noexcept {
  for (const TypeName& t : kTypes) {
    if (iequals(s, t.name) && (!t.ntpd_only || format == KeyFileFormat::kNtpd)) return t.algorithm;
  }
  return std::nullopt;
}

bool printable(char c) noexcept { return c > ' ' && c < 0x7f; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// What went wrong decoding a key, and where (offset into the field).
struct KeyProblem {
  std::string message;
  size_t offset = 0;
};

std::optional<KeyProblem> decode_ascii(std::string_view text, Key& key) {
  if (text.empty()) return KeyProblem{"the key is empty", 0};
  if (text.size() > kMaxKeySize) {
    return KeyProblem{"the key is longer than " + std::to_string(kMaxKeySize) + " characters", 0};
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (!printable(text[i])) return KeyProblem{"the key has a character that is not printable ASCII", i};
  }
  std::memcpy(key.bytes.data(), text.data(), text.size());
  key.size = static_cast<uint8_t>(text.size());
  return std::nullopt;
}

std::optional<KeyProblem> decode_hex(std::string_view digits, size_t max_digits, const char* why, Key& key) {
  for (size_t i = 0; i < digits.size(); ++i) {
    if (hex_value(digits[i]) < 0) return KeyProblem{std::string("not a hex digit: ") + why, i};
  }
  if (digits.empty()) return KeyProblem{"the key is empty", 0};
  if (digits.size() % 2 != 0) return KeyProblem{"a hex key needs an even number of digits", 0};
  if (digits.size() > max_digits) {
    return KeyProblem{"a hex key has at most " + std::to_string(max_digits) + " digits (" +
                          std::to_string(max_digits / 2) + " bytes)",
                      0};
  }
  for (size_t i = 0; i < digits.size(); i += 2) {
    key.bytes[i / 2] = static_cast<uint8_t>(hex_value(digits[i]) << 4 | hex_value(digits[i + 1]));
  }
  key.size = static_cast<uint8_t>(digits.size() / 2);
  return std::nullopt;
}

// ntpd/NTPsec authreadkeys(): "If it is longer than 20 characters, it is a
// binary string encoded in hex; otherwise, it is a text string of printable
// ASCII characters." They keep at most 32 bytes (64 digits) and truncate
// longer keys, and drop an odd last digit; we refuse both instead, since a
// client reading the same line would use the truncated key.
constexpr size_t kNtpdMaxAscii = 20;
constexpr size_t kNtpdMaxHexDigits = 64;

std::optional<KeyProblem> decode_ntpd_key(std::string_view text, Key& key) {
  if (text.size() <= kNtpdMaxAscii) return decode_ascii(text, key);
  return decode_hex(text, kNtpdMaxHexDigits, "ntpd reads a key longer than 20 characters as hex", key);
}

// chrony (keys.c): "ASCII:" and "HEX:" prefixes; bare text is ASCII
// whatever its length.
std::optional<KeyProblem> decode_chrony_key(std::string_view text, Key& key) {
  if (starts_with(text, kHexPrefix)) {
    auto p = decode_hex(text.substr(kHexPrefix.size()), 2 * kMaxKeySize, "the key starts with HEX:", key);
    if (p) p->offset += kHexPrefix.size();
    return p;
  }
  if (starts_with(text, kAsciiPrefix)) {
    auto p = decode_ascii(text.substr(kAsciiPrefix.size()), key);
    if (p) p->offset += kAsciiPrefix.size();
    return p;
  }
  return decode_ascii(text, key);
}

constexpr const char* kTypesExpected = "MD5, SHA1 or AES128CMAC (AES-128-CMAC, AES128, AES)";

// Under 80 bits a key can be searched for offline from one captured packet;
// chrony warns about such keys too (keys.c, KEY_CheckKeyLength()).
constexpr size_t kShortKeyBytes = 10;

class Parser {
 public:
  Parser(std::string_view text, const std::string& path, KeyFileFormat format) : path_(path) {
    lines_ = split_lines(text);
    result_.format = format == KeyFileFormat::kAuto ? detect_format(lines_) : format;
  }

  KeyFileResult run() && {
    std::vector<Key> keys;
    // Reserved up front: a vector that grows would leave copies of the
    // secrets it moved in freed memory.
    keys.reserve(lines_.size());
    std::map<uint32_t, uint32_t> first_line;  // key id -> line
    for (const Line& line : lines_) {
      Key key;
      if (parse_line(line, key)) {
        const auto [it, fresh] = first_line.emplace(key.id, line.number);
        if (!fresh) {
          error(line.number, 1, "key " + std::to_string(key.id) + " is defined again (first on line " +
                                    std::to_string(it->second) + ")");
        } else {
          keys.push_back(key);
        }
      }
      wipe(key);
    }
    if (result_.errors.empty()) {
      if (keys.empty()) warning(0, 0, "no keys in the file: every authenticated request will fail");
      result_.keys = KeyStore(std::move(keys));
    } else {
      for (Key& k : keys) wipe(k);
    }
    return std::move(result_);
  }

 private:
  // Fills `key` from one line; false for blank lines, comments and errors.
  bool parse_line(const Line& line, Key& key) {
    const KeyFileFormat format = result_.format;
    const std::vector<Field> f = split_fields(line.text, format);
    if (f.empty()) return false;

    const Field* id_field = &f[0];
    const Field* type_field = nullptr;
    const Field* key_field = nullptr;
    if (format == KeyFileFormat::kChrony) {
      // chrony CPS_ParseKey(): "Require two or three words".
      if (f.size() == 1) {
        error(line.number, 0, "expected ID [TYPE] KEY (chrony format): the key is missing");
        return false;
      }
      if (f.size() > 3) {
        error(line.number, f[3].column, "expected ID [TYPE] KEY (chrony format): more than three fields");
        return false;
      }
      if (f.size() == 3) type_field = &f[1];
      key_field = &f.back();
      // "7 SHA1" is a 4-character MD5 key to chrony; surely a missing key.
      if (type_field == nullptr && parse_type(key_field->text, format)) {
        error(line.number, key_field->column,
              "expected ID [TYPE] KEY (chrony format): the key is a type name; is the key missing?");
        return false;
      }
    } else {
      if (f.size() < 3) {
        error(line.number, 0,
              f.size() == 1 ? "expected ID TYPE KEY (ntpd format): the type and the key are missing"
                            : "expected ID TYPE KEY (ntpd format): the key is missing");
        return false;
      }
      if (f.size() > 3) {
        error(line.number, f[3].column, "expected ID TYPE KEY (ntpd format): text after the key (comments start with #)");
        return false;
      }
      type_field = &f[1];
      key_field = &f[2];
    }

    const std::optional<uint32_t> id = parse_key_id(id_field->text);
    if (!id) {
      error(line.number, id_field->column, "the key id must be an integer from 1 to 4294967295");
      return false;
    }
    key.id = *id;
    const std::string who = "key " + std::to_string(*id) + ": ";

    key.algorithm = Algorithm::kMd5;  // chrony's default when the type is left out
    if (type_field != nullptr) {
      const std::optional<Algorithm> a = parse_type(type_field->text, format);
      if (!a) {
        error(line.number, type_field->column, who + "unsupported type: expected " + kTypesExpected);
        return false;
      }
      key.algorithm = *a;
    }

    const std::optional<KeyProblem> problem =
        format == KeyFileFormat::kChrony ? decode_chrony_key(key_field->text, key) : decode_ntpd_key(key_field->text, key);
    if (problem) {
      error(line.number, key_field->column + static_cast<uint32_t>(problem->offset), who + problem->message);
      return false;
    }

    if (key.algorithm == Algorithm::kAes128Cmac && key.size != kCmacKeySize) {
      // NTPsec pads or truncates such keys and chrony refuses them; a
      // padded key would silently disagree with a client's.
      error(line.number, key_field->column,
            who + "an AES-128-CMAC key is exactly 16 bytes (16 characters or 32 hex digits), this one has " +
                std::to_string(key.size));
      return false;
    }
    if (key.algorithm != Algorithm::kAes128Cmac && key.size < kShortKeyBytes) {
      warning(line.number, key_field->column, who + "shorter than 80 bits; use 20 random characters or more");
    }
    return true;
  }

  void error(uint32_t line, uint32_t column, std::string message) {
    result_.errors.push_back({path_, line, column, std::move(message)});
  }
  void warning(uint32_t line, uint32_t column, std::string message) {
    result_.warnings.push_back({path_, line, column, std::move(message)});
  }

  const std::string& path_;
  std::vector<Line> lines_;
  KeyFileResult result_;
};

}  // namespace

const char* key_file_format_name(KeyFileFormat f) noexcept {
  switch (f) {
    case KeyFileFormat::kAuto: return "auto";
    case KeyFileFormat::kNtpd: return "ntpd";
    case KeyFileFormat::kChrony: return "chrony";
  }
  return "?";
}

std::optional<KeyFileFormat> parse_key_file_format(std::string_view name) noexcept {
  for (const KeyFileFormat f : {KeyFileFormat::kAuto, KeyFileFormat::kNtpd, KeyFileFormat::kChrony}) {
    if (name == key_file_format_name(f)) return f;
  }
  return std::nullopt;
}

std::string KeyFileError::to_string() const {
  std::string s = file;
  if (line != 0) {
    s += ':' + std::to_string(line);
    if (column != 0) s += ':' + std::to_string(column);
  }
  return s + ": " + message;
}

KeyFileResult parse_key_file(std::string_view text, const std::string& path, KeyFileFormat format) {
  return Parser(text, path, format).run();
}

KeyFileResult load_key_file(const std::string& path, KeyFileFormat format) {
  auto fail = [&](std::string message) {
    KeyFileResult r;
    r.format = format;
    r.errors.push_back({path, 0, 0, std::move(message)});
    return r;
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot open the keys file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("not a regular file");
  }
  constexpr off_t kMaxFileSize = 16 << 20;
  if (st.st_size > kMaxFileSize) {
    ::close(fd);
    return fail("larger than 16 MiB: not a keys file");
  }
  // One buffer of the file's size, wiped after parsing (a growing string
  // would leave copies of the keys behind).
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  const int read_errno = errno;
  ::close(fd);
  if (got != text.size()) {
    OPENSSL_cleanse(text.data(), text.size());
    return fail(std::string("cannot read the keys file: ") + std::strerror(read_errno));
  }
  KeyFileResult r = parse_key_file(text, path, format);
  OPENSSL_cleanse(text.data(), text.size());
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    r.warnings.insert(r.warnings.begin(),
                      {path, 0, 0, "readable or writable by every user: chmod 600 (or 640 with a tachyond group)"});
  }
  return r;
}

}  // namespace tachyon::auth
