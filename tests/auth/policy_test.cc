// The behaviour table (src/auth/policy.h, docs/authentication.md).
#include "auth/policy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tachyon::auth {
namespace {

using core::DropReason;

constexpr RequestAuth kAll[] = {RequestAuth::kNone,      RequestAuth::kValid,  RequestAuth::kUnknownKey,
                                RequestAuth::kBadMac,    RequestAuth::kCryptoNak, RequestAuth::kMsSntp,
                                RequestAuth::kMalformed};

TEST(AuthPolicy, WithoutRequireOnlyAFailedMacChangesTheAnswer) {
  EXPECT_EQ(decide(RequestAuth::kNone, false).action, AuthAction::kAnswer);
  EXPECT_EQ(decide(RequestAuth::kValid, false).action, AuthAction::kAnswerSigned);
  EXPECT_EQ(decide(RequestAuth::kUnknownKey, false).action, AuthAction::kAnswerCryptoNak);
  EXPECT_EQ(decide(RequestAuth::kBadMac, false).action, AuthAction::kAnswerCryptoNak);
}

TEST(AuthPolicy, RequireAnswersOnlyVerifiedRequests) {
  for (const RequestAuth r : kAll) {
    const AuthDecision d = decide(r, true);
    if (r == RequestAuth::kValid) {
      EXPECT_EQ(d.action, AuthAction::kAnswerSigned);
    } else {
      EXPECT_EQ(d.action, AuthAction::kDrop) << request_auth_name(r);
    }
  }
  EXPECT_EQ(decide(RequestAuth::kNone, true).reason, DropReason::kAuthRequired);
  EXPECT_EQ(decide(RequestAuth::kUnknownKey, true).reason, DropReason::kAuthFailed);
  EXPECT_EQ(decide(RequestAuth::kBadMac, true).reason, DropReason::kAuthFailed);
}

TEST(AuthPolicy, CryptoNakMsSntpAndMalformedRequestsAreNeverAnswered) {
  for (const bool require : {false, true}) {
    EXPECT_EQ(decide(RequestAuth::kCryptoNak, require).action, AuthAction::kDrop);
    EXPECT_EQ(decide(RequestAuth::kCryptoNak, require).reason, DropReason::kAuthFailed);
    EXPECT_EQ(decide(RequestAuth::kMsSntp, require).action, AuthAction::kDrop);
    EXPECT_EQ(decide(RequestAuth::kMsSntp, require).reason, DropReason::kAuthFailed);
    EXPECT_EQ(decide(RequestAuth::kMalformed, require).reason, DropReason::kNtpBadTrailer);
  }
}

TEST(AuthPolicy, AnswerMacNeverOutgrowsTheRequestMac) {
  Key md5, sha1;
  sha1.algorithm = Algorithm::kSha1;
  EXPECT_EQ(answer_mac_size(AuthAction::kAnswer, nullptr), 0u);
  EXPECT_EQ(answer_mac_size(AuthAction::kDrop, nullptr), 0u);
  EXPECT_EQ(answer_mac_size(AuthAction::kAnswerCryptoNak, nullptr), 4u);
  EXPECT_EQ(answer_mac_size(AuthAction::kAnswerSigned, &md5), 20u);
  EXPECT_EQ(answer_mac_size(AuthAction::kAnswerSigned, &sha1), 24u);
  // A crypto-NAK answers requests whose MAC is at least 20 bytes.
  static_assert(kCryptoNakSize < core::kMd5MacSize);
}

TEST(AuthPolicy, CryptoNakIsFourZeroBytes) {
  uint8_t out[6] = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(write_crypto_nak(std::span(out, 3)), 0u);
  EXPECT_EQ(write_crypto_nak(out), 4u);
  EXPECT_EQ(out[0] | out[1] | out[2] | out[3], 0);
  EXPECT_EQ(out[4], 5);
}

TEST(AuthPolicy, NamesAreDistinct) {
  std::set<std::string> names;
  for (const RequestAuth r : kAll) names.insert(request_auth_name(r));
  EXPECT_EQ(names.size(), std::size(kAll));
}

}  // namespace
}  // namespace tachyon::auth
