#include "tessera/token/security_event.h"

#include <boost/json/serialize.hpp>

#include "common/json.h"
#include "tessera/token/jws.h"

namespace tessera {

Result<std::string> MintSecurityEventToken(const SigningKey& key, const SecurityEvent& e,
                                           TimePoint iat) {
  const auto missing = [](std::string_view what) {
    return Error(ErrorCode::kInvalidArgument, "a Security Event Token needs " + std::string(what));
  };
  if (e.issuer.empty()) return missing("an issuer");
  if (e.audience.empty()) return missing("an audience");
  if (e.jti.empty()) return missing("a jti");
  if (e.event_type.empty()) return missing("an event type");
  if (e.subject.empty()) return missing("a subject");

  // Members in alphabetical order, as session JWTs have theirs; `sub` and `exp` are never
  // written (SSF §4.1.2, §4.1.7).
  std::string payload = "{\"aud\":";
  AppendJsonString(e.audience, payload);
  payload += ",\"events\":{";
  AppendJsonString(e.event_type, payload);
  payload.push_back(':');
  payload += boost::json::serialize(e.event);
  payload += "},\"iat\":" + std::to_string(ToUnixSeconds(iat));
  payload += ",\"iss\":";
  AppendJsonString(e.issuer, payload);
  payload += ",\"jti\":";
  AppendJsonString(e.jti, payload);
  payload += ",\"sub_id\":";
  payload += boost::json::serialize(e.subject);
  if (!e.txn.empty()) {
    payload += ",\"txn\":";
    AppendJsonString(e.txn, payload);
  }
  payload.push_back('}');
  return SignCompactJws(key, kSecurityEventTokenType, payload);
}

}  // namespace tessera
