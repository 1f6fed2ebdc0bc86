// Passwords: create, authenticate, strength_check (spec §2.10).
#ifndef TESSERA_SERVICE_PASSWORD_SERVICE_H_
#define TESSERA_SERVICE_PASSWORD_SERVICE_H_

#include <optional>
#include <string>

#include "service/password_hasher.h"
#include "service/password_migration.h"
#include "service/password_strength.h"
#include "service/service_context.h"
#include "service/session_service.h"
#include "service/user_service.h"

namespace tessera {

struct PasswordCreateRequest {
  std::string email;
  std::string password;
  SessionOptions session;  // A session is created only when duration_minutes is set.
  UserFields user;         // name and metadata of the new user (email comes from above).
  SessionAttributes attributes;
};

struct PasswordAuthRequest {
  std::string email;
  std::string password;
  SessionOptions session;
  std::optional<std::string> session_token;  // Attach the factor to this session instead.
  std::optional<std::string> session_jwt;
  SessionAttributes attributes;
};

struct PasswordResult {
  std::shared_ptr<const CachedUser> user;
  std::string email_id;
  std::optional<SessionResult> session;  // Absent when no session was requested.
};

struct PasswordMigrateResult {
  std::shared_ptr<const CachedUser> user;
  std::string email_id;
  bool user_created = false;  // False: an existing password-less user got the password.
};

class PasswordService {
 public:
  // `hasher` must outlive the service.
  PasswordService(ServiceContext& ctx, const PasswordHasher& hasher, SessionService& sessions,
                  UserService& users)
      : ctx_(ctx), hasher_(hasher), sessions_(sessions), users_(users) {}

  // Creates a user with this email and password. kWeakPassword under the project's policy,
  // kDuplicateEmail, kInvalidEmail.
  Result<PasswordResult> Create(const ProjectContext& project, const PasswordCreateRequest& req,
                                TimePoint now);

  // Checks the password. Errors: kEmailNotFound (or, with enumeration protection,
  // kPasswordMismatch after the same work as a real account's: a read, the hash, a counted
  // failure, so an unknown address also locks), kNoUserPassword, kPasswordMismatch,
  // kUserLocked once lock_threshold failures fall within lock_window (counted atomically in the
  // store, every failure on every node; a correct password is refused once a lock is in force,
  // even if the lock landed while it was being checked), kResetPassword.
  Result<PasswordResult> Authenticate(const ProjectContext& project, const PasswordAuthRequest& req,
                                      TimePoint now);

  // passwords/migrate: a user with this email and a hash made elsewhere (PrepareMigratedUser),
  // created, or given to the existing user of that email if it has no password (then
  // user_created is false). The hash is verified as it is until the first successful
  // Authenticate, which replaces it with Tessera's Argon2id hash. Errors: those of
  // PrepareMigratedUser, kPasswordAlreadyExists, kDuplicatePhoneNumber, kDuplicateExternalId.
  // Hashes nothing, so it runs in microseconds plus the store's write.
  Result<PasswordMigrateResult> Migrate(const ProjectContext& project,
                                        const PasswordMigrateRequest& req, TimePoint now);

  StrengthResult StrengthCheck(const ProjectContext& project, std::string_view password,
                               std::string_view email) const;

 private:
  // `password` against a stored hash: Tessera's Argon2id string or a migrated one.
  Result<bool> VerifyStored(const std::string& stored, std::string_view password) const;
  // Counts a failed attempt of `user` and drops what the caches hold of it.
  Status RecordFailure(const ProjectContext& project, const User& user, TimePoint now);
  // The enumeration-protected answer for an email that names no user: the work a real account
  // costs (a read, the hash, a counted failure) and the answer it would get.
  Status UnknownEmail(const ProjectContext& project, std::string_view email,
                      std::string_view password, TimePoint now);

  ServiceContext& ctx_;
  const PasswordHasher& hasher_;
  SessionService& sessions_;
  UserService& users_;
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_PASSWORD_SERVICE_H_
