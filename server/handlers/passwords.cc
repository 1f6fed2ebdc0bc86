// /v1/passwords: sign-up, sign-in and the strength check.
#include "common/json.h"
#include "server/handlers/common.h"
#include "server/handlers/handlers.h"

namespace tessera::server::handlers {
namespace {

// The strength check's `feedback` object.
void AppendFeedback(const StrengthResult& s, std::string& fb) {
  fb += "{\"luds_requirements\":";
  if (s.luds) {
    const LudsRequirements& l = *s.luds;
    fb += std::string("{\"has_digit\":") + (l.has_digit ? "true" : "false") +
          ",\"has_lower_case\":" + (l.has_lower_case ? "true" : "false") +
          ",\"has_symbol\":" + (l.has_symbol ? "true" : "false") +
          ",\"has_upper_case\":" + (l.has_upper_case ? "true" : "false") +
          ",\"missing_characters\":" + std::to_string(l.missing_characters) +
          ",\"missing_complexity\":" + std::to_string(l.missing_complexity) + "}";
  } else {
    fb += "null";
  }
  fb += ",\"suggestions\":[";
  for (std::size_t i = 0; i < s.suggestions.size(); ++i) {
    if (i > 0) fb.push_back(',');
    AppendJsonString(s.suggestions[i], fb);
  }
  fb += "],\"warning\":";
  AppendJsonString(s.warning, fb);
  fb += "}";
}

}  // namespace

Result<ApiResponse> PasswordsCreate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  PasswordCreateRequest pr;
  TESSERA_ASSIGN_OR_RETURN(pr.email, body.String("email"));
  TESSERA_ASSIGN_OR_RETURN(pr.password, body.String("password"));
  TESSERA_ASSIGN_OR_RETURN(pr.session, ParseSessionOptions(body));
  TESSERA_ASSIGN_OR_RETURN(pr.user, ParseUserFields(body));
  TESSERA_ASSIGN_OR_RETURN(pr.attributes, ParseAttributes(body));
  TESSERA_ASSIGN_OR_RETURN(PasswordResult r,
                           call.services.passwords.Create(call.project(), pr, call.now));
  Body b(call.request_id);
  b.String("email_id", r.email_id);
  AppendLoginMembers(b, *r.user, r.session, call.now);
  return b.Close();
}

Result<ApiResponse> PasswordsAuthenticate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  PasswordAuthRequest pr;
  TESSERA_ASSIGN_OR_RETURN(pr.email, body.String("email"));
  TESSERA_ASSIGN_OR_RETURN(pr.password, body.String("password"));
  TESSERA_ASSIGN_OR_RETURN(pr.session, ParseSessionOptions(body));
  TESSERA_ASSIGN_OR_RETURN(pr.session_token, NonEmpty(body, "session_token"));
  TESSERA_ASSIGN_OR_RETURN(pr.session_jwt, NonEmpty(body, "session_jwt"));
  TESSERA_ASSIGN_OR_RETURN(pr.attributes, ParseAttributes(body));
  TESSERA_ASSIGN_OR_RETURN(PasswordResult r,
                           call.services.passwords.Authenticate(call.project(), pr, call.now));
  Body b(call.request_id);
  AppendLoginMembers(b, *r.user, r.session, call.now);
  return b.Close();
}

Result<ApiResponse> PasswordsStrengthCheck(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(std::string password, body.String("password"));
  TESSERA_ASSIGN_OR_RETURN(auto email, body.OptString("email"));
  if (password.size() > kMaxPasswordBytes) {
    return Error(ErrorCode::kBadRequest, "password must be at most 256 bytes.");
  }
  const StrengthResult s =
      call.services.passwords.StrengthCheck(call.project(), password, email.value_or(""));
  Body b(call.request_id);
  b.Raw("breach_detection_on_create", "false");
  b.Raw("breached_password", "false");
  AppendFeedback(s, b.Key("feedback"));
  b.Raw("score", std::to_string(s.score));
  b.String("strength_policy", s.policy == PasswordPolicy::kLuds ? "luds" : "zxcvbn");
  b.Raw("valid_password", s.valid ? "true" : "false");
  return b.Close();
}

}  // namespace tessera::server::handlers
