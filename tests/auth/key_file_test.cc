// The keys-file parser (src/auth/key_file.h) and the key store: both
// formats, format detection, every error located, and no key material in
// any message.
#include "auth/key_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace tachyon::auth {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }
std::vector<uint8_t> hex(std::string_view h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}
std::vector<uint8_t> secret_of(const Key& k) { return {k.secret().begin(), k.secret().end()}; }

KeyFileResult parse(std::string_view text, KeyFileFormat f = KeyFileFormat::kAuto) {
  return parse_key_file(text, "test.keys", f);
}

std::string all_messages(const KeyFileResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.to_string() + "\n";
  for (const auto& w : r.warnings) s += w.to_string() + "\n";
  return s;
}

// --- ntpd / NTPsec format ---------------------------------------------------

TEST(KeyFileNtpd, ReadsAsciiUpToTwentyCharactersAndHexBeyond) {
  const auto r = parse(
      "1 MD5 Tachyon_MD5_Key_01\n"
      "2 SHA1 83120c8c3e64142b4796a14c6548240a009d8267\n"
      "3 AES128CMAC 6495c82ec7984c9fa9bcd7772ff42640\n"
      "4 MD5 abcdefghij0123456789\n"       // exactly 20: ASCII even though it could be hex
      "5 MD5 0123456789abcdef0123456789\n");  // 26: hex
  ASSERT_TRUE(r.ok()) << all_messages(r);
  EXPECT_EQ(r.format, KeyFileFormat::kNtpd);
  ASSERT_EQ(r.keys.size(), 5u);
  const Key* k1 = r.keys.find(1);
  ASSERT_NE(k1, nullptr);
  EXPECT_EQ(k1->algorithm, Algorithm::kMd5);
  EXPECT_EQ(secret_of(*k1), bytes_of("Tachyon_MD5_Key_01"));
  EXPECT_EQ(r.keys.find(2)->algorithm, Algorithm::kSha1);
  EXPECT_EQ(secret_of(*r.keys.find(2)), hex("83120c8c3e64142b4796a14c6548240a009d8267"));
  EXPECT_EQ(r.keys.find(3)->algorithm, Algorithm::kAes128Cmac);
  EXPECT_EQ(secret_of(*r.keys.find(3)), hex("6495c82ec7984c9fa9bcd7772ff42640"));
  EXPECT_EQ(secret_of(*r.keys.find(4)), bytes_of("abcdefghij0123456789"));
  EXPECT_EQ(secret_of(*r.keys.find(5)), hex("0123456789abcdef0123456789"));
}

TEST(KeyFileNtpd, AcceptsEveryTypeSpellingOfNtpdAndNtpsec) {
  const auto r = parse(
      "1 M secret-one-xyz\n"
      "2 md5 secret-two-xyz\n"
      "3 SHA1 secret-three-x\n"
      "4 sha-1 secret-four-xy\n"
      "5 AES128CMAC 0123456789abcdef\n"
      "6 AES 0123456789abcdef\n"
      "7 aes-128 0123456789abcdef\n"
      "8 AES-128-CMAC 0123456789abcdef\n"
      "9 CMAC 0123456789abcdef\n"
      "10 AES128 0123456789abcdef\n",
      KeyFileFormat::kNtpd);
  ASSERT_TRUE(r.ok()) << all_messages(r);
  EXPECT_EQ(r.keys.count(Algorithm::kMd5), 2u);
  EXPECT_EQ(r.keys.count(Algorithm::kSha1), 2u);
  EXPECT_EQ(r.keys.count(Algorithm::kAes128Cmac), 6u);
}

TEST(KeyFileNtpd, HashStartsACommentAnywhere) {
  const auto r = parse(
      "# ntp-keygen style header\n"
      "   \t\n"
      "1 MD5 abc#def   # the key is abc\n"
      "2 SHA1 Tachyon_SHA1_ascii# no blank before the comment\n"
      "\t3 MD5 indented-key-123\r\n");  // CRLF
  ASSERT_TRUE(r.ok()) << all_messages(r);
  EXPECT_EQ(secret_of(*r.keys.find(1)), bytes_of("abc"));
  EXPECT_EQ(secret_of(*r.keys.find(2)), bytes_of("Tachyon_SHA1_ascii"));
  EXPECT_EQ(secret_of(*r.keys.find(3)), bytes_of("indented-key-123"));
}

TEST(KeyFileNtpd, KeyIdsSpanTheChronyRange) {
  const auto r = parse("65535 MD5 secret-abcdef\n4294967295 MD5 secret-ghijkl\n0001 MD5 secret-mnopqr\n");
  ASSERT_TRUE(r.ok()) << all_messages(r);
  EXPECT_NE(r.keys.find(65535), nullptr);
  EXPECT_NE(r.keys.find(4294967295u), nullptr);
  EXPECT_NE(r.keys.find(1), nullptr);
}

// --- chrony format ------------------------------------------------------------

TEST(KeyFileChrony, ReadsPrefixesBareKeysAndTheDefaultType) {
  const auto r = parse(
      "1 MD5 ASCII:Tachyon_MD5_Key_01\n"
      "2 SHA1 HEX:83120c8c3e64142b4796a14c6548240a009d8267\n"
      "3 AES128 HEX:6495c82ec7984c9fa9bcd7772ff42640\n"
      "4 HEX:435e7cd93625bc8690c2d2657d6e502b\n"
      "5 a-bare-key-that-is-longer-than-twenty-chars\n");
  ASSERT_TRUE(r.ok()) << all_messages(r);
  EXPECT_EQ(r.format, KeyFileFormat::kChrony);
  EXPECT_EQ(secret_of(*r.keys.find(1)), bytes_of("Tachyon_MD5_Key_01"));
  EXPECT_EQ(secret_of(*r.keys.find(2)), hex("83120c8c3e64142b4796a14c6548240a009d8267"));
  EXPECT_EQ(r.keys.find(3)->algorithm, Algorithm::kAes128Cmac);
  EXPECT_EQ(r.keys.find(4)->algorithm, Algorithm::kMd5);  // chrony's default
  EXPECT_EQ(secret_of(*r.keys.find(4)), hex("435e7cd93625bc8690c2d2657d6e502b"));
  EXPECT_EQ(secret_of(*r.keys.find(5)), bytes_of("a-bare-key-that-is-longer-than-twenty-chars"));
}

TEST(KeyFileChrony, CommentsOnlyAtTheStartOfALineAndHashIsAKeyCharacter) {
  const auto r = parse(
      "# comment\n"
      "! comment\n"
      "; comment\n"
      "  % comment\n"
      "1 MD5 ASCII:ab#cd\n",
      KeyFileFormat::kChrony);
  ASSERT_TRUE(r.ok()) << all_messages(r);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(secret_of(*r.keys.find(1)), bytes_of("ab#cd"));
}

TEST(KeyFileChrony, TheLegacyLetterMIsNtpdOnly) {
  const auto r = parse("1 M HEX:00112233445566778899\n", KeyFileFormat::kChrony);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.errors[0].message, HasSubstr("unsupported type"));
}

// --- format detection ---------------------------------------------------------

TEST(KeyFileFormatDetection, ALongBareKeyIsHexToNtpdAndTextToChrony) {
  const std::string line = "1 SHA1 83120c8c3e64142b4796a14c6548240a009d8267\n";
  const auto ntpd = parse(line);
  ASSERT_TRUE(ntpd.ok());
  EXPECT_EQ(ntpd.format, KeyFileFormat::kNtpd);
  EXPECT_EQ(ntpd.keys.find(1)->size, 20);
  const auto chrony = parse(line, KeyFileFormat::kChrony);
  ASSERT_TRUE(chrony.ok());
  EXPECT_EQ(chrony.keys.find(1)->size, 40);
  // One chrony-only line anywhere makes the whole file chrony's.
  const auto mixed = parse(line + "2 MD5 HEX:00112233445566778899\n");
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed.format, KeyFileFormat::kChrony);
  EXPECT_EQ(mixed.keys.find(1)->size, 40);
  EXPECT_EQ(parse(line + "3 some-md5-key\n").format, KeyFileFormat::kChrony);
  EXPECT_EQ(parse("1 MD5 ASCII:x-y-z-w-v-u\n").format, KeyFileFormat::kChrony);
  EXPECT_EQ(parse("# only comments\n").format, KeyFileFormat::kNtpd);
}

TEST(KeyFileFormatDetection, TheFixtureFilesHoldTheSameKeysInBothFormats) {
  const auto ntpd = load_key_file(std::string(TACHYON_AUTH_DATA) + "/ntpd.keys");
  const auto chrony = load_key_file(std::string(TACHYON_AUTH_DATA) + "/chrony.keys");
  ASSERT_TRUE(ntpd.ok()) << all_messages(ntpd);
  ASSERT_TRUE(chrony.ok()) << all_messages(chrony);
  EXPECT_EQ(ntpd.format, KeyFileFormat::kNtpd);
  EXPECT_EQ(chrony.format, KeyFileFormat::kChrony);
  ASSERT_EQ(ntpd.keys.size(), 5u);
  ASSERT_EQ(chrony.keys.size(), 5u);
  for (size_t i = 0; i < ntpd.keys.size(); ++i) {
    const Key& a = ntpd.keys.keys()[i];
    const Key& b = chrony.keys.keys()[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.algorithm, b.algorithm);
    EXPECT_EQ(secret_of(a), secret_of(b)) << "key " << a.id;
  }
}

TEST(KeyFileFormat, NamesRoundTrip) {
  for (const auto f : {KeyFileFormat::kAuto, KeyFileFormat::kNtpd, KeyFileFormat::kChrony}) {
    EXPECT_EQ(parse_key_file_format(key_file_format_name(f)), f);
  }
  EXPECT_EQ(parse_key_file_format("NTPD"), std::nullopt);
  EXPECT_EQ(parse_key_file_format(""), std::nullopt);
}

// --- errors ----------------------------------------------------------------------

struct ErrorCase {
  const char* name;
  KeyFileFormat format;
  std::string text;
  uint32_t line;
  uint32_t column;
  const char* says;
};

const ErrorCase kErrorCases[] = {
    {"id zero", KeyFileFormat::kNtpd, "0 MD5 Zq9SecretKeyXYZ\n", 1, 1, "key id must be an integer from 1 to 4294967295"},
    {"id too large", KeyFileFormat::kNtpd, "4294967296 MD5 Zq9SecretKeyXYZ\n", 1, 1, "from 1 to 4294967295"},
    {"id not a number", KeyFileFormat::kNtpd, "  x7 MD5 Zq9SecretKeyXYZ\n", 1, 3, "key id must be"},
    {"id with a sign", KeyFileFormat::kChrony, "+7 MD5 Zq9SecretKeyXYZ\n", 1, 1, "key id must be"},
    {"ntpd key missing", KeyFileFormat::kNtpd, "7 MD5\n", 1, 0, "the key is missing"},
    {"ntpd type and key missing", KeyFileFormat::kNtpd, "7\n", 1, 0, "the type and the key are missing"},
    {"ntpd text after the key", KeyFileFormat::kNtpd, "7 MD5 Zq9SecretKeyXYZ extra\n", 1, 23, "text after the key"},
    {"chrony key missing", KeyFileFormat::kChrony, "7\n", 1, 0, "the key is missing"},
    {"chrony four fields", KeyFileFormat::kChrony, "7 MD5 Zq9SecretKeyXYZ # note\n", 1, 23, "more than three fields"},
    {"chrony type as the key", KeyFileFormat::kChrony, "7 SHA1\n", 1, 3, "the key is a type name"},
    {"unsupported type", KeyFileFormat::kNtpd, "7 SHA256 Zq9SecretKeyXYZ\n", 1, 3, "key 7: unsupported type: expected MD5, SHA1 or AES128CMAC"},
    {"secret in the type position", KeyFileFormat::kNtpd, "7 Zq9SecretKeyXYZ MD5\n", 1, 3, "unsupported type"},
    {"ntpd long key not hex", KeyFileFormat::kNtpd, "7 SHA1 0123456789abcdefZq9SecretKeyXYZ\n", 1, 24, "not a hex digit: ntpd reads a key longer than 20 characters as hex"},
    {"ntpd odd hex", KeyFileFormat::kNtpd, "7 SHA1 0123456789abcdef0123456\n", 1, 8, "even number of digits"},
    {"ntpd hex over 64 digits", KeyFileFormat::kNtpd, "7 SHA1 " + std::string(66, 'a') + "\n", 1, 8, "at most 64 digits (32 bytes)"},
    {"chrony hex not hex", KeyFileFormat::kChrony, "7 SHA1 HEX:00112233Zq9SecretKeyXYZ\n", 1, 20, "not a hex digit: the key starts with HEX:"},
    {"chrony odd hex", KeyFileFormat::kChrony, "7 SHA1 HEX:001\n", 1, 12, "even number of digits"},
    {"chrony empty ASCII", KeyFileFormat::kChrony, "7 SHA1 ASCII:\n", 1, 14, "the key is empty"},
    {"chrony empty HEX", KeyFileFormat::kChrony, "7 HEX:\n", 1, 7, "the key is empty"},
    {"chrony text over 64", KeyFileFormat::kChrony, "7 MD5 " + std::string(65, 'k') + "\n", 1, 7, "longer than 64 characters"},
    {"non-printable byte", KeyFileFormat::kNtpd, "7 MD5 Zq9Secret\x01KeyXYZ\n", 1, 16, "not printable ASCII"},
    {"non-ASCII byte", KeyFileFormat::kChrony, "7 MD5 ASCII:Zq9Secr\xc3\xa9tKey\n", 1, 20, "not printable ASCII"},
    {"cmac key too short", KeyFileFormat::kNtpd, "7 AES128CMAC Zq9SecretKeyXYZ\n", 1, 14, "exactly 16 bytes (16 characters or 32 hex digits), this one has 15"},
    {"cmac key too long", KeyFileFormat::kChrony, "7 AES128 HEX:" + std::string(40, 'a') + "\n", 1, 10, "this one has 20"},
    {"duplicate id", KeyFileFormat::kNtpd, "7 MD5 Zq9SecretKeyXYZ\n\n7 SHA1 Zq9SecretKeyXYZ\n", 3, 1, "key 7 is defined again (first on line 1)"},
};

class KeyFileErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(KeyFileErrors, AreLocatedAndSayWhatWasExpected) {
  const ErrorCase& c = GetParam();
  const auto r = parse(c.text, c.format);
  ASSERT_EQ(r.errors.size(), 1u) << all_messages(r);
  EXPECT_TRUE(r.keys.empty());
  const KeyFileError& e = r.errors[0];
  EXPECT_EQ(e.file, "test.keys");
  EXPECT_EQ(e.line, c.line);
  EXPECT_EQ(e.column, c.column);
  EXPECT_THAT(e.message, HasSubstr(c.says));
}

TEST_P(KeyFileErrors, NeverQuoteTheKey) {
  const ErrorCase& c = GetParam();
  const std::string messages = all_messages(parse(c.text, c.format));
  for (const char* secret : {"Zq9Secret", "KeyXYZ", "aaaaaaaa", "kkkkkkkk", "Secr"}) {
    EXPECT_THAT(messages, ::testing::Not(HasSubstr(secret)));
  }
}

INSTANTIATE_TEST_SUITE_P(All, KeyFileErrors, ::testing::ValuesIn(kErrorCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& param_info) {
                           std::string n = param_info.param.name;
                           for (char& ch : n) ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return n;
                         });

TEST(KeyFileErrorsAll, AreReportedInOnePassAndLoadNothing) {
  const auto r = parse(
      "1 MD5 good-key-number-1\n"
      "0 MD5 bad-id\n"
      "2 SHA256 some-key\n"
      "3 MD5 good-key-number-3\n"
      "4 AES hex-is-not-16\n",
      KeyFileFormat::kNtpd);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].line, 2u);
  EXPECT_EQ(r.errors[1].line, 3u);
  EXPECT_EQ(r.errors[2].line, 5u);
  EXPECT_TRUE(r.keys.empty()) << "a file with an error yields no keys";
  EXPECT_EQ(r.errors[0].to_string(), "test.keys:2:1: the key id must be an integer from 1 to 4294967295");
}

// --- warnings ------------------------------------------------------------------------

TEST(KeyFileWarnings, ShortLegacyKeysAndEmptyFiles) {
  const auto r = parse("1 MD5 Qx7z\n2 SHA1 long-enough-key\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].line, 1u);
  EXPECT_THAT(r.warnings[0].message, HasSubstr("key 1: shorter than 80 bits"));
  EXPECT_THAT(all_messages(r), ::testing::Not(HasSubstr("Qx7z")));

  const auto empty = parse("# nothing\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.keys.empty());
  ASSERT_EQ(empty.warnings.size(), 1u);
  EXPECT_THAT(empty.warnings[0].message, HasSubstr("no keys"));
}

class TempKeysFile {
 public:
  TempKeysFile(const std::string& text, mode_t mode) {
    char name[] = "/tmp/tachyon-keys-test.XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    fchmod(fd, mode);
    close(fd);
  }
  ~TempKeysFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(KeyFileLoad, WarnsWhenEveryUserCanReadTheFile) {
  const std::string text = "1 MD5 Tachyon_MD5_Key_01\n";
  const TempKeysFile open_file(text, 0644);
  const auto r = load_key_file(open_file.path());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0].message, HasSubstr("readable or writable by every user"));
  EXPECT_EQ(r.warnings[0].file, open_file.path());

  const TempKeysFile private_file(text, 0600);
  const auto p = load_key_file(private_file.path());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_EQ(secret_of(*p.keys.find(1)), bytes_of("Tachyon_MD5_Key_01"));
}

TEST(KeyFileLoad, AMissingFileIsOneClearError) {
  const auto r = load_key_file("/nonexistent/tachyon.keys");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/tachyon.keys: cannot open the keys file: No such file or directory");
  const auto dir = load_key_file("/tmp");
  ASSERT_EQ(dir.errors.size(), 1u);
  EXPECT_THAT(dir.errors[0].message, HasSubstr("not a regular file"));
}

// --- the store ---------------------------------------------------------------------

TEST(KeyStore, FindsBySortedIdAndSurvivesAMove) {
  auto r = parse("30 MD5 key-thirty-abc\n10 MD5 key-ten-abcdef\n20 SHA1 key-twenty-abc\n");
  ASSERT_TRUE(r.ok());
  KeyStore keys = std::move(r.keys);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys.keys()[0].id, 10u);
  EXPECT_EQ(keys.keys()[2].id, 30u);
  const Key* k20 = keys.find(20);
  ASSERT_NE(k20, nullptr);
  EXPECT_EQ(k20->algorithm, Algorithm::kSha1);
  EXPECT_EQ(keys.find(15), nullptr);
  EXPECT_EQ(keys.find(0), nullptr);
  EXPECT_EQ(keys.find(31), nullptr);
  const uint64_t serial = keys.serial();
  const KeyStore moved = std::move(keys);
  EXPECT_EQ(moved.find(20), k20) << "keys do not move with the store";
  EXPECT_EQ(moved.serial(), serial);
  EXPECT_NE(keys.serial(), serial);  // NOLINT(bugprone-use-after-move): moved-from is empty and valid
  EXPECT_TRUE(keys.empty());         // NOLINT(bugprone-use-after-move)
}

TEST(KeyStore, EveryStoreHasItsOwnSerial) {
  const KeyStore a, b;
  EXPECT_NE(a.serial(), 0u);
  EXPECT_NE(a.serial(), b.serial());
}

TEST(KeyStore, MacSizesFollowTheAlgorithm) {
  EXPECT_EQ(mac_size(Algorithm::kMd5), 20u);
  EXPECT_EQ(mac_size(Algorithm::kSha1), 24u);
  EXPECT_EQ(mac_size(Algorithm::kAes128Cmac), 20u);
  EXPECT_STREQ(algorithm_name(Algorithm::kAes128Cmac), "AES128CMAC");
}

}  // namespace
}  // namespace tachyon::auth
