// /v1/magic_links: email magic links (send, login_or_create, invite, revoke_invite), embeddable
// links and authenticate (spec-next §2).
#include "server/handlers/email_common.h"
#include "server/handlers/handlers.h"

namespace tessera::server::handlers {
namespace {

// The members of send and login_or_create.
Result<EmailSendRequest> ParseLinkSend(const Call& call, const JsonBody& body) {
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseEmailSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.login_url, NonEmpty(body, "login_magic_link_url"));
  TESSERA_ASSIGN_OR_RETURN(r.signup_url, NonEmpty(body, "signup_magic_link_url"));
  TESSERA_ASSIGN_OR_RETURN(r.login_minutes, body.OptInt("login_expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(r.signup_minutes, body.OptInt("signup_expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(r.login_template_id, NonEmpty(body, "login_template_id"));
  TESSERA_ASSIGN_OR_RETURN(r.signup_template_id, NonEmpty(body, "signup_template_id"));
  TESSERA_ASSIGN_OR_RETURN(r.code_challenge, NonEmpty(body, "code_challenge"));
  return r;
}

}  // namespace

Result<ApiResponse> MagicLinksEmailSend(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseLinkSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.user_id, NonEmpty(body, "user_id"));
  TESSERA_ASSIGN_OR_RETURN(r.session_token, NonEmpty(body, "session_token"));
  TESSERA_ASSIGN_OR_RETURN(r.session_jwt, NonEmpty(body, "session_jwt"));
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out,
                           call.services.email.MagicLinkSend(call.project(), r, call.now));
  Body b(call.request_id);
  b.String("email_id", out.email_id);
  b.String("user_id", out.user_id);
  return b.Close();
}

Result<ApiResponse> MagicLinksEmailLoginOrCreate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseLinkSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(std::optional<bool> pending, body.OptBool("create_user_as_pending"));
  r.create_user_as_pending = pending.value_or(false);
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out,
                           call.services.email.MagicLinkLoginOrCreate(call.project(), r, call.now));
  Body b(call.request_id);
  b.String("email_id", out.email_id);
  b.String("user_id", out.user_id);
  b.Raw("user_created", out.user_created ? "true" : "false");
  return b.Close();
}

Result<ApiResponse> MagicLinksEmailInvite(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailSendRequest r, ParseEmailSend(call, body));
  TESSERA_ASSIGN_OR_RETURN(r.invite_url, NonEmpty(body, "invite_magic_link_url"));
  TESSERA_ASSIGN_OR_RETURN(r.invite_minutes, body.OptInt("invite_expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(r.invite_template_id, NonEmpty(body, "invite_template_id"));
  // Name and metadata of the invited user; nothing else of the user is taken from here.
  TESSERA_ASSIGN_OR_RETURN(UserFields f, ParseUserFields(body));
  r.invite_fields.first_name = std::move(f.first_name);
  r.invite_fields.middle_name = std::move(f.middle_name);
  r.invite_fields.last_name = std::move(f.last_name);
  r.invite_fields.trusted_metadata = std::move(f.trusted_metadata);
  r.invite_fields.untrusted_metadata = std::move(f.untrusted_metadata);
  TESSERA_ASSIGN_OR_RETURN(EmailSendResult out,
                           call.services.email.MagicLinkInvite(call.project(), r, call.now));
  Body b(call.request_id);
  b.String("email_id", out.email_id);
  b.String("user_id", out.user_id);
  return b.Close();
}

Result<ApiResponse> MagicLinksEmailRevokeInvite(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(std::string email, body.String("email"));
  TESSERA_RETURN_IF_ERROR(
      call.services.email.MagicLinkRevokeInvite(call.project(), email, call.now));
  return Body(call.request_id).Close();
}

Result<ApiResponse> MagicLinksCreate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(std::string user_id, body.String("user_id"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::int64_t> minutes, body.OptInt("expiration_minutes"));
  TESSERA_ASSIGN_OR_RETURN(SessionAttributes attributes, ParseAttributes(body));
  (void)attributes;  // Accepted (fraud data in Stytch); an embeddable link has no send to match.
  TESSERA_ASSIGN_OR_RETURN(EmbeddedLink out, call.services.email.MagicLinkCreate(
                                                 call.project(), user_id, minutes, call.now));
  Body b(call.request_id);
  b.String("token", out.token);
  b.String("user_id", out.user_id);
  return b.Close();
}

Result<ApiResponse> MagicLinksAuthenticate(Call& call) {
  TESSERA_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(call.request.body));
  TESSERA_ASSIGN_OR_RETURN(EmailAuthRequest r, ParseEmailAuth(body));
  TESSERA_ASSIGN_OR_RETURN(r.token, body.String("token"));
  TESSERA_ASSIGN_OR_RETURN(std::optional<std::string> verifier, NonEmpty(body, "code_verifier"));
  r.code_verifier = verifier.value_or("");
  TESSERA_ASSIGN_OR_RETURN(EmailAuthResult out,
                           call.services.email.MagicLinkAuthenticate(call.project(), r, call.now));
  return EmailAuthBody(call, out, true);
}

}  // namespace tessera::server::handlers
