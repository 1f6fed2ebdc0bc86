// Fuzzes KeySet::FromJwks, which parses JWKS documents fetched from other services (the SDK's
// remote key sets) and, on the server side, key sets read back from configuration.
//
// Beyond "no crash, no leak, no UB", the target aborts when one of these breaks:
//   * a failure is kJwksInvalid or kInputTooLarge, the only codes the contract names
//     (tessera/token/key_set.h), and leaves nothing on OpenSSL's error queue;
//   * a parsed set survives a round trip: ToJwksJson parses again, to the same kids in the same
//     order, and republishing that gives the same text (each JWK is re-derived from the key
//     itself, so what Tessera publishes is a fixed point).
#include <openssl/err.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tessera/token/key_set.h"

namespace {

[[noreturn]] void Violated(const char* what) {
  std::fprintf(stderr, "jwks_fuzz: invariant violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tessera::ErrorCode;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto set = tessera::KeySet::FromJwks(input);
  if (ERR_peek_error() != 0) Violated("OpenSSL error queue not drained");
  if (!set.ok()) {
    const ErrorCode code = set.status().code();
    if (code != ErrorCode::kJwksInvalid && code != ErrorCode::kInputTooLarge) {
      Violated("a failure code the contract does not name");
    }
    return 0;
  }

  const std::string published = (*set)->ToJwksJson();
  const auto again = tessera::KeySet::FromJwks(published);
  if (ERR_peek_error() != 0) Violated("OpenSSL error queue not drained");
  if (!again.ok()) Violated("ToJwksJson output does not parse");
  const auto& before = (*set)->keys();
  const auto& after = (*again)->keys();
  if (before.size() != after.size()) Violated("round trip changed the number of keys");
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (before[i]->kid() != after[i]->kid()) Violated("round trip changed the kids");
    if (before[i]->alg() != after[i]->alg()) Violated("round trip changed an algorithm");
  }
  if ((*again)->ToJwksJson() != published) Violated("republished JWKS differs");
  return 0;
}
