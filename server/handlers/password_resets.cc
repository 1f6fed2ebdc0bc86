// /v1/passwords/{email,existing_password,session}/reset*: password resets (spec-next §4.2-§4.5).
#include "server/handlers/email_common.h"
#include "server/handlers/handlers.h"

namespace tessera::server::handlers {

Result<ApiResponse> PasswordsEmailResetStart(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseEmailSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.reset_url, NonEmpty(body, "reset_password_redirect_url"));
  TESSERA_ASSIGN_OR_RETURN(r.login_url, NonEmpty(body, "login_redirect_url"));
  TESSERA_ASSIGN_OR_RETURN(r.minutes, body.OptInt("reset_password_expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(r.reset_template_id, NonEmpty(body, "reset_password_template_id"));
  TESSERA_ASSIGN_OR_RETURN(r.code_challenge, NonEmpty(body, "code_challenge"));
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out,
                           call.services.email.ResetStart(call.project(), r, call.now));
  Body b(call.request_id);
  b.String("email_id", out.email_id);
  b.String("user_id", out.user_id);
  return b.Close();
}

Result<ApiResponse> PasswordsEmailReset(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthRequest r, ParseEmailAuth(body));
  TESSERA_ASSIGN_OR_RETURN(r.token, body.String("token"));
  TESSERA_ASSIGN_OR_RETURN(r.password, body.String("password"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> verifier, NonEmpty(body, "code_verifier"));
  r.code_verifier = verifier.value_or("");
  TESSERA_ASSIGN_OR_RETURN(EmailAuthResult out,
                           call.services.email.ResetByEmail(call.project(), r, call.now));
  return EmailAuthBody(call, out, false);
}

Result<ApiResponse> PasswordsExistingPasswordReset(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthRequest r, ParseEmailAuth(body));
  TESSERA_ASSIGN_OR_RETURN(std::string email, body.String("email"));
  TESSERA_ASSIGN_OR_RETURN(std::string existing, body.String("existing_password"));
  TESSERA_ASSIGN_OR_RETURN(std::string fresh, body.String("new_password"));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthResult out,
                           call.services.email.ResetExistingPassword(call.project(), email,
                                                                     existing, fresh, r, call.now));
  return EmailAuthBody(call, out, false);
}

Result<ApiResponse> PasswordsSessionReset(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthRequest r, ParseEmailAuth(body));
  TESSERA_ASSIGN_OR_RETURN(std::string password, body.String("password"));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthResult out, call.services.email.ResetBySession(
                                                    call.project(), password, r, call.now));
  return EmailAuthBody(call, out, false);
}

}  // namespace tessera::server::handlers
