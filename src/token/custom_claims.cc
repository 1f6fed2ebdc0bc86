#include "tessera/token/custom_claims.h"

#include <array>
#include <string_view>

#include "common/json.h"

namespace tessera {
namespace {

constexpr std::array<std::string_view, 7> kRegistered = {"iss", "sub", "aud", "exp",
                                                         "nbf", "iat", "jti"};
constexpr std::string_view kStytchPrefix = "https://stytch.com/";

Status CheckNames(const boost::json::object& claims) {
  for (const auto& kv : claims) {
    const std::string_view name = kv.key();
    for (const auto reserved : kRegistered) {
      if (name == reserved) {
        return Error(
            ErrorCode::kCustomClaimsReserved,
            "custom claims may not use the registered claim name \"" + std::string(name) + "\"");
      }
    }
    if (name.starts_with(kStytchPrefix)) {
      return Error(ErrorCode::kCustomClaimsStytchNamespace,
                   "custom claims may not use names under https://stytch.com/");
    }
  }
  return Status::Ok();
}

// Merges `update` into `target` in place (both objects), applying the null-deletes rule.
void MergeInto(boost::json::object& target, const boost::json::object& update) {
  for (const auto& kv : update) {
    const boost::json::value& v = kv.value();
    if (v.is_null()) {
      target.erase(kv.key());
      continue;
    }
    const auto it = target.find(kv.key());
    if (v.is_object() && it != target.end() && it->value().is_object()) {
      MergeInto(it->value().get_object(), v.get_object());
      continue;
    }
    if (v.is_object()) {
      // A new object: nulls inside it delete nothing, so they are dropped rather than stored.
      boost::json::object fresh;
      MergeInto(fresh, v.get_object());
      target[kv.key()] = std::move(fresh);
    } else {
      target[kv.key()] = v;
    }
  }
}

}  // namespace

Status ValidateCustomClaims(const boost::json::object& claims) {
  TESSERA_RETURN_IF_ERROR(CheckNames(claims));
  // Depth first: it bounds the recursion of the serializer below.
  if (JsonDepth(claims) > kMaxCustomClaimsDepth) {
    return Error(ErrorCode::kCustomClaimsTooLarge, "custom claims are nested more than 8 levels");
  }
  if (boost::json::serialize(claims).size() > kMaxCustomClaimsBytes) {
    return Error(ErrorCode::kCustomClaimsTooLarge, "custom claims exceed 4096 bytes");
  }
  return Status::Ok();
}

Result<boost::json::object> MergeCustomClaims(const boost::json::object& current,
                                              const boost::json::value& update) {
  if (!update.is_object()) {
    return Error(ErrorCode::kCustomClaimsNotObject, "session_custom_claims must be a JSON object");
  }
  TESSERA_RETURN_IF_ERROR(CheckNames(update.get_object()));
  if (JsonDepth(update) > kMaxCustomClaimsDepth) {
    return Error(ErrorCode::kCustomClaimsTooLarge, "custom claims are nested more than 8 levels");
  }
  boost::json::object merged = current;
  MergeInto(merged, update.get_object());
  TESSERA_RETURN_IF_ERROR(ValidateCustomClaims(merged));
  return merged;
}

}  // namespace tessera
