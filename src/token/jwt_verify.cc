#include <boost/json.hpp>
#include <cmath>
#include <limits>

#include "common/base64.h"
#include "tessera/token/jwt.h"

namespace tessera {
namespace {

// A Tessera header is about 80 bytes; anything near this bound is not a header we would mint or
// that a JOSE library would produce for us.
constexpr std::size_t kMaxHeaderSegment = 1024;
// base64url of a 4096-bit RSA signature is 683 characters.
constexpr std::size_t kMaxSignatureSegment = 700;

Status Fail(ErrorCode code, std::string_view message) { return Status(code, std::string(message)); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
    const char y = (b[i] >= 'A' && b[i] <= 'Z') ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

// A NumericDate (RFC 7519 §2) as whole seconds; fractions are truncated toward minus infinity.
bool NumericDate(const boost::json::value& v, std::int64_t& out) {
  if (v.is_int64()) {
    out = v.get_int64();
    return true;
  }
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return false;
    }
    out = static_cast<std::int64_t>(v.get_uint64());
    return true;
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (!std::isfinite(d) || d < -9.0e18 || d > 9.0e18) return false;
    out = static_cast<std::int64_t>(std::floor(d));
    return true;
  }
  return false;
}

struct Header {
  std::string_view alg;
  std::string_view kid;
  std::string_view typ;
  bool has_alg = false, has_kid = false, has_typ = false;
};

// Steps 2-5 of the pipeline: everything that can be decided from the header and the key set.
Status CheckHeader(std::string_view segment, const KeySet& keys, const PublicKey*& key,
                   JwtAlgorithm& alg) {
  if (segment.size() > kMaxHeaderSegment)
    return Fail(ErrorCode::kJwtHeaderInvalid, "header too large");
  std::uint8_t decoded[Base64UrlMaxDecodedSize(kMaxHeaderSegment)];
  const std::ptrdiff_t n = Base64UrlDecodeInto(segment, decoded);
  if (n < 0) return Fail(ErrorCode::kMalformedBase64, "header is not base64url");

  // The header is parsed into a stack arena: no heap allocation on this path.
  unsigned char arena[4096];
  boost::json::monotonic_resource mr(arena, sizeof arena);
  boost::json::parse_options opt;
  opt.max_depth = 2;  // {"crit":[...]} is the deepest header a standard library writes.
  boost::json::error_code ec;
  const boost::json::value v = boost::json::parse(
      std::string_view(reinterpret_cast<const char*>(decoded), static_cast<std::size_t>(n)), ec,
      &mr, opt);
  if (ec) {
    return ec == boost::json::error::too_deep
               ? Fail(ErrorCode::kJsonTooDeep, "header is nested too deeply")
               : Fail(ErrorCode::kMalformedJson, "header is not JSON");
  }
  if (!v.is_object()) return Fail(ErrorCode::kJwtHeaderInvalid, "header is not a JSON object");

  Header h;
  for (const auto& kv : v.get_object()) {
    const std::string_view name = kv.key();
    const boost::json::value& val = kv.value();
    if (name == "alg" || name == "kid" || name == "typ") {
      if (!val.is_string()) {
        return Fail(ErrorCode::kJwtHeaderInvalid, "header member is not a string");
      }
      const std::string_view s = val.get_string();
      if (name == "alg")
        h.alg = s, h.has_alg = true;
      else if (name == "kid")
        h.kid = s, h.has_kid = true;
      else
        h.typ = s, h.has_typ = true;
    } else if (name == "crit") {
      return Fail(ErrorCode::kJwtCriticalUnsupported, "header lists critical extensions");
    } else if (name == "jwk" || name == "jku" || name == "x5u" || name == "x5c") {
      return Fail(ErrorCode::kJwtEmbeddedKey, "header carries its own key");
    } else {
      return Fail(ErrorCode::kJwtHeaderInvalid, "header has a member that is not allowed");
    }
  }
  if (!h.has_alg) return Fail(ErrorCode::kJwtHeaderInvalid, "header has no alg");
  const auto parsed_alg = AlgorithmFromName(h.alg);
  if (!parsed_alg) return Fail(ErrorCode::kJwtAlgorithmNotAllowed, "algorithm is not allowed");
  alg = *parsed_alg;
  if (!h.has_typ || !EqualsIgnoreCase(h.typ, "JWT")) {
    return Fail(ErrorCode::kJwtTypeInvalid, "typ is not JWT");
  }
  if (!h.has_kid) return Fail(ErrorCode::kJwtKidMissing, "header has no kid");
  key = keys.Find(h.kid);
  if (key == nullptr) return Fail(ErrorCode::kJwtKidUnknown, "no key with this kid");
  if (key->alg() != alg) return Fail(ErrorCode::kJwtKeyMismatch, "key does not match alg");
  return Status::Ok();
}

const boost::json::value* Member(const boost::json::object& o, std::string_view name) {
  const auto it = o.find(name);
  return it == o.end() ? nullptr : &it->value();
}

}  // namespace

std::string ProjectIssuer(std::string_view project_id) {
  std::string s = "stytch.com/";
  s += project_id;
  return s;
}

Result<VerifiedJwt> VerifyJwt(std::string_view jwt, const KeySet& keys,
                              const JwtVerifyOptions& options, TimePoint now) {
  // 1. Size and compact form.
  if (jwt.size() > kMaxJwtBytes)
    return Fail(ErrorCode::kInputTooLarge, "JWT is larger than 16 KiB");
  const std::size_t dot1 = jwt.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos ||
      dot1 == 0 || dot2 == dot1 + 1 || dot2 + 1 == jwt.size()) {
    return Fail(ErrorCode::kJwtMalformed, "JWT is not three dot-separated segments");
  }
  const std::string_view header_seg = jwt.substr(0, dot1);
  const std::string_view payload_seg = jwt.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view sig_seg = jwt.substr(dot2 + 1);

  // 2-5. Header, algorithm, typ, kid.
  const PublicKey* key = nullptr;
  JwtAlgorithm alg{};
  TESSERA_RETURN_IF_ERROR(CheckHeader(header_seg, keys, key, alg));

  // 6. Signature.
  if (sig_seg.size() > kMaxSignatureSegment) {
    return Fail(ErrorCode::kJwtSignatureInvalid, "signature does not verify");
  }
  std::uint8_t sig[Base64UrlMaxDecodedSize(kMaxSignatureSegment)];
  const std::ptrdiff_t sig_len = Base64UrlDecodeInto(sig_seg, sig);
  if (sig_len < 0) return Fail(ErrorCode::kMalformedBase64, "signature is not base64url");
  if (!key->Verify(jwt.substr(0, dot2), {sig, static_cast<std::size_t>(sig_len)})) {
    return Fail(ErrorCode::kJwtSignatureInvalid, "signature does not verify");
  }

  // 7. Payload. Parsed into one arena owned by the returned claims object: a single allocation
  // instead of one per member.
  std::uint8_t payload[Base64UrlMaxDecodedSize(kMaxJwtBytes)];
  const std::ptrdiff_t payload_len = Base64UrlDecodeInto(payload_seg, payload);
  if (payload_len < 0) return Fail(ErrorCode::kMalformedBase64, "payload is not base64url");
  boost::json::parse_options opt;
  opt.max_depth = kMaxJwtPayloadDepth;
  boost::json::error_code ec;
  boost::json::value parsed =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(payload),
                                          static_cast<std::size_t>(payload_len)),
                         ec,
                         boost::json::make_shared_resource<boost::json::monotonic_resource>(
                             static_cast<std::size_t>(payload_len) * 2 + 1024),
                         opt);
  if (ec) {
    return ec == boost::json::error::too_deep
               ? Fail(ErrorCode::kJsonTooDeep, "payload is nested too deeply")
               : Fail(ErrorCode::kMalformedJson, "payload is not JSON");
  }
  if (!parsed.is_object()) return Fail(ErrorCode::kJwtClaimsInvalid, "payload is not an object");
  const boost::json::object& claims = parsed.get_object();

  std::int64_t issued_at = 0, not_before = 0, expires_at = 0;
  const boost::json::value* iss = Member(claims, "iss");
  const boost::json::value* sub = Member(claims, "sub");
  const boost::json::value* aud = Member(claims, "aud");
  const boost::json::value* iat = Member(claims, "iat");
  const boost::json::value* nbf = Member(claims, "nbf");
  const boost::json::value* exp = Member(claims, "exp");
  if (iss == nullptr || !iss->is_string() || sub == nullptr || !sub->is_string() ||
      aud == nullptr || iat == nullptr || !NumericDate(*iat, issued_at) || nbf == nullptr ||
      !NumericDate(*nbf, not_before) || exp == nullptr || !NumericDate(*exp, expires_at)) {
    return Fail(ErrorCode::kJwtClaimsInvalid,
                "a registered claim is missing or has the wrong type");
  }

  // 8. Issuer and audience.
  bool issuer_ok = false;
  for (const auto& accepted : options.issuers)
    issuer_ok = issuer_ok || iss->get_string() == accepted;
  if (!issuer_ok) return Fail(ErrorCode::kJwtIssuerInvalid, "issuer is not accepted");
  bool audience_ok = false;
  if (aud->is_string()) {
    audience_ok = aud->get_string() == options.audience;
  } else if (aud->is_array()) {
    for (const auto& a : aud->get_array()) {
      if (!a.is_string()) return Fail(ErrorCode::kJwtClaimsInvalid, "aud holds a non-string");
      audience_ok = audience_ok || a.get_string() == options.audience;
    }
  } else {
    return Fail(ErrorCode::kJwtClaimsInvalid, "aud is neither a string nor an array");
  }
  if (!audience_ok || options.audience.empty()) {
    return Fail(ErrorCode::kJwtAudienceInvalid, "audience does not match");
  }

  // 9. Time.
  const std::int64_t now_s = ToUnixSeconds(now);
  const std::int64_t skew = options.clock_skew.count();
  if (not_before > now_s + skew) return Fail(ErrorCode::kJwtNotYetValid, "JWT is not yet valid");
  if (issued_at > now_s + skew)
    return Fail(ErrorCode::kJwtIssuedInFuture, "JWT is issued in the future");
  if (options.check_expiry && expires_at <= now_s - skew) {
    return Fail(ErrorCode::kJwtExpired, "JWT has expired");
  }

  // Move-constructed, so the claims keep the arena they were parsed into.
  VerifiedJwt out{.alg = alg,
                  .kid = key->kid(),
                  .issuer = std::string(iss->get_string()),
                  .audience = options.audience,
                  .subject = std::string(sub->get_string()),
                  .issued_at = issued_at,
                  .not_before = not_before,
                  .expires_at = expires_at,
                  .claims = std::move(parsed.get_object())};
  return out;
}

}  // namespace tessera
