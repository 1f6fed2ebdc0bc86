#include "tessera/token/key_ring.h"

#include <openssl/x509.h>

#include <algorithm>

#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace tessera {

std::string_view KeyStateName(KeyState state) {
  switch (state) {
    case KeyState::kNext:
      return "next";
    case KeyState::kActive:
      return "active";
    case KeyState::kRetired:
      return "retired";
  }
  return "retired";
}

std::optional<KeyState> KeyStateFromName(std::string_view name) {
  if (name == "next") return KeyState::kNext;
  if (name == "active") return KeyState::kActive;
  if (name == "retired") return KeyState::kRetired;
  return std::nullopt;
}

bool KeyStateMayBecome(KeyState from, KeyState to) {
  if (from == to) return true;
  switch (from) {
    case KeyState::kNext:
      return true;  // Activated, or withdrawn.
    case KeyState::kActive:
      return to == KeyState::kRetired;
    case KeyState::kRetired:
      return false;
  }
  return false;
}

Result<KeyRecord> NewKeyRecord(std::string_view project_id, JwtAlgorithm alg, bool live,
                               const MasterKey& master_key, RandomSource& random, TimePoint now) {
  TESSERA_ASSIGN_OR_RETURN(std::string uuid, NewUuid(random));
  std::string kid = (live ? "jwk-live-" : "jwk-test-") + uuid;
  TESSERA_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate(alg, kid));
  TESSERA_ASSIGN_OR_RETURN(std::string cert, key.SelfSignedCertificate(now));
  TESSERA_ASSIGN_OR_RETURN(std::string der, key.PrivateKeyDer());
  auto sealed = master_key.Seal(SealPurpose::kSigningKey, der, kid, random);
  crypto::Cleanse(der);
  if (!sealed.ok()) return sealed.status();
  KeyRecord r;
  r.kid = std::move(kid);
  r.project_id = std::string(project_id);
  r.alg = alg;
  r.state = KeyState::kNext;
  r.created_at = std::chrono::floor<Seconds>(now);
  r.certificate_der = std::move(cert);
  r.sealed_private_key = std::move(*sealed);
  return r;
}

Result<SigningKey> OpenSigningKey(const KeyRecord& record, const MasterKey& master_key) {
  TESSERA_ASSIGN_OR_RETURN(std::string der, master_key.Open(SealPurpose::kSigningKey,
                                                            record.sealed_private_key, record.kid));
  auto key = SigningKey::FromPkcs8(record.kid, record.alg, der, record.certificate_der);
  crypto::Cleanse(der);
  return key;
}

Result<std::shared_ptr<const PublicKey>> PublicKeyOf(const KeyRecord& record) {
  const auto* p = reinterpret_cast<const unsigned char*>(record.certificate_der.data());
  crypto::X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(record.certificate_der.size())));
  EVP_PKEY* pkey = cert ? X509_get_pubkey(cert.get()) : nullptr;  // New reference.
  if (pkey == nullptr) {
    crypto::DrainErrors();
    return Error(ErrorCode::kKeyUnsupported, "key record has no readable certificate");
  }
  return PublicKey::FromPkey(record.kid, record.alg, pkey, record.certificate_der);
}

const KeyRecord* KeyRing::Find(std::string_view kid) const {
  for (const auto& r : records_) {
    if (r.kid == kid) return &r;
  }
  return nullptr;
}

KeyRecord* KeyRing::FindMutable(std::string_view kid) {
  return const_cast<KeyRecord*>(std::as_const(*this).Find(kid));
}

const KeyRecord* KeyRing::Active() const {
  for (const auto& r : records_) {
    if (r.state == KeyState::kActive) return &r;
  }
  return nullptr;
}

bool KeyRing::IsPublished(const KeyRecord& r, TimePoint now) const {
  switch (r.state) {
    case KeyState::kNext:
    case KeyState::kActive:
      return true;
    case KeyState::kRetired:
      // A key that never signed has nothing left to verify. One that did must outlive the last JWT
      // it signed, which expires at most jwt_lifetime after the key stopped signing.
      return r.activated_at.has_value() && r.retired_at.has_value() &&
             now < *r.retired_at + policy_.jwt_lifetime + policy_.publish_margin;
  }
  return false;
}

std::vector<const KeyRecord*> KeyRing::Published(TimePoint now) const {
  std::vector<const KeyRecord*> out;
  for (const auto& r : records_) {
    if (IsPublished(r, now)) out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(), [](const KeyRecord* a, const KeyRecord* b) {
    return a->created_at < b->created_at;
  });
  return out;
}

Result<std::shared_ptr<const KeySet>> KeyRing::PublishedKeySet(TimePoint now) const {
  std::vector<std::shared_ptr<const PublicKey>> keys;
  for (const KeyRecord* r : Published(now)) {
    TESSERA_ASSIGN_OR_RETURN(auto key, PublicKeyOf(*r));
    keys.push_back(std::move(key));
  }
  return KeySet::FromKeys(std::move(keys));
}

Status KeyRing::AddNext(KeyRecord record) {
  if (record.state != KeyState::kNext) {
    return Error(ErrorCode::kKeyStateInvalid, "a key joins the ring in state next");
  }
  if (Find(record.kid) != nullptr) {
    return Error(ErrorCode::kInvalidArgument, "the ring already has key " + record.kid);
  }
  records_.push_back(std::move(record));
  return Status::Ok();
}

Status KeyRing::Activate(std::string_view kid, TimePoint now) {
  KeyRecord* next = FindMutable(kid);
  if (next == nullptr) return Error(ErrorCode::kKeyNotFound, "no key " + std::string(kid));
  if (next->state != KeyState::kNext) {
    return Error(ErrorCode::kKeyStateInvalid, "only a published next key can become active; " +
                                                  next->kid + " is " +
                                                  std::string(KeyStateName(next->state)));
  }
  const TimePoint t = std::chrono::floor<Seconds>(now);
  for (auto& r : records_) {
    if (r.state == KeyState::kActive) {
      r.state = KeyState::kRetired;
      r.retired_at = t;
    }
  }
  next->state = KeyState::kActive;
  next->activated_at = t;
  return Status::Ok();
}

Status KeyRing::Retire(std::string_view kid, TimePoint now) {
  KeyRecord* r = FindMutable(kid);
  if (r == nullptr) return Error(ErrorCode::kKeyNotFound, "no key " + std::string(kid));
  if (r->state == KeyState::kActive) {
    return Error(ErrorCode::kKeyStateInvalid,
                 "the active key cannot be retired; rotate to activate another key first");
  }
  if (r->state == KeyState::kRetired) {
    return Error(ErrorCode::kKeyStateInvalid, "key " + r->kid + " is already retired");
  }
  r->state = KeyState::kRetired;
  r->retired_at = std::chrono::floor<Seconds>(now);
  return Status::Ok();
}

Status KeyRing::Rotate(KeyRecord fresh_next, TimePoint now) {
  const KeyRecord* oldest = nullptr;
  for (const auto& r : records_) {
    if (r.state == KeyState::kNext && (oldest == nullptr || r.created_at < oldest->created_at)) {
      oldest = &r;
    }
  }
  if (oldest == nullptr) {
    return Error(ErrorCode::kKeyStateInvalid,
                 "no published next key to activate; add one and rotate after verifiers refresh");
  }
  if (Find(fresh_next.kid) != nullptr || fresh_next.state != KeyState::kNext) {
    return Error(ErrorCode::kInvalidArgument, "the fresh key must be a new key in state next");
  }
  TESSERA_RETURN_IF_ERROR(Activate(std::string(oldest->kid), now));
  return AddNext(std::move(fresh_next));
}

}  // namespace tessera
