#include "server/handlers/email_common.h"

namespace tessera::server::handlers {

Status ParseMatchOptions(const JsonBody& body, EmailAuthRequest& out) {
  TESSERA_ASSIGN_OR_RETURN(std::optional<boost::json::object> options, body.OptObject("options"));
  if (!options) return Status::Ok();
  for (const auto& [name, field] :
       {std::pair<const char*, bool*>{"ip_match_required", &out.ip_match_required},
        {"user_agent_match_required", &out.user_agent_match_required}}) {
    const auto it = options->find(name);
    if (it == options->end() || it->value().is_null()) continue;
    if (!it->value().is_bool()) return WrongType(std::string("options.") + name, "a boolean");
    *field = it->value().get_bool();
  }
  return Status::Ok();
}

Result<EmailAuthRequest> ParseEmailAuth(const JsonBody& body) {
  EmailAuthRequest r;
  TESSERA_ASSIGN_OR_RETURN(r.attributes, ParseAttributes(body));
  TESSERA_RETURN_IF_ERROR(ParseMatchOptions(body, r));
  TESSERA_ASSIGN_OR_RETURN(r.session, ParseSessionOptions(body));
  TESSERA_ASSIGN_OR_RETURN(r.session_token, NonEmpty(body, "session_token"));
  TESSERA_ASSIGN_OR_RETURN(r.session_jwt, NonEmpty(body, "session_jwt"));
  return r;
}

Result<EmailSendRequest> ParseEmailSend(const Call& call, const JsonBody& body) {
  EmailSendRequest r;
  TESSERA_ASSIGN_OR_RETURN(r.email, body.String("email"));
  TESSERA_ASSIGN_OR_RETURN(r.attributes, ParseAttributes(body));
  TESSERA_ASSIGN_OR_RETURN(r.locale, NonEmpty(body, "locale"));
  r.peer_ip = std::string(call.request.remote_ip);
  return r;
}

ApiResponse EmailAuthBody(const Call& call, const EmailAuthResult& r, bool with_method) {
  Body b(call.request_id);
  if (with_method) {
    b.String("method_id", r.method_id);
    b.Raw("reset_sessions", "false");
  }
  AppendLoginMembers(b, *r.user, r.session, call.now);
  return b.Close();
}

}  // namespace tessera::server::handlers
