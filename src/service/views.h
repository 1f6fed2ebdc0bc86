// The API's JSON forms of users and sessions (spec §2.0.1, §2.0.3).
//
// Rendering is split around the few members that change from request to request (a session's
// last_accessed_at, a user's is_locked), so caches can keep the rest pre-serialized and a hot
// authenticate only appends strings.
#ifndef TESSERA_SERVICE_VIEWS_H_
#define TESSERA_SERVICE_VIEWS_H_

#include <string>
#include <vector>

#include "tessera/store/store.h"

namespace tessera {

// Every user has the default role first, then its assigned roles.
std::vector<std::string> EffectiveRoles(const User& user);

struct RenderedSession {
  std::string before;  // `{"attributes":...,"expires_at":"...","last_accessed_at":"`
  std::string after;   // `","roles":[...],"session_id":...,"user_id":"..."}`
};
RenderedSession RenderSession(const SessionRecord& session, const std::vector<std::string>& roles);
void AppendSession(const RenderedSession& s, TimePoint last_accessed_at, std::string& out);

struct RenderedUser {
  std::string before;  // Members before "is_locked" (no opening brace).
  std::string after;   // Members after it, starting with a comma (no closing brace).
};
RenderedUser RenderUser(const User& user);
// The user's emails and phone numbers as JSON arrays (also top-level members of some responses).
void AppendEmails(const User& user, std::string& out);
void AppendPhones(const User& user, std::string& out);
// The user object.
void AppendUser(const RenderedUser& u, bool locked, std::string& out);
// The user's members without braces (users.get flattens them into the response).
void AppendUserMembers(const RenderedUser& u, bool locked, std::string& out);

// An authentication factor in API form (with created_at/updated_at).
boost::json::object PasswordFactor(TimePoint now);

}  // namespace tessera

#endif  // TESSERA_SERVICE_VIEWS_H_
