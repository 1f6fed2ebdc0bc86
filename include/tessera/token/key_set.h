// An immutable set of verification keys, looked up by `kid`: what a JWKS document describes.
//
// Key sets are published to readers as `std::shared_ptr<const KeySet>`: a reader takes one
// snapshot and uses it for a whole verification, while a writer builds a new set and swaps the
// pointer. Nothing in a KeySet changes after construction, so no locking is needed to read it.
#ifndef TESSERA_TOKEN_KEY_SET_H_
#define TESSERA_TOKEN_KEY_SET_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/result.h"
#include "tessera/token/keys.h"

namespace tessera {

// Limits applied before a JWKS document is parsed in full.
inline constexpr std::size_t kMaxJwksBytes = 256 * 1024;
inline constexpr std::size_t kMaxJwksKeys = 64;
inline constexpr std::size_t kMaxJwksDepth = 8;

class KeySet {
 public:
  // A set of `keys`. Fails with kJwksInvalid when two keys share a kid (a verifier could not tell
  // which one was meant).
  static Result<std::shared_ptr<const KeySet>> FromKeys(
      std::vector<std::shared_ptr<const PublicKey>> keys);

  // Parses a JWKS document ({"keys": [...]}, other members ignored). Keys of an unsupported type,
  // curve, size or use are skipped (a set may legitimately carry keys for other consumers);
  // structural errors (not an object, `keys` not an array, a key that is not an object, a
  // supported key with a malformed member, duplicate kids, over kMaxJwksBytes, kMaxJwksKeys or
  // kMaxJwksDepth) fail the whole document with kJwksInvalid or kInputTooLarge.
  static Result<std::shared_ptr<const KeySet>> FromJwks(std::string_view json);

  // The key published under `kid`, or nullptr.
  const PublicKey* Find(std::string_view kid) const;

  const std::vector<std::shared_ptr<const PublicKey>>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

  // {"keys":[...]} with each key's public JWK, in the order of keys().
  std::string ToJwksJson() const;

 private:
  explicit KeySet(std::vector<std::shared_ptr<const PublicKey>> keys) : keys_(std::move(keys)) {}
  std::vector<std::shared_ptr<const PublicKey>> keys_;
};

}  // namespace tessera

#endif  // TESSERA_TOKEN_KEY_SET_H_
