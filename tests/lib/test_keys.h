// Keys and hand-built JWTs for tests.
//
// Key generation (RSA especially) is slow, so each algorithm's test key is generated once per
// process and shared. The kids are fixed so failure output is readable.
#ifndef TESSERA_TESTS_LIB_TEST_KEYS_H_
#define TESSERA_TESTS_LIB_TEST_KEYS_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/base64.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"

namespace tessera::testing {

inline constexpr std::string_view kTestProject =
    "project-test-ee450dab-6841-4a48-8d7e-8654cbd12c1b";

// The shared test key for `alg`, kid "jwk-test-<alg>-1" (or "-2" for `second`).
inline const SigningKey& TestKey(JwtAlgorithm alg, bool second = false) {
  static std::map<std::pair<JwtAlgorithm, bool>, std::unique_ptr<SigningKey>> keys;
  auto& slot = keys[{alg, second}];
  if (!slot) {
    std::string kid = "jwk-test-" + std::string(AlgorithmName(alg)) + (second ? "-2" : "-1");
    auto key = SigningKey::Generate(alg, kid);
    if (!key.ok()) std::abort();
    slot = std::make_unique<SigningKey>(std::move(*key));
  }
  return *slot;
}

// A key set holding the public halves of `keys`.
inline std::shared_ptr<const KeySet> KeySetOf(std::initializer_list<const SigningKey*> keys) {
  std::vector<std::shared_ptr<const PublicKey>> pubs;
  for (const SigningKey* k : keys) pubs.push_back(k->public_key());
  auto set = KeySet::FromKeys(std::move(pubs));
  if (!set.ok()) std::abort();
  return *set;
}

// header.payload.signature from raw JSON texts, signed by `key` (any bytes may be passed, so tests
// can build tokens Tessera itself would never mint).
inline std::string SignRaw(const SigningKey& key, std::string_view header_json,
                           std::string_view payload_json) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  auto sig = key.Sign(input);
  if (!sig.ok()) std::abort();
  return input + "." + Base64UrlEncode(*sig);
}

// The standard header for `key`.
inline std::string HeaderFor(const SigningKey& key) {
  return "{\"alg\":\"" + std::string(AlgorithmName(key.alg())) + "\",\"kid\":\"" + key.kid() +
         "\",\"typ\":\"JWT\"}";
}

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_LIB_TEST_KEYS_H_
