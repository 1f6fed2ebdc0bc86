#include "tessera/token/key_set.h"

#include "common/json.h"

namespace tessera {

Result<std::shared_ptr<const KeySet>> KeySet::FromKeys(
    std::vector<std::shared_ptr<const PublicKey>> keys) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i]) return Error(ErrorCode::kInvalidArgument, "null key in key set");
    for (std::size_t j = 0; j < i; ++j) {
      if (keys[j]->kid() == keys[i]->kid()) {
        return Error(ErrorCode::kJwksInvalid, "two keys share the kid \"" + keys[i]->kid() + "\"");
      }
    }
  }
  return std::shared_ptr<const KeySet>(new KeySet(std::move(keys)));
}

Result<std::shared_ptr<const KeySet>> KeySet::FromJwks(std::string_view json) {
  if (json.size() > kMaxJwksBytes) {
    return Error(ErrorCode::kInputTooLarge, "JWKS document is larger than 256 KiB");
  }
  auto parsed = ParseJson(json, kMaxJwksDepth);
  if (!parsed.ok()) {
    return Error(ErrorCode::kJwksInvalid, "JWKS is not valid JSON: " + parsed.status().message());
  }
  if (!parsed->is_object()) return Error(ErrorCode::kJwksInvalid, "JWKS is not a JSON object");
  const auto& doc = parsed->get_object();
  const auto it = doc.find("keys");
  if (it == doc.end() || !it->value().is_array()) {
    return Error(ErrorCode::kJwksInvalid, "JWKS has no \"keys\" array");
  }
  const auto& array = it->value().get_array();
  if (array.size() > kMaxJwksKeys) {
    return Error(ErrorCode::kInputTooLarge, "JWKS has more than 64 keys");
  }
  std::vector<std::shared_ptr<const PublicKey>> keys;
  for (const auto& entry : array) {
    if (!entry.is_object()) return Error(ErrorCode::kJwksInvalid, "JWKS key is not an object");
    auto key = PublicKey::FromJwk(entry.get_object());
    if (key.ok()) {
      keys.push_back(std::move(*key));
    } else if (key.status().code() != ErrorCode::kKeyUnsupported) {
      return key.status();
    }
  }
  return FromKeys(std::move(keys));
}

const PublicKey* KeySet::Find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k->kid() == kid) return k.get();
  }
  return nullptr;
}

std::string KeySet::ToJwksJson() const {
  boost::json::array arr;
  for (const auto& k : keys_) arr.push_back(k->jwk());
  return ToJson(boost::json::object{{"keys", std::move(arr)}});
}

}  // namespace tessera
