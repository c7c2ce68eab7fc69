// --keys: the key file is read as tachyond reads it, the signing key is
// picked by id, and every problem is a clear error that quotes no key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/gen/reference_mac.h"
#include "tools/gen/signing_keys.h"

namespace tachyon::gen {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SigningKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/signing-keys-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    std::remove(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& write(const std::string& text, mode_t mode = 0600) {
    path_ = dir_ + "/test.keys";
    std::ofstream(path_) << text;
    chmod(path_.c_str(), mode);
    return path_;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SigningKeysTest, PicksTheKeyById) {
  const std::string& path = write(testing::kTestKeys);
  for (uint32_t id : {1u, 2u, 3u}) {
    auto k = load_signing_keys(path, auth::KeyFileFormat::kAuto, id);
    ASSERT_TRUE(k) << k.message();
    ASSERT_NE(k->key, nullptr);
    EXPECT_EQ(k->key->id, id);
    EXPECT_EQ(k->key, k->store.find(id));  // points into the store it came with
    EXPECT_EQ(k->store.size(), 3u);
    EXPECT_TRUE(k->warnings.empty());
  }
  auto k = load_signing_keys(path, auth::KeyFileFormat::kAuto, 3);
  EXPECT_EQ(k->key->algorithm, auth::Algorithm::kAes128Cmac);
}

TEST_F(SigningKeysTest, AKeyIdTheFileLacksNamesTheIdsItHas) {
  const std::string& path = write(testing::kTestKeys);
  auto k = load_signing_keys(path, auth::KeyFileFormat::kAuto, 9);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.message(), "--mac-key-id 9: " + path + " has no such key (its keys: 1, 2, 3)");
}

TEST_F(SigningKeysTest, EveryErrorWithItsLineAndNoKeyMaterial) {
  const std::string& path = write("1 MD5 Secret_one\n2 SHA9 Secret_two\n3 AES128 HEX:0011\n");
  auto k = load_signing_keys(path, auth::KeyFileFormat::kNtpd, 1);
  ASSERT_FALSE(k);
  EXPECT_THAT(k.message(), HasSubstr("--keys: 2 errors in the keys file:"));
  EXPECT_THAT(k.message(), HasSubstr("\n  " + path + ":2:"));
  EXPECT_THAT(k.message(), HasSubstr("\n  " + path + ":3:"));
  EXPECT_THAT(k.message(), Not(HasSubstr("Secret")));
  EXPECT_THAT(k.message(), Not(HasSubstr("0011")));

  auto missing = load_signing_keys(dir_ + "/none.keys", auth::KeyFileFormat::kAuto, 1);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.message(), HasSubstr(dir_ + "/none.keys"));
}

TEST_F(SigningKeysTest, AFileEveryoneCanReadIsAWarning) {
  auto k = load_signing_keys(write(testing::kTestKeys, 0644), auth::KeyFileFormat::kAuto, 1);
  ASSERT_TRUE(k) << k.message();
  ASSERT_EQ(k->warnings.size(), 1u);
  EXPECT_THAT(k->warnings[0], HasSubstr(path_));
}

}  // namespace
}  // namespace tachyon::gen
