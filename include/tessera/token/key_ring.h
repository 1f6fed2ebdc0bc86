// A project's signing-key ring and its rotation rules (docs/key_rotation.md).
//
// A key moves through three states and never back:
//
//   kNext ──Activate──▶ kActive ──(next key activated)──▶ kRetired
//     └─────────────Retire (withdrawn, never signed)──────────▲
//
// Invariants the ring keeps, so that no valid JWT ever fails to verify during a rotation:
//   * At most one key is kActive; only it signs.
//   * Only a kNext key can become active, and a kNext key is published in the JWKS from the moment
//     it is added: every key is published before it signs anything. Rotate() activates the key
//     that was added as "next" by the previous rotation, so verifiers that cached the JWKS since
//     then already hold it.
//   * A retired key that has signed stays published until jwt_lifetime + publish_margin after it
//     stopped signing, i.e. past the expiry of the last JWT it signed (plus clock skew).
//
// The ring is a value: it holds records and applies transitions; the store persists the records.
#ifndef TESSERA_TOKEN_KEY_RING_H_
#define TESSERA_TOKEN_KEY_RING_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/crypto/master_key.h"
#include "tessera/random.h"
#include "tessera/result.h"
#include "tessera/token/key_set.h"
#include "tessera/token/keys.h"
#include "tessera/token/session_jwt.h"

namespace tessera {

enum class KeyState {
  kNext,     // Published, not yet signing.
  kActive,   // Published and signing.
  kRetired,  // No longer signs; published for a while if it ever signed.
};

std::string_view KeyStateName(KeyState state);  // "next", "active", "retired"
std::optional<KeyState> KeyStateFromName(std::string_view name);

// Whether a stored key in state `from` may be written back in state `to`: staying put, or one of
// the moves drawn above. Stores refuse any other write, so no key ever returns to signing.
bool KeyStateMayBecome(KeyState from, KeyState to);

struct KeyRecord {
  std::string kid;  // "jwk-test-<uuid>" or "jwk-live-<uuid>"
  std::string project_id;
  JwtAlgorithm alg = JwtAlgorithm::kRS256;
  KeyState state = KeyState::kNext;
  TimePoint created_at;                   // Also the moment it was first published.
  std::optional<TimePoint> activated_at;  // Set when it became active.
  std::optional<TimePoint> retired_at;    // Set when it stopped signing or was withdrawn.
  std::string certificate_der;            // Self-signed X.509 certificate of the public key.
  std::string sealed_private_key;         // PKCS#8, sealed under the master key, aad = kid.
};

struct KeyRingPolicy {
  // Lifetime of the JWTs the keys sign. Default: 300 s (kSessionJwtLifetime).
  Seconds jwt_lifetime = kSessionJwtLifetime;
  // Extra time a retired key stays published, covering clock skew between the signer and the
  // verifiers. Default: 60 s.
  Seconds publish_margin{60};
};

// A fresh key record: generates the key pair, its self-signed certificate and the sealed private
// key. `live` selects the "jwk-live-" kid prefix.
Result<KeyRecord> NewKeyRecord(std::string_view project_id, JwtAlgorithm alg, bool live,
                               const MasterKey& master_key, RandomSource& random, TimePoint now);

// The signing key of `record`, unsealed with `master_key` (kDecryptionFailed under another key).
Result<SigningKey> OpenSigningKey(const KeyRecord& record, const MasterKey& master_key);

// The public key of `record`, read from its certificate (no master key needed).
Result<std::shared_ptr<const PublicKey>> PublicKeyOf(const KeyRecord& record);

class KeyRing {
 public:
  explicit KeyRing(std::vector<KeyRecord> records = {}, KeyRingPolicy policy = {})
      : records_(std::move(records)), policy_(policy) {}

  const std::vector<KeyRecord>& records() const { return records_; }
  const KeyRingPolicy& policy() const { return policy_; }

  // The record with `kid`, or nullptr.
  const KeyRecord* Find(std::string_view kid) const;
  // The signing key's record, or nullptr when none is active.
  const KeyRecord* Active() const;

  // Whether `record` appears in the JWKS at `now` (see the invariants above).
  bool IsPublished(const KeyRecord& record, TimePoint now) const;
  // Every record published at `now`, oldest first.
  std::vector<const KeyRecord*> Published(TimePoint now) const;
  // The published keys at `now` as a key set (what the JWKS endpoint serves).
  Result<std::shared_ptr<const KeySet>> PublishedKeySet(TimePoint now) const;

  // Adds `record` as a kNext key. Fails with kKeyStateInvalid unless it is in state kNext, and
  // with kInvalidArgument when its kid is already in the ring.
  Status AddNext(KeyRecord record);

  // Makes the kNext key `kid` the active one; the previously active key is retired at `now`.
  // kKeyNotFound, or kKeyStateInvalid when `kid` is not kNext.
  Status Activate(std::string_view kid, TimePoint now);

  // Withdraws a kNext key (it never signed, so it leaves the JWKS at once). The active key cannot
  // be retired (kKeyStateInvalid): activate another key first. Retiring a retired key fails too.
  Status Retire(std::string_view kid, TimePoint now);

  // One rotation: activates the oldest kNext key and adds `fresh_next` as the new kNext key.
  // Fails with kKeyStateInvalid when no kNext key exists to activate (the ring would otherwise
  // sign with a key no verifier has seen); nothing changes then.
  Status Rotate(KeyRecord fresh_next, TimePoint now);

 private:
  KeyRecord* FindMutable(std::string_view kid);

  std::vector<KeyRecord> records_;
  KeyRingPolicy policy_;
};

}  // namespace tessera

#endif  // TESSERA_TOKEN_KEY_RING_H_
