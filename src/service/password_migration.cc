#include "service/password_migration.h"
// ^ This file's own header: first, so it must compile alone.

#include "service/ids.h"
#include "store/records_json.h"

namespace tessera {

Result<User> PrepareMigratedUser(const Project& project, const PasswordMigrateRequest& req,
                                 RandomSource& random, TimePoint now) {
  TESSERA_RETURN_IF_ERROR(ValidateEmail(req.email));
  // The hash before the other fields: it is what a migration is about, and what a caller
  // assembling requests from an export most often gets wrong.
  TESSERA_ASSIGN_OR_RETURN(std::string hash, PrepareMigratedHash(req.hash));
  UserFields fields = req.user;
  fields.email = req.email;
  fields.create_as_pending = false;
  TESSERA_RETURN_IF_ERROR(ValidateUserFields(fields));

  now = std::chrono::floor<Seconds>(now);
  const bool live = project.live;
  User u;
  u.project_id = project.project_id;
  TESSERA_ASSIGN_OR_RETURN(u.user_id, NewId("user", live, random));
  u.status = "active";
  TESSERA_ASSIGN_OR_RETURN(std::string email_id, NewId("email", live, random));
  u.emails.push_back({std::move(email_id), req.email, req.set_email_verified});
  if (fields.phone_number) {
    TESSERA_ASSIGN_OR_RETURN(std::string phone_id, NewId("phone-number", live, random));
    u.phone_numbers.push_back(
        {std::move(phone_id), *fields.phone_number, req.set_phone_number_verified});
  }
  if (fields.first_name) u.first_name = *fields.first_name;
  if (fields.middle_name) u.middle_name = *fields.middle_name;
  if (fields.last_name) u.last_name = *fields.last_name;
  if (fields.trusted_metadata) u.trusted_metadata = *fields.trusted_metadata;
  if (fields.untrusted_metadata) u.untrusted_metadata = *fields.untrusted_metadata;
  if (fields.external_id) u.external_id = *fields.external_id;
  if (fields.roles) u.roles = *fields.roles;
  TESSERA_ASSIGN_OR_RETURN(std::string password_id, NewId("password", live, random));
  u.password = UserPassword{std::move(password_id), std::move(hash), false, now};
  u.created_at = now;
  u.updated_at = now;
  return u;
}

Status ApplyMigrationToExistingUser(const User& prepared, const PasswordMigrateRequest& req,
                                    User& existing) {
  if (existing.password) {
    return Error(ErrorCode::kPasswordAlreadyExists, "This user already has a password.");
  }
  existing.password = prepared.password;
  const UserFields& f = req.user;
  if (f.first_name) existing.first_name = *f.first_name;
  if (f.middle_name) existing.middle_name = *f.middle_name;
  if (f.last_name) existing.last_name = *f.last_name;
  if (f.trusted_metadata) existing.trusted_metadata = *f.trusted_metadata;
  if (f.untrusted_metadata) existing.untrusted_metadata = *f.untrusted_metadata;
  if (f.roles) existing.roles = *f.roles;
  if (req.set_email_verified) {
    for (UserEmail& e : existing.emails) {
      if (NormalizeEmail(e.email) == NormalizeEmail(req.email)) e.verified = true;
    }
  }
  if (!prepared.phone_numbers.empty()) {
    const UserPhone& phone = prepared.phone_numbers.front();
    bool present = false;
    for (UserPhone& p : existing.phone_numbers) {
      if (p.phone_number == phone.phone_number) {
        present = true;
        if (req.set_phone_number_verified) p.verified = true;
      }
    }
    if (!present) existing.phone_numbers.push_back(phone);
  }
  return Status::Ok();
}

}  // namespace tessera
