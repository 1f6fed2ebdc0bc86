// The user family on PostgreSQL: users, their emails and phone numbers (child tables rewritten with
// the user), and the paged search.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <boost/json/serialize.hpp>
#include <string>
#include <utility>

#include "store/records_json.h"

namespace tessera {
namespace {

using pg::Connection;
using pg::Param;
using pg::Rows;

// Unique violations carry the constraint name ("unique:<name>", see pg::ErrorFrom).
Status MapUnique(Status s) {
  if (s.code() != ErrorCode::kStoreConflict) return s;
  if (s.message() == "unique:user_emails_unique") {
    return Error(ErrorCode::kDuplicateEmail, "A user with this email already exists.");
  }
  if (s.message() == "unique:user_phones_unique") {
    return Error(ErrorCode::kDuplicatePhoneNumber, "A user with this phone number already exists.");
  }
  if (s.message() == "unique:users_by_external_id") {
    return Error(ErrorCode::kDuplicateExternalId, "A user with this external_id already exists.");
  }
  return s;
}

// $1..$17: project_id .. locked_until, as in the INSERT and UPDATE statements.
std::vector<Param> UserParams(const User& u) {
  std::vector<Param> p{pg::Text(u.project_id),
                       pg::Text(u.user_id),
                       u.external_id ? pg::Text(*u.external_id) : std::nullopt,
                       pg::Text(u.status),
                       pg::Text(u.first_name),
                       pg::Text(u.middle_name),
                       pg::Text(u.last_name),
                       pg::Text(boost::json::serialize(u.trusted_metadata)),
                       pg::Text(boost::json::serialize(u.untrusted_metadata)),
                       pg::Text(RolesToJson(u.roles))};
  if (u.password) {
    p.push_back(pg::Text(u.password->password_id));
    p.push_back(pg::Text(u.password->hash));
    p.push_back(pg::Bool(u.password->requires_reset));
    p.push_back(pg::Time(u.password->created_at));
  } else {
    p.push_back(std::nullopt);
    p.push_back(std::nullopt);
    p.push_back(pg::Bool(false));
    p.push_back(std::nullopt);
  }
  p.push_back(pg::Int(u.failed_password_attempts));
  p.push_back(pg::OptTime(u.first_failed_at));
  p.push_back(pg::OptTime(u.locked_until));
  return p;
}

// An external id must not equal another user's id either (lookups accept both).
Status CheckExternalId(Connection& c, const User& u) {
  if (!u.external_id) return Status::Ok();
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("external_id_clash",
                     "SELECT 1 FROM users WHERE project_id = $1 AND "
                     "user_id = $2 AND user_id <> $3",
                     {pg::Text(u.project_id), pg::Text(*u.external_id), pg::Text(u.user_id)}));
  if (r.size() > 0) {
    return Error(ErrorCode::kDuplicateExternalId, "A user with this external_id already exists.");
  }
  return Status::Ok();
}

Status WriteUserChildren(Connection& c, const User& u) {
  for (std::size_t i = 0; i < u.emails.size(); ++i) {
    const auto& e = u.emails[i];
    TESSERA_RETURN_IF_ERROR(
        c.Exec("insert_email",
               "INSERT INTO user_emails(project_id, email_id, user_id, email, "
               "email_normalized, verified, position) VALUES ($1, $2, $3, $4, "
               "$5, $6, $7)",
               {pg::Text(u.project_id), pg::Text(e.email_id), pg::Text(u.user_id),
                pg::Text(e.email), pg::Text(NormalizeEmail(e.email)), pg::Bool(e.verified),
                pg::Int(static_cast<std::int64_t>(i))}));
  }
  for (std::size_t i = 0; i < u.phone_numbers.size(); ++i) {
    const auto& p = u.phone_numbers[i];
    TESSERA_RETURN_IF_ERROR(c.Exec(
        "insert_phone",
        "INSERT INTO user_phones(project_id, phone_id, user_id, "
        "phone_number, verified, position) VALUES ($1, $2, $3, $4, $5, "
        "$6)",
        {pg::Text(u.project_id), pg::Text(p.phone_id), pg::Text(u.user_id),
         pg::Text(p.phone_number), pg::Bool(p.verified), pg::Int(static_cast<std::int64_t>(i))}));
  }
  return Status::Ok();
}

// The insert of CreateUser, inside the caller's transaction; unique violations come back as
// kStoreConflict "unique:<constraint>" (MapUnique names them).
Status InsertUser(Connection& c, const User& u) {
  TESSERA_RETURN_IF_ERROR(CheckExternalId(c, u));
  std::vector<Param> params = UserParams(u);
  params.push_back(pg::Time(u.created_at));
  params.push_back(pg::Time(u.updated_at));
  TESSERA_RETURN_IF_ERROR(
      c.Exec("create_user",
             "INSERT INTO users(project_id, user_id, external_id, status, first_name, middle_name, "
             "last_name, trusted_metadata, untrusted_metadata, roles, password_id, password_hash, "
             "password_requires_reset, password_created_at, failed_attempts, first_failed_at, "
             "locked_until, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, "
             "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, 0)",
             params));
  return WriteUserChildren(c, u);
}

Result<std::optional<User>> LoadUser(Connection& c, std::string_view project_id,
                                     std::string_view user_id) {
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("load_user",
                     "SELECT user_id, external_id, status, first_name, middle_name, last_name, "
                     "trusted_metadata, untrusted_metadata, roles, password_id, password_hash, "
                     "password_requires_reset, password_created_at, failed_attempts, "
                     "first_failed_at, locked_until, created_at, updated_at, version FROM users "
                     "WHERE project_id = $1 AND (user_id = $2 OR external_id = $2) "
                     "ORDER BY (user_id = $2) DESC LIMIT 1",
                     {pg::Text(project_id), pg::Text(user_id)}));
  if (r.size() == 0) return std::optional<User>();
  User u;
  u.project_id = std::string(project_id);
  u.user_id = r.Text(0, 0);
  u.external_id = r.OptText(0, 1);
  u.status = r.Text(0, 2);
  u.first_name = r.Text(0, 3);
  u.middle_name = r.Text(0, 4);
  u.last_name = r.Text(0, 5);
  TESSERA_ASSIGN_OR_RETURN(u.trusted_metadata, StoredObject(r.Text(0, 6)));
  TESSERA_ASSIGN_OR_RETURN(u.untrusted_metadata, StoredObject(r.Text(0, 7)));
  TESSERA_ASSIGN_OR_RETURN(u.roles, RolesFromJson(r.Text(0, 8)));
  if (!r.IsNull(0, 10)) {
    u.password = UserPassword{std::string(r.Text(0, 9)), std::string(r.Text(0, 10)), r.Bool(0, 11),
                              r.Time(0, 12)};
  }
  u.failed_password_attempts = static_cast<int>(r.Int(0, 13));
  u.first_failed_at = r.OptTime(0, 14);
  u.locked_until = r.OptTime(0, 15);
  u.created_at = r.Time(0, 16);
  u.updated_at = r.Time(0, 17);
  u.version = r.Int(0, 18);
  TESSERA_ASSIGN_OR_RETURN(Rows emails, c.Exec("load_emails",
                                               "SELECT email_id, email, verified FROM "
                                               "user_emails WHERE project_id = $1 AND user_id = "
                                               "$2 ORDER BY position",
                                               {pg::Text(project_id), pg::Text(u.user_id)}));
  for (int i = 0; i < emails.size(); ++i) {
    u.emails.push_back(
        {std::string(emails.Text(i, 0)), std::string(emails.Text(i, 1)), emails.Bool(i, 2)});
  }
  TESSERA_ASSIGN_OR_RETURN(Rows phones, c.Exec("load_phones",
                                               "SELECT phone_id, phone_number, verified FROM "
                                               "user_phones WHERE project_id = $1 AND user_id = "
                                               "$2 ORDER BY position",
                                               {pg::Text(project_id), pg::Text(u.user_id)}));
  for (int i = 0; i < phones.size(); ++i) {
    u.phone_numbers.push_back(
        {std::string(phones.Text(i, 0)), std::string(phones.Text(i, 1)), phones.Bool(i, 2)});
  }
  return std::optional<User>(std::move(u));
}

}  // namespace

Status PostgresStore::CreateUser(const User& u) {
  return MapUnique(Write([&](Connection& c) -> Status { return InsertUser(c, u); }));
}

Result<std::vector<Status>> PostgresStore::CreateUsers(const std::vector<User>& users) {
  return Write([&](Connection& c) -> Result<std::vector<Status>> {
    std::vector<Status> out;
    out.reserve(users.size());
    for (const User& u : users) {
      // A savepoint per user: a unique violation aborts only what followed it.
      TESSERA_RETURN_IF_ERROR(c.Simple("SAVEPOINT create_user"));
      Status s = MapUnique(InsertUser(c, u));
      if (!s.ok()) {
        TESSERA_RETURN_IF_ERROR(c.Simple("ROLLBACK TO SAVEPOINT create_user"));
        // Only the user's own refusals are per user; a failing database fails the batch.
        if (s.category() != ErrorCategory::kAlreadyExists) return s;
      }
      TESSERA_RETURN_IF_ERROR(c.Simple("RELEASE SAVEPOINT create_user"));
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<std::optional<User>> PostgresStore::GetUser(std::string_view project_id,
                                                   std::string_view user_id) {
  return Read([&](Connection& c) { return LoadUser(c, project_id, user_id); });
}

Result<std::optional<User>> PostgresStore::GetUserByEmail(std::string_view project_id,
                                                          std::string_view email) {
  return Read([&](Connection& c) -> Result<std::optional<User>> {
    TESSERA_ASSIGN_OR_RETURN(Rows r,
                             c.Exec("user_by_email",
                                    "SELECT user_id FROM user_emails WHERE project_id = "
                                    "$1 AND email_normalized = $2",
                                    {pg::Text(project_id), pg::Text(NormalizeEmail(email))}));
    if (r.size() == 0) return std::optional<User>();
    return LoadUser(c, project_id, std::string(r.Text(0, 0)));
  });
}

Status PostgresStore::UpdateUser(const User& u) {
  return MapUnique(Write([&](Connection& c) -> Status {
    TESSERA_RETURN_IF_ERROR(CheckExternalId(c, u));
    std::vector<Param> params = UserParams(u);
    params.push_back(pg::Time(u.updated_at));
    params.push_back(pg::Int(u.version));
    TESSERA_ASSIGN_OR_RETURN(
        Rows r,
        c.Exec("update_user",
               "UPDATE users SET external_id = $3, status = $4, first_name = $5, middle_name = "
               "$6, last_name = $7, trusted_metadata = $8, untrusted_metadata = $9, roles = $10, "
               "password_id = $11, password_hash = $12, password_requires_reset = $13, "
               "password_created_at = $14, failed_attempts = $15, first_failed_at = $16, "
               "locked_until = $17, updated_at = $18, version = version + 1 WHERE project_id = "
               "$1 AND user_id = $2 AND version = $19 RETURNING version",
               params));
    if (r.size() == 0) {
      TESSERA_ASSIGN_OR_RETURN(
          Rows exists,
          c.Exec("user_exists", "SELECT 1 FROM users WHERE project_id = $1 AND user_id = $2",
                 {pg::Text(u.project_id), pg::Text(u.user_id)}));
      if (exists.size() == 0) return Error(ErrorCode::kUserNotFound, "User could not be found.");
      return Error(ErrorCode::kStoreConflict, "the user was changed concurrently");
    }
    for (const char* name : {"delete_emails", "delete_phones"}) {
      const bool emails = std::string_view(name) == "delete_emails";
      TESSERA_RETURN_IF_ERROR(
          c.Exec(name,
                 emails ? "DELETE FROM user_emails WHERE project_id = $1 AND user_id = $2"
                        : "DELETE FROM user_phones WHERE project_id = $1 AND user_id = $2",
                 {pg::Text(u.project_id), pg::Text(u.user_id)}));
    }
    TESSERA_RETURN_IF_ERROR(WriteUserChildren(c, u));
    return Notify(c, "u|" + u.project_id + "|" + u.user_id);
  }));
}

Result<std::vector<std::string>> PostgresStore::DeleteUser(std::string_view project_id,
                                                           std::string_view user_id,
                                                           TimePoint now) {
  return Write([&](Connection& c) -> Result<std::vector<std::string>> {
    TESSERA_ASSIGN_OR_RETURN(std::optional<User> user, LoadUser(c, project_id, user_id));
    if (!user) return Error(ErrorCode::kUserNotFound, "User could not be found.");
    // The user row first: it waits for any session insert holding the row (CreateSession's FOR
    // KEY SHARE), and the sessions statement after it sees that session committed, so none is
    // left behind.
    TESSERA_RETURN_IF_ERROR(c.Exec("delete_user",
                                   "DELETE FROM users WHERE project_id = $1 AND user_id = $2",
                                   {pg::Text(project_id), pg::Text(user->user_id)}));
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("delete_user_sessions",
                       "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 RETURNING "
                       "session_id",
                       {pg::Text(project_id), pg::Text(user->user_id)}));
    std::vector<std::string> sessions;
    for (int i = 0; i < r.size(); ++i) sessions.emplace_back(r.Text(i, 0));
    // One entry for the user, however many sessions it had: its JWTs are refused by subject.
    TESSERA_RETURN_IF_ERROR(
        AppendRevocation(c, RevocationEntry{std::string(project_id), 0,
                                            RevocationEntry::Kind::kUser, "", user->user_id, now}));
    TESSERA_RETURN_IF_ERROR(Notify(c, "u|" + std::string(project_id) + "|" + user->user_id));
    return sessions;
  });
}

Result<UserPage> PostgresStore::SearchUsers(std::string_view project_id, const UserQuery& query,
                                            const std::optional<UserCursor>& after, int limit) {
  if (limit < 1 || limit > 1000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
  std::vector<Param> params{pg::Text(project_id)};
  // The reference is appended to "$" rather than built as `"$" + std::to_string(...)`: once that
  // operator+ is inlined here, GCC 12 at -O3 reports a false -Wrestrict (GCC bug 105329).
  const auto placeholder = [&](Param p) {
    params.push_back(std::move(p));
    std::string ref = "$";
    ref += std::to_string(params.size());
    return ref;
  };
  const auto list = [&](const std::vector<std::string>& values, bool normalize) {
    std::string s;
    for (const auto& v : values) {
      if (!s.empty()) s += ", ";
      s += placeholder(pg::Text(normalize ? NormalizeEmail(v) : v));
    }
    return s;
  };
  std::string where;
  for (const auto& f : query.filters) {
    std::string clause;
    switch (f.kind) {
      case UserFilter::Kind::kEmailAddress:
        clause =
            "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
            "e.user_id = u.user_id AND e.email_normalized IN (" +
            list(f.strings, true) + "))";
        break;
      case UserFilter::Kind::kEmailId:
        clause =
            "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
            "e.user_id = u.user_id AND e.email_id IN (" +
            list(f.strings, false) + "))";
        break;
      case UserFilter::Kind::kPhoneNumber:
        clause =
            "EXISTS (SELECT 1 FROM user_phones p WHERE p.project_id = u.project_id AND "
            "p.user_id = u.user_id AND p.phone_number IN (" +
            list(f.strings, false) + "))";
        break;
      case UserFilter::Kind::kUserId: {
        const std::string ids = list(f.strings, false);
        clause = "(u.user_id IN (" + ids + ") OR u.external_id IN (" + ids + "))";
        break;
      }
      case UserFilter::Kind::kStatus:
        clause = "u.status = " + placeholder(pg::Text(f.strings.empty() ? "" : f.strings[0]));
        break;
      case UserFilter::Kind::kCreatedAtGreaterThan:
        clause = "u.created_at > " + placeholder(pg::Time(f.time_a));
        break;
      case UserFilter::Kind::kCreatedAtLessThan:
        clause = "u.created_at < " + placeholder(pg::Time(f.time_a));
        break;
      case UserFilter::Kind::kCreatedAtBetween:
        clause = "(u.created_at > " + placeholder(pg::Time(f.time_a)) + " AND u.created_at < " +
                 placeholder(pg::Time(f.time_b)) + ")";
        break;
      case UserFilter::Kind::kPasswordExists:
        clause = f.flag ? "u.password_hash IS NOT NULL" : "u.password_hash IS NULL";
        break;
    }
    if (!where.empty()) where += query.match_any ? " OR " : " AND ";
    where += clause;
  }
  const std::string base = "FROM users u WHERE u.project_id = $1" +
                           (where.empty() ? std::string() : " AND (" + where + ")");
  return Read([&](Connection& c) -> Result<UserPage> {
    UserPage page;
    TESSERA_ASSIGN_OR_RETURN(Rows count, c.ExecDynamic("SELECT COUNT(*) " + base, params));
    page.total = count.Int(0, 0);
    std::vector<Param> page_params = params;
    std::string sql = "SELECT u.user_id " + base;
    if (after) {
      page_params.push_back(pg::Time(after->created_at));
      const std::string t = "$" + std::to_string(page_params.size());
      page_params.push_back(pg::Text(after->user_id));
      const std::string id = "$" + std::to_string(page_params.size());
      sql += " AND (u.created_at, u.user_id) > (" + t + "::bigint, " + id + ")";
    }
    sql += " ORDER BY u.created_at, u.user_id LIMIT " + std::to_string(limit + 1);
    TESSERA_ASSIGN_OR_RETURN(Rows ids, c.ExecDynamic(sql, page_params));
    const bool more = ids.size() > limit;
    const int n = more ? limit : ids.size();
    for (int i = 0; i < n; ++i) {
      TESSERA_ASSIGN_OR_RETURN(std::optional<User> u,
                               LoadUser(c, project_id, std::string(ids.Text(i, 0))));
      if (u) page.users.push_back(std::move(*u));
    }
    if (more && !page.users.empty()) {
      page.next = UserCursor{page.users.back().created_at, page.users.back().user_id};
    }
    return page;
  });
}

}  // namespace tessera
