#include "service/user_service.h"

#include <functional>

#include "common/base64.h"
#include "common/json.h"
#include "common/text.h"
#include "service/ids.h"

namespace tessera {
namespace {

constexpr int kUpdateAttempts = 5;

Status ValidateMetadata(const boost::json::object& o, std::string_view name) {
  if (JsonDepth(o) > 8 || boost::json::serialize(o).size() > kMaxMetadataBytes) {
    return Error(ErrorCode::kBadRequest,
                 std::string(name) + " must be at most 4096 bytes and 8 levels deep.");
  }
  return Status::Ok();
}

Status ValidateRoles(const std::vector<std::string>& roles) {
  if (roles.size() > 64) return Error(ErrorCode::kBadRequest, "roles: at most 64 roles.");
  for (const auto& r : roles) {
    if (r.empty() || r.size() > 128) {
      return Error(ErrorCode::kBadRequest, "roles: each role is 1 to 128 characters.");
    }
  }
  return Status::Ok();
}

Status ValidateName(const std::optional<std::string>& part) {
  if (part && part->size() > 256) {
    return Error(ErrorCode::kBadRequest, "name parts are at most 256 characters.");
  }
  if (part && !IsStorableText(*part)) {
    return Error(ErrorCode::kBadRequest, "name parts must not contain NUL characters.");
  }
  return Status::Ok();
}

Status ValidateFields(const UserFields& f) {
  if (f.email) TESSERA_RETURN_IF_ERROR(ValidateEmail(*f.email));
  if (f.phone_number) TESSERA_RETURN_IF_ERROR(ValidatePhoneNumber(*f.phone_number));
  if (f.external_id) TESSERA_RETURN_IF_ERROR(ValidateExternalId(*f.external_id));
  if (f.trusted_metadata)
    TESSERA_RETURN_IF_ERROR(ValidateMetadata(*f.trusted_metadata, "trusted_metadata"));
  if (f.untrusted_metadata) {
    TESSERA_RETURN_IF_ERROR(ValidateMetadata(*f.untrusted_metadata, "untrusted_metadata"));
  }
  if (f.roles) TESSERA_RETURN_IF_ERROR(ValidateRoles(*f.roles));
  TESSERA_RETURN_IF_ERROR(ValidateName(f.first_name));
  TESSERA_RETURN_IF_ERROR(ValidateName(f.middle_name));
  TESSERA_RETURN_IF_ERROR(ValidateName(f.last_name));
  return Status::Ok();
}

void ApplyMutable(const UserFields& f, User& u) {
  if (f.first_name) u.first_name = *f.first_name;
  if (f.middle_name) u.middle_name = *f.middle_name;
  if (f.last_name) u.last_name = *f.last_name;
  if (f.trusted_metadata) u.trusted_metadata = *f.trusted_metadata;
  if (f.untrusted_metadata) u.untrusted_metadata = *f.untrusted_metadata;
  if (f.external_id) u.external_id = *f.external_id;
  if (f.roles) u.roles = *f.roles;
}

}  // namespace

Status ValidateEmail(std::string_view email) {
  // Deliberately simple: one '@', a non-empty local part, a dotted domain, no spaces or controls.
  const auto bad = [] { return Error(ErrorCode::kInvalidEmail, "Email format is invalid."); };
  if (email.empty() || email.size() > 254) return bad();
  const std::size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos ||
      email.find('@', at + 1) != std::string_view::npos) {
    return bad();
  }
  const std::string_view domain = email.substr(at + 1);
  const std::size_t dot = domain.rfind('.');
  if (domain.empty() || dot == 0 || dot == std::string_view::npos || dot + 1 == domain.size() ||
      domain.find("..") != std::string_view::npos) {
    return bad();
  }
  for (const unsigned char c : email) {
    if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '\\') {
      return bad();
    }
  }
  return Status::Ok();
}

Status ValidatePhoneNumber(std::string_view phone) {
  // E.164: '+', a non-zero digit, up to 15 digits in all.
  if (phone.size() < 3 || phone.size() > 16 || phone[0] != '+' || phone[1] < '1' ||
      phone[1] > '9') {
    return Error(ErrorCode::kInvalidPhoneNumber, "Phone number format is invalid.");
  }
  for (std::size_t i = 1; i < phone.size(); ++i) {
    if (phone[i] < '0' || phone[i] > '9') {
      return Error(ErrorCode::kInvalidPhoneNumber, "Phone number format is invalid.");
    }
  }
  return Status::Ok();
}

Status ValidateExternalId(std::string_view id) {
  if (id.empty() || id.size() > 128) {
    return Error(ErrorCode::kInvalidUserId, "external_id must be 1 to 128 characters.");
  }
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '|' || c == '-';
    if (!ok) {
      return Error(ErrorCode::kInvalidUserId,
                   "external_id may contain only letters, digits and . _ | -");
    }
  }
  return Status::Ok();
}

Status ValidateUserFields(const UserFields& fields) { return ValidateFields(fields); }

Result<std::shared_ptr<const CachedUser>> UserService::Create(
    const ProjectContext& project, const UserFields& f, TimePoint now,
    std::optional<UserPassword> password) {
  TESSERA_RETURN_IF_ERROR(ValidateFields(f));
  if (!f.email && !f.phone_number) {
    return Error(ErrorCode::kBadRequest, "Either email or phone_number is required.");
  }
  now = std::chrono::floor<Seconds>(now);
  const bool live = project.project.live;
  User u;
  u.project_id = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(u.user_id, NewId("user", live, ctx_.random));
  u.status = f.create_as_pending ? "pending" : "active";
  if (f.email) {
    TESSERA_ASSIGN_OR_RETURN(std::string id, NewId("email", live, ctx_.random));
    u.emails.push_back({std::move(id), *f.email, false});
  }
  if (f.phone_number) {
    TESSERA_ASSIGN_OR_RETURN(std::string id, NewId("phone-number", live, ctx_.random));
    u.phone_numbers.push_back({std::move(id), *f.phone_number, false});
  }
  ApplyMutable(f, u);
  u.password = std::move(password);
  u.created_at = now;
  u.updated_at = now;
  TESSERA_RETURN_IF_ERROR(ctx_.store.CreateUser(u));
  auto entry = MakeCachedUser(std::move(u));
  ctx_.users.Insert(entry, ctx_.users.epoch());
  return entry;
}

Result<std::shared_ptr<const CachedUser>> UserService::Get(const ProjectContext& project,
                                                           std::string_view user_id) {
  return LoadUser(ctx_, project.project.project_id, user_id);
}

Result<std::shared_ptr<const CachedUser>> UserService::Modify(
    const ProjectContext& project, std::string_view user_id, TimePoint now,
    const std::function<Status(User&)>& mutate) {
  const std::string& pid = project.project.project_id;
  // As in LoadUser: an id no store can hold names no user, and must not reach a store that would
  // alter it (PostgreSQL refuses invalid UTF-8 and truncates at NUL).
  if (!IsStorableText(user_id)) return Error(ErrorCode::kUserNotFound, "User could not be found.");
  for (int attempt = 0;; ++attempt) {
    TESSERA_ASSIGN_OR_RETURN(std::optional<User> user, ctx_.store.GetUser(pid, user_id));
    if (!user) return Error(ErrorCode::kUserNotFound, "User could not be found.");
    TESSERA_RETURN_IF_ERROR(mutate(*user));
    user->updated_at = std::chrono::floor<Seconds>(now);
    const Status s = ctx_.store.UpdateUser(*user);
    if (s.code() == ErrorCode::kStoreConflict && attempt + 1 < kUpdateAttempts) continue;
    TESSERA_RETURN_IF_ERROR(s);
    ++user->version;
    // Sessions render the user's roles and the user object: drop them with the user.
    ctx_.users.Evict(pid, user->user_id);
    ctx_.sessions.EvictUser(pid, user->user_id);
    return MakeCachedUser(std::move(*user));
  }
}

Result<std::shared_ptr<const CachedUser>> UserService::Update(const ProjectContext& project,
                                                              std::string_view user_id,
                                                              const UserFields& f, TimePoint now) {
  TESSERA_RETURN_IF_ERROR(ValidateFields(f));
  return Modify(project, user_id, now, [&](User& u) {
    ApplyMutable(f, u);
    return Status::Ok();
  });
}

Status UserService::Delete(const ProjectContext& project, std::string_view user_id, TimePoint now) {
  const std::string& pid = project.project.project_id;
  TESSERA_ASSIGN_OR_RETURN(auto user, LoadUser(ctx_, pid, user_id));
  TESSERA_ASSIGN_OR_RETURN(std::vector<std::string> revoked,
                           ctx_.store.DeleteUser(pid, user->user.user_id, now));
  // The user first: a login that reads it from the cache after this point misses and finds no
  // user; one that read it before has an older session-cache epoch, so what it creates is
  // neither cached (the epoch moved) nor stored (the store refuses a session of a missing user).
  ctx_.users.Evict(pid, user->user.user_id);
  ctx_.sessions.EvictUser(pid, user->user.user_id);
  for (const auto& sid : revoked) ctx_.sessions.EvictSession(pid, sid);
  if (ctx_.on_revocation) ctx_.on_revocation(pid);
  return Status::Ok();
}

std::string UserService::EncodeCursor(const UserCursor& c) {
  return Base64UrlEncode(std::to_string(ToUnixSeconds(c.created_at)) + ":" + c.user_id);
}

Result<UserCursor> UserService::DecodeCursor(std::string_view cursor) {
  const auto bad = [] { return Error(ErrorCode::kInvalidCursor, "The cursor is not valid."); };
  auto text = Base64UrlDecode(cursor);
  if (!text.ok()) return bad();
  const std::size_t colon = text->find(':');
  if (colon == std::string::npos || colon == 0 || colon > 12) return bad();
  std::int64_t seconds = 0;
  for (std::size_t i = 0; i < colon; ++i) {
    const char c = (*text)[i];
    if (c < '0' || c > '9') return bad();
    seconds = seconds * 10 + (c - '0');
  }
  UserCursor out{FromUnixSeconds(seconds), text->substr(colon + 1)};
  if (out.user_id.empty() || out.user_id.size() > 128 || !IsStorableText(out.user_id)) return bad();
  return out;
}

Result<UserPage> UserService::Search(const ProjectContext& project, const UserQuery& query,
                                     std::string_view cursor, int limit) {
  std::optional<UserCursor> after;
  if (!cursor.empty()) {
    TESSERA_ASSIGN_OR_RETURN(UserCursor c, DecodeCursor(cursor));
    after = std::move(c);
  }
  return ctx_.store.SearchUsers(project.project.project_id, query, after, limit);
}

}  // namespace tessera
