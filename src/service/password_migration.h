// passwords/migrate (spec-next §4.1) as one service function that the HTTP route and
// `tessera users import` share, so both accept and refuse exactly the same requests.
//
// PrepareMigratedUser does everything that needs no store: it checks the request (email, hash,
// user fields) and builds the user the migration would create. PasswordService::Migrate then
// creates it, or gives an existing password-less user the password (ApplyMigrationToExistingUser);
// the import writes many prepared users in one transaction (UserStore::CreateUsers).
#ifndef TESSERA_SERVICE_PASSWORD_MIGRATION_H_
#define TESSERA_SERVICE_PASSWORD_MIGRATION_H_

#include <string>

#include "service/migrated_hash.h"
#include "service/user_service.h"
#include "tessera/random.h"
#include "tessera/store/project_store.h"
#include "tessera/store/user_store.h"

namespace tessera {

struct PasswordMigrateRequest {
  std::string email;
  MigratedHashInput hash;
  // name, trusted_metadata, untrusted_metadata, external_id, roles, phone_number. The email comes
  // from `email` above; create_user_as_pending does not apply.
  UserFields user;
  bool set_email_verified = false;
  bool set_phone_number_verified = false;
};

// Checks `req` as passwords/migrate does (kInvalidEmail, the hash's codes from
// PrepareMigratedHash, the user fields' codes as for users/create) and returns the user it
// creates when no user has the email: active, with fresh ids, the email (verified when
// set_email_verified), the phone number if any, and the migrated password. Touches no store.
Result<User> PrepareMigratedUser(const Project& project, const PasswordMigrateRequest& req,
                                 RandomSource& random, TimePoint now);

// Gives `existing` (the user who has the request's email) the password of `prepared` (from
// PrepareMigratedUser for `req`) and the request's name, metadata and roles when given; adds the
// phone number unless the user has it; marks the email verified when asked. external_id applies
// only to a new user and is ignored here. kPasswordAlreadyExists when `existing` has a password.
Status ApplyMigrationToExistingUser(const User& prepared, const PasswordMigrateRequest& req,
                                    User& existing);

}  // namespace tessera

#endif  // TESSERA_SERVICE_PASSWORD_MIGRATION_H_
