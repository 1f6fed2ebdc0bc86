#include "service/ssf.h"

#include <charconv>

#include "tessera/token/jwt.h"

namespace tessera {
namespace {

// A host name, IPv4 address or bracketed IPv6 address, with an optional ":port": the characters
// of RFC 3986's reg-name (without percent-encoding and sub-delims) and IP-literal. Anything else
// in a Host header (a path, user info, spaces, quotes) must not reach an issuer.
bool IsHostAndPort(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (const char ch : host) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':' || ch == '[' ||
                    ch == ']';
    if (!ok) return false;
  }
  return host.front() != ':' && host.front() != '.' && host.front() != '-';
}

boost::json::object UserSubject(const RevocationEntry& e) {
  // The session JWT's own iss and sub: a receiver that already verifies Tessera's session JWTs
  // matches the user with what it has.
  return boost::json::object{
      {"format", "iss_sub"}, {"iss", ProjectIssuer(e.project_id)}, {"sub", e.user_id}};
}

}  // namespace

Status ValidateSsfOptions(SsfOptions& o) {
  const auto bad = [](std::string what) {
    return Error(ErrorCode::kInvalidArgument, "--public-url " + std::move(what));
  };
  std::string& url = o.public_url;
  if (!url.empty()) {
    while (url.size() > 1 && url.back() == '/') url.pop_back();
    std::string_view rest = url;
    if (rest.starts_with("https://")) {
      rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
      rest.remove_prefix(7);
    } else {
      return bad("must start with https:// (or http:// for tests)");
    }
    // An origin only: Tessera serves every route at the host root, so a path would name
    // endpoints it does not serve, and SSF §7.1 forbids a query or fragment in the issuer.
    if (!IsHostAndPort(rest)) {
      return bad("must be an origin, scheme://host[:port], without path, query or user info");
    }
  }
  if (o.poll_wait.count() < 1 || o.poll_wait.count() > 300) {
    return Error(ErrorCode::kInvalidArgument, "--ssf-poll-wait-seconds must be 1..300");
  }
  if (o.max_events < 1 || o.max_events > 1000) {
    return Error(ErrorCode::kInvalidArgument, "the SSF max_events must be 1..1000");
  }
  return Status::Ok();
}

Result<std::string> SsfOrigin(const SsfOptions& options, std::string_view host) {
  if (!options.public_url.empty()) return options.public_url;
  if (!IsHostAndPort(host)) {
    return Error(ErrorCode::kBadRequest,
                 "The Host header does not name a host this server can use in an SSF issuer; "
                 "the operator can set --public-url.");
  }
  return "https://" + std::string(host);
}

std::string SsfIssuer(std::string_view origin, std::string_view project_id) {
  std::string out(origin);
  out.push_back('/');
  out += project_id;
  return out;
}

std::string SsfJti(std::string_view project_id, std::int64_t sequence) {
  std::string out(project_id);
  out.push_back('.');
  out += std::to_string(sequence);
  return out;
}

std::optional<std::int64_t> SsfSequenceOf(std::string_view project_id, std::string_view jti) {
  if (jti.size() <= project_id.size() + 1 || !jti.starts_with(project_id) ||
      jti[project_id.size()] != '.') {
    return std::nullopt;
  }
  const std::string_view digits = jti.substr(project_id.size() + 1);
  // Exactly the form SsfJti writes: digits only, no sign, no leading zero.
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size() || v < 1) return std::nullopt;
  return v;
}

SecurityEvent SessionRevokedEvent(const RevocationEntry& e, std::string_view issuer,
                                  std::string_view audience) {
  SecurityEvent set;
  set.issuer = std::string(issuer);
  set.audience = std::string(audience);
  set.jti = SsfJti(e.project_id, e.sequence);
  // One SET per log entry, so the entry's own identity is the "underlying event" (SSF §4.1.9).
  set.txn = set.jti;
  set.event_type = std::string(kCaepSessionRevoked);
  set.subject = {{"format", "complex"}};
  const bool one_session = e.kind == RevocationEntry::Kind::kSession;
  if (one_session) {
    set.subject["session"] = boost::json::object{{"format", "opaque"}, {"id", e.session_id}};
  }
  set.subject["user"] = UserSubject(e);
  set.event = {
      {"event_timestamp", ToUnixSeconds(e.revoked_at)},
      {"reason_admin",
       boost::json::object{{"en", one_session ? "The session was revoked."
                                              : "Every session of the user was revoked (the user "
                                                "was deleted, or all of its sessions were revoked "
                                                "at once)."}}},
  };
  return set;
}

}  // namespace tessera
