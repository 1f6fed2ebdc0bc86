// Users: create, get, update, delete, search (spec §2.9).
#ifndef TESSERA_SERVICE_USER_SERVICE_H_
#define TESSERA_SERVICE_USER_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "service/service_context.h"

namespace tessera {

// Metadata objects are limited like custom claims: serialized size and depth.
inline constexpr std::size_t kMaxMetadataBytes = 4096;

// Fields a caller may set on a user; unset fields are left alone on update.
struct UserFields {
  std::optional<std::string> email;
  std::optional<std::string> phone_number;
  std::optional<std::string> first_name, middle_name, last_name;
  std::optional<boost::json::object> trusted_metadata;
  std::optional<boost::json::object> untrusted_metadata;
  std::optional<std::string> external_id;
  std::optional<std::vector<std::string>> roles;
  bool create_as_pending = false;
};

// Syntax checks used by every entry point. kInvalidEmail / kInvalidPhoneNumber / kInvalidUserId.
Status ValidateEmail(std::string_view email);
Status ValidatePhoneNumber(std::string_view phone);
Status ValidateExternalId(std::string_view id);
// Every check users/create applies to `fields` (the syntax checks above, metadata size and depth,
// roles, name parts). kBadRequest for the size limits.
Status ValidateUserFields(const UserFields& fields);

class UserService {
 public:
  explicit UserService(ServiceContext& ctx) : ctx_(ctx) {}

  // A new user. Requires an email or a phone number (kBadRequest). Duplicates fail with
  // kDuplicateEmail / kDuplicatePhoneNumber / kDuplicateExternalId.
  // `password`, when given, is stored with the user in the same write.
  Result<std::shared_ptr<const CachedUser>> Create(const ProjectContext& project,
                                                   const UserFields& fields, TimePoint now,
                                                   std::optional<UserPassword> password = {});
  // A user by id or external id. kUserNotFound.
  Result<std::shared_ptr<const CachedUser>> Get(const ProjectContext& project,
                                                std::string_view user_id);
  // Applies name, metadata, external_id and roles. Retries internally on concurrent updates.
  Result<std::shared_ptr<const CachedUser>> Update(const ProjectContext& project,
                                                   std::string_view user_id,
                                                   const UserFields& fields, TimePoint now);
  // Deletes the user and revokes every session of it, on this node's caches too.
  Status Delete(const ProjectContext& project, std::string_view user_id, TimePoint now);
  // `cursor` is the opaque next_cursor of a previous page ("" for the first). kInvalidCursor.
  Result<UserPage> Search(const ProjectContext& project, const UserQuery& query,
                          std::string_view cursor, int limit);

  // Re-reads `user_id`, applies `mutate` and stores it, retrying on kStoreConflict; evicts the
  // caches. Shared with the password service.
  Result<std::shared_ptr<const CachedUser>> Modify(const ProjectContext& project,
                                                   std::string_view user_id, TimePoint now,
                                                   const std::function<Status(User&)>& mutate);

  static std::string EncodeCursor(const UserCursor& cursor);
  static Result<UserCursor> DecodeCursor(std::string_view cursor);

 private:
  ServiceContext& ctx_;
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_USER_SERVICE_H_
