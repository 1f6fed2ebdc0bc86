// The user family of the store: users with their emails, phone numbers and password, and the
// paged user search.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h):
// thread-safe, durable when OK, atomic, per-project scope, second-precision time,
// kStoreUnavailable / kStoreCorrupt besides the codes listed here.
#ifndef TESSERA_STORE_USER_STORE_H_
#define TESSERA_STORE_USER_STORE_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

// --- Records ----------------------------------------------------------------------------------

struct UserEmail {
  std::string email_id;  // "email-test-<uuid>"
  std::string email;     // As given; uniqueness is case-insensitive.
  bool verified = false;
};

struct UserPhone {
  std::string phone_id;  // "phone-number-test-<uuid>"
  std::string phone_number;
  bool verified = false;
};

struct UserPassword {
  std::string password_id;  // "password-test-<uuid>"
  std::string hash;         // libsodium Argon2id string ($argon2id$v=19$m=...,t=...,p=1$...).
  bool requires_reset = false;
  TimePoint created_at;
};

struct User {
  std::string project_id;
  std::string user_id;  // "user-test-<uuid>"
  std::optional<std::string> external_id;
  std::string status = "active";  // "active" or "pending"
  std::string first_name, middle_name, last_name;
  std::vector<UserEmail> emails;
  std::vector<UserPhone> phone_numbers;
  boost::json::object trusted_metadata;
  boost::json::object untrusted_metadata;
  std::vector<std::string> roles;  // Assigned roles; "stytch_user" is implied, not stored.
  std::optional<UserPassword> password;
  int failed_password_attempts = 0;
  std::optional<TimePoint> first_failed_at;  // Start of the current failure window.
  std::optional<TimePoint> locked_until;
  TimePoint created_at;
  TimePoint updated_at;
  std::int64_t version = 0;  // Incremented by every update; see UpdateUser.
};

// --- User search ------------------------------------------------------------------------------

struct UserFilter {
  enum class Kind {
    kEmailAddress,          // strings: any of these emails (case-insensitive)
    kEmailId,               // strings
    kUserId,                // strings: user ids or external ids
    kPhoneNumber,           // strings
    kStatus,                // strings[0]: "active" | "pending"
    kCreatedAtGreaterThan,  // time_a
    kCreatedAtLessThan,     // time_a
    kCreatedAtBetween,      // time_a < created_at < time_b
    kPasswordExists,        // flag
  };
  Kind kind;
  std::vector<std::string> strings;
  TimePoint time_a, time_b;
  bool flag = false;
};

struct UserQuery {
  bool match_any = false;  // false: every filter must match (AND); true: any (OR).
  std::vector<UserFilter> filters;
};

// Position after which a page starts: users are ordered by (created_at, user_id).
struct UserCursor {
  TimePoint created_at;
  std::string user_id;
};

struct UserPage {
  std::vector<User> users;
  std::int64_t total = 0;          // Users matching the query, across all pages.
  std::optional<UserCursor> next;  // Set when more users follow.
};

// --- The interface ----------------------------------------------------------------------------

class UserStore {
 public:
  virtual ~UserStore() = default;

  // kDuplicateEmail / kDuplicatePhoneNumber / kDuplicateExternalId on a uniqueness clash.
  virtual Status CreateUser(const User& user) = 0;
  // Creates each of `users` as CreateUser would, in one transaction and so one durable commit
  // (bulk import: thousands of users a second where one commit each would allow hundreds).
  // Returns one Status per user, in order: OK, or what CreateUser would have answered for that
  // user alone given the users before it in the batch (a clash with the store or with an earlier
  // user of the batch). A refused user changes nothing and does not stop the others. The call
  // itself fails, and then nothing is written, only when the store does (kStoreUnavailable,
  // kStoreCorrupt).
  virtual Result<std::vector<Status>> CreateUsers(const std::vector<User>& users) = 0;
  // By user id, or by external id when no user has that id.
  virtual Result<std::optional<User>> GetUser(std::string_view project_id,
                                              std::string_view user_id) = 0;
  virtual Result<std::optional<User>> GetUserByEmail(std::string_view project_id,
                                                     std::string_view email) = 0;
  // Replaces the user if its stored version equals `user.version`, storing version + 1.
  // kStoreConflict when another update came first (re-read and retry); kUserNotFound; duplicates
  // as for CreateUser.
  virtual Status UpdateUser(const User& user) = 0;
  // Deletes the user and all of its sessions, and appends one `user` entry at `now` to the
  // project's revocation log (tessera/store/revocation_store.h). Returns the deleted sessions'
  // ids. kUserNotFound.
  virtual Result<std::vector<std::string>> DeleteUser(std::string_view project_id,
                                                      std::string_view user_id, TimePoint now) = 0;
  // REQUIRES: 1 <= limit <= 1000.
  virtual Result<UserPage> SearchUsers(std::string_view project_id, const UserQuery& query,
                                       const std::optional<UserCursor>& after, int limit) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_USER_STORE_H_
