// /v1/otps: one-time passcodes by email; SMS and WhatsApp answer that no provider is configured
// (their sandbox number aside); one authenticate for all (spec-next §3).
#include "server/handlers/email_common.h"
#include "server/handlers/handlers.h"

namespace tessera::server::handlers {
namespace {

Result<EmailSendRequest> ParseOtpSend(const Call& call, const JsonBody& body) {
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseEmailSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.minutes, body.OptInt("expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(r.login_template_id, NonEmpty(body, "login_template_id"));
  TESSERA_ASSIGN_OR_RETURN(r.signup_template_id, NonEmpty(body, "signup_template_id"));
  return r;
}

Result<ApiResponse> PhoneSend(Call& call, bool login_or_create) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(std::string phone, body.String("phone_number"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::int64_t> minutes, body.OptInt("expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out,
                           call.services.email.PhoneOtpSend(call.project(), phone, minutes));
  Body b(call.request_id);
  b.String("phone_id", out.email_id);
  b.String("user_id", out.user_id);
  if (login_or_create) b.Raw("user_created", "false");
  return b.Close();
}

}  // namespace

Result<ApiResponse> OtpsEmailSend(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseOtpSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.user_id, NonEmpty(body, "user_id"));
  TESSERA_ASSIGN_OR_RETURN(r.session_token, NonEmpty(body, "session_token"));
  TESSERA_ASSIGN_OR_RETURN(r.session_jwt, NonEmpty(body, "session_jwt"));
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out,
                           call.services.email.OtpSend(call.project(), r, call.now));
  Body b(call.request_id);
  b.String("email_id", out.email_id);
  b.String("user_id", out.user_id);
  return b.Close();
}

Result<ApiResponse> OtpsEmailLoginOrCreate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseOtpSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(std::optional<bool> pending, body.OptBool("create_user_as_pending"));
  r.create_user_as_pending = pending.value_or(false);
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out,
                           call.services.email.OtpLoginOrCreate(call.project(), r, call.now));
  Body b(call.request_id);
  b.String("email_id", out.email_id);
  b.String("user_id", out.user_id);
  b.Raw("user_created", out.user_created ? "true" : "false");
  return b.Close();
}

Result<ApiResponse> OtpsPhoneSend(Call& call) { return PhoneSend(call, false); }
Result<ApiResponse> OtpsPhoneLoginOrCreate(Call& call) { return PhoneSend(call, true); }

Result<ApiResponse> OtpsAuthenticate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthRequest r, ParseEmailAuth(body));
  TESSERA_ASSIGN_OR_RETURN(r.method_id, body.String("method_id"));
  TESSERA_ASSIGN_OR_RETURN(r.code, body.String("code"));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthResult out,
                           call.services.email.OtpAuthenticate(call.project(), r, call.now));
  return EmailAuthBody(call, out, true);
}

}  // namespace tessera::server::handlers
