#include "tessera/token/session_jwt.h"

#include <algorithm>
#include <boost/json.hpp>

#include "common/json.h"
#include "common/time_format.h"
#include "tessera/token/jws.h"

namespace tessera {
namespace {

// Appends a factor as the JWT claim carries it (spec §3.2): no created_at/updated_at, and no
// empty-string members inside its typed sub-object.
void AppendFactor(const boost::json::value& factor, std::string& out) {
  if (!factor.is_object()) {
    out += boost::json::serialize(factor);
    return;
  }
  out.push_back('{');
  bool first = true;
  for (const auto& kv : factor.get_object()) {
    if (kv.key() == "created_at" || kv.key() == "updated_at") continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(kv.key(), out);
    out.push_back(':');
    if (kv.value().is_object()) {
      out.push_back('{');
      bool first_inner = true;
      for (const auto& inner : kv.value().get_object()) {
        if (inner.value().is_string() && inner.value().get_string().empty()) continue;
        if (!first_inner) out.push_back(',');
        first_inner = false;
        AppendJsonString(inner.key(), out);
        out.push_back(':');
        out += boost::json::serialize(inner.value());
      }
      out.push_back('}');
    } else {
      out += boost::json::serialize(kv.value());
    }
  }
  out.push_back('}');
}

void AppendSessionClaim(const SessionClaims& c, std::string& out) {
  out += "{\"id\":";
  AppendJsonString(c.session_id, out);
  out += ",\"started_at\":\"";
  AppendRfc3339(c.started_at, out);
  out += "\",\"last_accessed_at\":\"";
  AppendRfc3339(c.last_accessed_at, out);
  out += "\",\"expires_at\":\"";
  AppendRfc3339(c.expires_at, out);
  out += "\",\"attributes\":{\"user_agent\":";
  AppendJsonString(c.attributes.user_agent, out);
  out += ",\"ip_address\":";
  AppendJsonString(c.attributes.ip_address, out);
  out += "},\"authentication_factors\":[";
  for (std::size_t i = 0; i < c.authentication_factors.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendFactor(c.authentication_factors[i], out);
  }
  out += "],\"roles\":[";
  for (std::size_t i = 0; i < c.roles.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(c.roles[i], out);
  }
  out += "]}";
}

// One top-level member of the payload, kept as its name and serialized value for sorting.
struct Member {
  std::string_view name;
  std::string json;
};

Result<TimePoint> TimeMember(const boost::json::object& o, std::string_view name) {
  const auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) {
    return Error(ErrorCode::kJwtSessionClaimInvalid,
                 "session claim lacks \"" + std::string(name) + "\"");
  }
  auto t = ParseRfc3339(it->value().get_string());
  if (!t.ok()) {
    return Error(ErrorCode::kJwtSessionClaimInvalid,
                 "session claim \"" + std::string(name) + "\" is not RFC 3339");
  }
  return *t;
}

}  // namespace

Result<std::string> MintSessionJwt(const SigningKey& key, const SessionClaims& c, TimePoint now) {
  const std::int64_t iat = ToUnixSeconds(now);
  const std::int64_t exp = iat + kSessionJwtLifetime.count();

  std::vector<Member> members;
  members.reserve(7 + c.custom_claims.size());
  {
    std::string aud = "[";
    AppendJsonString(c.project_id, aud);
    aud.push_back(']');
    members.push_back({"aud", std::move(aud)});
  }
  members.push_back({"exp", std::to_string(exp)});
  {
    std::string session;
    session.reserve(512);
    AppendSessionClaim(c, session);
    members.push_back({kSessionClaimName, std::move(session)});
  }
  members.push_back({"iat", std::to_string(iat)});
  {
    std::string iss;
    AppendJsonString(ProjectIssuer(c.project_id), iss);
    members.push_back({"iss", std::move(iss)});
  }
  members.push_back({"nbf", std::to_string(iat)});
  {
    std::string sub;
    AppendJsonString(c.user_id, sub);
    members.push_back({"sub", std::move(sub)});
  }
  for (const auto& kv : c.custom_claims) {
    members.push_back({kv.key(), boost::json::serialize(kv.value())});
  }
  // The registered members above are already in order; sorting places the custom claims among them.
  std::stable_sort(members.begin(), members.end(),
                   [](const Member& a, const Member& b) { return a.name < b.name; });

  std::string payload = "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (i > 0) payload.push_back(',');
    AppendJsonString(members[i].name, payload);
    payload.push_back(':');
    payload += members[i].json;
  }
  payload.push_back('}');

  return SignCompactJws(key, "JWT", payload);
}

Result<SessionClaims> SessionClaimsFromJwt(const VerifiedJwt& jwt) {
  const auto bad = [](std::string_view what) {
    return Error(ErrorCode::kJwtSessionClaimInvalid, std::string(what));
  };
  SessionClaims c;
  // The audience that verification matched, not merely the first one listed: a token for
  // ["project-b", "project-a"] verified for project-a belongs to project-a here.
  c.project_id = jwt.audience;
  c.user_id = jwt.subject;

  const auto it = jwt.claims.find(kSessionClaimName);
  if (it == jwt.claims.end() || !it->value().is_object()) return bad("no session claim");
  const boost::json::object& s = it->value().get_object();
  const auto id = s.find("id");
  if (id == s.end() || !id->value().is_string() || id->value().get_string().empty()) {
    return bad("session claim has no id");
  }
  c.session_id = id->value().get_string();
  TESSERA_ASSIGN_OR_RETURN(c.started_at, TimeMember(s, "started_at"));
  TESSERA_ASSIGN_OR_RETURN(c.last_accessed_at, TimeMember(s, "last_accessed_at"));
  TESSERA_ASSIGN_OR_RETURN(c.expires_at, TimeMember(s, "expires_at"));

  const auto attrs = s.find("attributes");
  if (attrs == s.end() || !attrs->value().is_object())
    return bad("session claim has no attributes");
  for (const auto& kv : attrs->value().get_object()) {
    if (!kv.value().is_string()) return bad("session attribute is not a string");
    if (kv.key() == "ip_address") c.attributes.ip_address = kv.value().get_string();
    if (kv.key() == "user_agent") c.attributes.user_agent = kv.value().get_string();
  }
  const auto factors = s.find("authentication_factors");
  if (factors == s.end() || !factors->value().is_array()) {
    return bad("session claim has no authentication_factors");
  }
  c.authentication_factors = boost::json::array(factors->value().get_array(), {});
  // `roles` appeared in 2025 tokens; older ones lack it, which reads as no roles.
  if (const auto roles = s.find("roles"); roles != s.end()) {
    if (!roles->value().is_array()) return bad("session roles is not an array");
    for (const auto& r : roles->value().get_array()) {
      if (!r.is_string()) return bad("session role is not a string");
      c.roles.emplace_back(r.get_string());
    }
  }
  for (const auto& kv : jwt.claims) {
    const std::string_view k = kv.key();
    if (k == "aud" || k == "exp" || k == "iat" || k == "iss" || k == "jti" || k == "nbf" ||
        k == "sub" || k == kSessionClaimName) {
      continue;
    }
    c.custom_claims.emplace(k, boost::json::value(kv.value(), {}));
  }
  return c;
}

JwtVerifyOptions SessionJwtOptions(std::string_view project_id,
                                   std::vector<std::string> extra_issuers, Seconds clock_skew) {
  JwtVerifyOptions o;
  o.audience = std::string(project_id);
  o.issuers.push_back(ProjectIssuer(project_id));
  for (auto& i : extra_issuers) o.issuers.push_back(std::move(i));
  o.clock_skew = clock_skew;
  return o;
}

}  // namespace tessera
