#include "tessera/token/keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/json.hpp>

#include "common/base64.h"
#include "crypto/hash.h"
#include "fake_clock.h"
#include "status_matchers.h"
#include "tessera/token/key_set.h"
#include "test_keys.h"

namespace tessera {
namespace {

using testing::TestKey;

class KeysTest : public ::testing::TestWithParam<JwtAlgorithm> {};
INSTANTIATE_TEST_SUITE_P(Algorithms, KeysTest,
                         ::testing::Values(JwtAlgorithm::kRS256, JwtAlgorithm::kES256,
                                           JwtAlgorithm::kEdDSA),
                         [](const auto& param_info) {
                           return std::string(AlgorithmName(param_info.param));
                         });

TEST_P(KeysTest, SignVerifyAndPkcs8RoundTrip) {
  const SigningKey& key = TestKey(GetParam());
  auto sig = key.Sign("header.payload");
  ASSERT_OK(sig);
  EXPECT_TRUE(key.public_key()->Verify("header.payload", AsBytes(*sig)));
  EXPECT_FALSE(key.public_key()->Verify("header.payloaD", AsBytes(*sig)));
  EXPECT_EQ(sig->size(), GetParam() == JwtAlgorithm::kRS256 ? 256u : 64u);

  auto der = key.PrivateKeyDer();
  ASSERT_OK(der);
  auto back = SigningKey::FromPkcs8(key.kid(), GetParam(), *der);
  ASSERT_OK(back);
  auto sig2 = back->Sign("x");
  ASSERT_OK(sig2);
  EXPECT_TRUE(key.public_key()->Verify("x", AsBytes(*sig2)));
  // The wrong algorithm for the key type is refused.
  const JwtAlgorithm other =
      GetParam() == JwtAlgorithm::kRS256 ? JwtAlgorithm::kEdDSA : JwtAlgorithm::kRS256;
  EXPECT_ERROR(SigningKey::FromPkcs8(key.kid(), other, *der), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(SigningKey::FromPkcs8(key.kid(), GetParam(), "not der"), ErrorCode::kKeyUnsupported);
}

TEST_P(KeysTest, JwkRoundTripKeepsTheKey) {
  const SigningKey& key = TestKey(GetParam());
  const boost::json::object& jwk = key.public_key()->jwk();
  EXPECT_EQ(jwk.at("kid").as_string(), key.kid());
  EXPECT_EQ(jwk.at("alg").as_string(), AlgorithmName(GetParam()));
  EXPECT_EQ(jwk.at("use").as_string(), "sig");
  EXPECT_EQ(jwk.at("key_ops").as_array(), boost::json::array{"verify"});
  EXPECT_FALSE(jwk.contains("d"));
  auto pub = PublicKey::FromJwk(jwk);
  ASSERT_OK(pub);
  auto sig = key.Sign("data");
  ASSERT_OK(sig);
  EXPECT_TRUE((*pub)->Verify("data", AsBytes(*sig)));
  // Members are emitted in alphabetical order.
  std::string prev;
  for (const auto& kv : jwk) {
    EXPECT_LT(prev, std::string(kv.key()));
    prev = kv.key();
  }
}

TEST(Keys, RsaJwkHasExactlyStytchsMembers) {
  const SigningKey& key = TestKey(JwtAlgorithm::kRS256);
  testing::FakeClock clock;
  auto cert = key.SelfSignedCertificate(clock.Now());
  ASSERT_OK(cert);
  auto with_cert = key.WithCertificate(*cert);
  ASSERT_OK(with_cert);
  const auto& jwk = with_cert->public_key()->jwk();
  std::vector<std::string> names;
  for (const auto& kv : jwk) names.emplace_back(kv.key());
  EXPECT_EQ(names, (std::vector<std::string>{"alg", "e", "key_ops", "kid", "kty", "n", "use", "x5c",
                                             "x5tS256"}));
  EXPECT_EQ(jwk.at("e").as_string(), "AQAB");
  auto n = Base64UrlDecode(jwk.at("n").as_string());
  ASSERT_OK(n);
  EXPECT_EQ(n->size(), 256u);
  // x5c is standard base64 of the DER certificate; x5tS256 is padded base64url of its SHA-256.
  auto der = Base64Decode(jwk.at("x5c").as_array().at(0).as_string());
  ASSERT_OK(der);
  EXPECT_EQ(*der, *cert);
  EXPECT_EQ(jwk.at("x5tS256").as_string(), Base64UrlEncodePadded(crypto::Sha256(*der)));
  EXPECT_EQ(jwk.at("x5tS256").as_string().back(), '=');
}

TEST_P(KeysTest, SelfSignedCertificateAsDocumented) {
  const SigningKey& key = TestKey(GetParam());
  testing::FakeClock clock;
  auto der = key.SelfSignedCertificate(clock.Now());
  ASSERT_OK(der);
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der->size()));
  ASSERT_NE(cert, nullptr);
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  EXPECT_STREQ(subject, "/O=Tessera");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)), 0);
  EXPECT_EQ(ASN1_INTEGER_get(X509_get_serialNumber(cert)), 1);
  EXPECT_EQ(X509_get_key_usage(cert), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_check_ca(cert), 0);
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  EXPECT_EQ(X509_verify(cert, pub), 1);  // Self-signed by this very key.
  EXPECT_EQ(EVP_PKEY_eq(pub, key.public_key()->pkey()), 1);
  int day = 0, sec = 0;
  ASSERT_EQ(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
  EXPECT_GE(day, 3650);
  X509_free(cert);
}

TEST(Keys, FromJwkRefusesWeakAndForeignKeys) {
  // RSA-1024.
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024));
  ASSERT_NE(small, nullptr);
  EXPECT_ERROR(PublicKey::FromPkey("k", JwtAlgorithm::kRS256, small, {}),
               ErrorCode::kKeyUnsupported);
  // P-384 for ES256.
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_NE(p384, nullptr);
  EXPECT_ERROR(PublicKey::FromPkey("k", JwtAlgorithm::kES256, p384, {}),
               ErrorCode::kKeyUnsupported);

  boost::json::object rsa = TestKey(JwtAlgorithm::kRS256).public_key()->jwk();
  auto with = [&](boost::json::object o, std::string_view name, auto v) {
    o[name] = boost::json::value_from(std::move(v));
    return PublicKey::FromJwk(o);
  };
  EXPECT_ERROR(with(rsa, "alg", "RS512"), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(with(rsa, "alg", "HS256"), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(with(rsa, "use", "enc"), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(with(rsa, "key_ops", boost::json::array{"encrypt"}), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(with(rsa, "key_ops", "verify"), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(with(rsa, "n", "!!"), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(with(rsa, "n", 5), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(with(rsa, "e", "AQAA"), ErrorCode::kKeyUnsupported);  // Even exponent.
  EXPECT_ERROR(with(rsa, "kid", ""), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(with(rsa, "kty", "oct"), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(with(rsa, "n", Base64UrlEncode(std::string(600, '\x7f'))),
               ErrorCode::kKeyUnsupported);
  boost::json::object no_kid = rsa;
  no_kid.erase("kid");
  EXPECT_ERROR(PublicKey::FromJwk(no_kid), ErrorCode::kJwksInvalid);

  boost::json::object ec = TestKey(JwtAlgorithm::kES256).public_key()->jwk();
  EXPECT_ERROR(with(ec, "crv", "P-384"), ErrorCode::kKeyUnsupported);
  // A point that is not on the curve: flip one byte of y.
  auto y = Base64UrlDecode(ec.at("y").as_string());
  ASSERT_OK(y);
  (*y)[31] ^= 1;
  EXPECT_ERROR(with(ec, "y", Base64UrlEncode(*y)), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(with(ec, "x", Base64UrlEncode(std::string(31, 'a'))), ErrorCode::kJwksInvalid);

  boost::json::object okp = TestKey(JwtAlgorithm::kEdDSA).public_key()->jwk();
  EXPECT_ERROR(with(okp, "crv", "X25519"), ErrorCode::kKeyUnsupported);
  EXPECT_ERROR(with(okp, "x", Base64UrlEncode(std::string(31, 'a'))), ErrorCode::kJwksInvalid);
}

TEST(KeySet, JwksRoundTripAndValidation) {
  const SigningKey& rsa = TestKey(JwtAlgorithm::kRS256);
  const SigningKey& ec = TestKey(JwtAlgorithm::kES256);
  const SigningKey& ed = TestKey(JwtAlgorithm::kEdDSA);
  auto set = testing::KeySetOf({&rsa, &ec, &ed});
  auto parsed = KeySet::FromJwks(set->ToJwksJson());
  ASSERT_OK(parsed);
  ASSERT_EQ((*parsed)->keys().size(), 3u);
  EXPECT_NE((*parsed)->Find(rsa.kid()), nullptr);
  EXPECT_EQ((*parsed)->Find(rsa.kid())->alg(), JwtAlgorithm::kRS256);
  EXPECT_EQ((*parsed)->Find("nope"), nullptr);

  // Unsupported keys are skipped, the rest still load.
  const std::string mixed = R"({"keys":[{"kty":"oct","kid":"sym","k":"c2VjcmV0"},)" +
                            boost::json::serialize(rsa.public_key()->jwk()) + "]}";
  auto partial = KeySet::FromJwks(mixed);
  ASSERT_OK(partial);
  EXPECT_EQ((*partial)->keys().size(), 1u);
  EXPECT_EQ((*partial)->Find("sym"), nullptr);

  const std::string jwk = boost::json::serialize(rsa.public_key()->jwk());
  EXPECT_ERROR(KeySet::FromJwks("{\"keys\":[" + jwk + "," + jwk + "]}"), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(KeySet::FromJwks("[]"), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(KeySet::FromJwks("{}"), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(KeySet::FromJwks("{\"keys\":{}}"), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(KeySet::FromJwks("{\"keys\":[1]}"), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(KeySet::FromJwks("{\"keys\":["), ErrorCode::kJwksInvalid);
  EXPECT_ERROR(KeySet::FromJwks(std::string(kMaxJwksBytes + 1, ' ')), ErrorCode::kInputTooLarge);
  std::string many = "{\"keys\":[";
  for (std::size_t i = 0; i <= kMaxJwksKeys; ++i) many += (i ? ",{}" : "{}");
  EXPECT_ERROR(KeySet::FromJwks(many + "]}"), ErrorCode::kInputTooLarge);
  std::string deep = "1";
  for (int i = 0; i < 20; ++i) deep = "[" + deep + "]";
  EXPECT_ERROR(KeySet::FromJwks("{\"keys\":[],\"x\":" + deep + "}"), ErrorCode::kJwksInvalid);
  auto empty = KeySet::FromJwks("{\"keys\":[]}");
  ASSERT_OK(empty);
  EXPECT_TRUE((*empty)->empty());
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

// Regression (interop review): an unsupported key without a kid must be skipped, not fail the set.
TEST(KeySet, UnsupportedKeysAreSkippedEvenWithoutKid) {
  const std::string ed = boost::json::serialize(TestKey(JwtAlgorithm::kEdDSA).public_key()->jwk());
  auto set = KeySet::FromJwks(R"({"keys":[{"kty":"oct","k":"AAAA"},)"
                              R"({"kty":"OKP","crv":"X25519","use":"enc","x":"AAAA"},)" +
                              ed + "]}");
  ASSERT_OK(set);
  EXPECT_EQ((*set)->keys().size(), 1u);
  // A supported key without a kid still fails the document.
  boost::json::object no_kid = TestKey(JwtAlgorithm::kEdDSA).public_key()->jwk();
  no_kid.erase("kid");
  EXPECT_ERROR(KeySet::FromJwks("{\"keys\":[" + boost::json::serialize(no_kid) + "]}"),
               ErrorCode::kJwksInvalid);
}

}  // namespace
}  // namespace tessera
