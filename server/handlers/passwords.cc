// /v1/passwords: sign-up, sign-in, migration of hashes made elsewhere, and the strength check.
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

Result<std::int64_t> IntOrZero(const JsonBody& body, std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::int64_t> v, body.OptInt(name));
  return v.value_or(0);
}

Result<std::string> StringOrEmpty(const JsonBody& body, std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> v, body.OptString(name));
  return v.value_or("");
}

// Every member of a config is declared non-optional by the Node and Python SDKs, but Go omits
// zero values: a missing member reads as "" or 0.
Result<std::optional<SaltConfig>> ParseSaltConfig(const JsonBody& body, std::string_view name) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<JsonBody> c, body.OptNested(name));
  if (!c) return std::optional<SaltConfig>();
  SaltConfig out;
  TESSERA_ASSIGN_OR_RETURN(out.prepend_salt, StringOrEmpty(*c, "prepend_salt"));
  TESSERA_ASSIGN_OR_RETURN(out.append_salt, StringOrEmpty(*c, "append_salt"));
  return std::optional<SaltConfig>(std::move(out));
}

Result<MigratedHashInput> ParseMigratedHashInput(const JsonBody& body) {
  MigratedHashInput in;
  TESSERA_ASSIGN_OR_RETURN(in.hash_type, body.String("hash_type"));
  TESSERA_ASSIGN_OR_RETURN(in.hash, body.String("hash"));
  TESSERA_ASSIGN_OR_RETURN(in.md_5_config, ParseSaltConfig(body, "md_5_config"));
  TESSERA_ASSIGN_OR_RETURN(in.sha_1_config, ParseSaltConfig(body, "sha_1_config"));
  TESSERA_ASSIGN_OR_RETURN(in.sha_512_config, ParseSaltConfig(body, "sha_512_config"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<JsonBody> argon, body.OptNested("argon_2_config"));
  if (argon) {
    Argon2Config c;
    TESSERA_ASSIGN_OR_RETURN(c.salt, StringOrEmpty(*argon, "salt"));
    TESSERA_ASSIGN_OR_RETURN(c.iteration_amount, IntOrZero(*argon, "iteration_amount"));
    TESSERA_ASSIGN_OR_RETURN(c.memory, IntOrZero(*argon, "memory"));
    TESSERA_ASSIGN_OR_RETURN(c.threads, IntOrZero(*argon, "threads"));
    TESSERA_ASSIGN_OR_RETURN(c.key_length, IntOrZero(*argon, "key_length"));
    in.argon_2_config = std::move(c);
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<JsonBody> scrypt, body.OptNested("scrypt_config"));
  if (scrypt) {
    ScryptConfig c;
    TESSERA_ASSIGN_OR_RETURN(c.salt, StringOrEmpty(*scrypt, "salt"));
    TESSERA_ASSIGN_OR_RETURN(c.n_parameter, IntOrZero(*scrypt, "n_parameter"));
    TESSERA_ASSIGN_OR_RETURN(c.r_parameter, IntOrZero(*scrypt, "r_parameter"));
    TESSERA_ASSIGN_OR_RETURN(c.p_parameter, IntOrZero(*scrypt, "p_parameter"));
    TESSERA_ASSIGN_OR_RETURN(c.key_length, IntOrZero(*scrypt, "key_length"));
    in.scrypt_config = std::move(c);
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<JsonBody> pbkdf2, body.OptNested("pbkdf_2_config"));
  if (pbkdf2) {
    Pbkdf2Config c;
    TESSERA_ASSIGN_OR_RETURN(c.salt, StringOrEmpty(*pbkdf2, "salt"));
    TESSERA_ASSIGN_OR_RETURN(c.iteration_amount, IntOrZero(*pbkdf2, "iteration_amount"));
    TESSERA_ASSIGN_OR_RETURN(c.key_length, IntOrZero(*pbkdf2, "key_length"));
    TESSERA_ASSIGN_OR_RETURN(c.algorithm, StringOrEmpty(*pbkdf2, "algorithm"));
    in.pbkdf_2_config = std::move(c);
  }
  TESSERA_ASSIGN_OR_RETURN(std::optional<JsonBody> firebase,
                           body.OptNested("firebase_scrypt_config"));
  if (firebase) {
    FirebaseScryptConfig c;
    TESSERA_ASSIGN_OR_RETURN(c.salt, StringOrEmpty(*firebase, "salt"));
    TESSERA_ASSIGN_OR_RETURN(c.base64_salt_separator,
                             StringOrEmpty(*firebase, "base64_salt_separator"));
    TESSERA_ASSIGN_OR_RETURN(c.base64_signer_key, StringOrEmpty(*firebase, "base64_signer_key"));
    TESSERA_ASSIGN_OR_RETURN(c.rounds, IntOrZero(*firebase, "rounds"));
    TESSERA_ASSIGN_OR_RETURN(c.mem_cost, IntOrZero(*firebase, "mem_cost"));
    in.firebase_scrypt_config = std::move(c);
  }
  return in;
}

}  // namespace

Result<PasswordMigrateRequest> ParsePasswordMigrateRequest(const JsonBody& body) {
  PasswordMigrateRequest req;
  TESSERA_ASSIGN_OR_RETURN(req.email, body.String("email"));
  TESSERA_ASSIGN_OR_RETURN(req.hash, ParseMigratedHashInput(body));
  TESSERA_ASSIGN_OR_RETURN(req.user, ParseUserFields(body));
  req.user.email = req.email;
  req.user.create_as_pending = false;
  TESSERA_ASSIGN_OR_RETURN(std::optional<bool> email_verified, body.OptBool("set_email_verified"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<bool> phone_verified,
                           body.OptBool("set_phone_number_verified"));
  req.set_email_verified = email_verified.value_or(false);
  req.set_phone_number_verified = phone_verified.value_or(false);
  return req;
}

Result<ApiResponse> PasswordsMigrate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(PasswordMigrateRequest req, ParsePasswordMigrateRequest(body));
  TESSERA_ASSIGN_OR_RETURN(PasswordMigrateResult r,
                           call.services.passwords.Migrate(call.project(), req, call.now));
  Body b(call.request_id);
  b.String("email_id", r.email_id);
  AppendUserValue(*r.user, call.now, b.Key("user"));
  b.Raw("user_created", r.user_created ? "true" : "false");
  b.String("user_id", r.user->user.user_id);
  return b.Close();
}

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
