// Writes the seed corpora of the fuzz targets:
//
//   build-fuzz/fuzz/make_corpus fuzz/corpus
//
// creates fuzz/corpus/jwt_verify/ and fuzz/corpus/jwks/ and (over)writes one small file per seed.
// The output is committed; rerun this only when the seeds should change. Valid tokens are signed
// with the fixed keys of fuzz_keys.h, so they pass the signature check in jwt_verify_fuzz. RS256
// and EdDSA signatures are deterministic; ES256 ones are not, so a rerun changes those files.
//
// Each seed aims at one step of the verification pipeline (tessera/token/jwt.h) or one rule of
// the JWKS parser, so the fuzzer starts with every branch reachable by a small mutation.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "fuzz_keys.h"
#include "tessera/token/key_set.h"
#include "tessera/token/session_jwt.h"

namespace tessera::fuzz {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

void Write(const fs::path& dir, const std::string& name, std::string_view content) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) {
    std::fprintf(stderr, "make_corpus: cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

template <typename T>
T Must(Result<T> r) {
  if (!r.ok()) {
    std::fprintf(stderr, "make_corpus: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

// What a session looks like in the wild: an email factor and an OAuth factor, the default role and
// a few custom claims. Same shape as the unit tests' sample.
SessionClaims Claims(std::int64_t now) {
  SessionClaims c;
  c.project_id = std::string(kProject);
  c.user_id = "user-test-3cf138f5-d77f-44eb-8a02-acae8a734706";
  c.session_id = "session-test-1682d7d5-b952-44d6-95e0-718144fed722";
  c.started_at = FromUnixSeconds(now - 600);
  c.last_accessed_at = FromUnixSeconds(now);
  c.expires_at = FromUnixSeconds(now + 3600);
  c.attributes = {"203.0.113.9", "Mozilla/5.0"};
  c.authentication_factors.push_back(json::parse(R"({
      "type": "magic_link", "delivery_method": "email",
      "last_authenticated_at": "2026-03-01T14:15:15Z",
      "email_factor": {"email_id": "email-test-1", "email_address": "a@example.com"}})"));
  c.authentication_factors.push_back(json::parse(R"({
      "type": "oauth", "delivery_method": "oauth_google",
      "last_authenticated_at": "2026-03-01T14:25:15Z",
      "google_oauth_factor": {"id": "oauth-user-test-1", "provider_subject": "1234"}})"));
  c.roles = {"stytch_user"};
  c.custom_claims = json::parse(R"({"plan": "pro", "org": {"id": "o1", "seats": 5}})").as_object();
  return c;
}

std::string B64(std::string_view s) { return Base64UrlEncode(s); }

// header.payload.signature over raw JSON texts, signed by `key`.
std::string SignRaw(const SigningKey& key, std::string_view header, std::string_view payload) {
  const std::string input = B64(header) + "." + B64(payload);
  return input + "." + B64(Must(key.Sign(input)));
}

std::string HeaderFor(const SigningKey& key) {
  return R"({"alg":")" + std::string(AlgorithmName(key.alg())) + R"(","kid":")" + key.kid() +
         R"(","typ":"JWT"})";
}

// A payload with every registered claim, valid at kVerifyTime; `extra` is appended as members.
std::string Payload(std::string_view extra = "") {
  std::string p = R"({"aud":[")" + std::string(kProject) + R"("],"exp":)" +
                  std::to_string(kMintTime + 300) + R"(,"iat":)" + std::to_string(kMintTime) +
                  R"(,"iss":"stytch.com/)" + std::string(kProject) + R"(","nbf":)" +
                  std::to_string(kMintTime) + R"(,"sub":"user-test-1")";
  if (!extra.empty()) p += "," + std::string(extra);
  return p + "}";
}

std::string Nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

void JwtSeeds(const fs::path& dir) {
  const SigningKey& rs = FuzzKey(JwtAlgorithm::kRS256);
  const SigningKey& es = FuzzKey(JwtAlgorithm::kES256);
  const SigningKey& ed = FuzzKey(JwtAlgorithm::kEdDSA);
  const TimePoint minted = FromUnixSeconds(kMintTime);

  // Valid session JWTs, one per algorithm, plus time-window failures.
  const std::string rs_session = Must(MintSessionJwt(rs, Claims(kMintTime), minted));
  Write(dir, "rs256_session", rs_session);
  Write(dir, "es256_session", Must(MintSessionJwt(es, Claims(kMintTime), minted)));
  Write(dir, "eddsa_session", Must(MintSessionJwt(ed, Claims(kMintTime), minted)));
  Write(dir, "rs256_expired",
        Must(MintSessionJwt(rs, Claims(kMintTime - 1000), FromUnixSeconds(kMintTime - 1000))));
  Write(dir, "eddsa_not_yet_valid",
        Must(MintSessionJwt(ed, Claims(kMintTime + 3600), FromUnixSeconds(kMintTime + 3600))));
  Write(dir, "eddsa_minimal", SignRaw(ed, HeaderFor(ed), Payload()));

  // Damaged tokens: cut, bit-flipped, payload swapped under a valid signature.
  Write(dir, "rs256_truncated_signature", rs_session.substr(0, rs_session.size() - 10));
  Write(dir, "rs256_truncated_half", rs_session.substr(0, rs_session.size() / 2));
  std::string flipped = rs_session;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  Write(dir, "rs256_flipped_signature", flipped);
  const std::string ed_token = SignRaw(ed, HeaderFor(ed), Payload());
  const std::size_t dot1 = ed_token.find('.');
  const std::size_t dot2 = ed_token.find('.', dot1 + 1);
  Write(dir, "eddsa_swapped_payload",
        ed_token.substr(0, dot1 + 1) + B64(Payload(R"("role":"admin")")) + ed_token.substr(dot2));

  // Algorithm attacks: none, HMAC keyed with the public key, a kid naming a key of another type.
  const std::string none_input = B64(R"({"alg":"none","typ":"JWT"})") + "." + B64(Payload());
  Write(dir, "alg_none_empty_signature", none_input + ".");
  Write(dir, "alg_none", none_input + ".AA");
  const std::string hs_input =
      B64(R"({"alg":"HS256","kid":"jwk-fuzz-RS256","typ":"JWT"})") + "." + B64(Payload());
  const std::string hmac_key = json::serialize(rs.public_key()->jwk());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), hmac_key.data(), static_cast<int>(hmac_key.size()),
       reinterpret_cast<const unsigned char*>(hs_input.data()), hs_input.size(), mac, &mac_len);
  Write(dir, "hs256_with_public_key", hs_input + "." + Base64UrlEncode({mac, mac_len}));
  Write(dir, "es256_header_rs256_kid",
        SignRaw(es, R"({"alg":"ES256","kid":"jwk-fuzz-RS256","typ":"JWT"})", Payload()));

  // Header rules, each signed properly so only the header is at fault.
  const auto header_seed = [&](const std::string& name, std::string_view header) {
    Write(dir, name, SignRaw(ed, header, Payload()));
  };
  header_seed("header_crit",
              R"({"alg":"EdDSA","crit":["exp"],"kid":"jwk-fuzz-EdDSA","typ":"JWT"})");
  header_seed("header_jwk",
              R"({"alg":"EdDSA","jwk":{"kty":"OKP"},"kid":"jwk-fuzz-EdDSA","typ":"JWT"})");
  header_seed("header_x5u", R"({"alg":"EdDSA","kid":"jwk-fuzz-EdDSA","typ":"JWT","x5u":"x"})");
  header_seed("header_extra_member",
              R"({"alg":"EdDSA","cty":"JWT","kid":"jwk-fuzz-EdDSA","typ":"JWT"})");
  header_seed("header_typ_lowercase", R"({"alg":"EdDSA","kid":"jwk-fuzz-EdDSA","typ":"jwt"})");
  header_seed("header_typ_missing", R"({"alg":"EdDSA","kid":"jwk-fuzz-EdDSA"})");
  header_seed("header_kid_missing", R"({"alg":"EdDSA","typ":"JWT"})");
  header_seed("header_kid_unknown", R"({"alg":"EdDSA","kid":"jwk-fuzz-other","typ":"JWT"})");
  header_seed("header_kid_number", R"({"alg":"EdDSA","kid":7,"typ":"JWT"})");
  header_seed("header_array", R"(["EdDSA"])");
  header_seed("header_too_deep", R"({"alg":"EdDSA","kid":{"a":{"b":1}},"typ":"JWT"})");
  header_seed("header_not_json", R"({"alg":"EdDSA",)");
  Write(dir, "header_padded_base64", "eyJhbGciOiJFZERTQSJ9==." + B64(Payload()) + ".AA");

  // Claim rules, each under a valid EdDSA signature so the fuzzer starts past the signature check.
  const auto payload_seed = [&](const std::string& name, std::string_view payload) {
    Write(dir, name, SignRaw(ed, HeaderFor(ed), payload));
  };
  payload_seed("payload_aud_string", R"({"aud":")" + std::string(kProject) +
                                         R"(","exp":1772375415,"iat":1772375115,)" +
                                         R"("iss":"stytch.com/)" + std::string(kProject) +
                                         R"(","nbf":1772375115,"sub":"u"})");
  payload_seed("payload_wrong_issuer", R"({"aud":[")" + std::string(kProject) +
                                           R"("],"exp":1772375415,"iat":1772375115,)" +
                                           R"("iss":"evil.example","nbf":1772375115,"sub":"u"})");
  payload_seed("payload_float_dates", R"({"aud":[")" + std::string(kProject) +
                                          R"("],"exp":1.772375415e9,"iat":1772375115.5,)" +
                                          R"("iss":"stytch.com/)" + std::string(kProject) +
                                          R"(","nbf":-0.5,"sub":"u"})");
  payload_seed("payload_huge_exp", R"({"aud":[")" + std::string(kProject) +
                                       R"("],"exp":1e300,"iat":18446744073709551615,)" +
                                       R"("iss":"stytch.com/)" + std::string(kProject) +
                                       R"(","nbf":0,"sub":"u"})");
  payload_seed("payload_aud_mixed", Payload().replace(8, 0, "1,"));
  payload_seed("payload_missing_sub", R"({"aud":"x","exp":1,"iat":1,"iss":"x","nbf":1})");
  payload_seed("payload_too_deep", Payload(R"("deep":)" + Nested(20)));
  payload_seed("payload_not_object", "[1,2,3]");
  payload_seed("payload_duplicate_iss", Payload(R"("iss":"evil.example")"));

  // Structure.
  Write(dir, "empty", "");
  Write(dir, "two_segments", "eyJhbGciOiJFZERTQSJ9.e30");
  Write(dir, "four_segments", ed_token + ".AA");
  Write(dir, "dots_only", "..");

  // Payload mode: a file starting with '{' is also signed by the target and verified, reaching
  // the claim checks with whatever the fuzzer makes of these.
  Write(dir, "payload_mode_minimal.json", Payload());
  std::string session_payload = Must(Base64UrlDecode(rs_session.substr(
      rs_session.find('.') + 1, rs_session.rfind('.') - rs_session.find('.') - 1)));
  Write(dir, "payload_mode_session.json", session_payload);
  Write(dir, "payload_mode_deep.json", Payload(R"("deep":)" + Nested(15)));
  Write(dir, "payload_mode_expired.json",
        R"({"aud":[")" + std::string(kProject) + R"("],"exp":1772375115,"iat":1772375000,)" +
            R"("iss":"stytch.com/)" + std::string(kProject) + R"(","nbf":1772375000,"sub":"u"})");
}

json::object Jwk(JwtAlgorithm alg) { return FuzzKey(alg).public_key()->jwk(); }

std::string Jwks(std::initializer_list<json::object> keys) {
  json::array array;
  for (const json::object& key : keys) array.push_back(key);
  return json::serialize(json::object{{"keys", std::move(array)}});
}

void JwksSeeds(const fs::path& dir) {
  const json::object rsa = Jwk(JwtAlgorithm::kRS256);
  const json::object ec = Jwk(JwtAlgorithm::kES256);
  const json::object okp = Jwk(JwtAlgorithm::kEdDSA);

  Write(dir, "all_three", FuzzKeySet().ToJwksJson());
  Write(dir, "rsa_only", Jwks({rsa}));
  Write(dir, "ec_only", Jwks({ec}));
  Write(dir, "okp_only", Jwks({okp}));
  const SigningKey& rs = FuzzKey(JwtAlgorithm::kRS256);
  const SigningKey with_cert =
      Must(rs.WithCertificate(Must(rs.SelfSignedCertificate(FromUnixSeconds(kMintTime)))));
  Write(dir, "rsa_with_x5c", Jwks({with_cert.public_key()->jwk()}));

  const auto variant = [](json::object jwk, std::string_view member, json::value value) {
    if (value.is_null()) {
      jwk.erase(member);
    } else {
      jwk[member] = std::move(value);
    }
    return jwk;
  };
  // Skipped keys (unsupported) next to a good one: the set still parses.
  Write(dir, "oct_key",
        Jwks({json::object{{"kty", "oct"}, {"kid", "hmac-1"}, {"k", "c2VjcmV0"}}, okp}));
  Write(dir, "rsa_1024",
        Jwks({variant(rsa, "n", json::value(std::string(rsa.at("n").as_string()).substr(0, 171))),
              okp}));
  Write(dir, "ec_p384", Jwks({variant(ec, "crv", "P-384"), okp}));
  Write(dir, "okp_x448", Jwks({variant(okp, "crv", "X448"), rsa}));
  Write(dir, "use_enc", Jwks({variant(rsa, "use", "enc"), ec}));
  Write(dir, "key_ops_sign_only", Jwks({variant(ec, "key_ops", json::array{"sign"}), okp}));
  Write(dir, "alg_mismatch", Jwks({variant(rsa, "alg", "ES256"), okp}));
  Write(dir, "ec_not_on_curve",
        Jwks({variant(ec, "y", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"), okp}));
  Write(dir, "rsa_even_exponent", Jwks({variant(rsa, "e", "AQAA"), okp}));
  Write(dir, "private_member_ignored", Jwks({variant(okp, "d", "c2VjcmV0")}));
  Write(dir, "minimal_members",
        Jwks({json::object{{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", "k"}, {"x", okp.at("x")}}}));

  // Structural failures.
  Write(dir, "duplicate_kid", Jwks({rsa, variant(okp, "kid", rsa.at("kid"))}));
  Write(dir, "missing_kid", Jwks({variant(okp, "kid", nullptr)}));
  Write(dir, "empty_kid", Jwks({variant(okp, "kid", "")}));
  Write(dir, "long_kid", Jwks({variant(okp, "kid", json::value(std::string(257, 'k')))}));
  Write(dir, "n_not_base64url", Jwks({variant(rsa, "n", "not base64!")}));
  Write(dir, "x_wrong_length", Jwks({variant(okp, "x", "AAAA")}));
  Write(dir, "key_ops_not_list", Jwks({variant(okp, "key_ops", "verify")}));
  Write(dir, "key_not_object", R"({"keys":["RSA"]})");
  Write(dir, "keys_not_array", R"({"keys":{"kty":"RSA"}})");
  Write(dir, "no_keys", R"({"other":[]})");
  Write(dir, "empty_keys", R"({"keys":[],"extra":{"a":1}})");
  Write(dir, "not_object", "[]");
  Write(dir, "not_json", R"({"keys":[)");
  Write(dir, "too_deep", R"({"keys":[{"kty":"OKP","x":)" + Nested(10) + "}]}");
  json::array many;
  for (int i = 0; i < 65; ++i)
    many.push_back(variant(okp, "kid", json::value("k" + std::to_string(i))));
  Write(dir, "too_many_keys", json::serialize(json::object{{"keys", many}}));
}

}  // namespace
}  // namespace tessera::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT   (e.g. fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  std::filesystem::create_directories(root / "jwt_verify");
  std::filesystem::create_directories(root / "jwks");
  tessera::fuzz::JwtSeeds(root / "jwt_verify");
  tessera::fuzz::JwksSeeds(root / "jwks");
  return 0;
}
