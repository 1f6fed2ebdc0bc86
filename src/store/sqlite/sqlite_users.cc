// The user family on SQLite: users, their emails and phone numbers (child tables rewritten with
// the user), and the paged search.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <boost/json/serialize.hpp>
#include <string>
#include <utility>

#include "store/records_json.h"

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

// Binds columns project_id .. locked_until (17 values) starting at `i`.
void BindUser(Statement& st, const User& u, int i) {
  st.Bind(i, u.project_id);
  st.Bind(i + 1, u.user_id);
  st.Bind(i + 2, u.external_id);
  st.Bind(i + 3, u.status);
  st.Bind(i + 4, u.first_name);
  st.Bind(i + 5, u.middle_name);
  st.Bind(i + 6, u.last_name);
  st.Bind(i + 7, boost::json::serialize(u.trusted_metadata));
  st.Bind(i + 8, boost::json::serialize(u.untrusted_metadata));
  st.Bind(i + 9, RolesToJson(u.roles));
  if (u.password) {
    st.Bind(i + 10, u.password->password_id);
    st.Bind(i + 11, u.password->hash);
    st.Bind(i + 12, std::int64_t{u.password->requires_reset});
    st.Bind(i + 13, u.password->created_at);
  } else {
    st.BindNull(i + 10);
    st.BindNull(i + 11);
    st.Bind(i + 12, std::int64_t{0});
    st.BindNull(i + 13);
  }
  st.Bind(i + 14, std::int64_t{u.failed_password_attempts});
  st.Bind(i + 15, u.first_failed_at);
  st.Bind(i + 16, u.locked_until);
}

// Duplicate checks inside the write transaction (the writer is exclusive, so they cannot race).
Status CheckUnique(Connection& c, const User& u) {
  for (const auto& e : u.emails) {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("SELECT user_id FROM user_emails WHERE project_id = ? "
                                       "AND email_normalized = ?"));
    st.Bind(1, u.project_id).Bind(2, NormalizeEmail(e.email));
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Text(0) != u.user_id) {
      return Error(ErrorCode::kDuplicateEmail, "A user with this email already exists.");
    }
  }
  for (const auto& p : u.phone_numbers) {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("SELECT user_id FROM user_phones WHERE project_id = ? "
                                       "AND phone_number = ?"));
    st.Bind(1, u.project_id).Bind(2, p.phone_number);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Text(0) != u.user_id) {
      return Error(ErrorCode::kDuplicatePhoneNumber,
                   "A user with this phone number already exists.");
    }
  }
  if (u.external_id) {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("SELECT user_id FROM users WHERE project_id = ? AND "
                                       "(external_id = ? OR user_id = ?)"));
    st.Bind(1, u.project_id).Bind(2, *u.external_id).Bind(3, *u.external_id);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Text(0) != u.user_id) {
      return Error(ErrorCode::kDuplicateExternalId, "A user with this external_id already exists.");
    }
  }
  return Status::Ok();
}

Status WriteUserChildren(Connection& c, const User& u) {
  for (std::size_t i = 0; i < u.emails.size(); ++i) {
    const auto& e = u.emails[i];
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO user_emails(project_id, email_id, user_id, email, "
                  "email_normalized, verified, position) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    st.Bind(1, u.project_id)
        .Bind(2, e.email_id)
        .Bind(3, u.user_id)
        .Bind(4, e.email)
        .Bind(5, NormalizeEmail(e.email))
        .Bind(6, std::int64_t{e.verified})
        .Bind(7, static_cast<std::int64_t>(i));
    TESSERA_RETURN_IF_ERROR(st.Run());
  }
  for (std::size_t i = 0; i < u.phone_numbers.size(); ++i) {
    const auto& p = u.phone_numbers[i];
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO user_phones(project_id, phone_id, user_id, phone_number, "
                  "verified, position) VALUES (?, ?, ?, ?, ?, ?)"));
    st.Bind(1, u.project_id)
        .Bind(2, p.phone_id)
        .Bind(3, u.user_id)
        .Bind(4, p.phone_number)
        .Bind(5, std::int64_t{p.verified})
        .Bind(6, static_cast<std::int64_t>(i));
    TESSERA_RETURN_IF_ERROR(st.Run());
  }
  return Status::Ok();
}

// The insert of CreateUser once CheckUnique passed, inside the caller's write transaction.
Status InsertChecked(Connection& c, const User& u) {
  TESSERA_ASSIGN_OR_RETURN(
      Statement st,
      c.Prepare("INSERT INTO users(project_id, user_id, external_id, status, first_name, "
                "middle_name, last_name, trusted_metadata, untrusted_metadata, roles, "
                "password_id, password_hash, password_requires_reset, password_created_at, "
                "failed_attempts, first_failed_at, locked_until, created_at, updated_at, "
                "version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"));
  BindUser(st, u, 1);
  st.Bind(18, u.created_at).Bind(19, u.updated_at);
  TESSERA_RETURN_IF_ERROR(st.Run());
  return WriteUserChildren(c, u);
}

// The insert of CreateUser, inside the caller's write transaction.
Status InsertUser(Connection& c, const User& u) {
  TESSERA_RETURN_IF_ERROR(CheckUnique(c, u));
  return InsertChecked(c, u);
}

Result<std::optional<User>> LoadUser(Connection& c, std::string_view project_id,
                                     std::string_view user_id) {
  User u;
  {
    // By id first; an external id is the fallback (spec: user_id may be an external_id).
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT user_id, external_id, status, first_name, middle_name, last_name, "
                  "trusted_metadata, untrusted_metadata, roles, password_id, password_hash, "
                  "password_requires_reset, password_created_at, failed_attempts, "
                  "first_failed_at, locked_until, created_at, updated_at, version FROM users "
                  "WHERE project_id = ? AND (user_id = ? OR external_id = ?) "
                  "ORDER BY user_id = ? DESC LIMIT 1"));
    st.Bind(1, project_id).Bind(2, user_id).Bind(3, user_id).Bind(4, user_id);
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<User>();
    u.project_id = std::string(project_id);
    u.user_id = st.Text(0);
    u.external_id = st.OptText(1);
    u.status = st.Text(2);
    u.first_name = st.Text(3);
    u.middle_name = st.Text(4);
    u.last_name = st.Text(5);
    TESSERA_ASSIGN_OR_RETURN(u.trusted_metadata, StoredObject(st.Text(6)));
    TESSERA_ASSIGN_OR_RETURN(u.untrusted_metadata, StoredObject(st.Text(7)));
    TESSERA_ASSIGN_OR_RETURN(u.roles, RolesFromJson(st.Text(8)));
    if (!st.IsNull(10)) {
      u.password = UserPassword{std::string(st.Text(9)), std::string(st.Text(10)), st.Int(11) != 0,
                                st.Time(12)};
    }
    u.failed_password_attempts = static_cast<int>(st.Int(13));
    u.first_failed_at = st.OptTime(14);
    u.locked_until = st.OptTime(15);
    u.created_at = st.Time(16);
    u.updated_at = st.Time(17);
    u.version = st.Int(18);
  }
  {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("SELECT email_id, email, verified FROM user_emails "
                                       "WHERE project_id = ? AND user_id = ? ORDER BY position"));
    st.Bind(1, project_id).Bind(2, u.user_id);
    for (;;) {
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      u.emails.push_back({std::string(st.Text(0)), std::string(st.Text(1)), st.Int(2) != 0});
    }
  }
  {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("SELECT phone_id, phone_number, verified FROM user_phones "
                                       "WHERE project_id = ? AND user_id = ? ORDER BY position"));
    st.Bind(1, project_id).Bind(2, u.user_id);
    for (;;) {
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      u.phone_numbers.push_back({std::string(st.Text(0)), std::string(st.Text(1)), st.Int(2) != 0});
    }
  }
  return std::optional<User>(std::move(u));
}

}  // namespace

Status SqliteStore::CreateUser(const User& u) {
  return Write([&](Connection& c) -> Status { return InsertUser(c, u); });
}

Result<std::vector<Status>> SqliteStore::CreateUsers(const std::vector<User>& users) {
  return Write([&](Connection& c) -> Result<std::vector<Status>> {
    std::vector<Status> out;
    out.reserve(users.size());
    for (const User& u : users) {
      // Every refusal is found by CheckUnique before anything is written (the writer is
      // exclusive, and it sees the batch's earlier users), so a refused user leaves nothing to
      // undo. No savepoint per user, then: SQLite would copy each page it touches into a
      // statement journal first, which made the batch write 25 pages per user.
      Status s = CheckUnique(c, u);
      if (s.ok()) {
        // Past the checks, any failure is the database's: it fails, and rolls back, the batch.
        TESSERA_RETURN_IF_ERROR(InsertChecked(c, u));
      } else if (s.category() != ErrorCategory::kAlreadyExists) {
        return s;
      }
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<std::optional<User>> SqliteStore::GetUser(std::string_view project_id,
                                                 std::string_view user_id) {
  return Read([&](Connection& c) { return LoadUser(c, project_id, user_id); });
}

Result<std::optional<User>> SqliteStore::GetUserByEmail(std::string_view project_id,
                                                        std::string_view email) {
  return Read([&](Connection& c) -> Result<std::optional<User>> {
    std::string user_id;
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("SELECT user_id FROM user_emails WHERE project_id = ? "
                                         "AND email_normalized = ?"));
      st.Bind(1, project_id).Bind(2, NormalizeEmail(email));
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return std::optional<User>();
      user_id = st.Text(0);
    }
    return LoadUser(c, project_id, user_id);
  });
}

Status SqliteStore::UpdateUser(const User& u) {
  return Write([&](Connection& c) -> Status {
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT version FROM users WHERE project_id = ? AND user_id = ?"));
      st.Bind(1, u.project_id).Bind(2, u.user_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Error(ErrorCode::kUserNotFound, "User could not be found.");
      if (st.Int(0) != u.version) {
        return Error(ErrorCode::kStoreConflict, "the user was changed concurrently");
      }
    }
    TESSERA_RETURN_IF_ERROR(CheckUnique(c, u));
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("UPDATE users SET project_id = ?, user_id = ?, external_id = ?, status = ?, "
                    "first_name = ?, middle_name = ?, last_name = ?, trusted_metadata = ?, "
                    "untrusted_metadata = ?, roles = ?, password_id = ?, password_hash = ?, "
                    "password_requires_reset = ?, password_created_at = ?, failed_attempts = ?, "
                    "first_failed_at = ?, locked_until = ?, updated_at = ?, "
                    "version = version + 1 WHERE project_id = ? AND user_id = ?"));
      BindUser(st, u, 1);
      st.Bind(18, u.updated_at).Bind(19, u.project_id).Bind(20, u.user_id);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    for (const char* sql : {"DELETE FROM user_emails WHERE project_id = ? AND user_id = ?",
                            "DELETE FROM user_phones WHERE project_id = ? AND user_id = ?"}) {
      TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
      st.Bind(1, u.project_id).Bind(2, u.user_id);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    return WriteUserChildren(c, u);
  });
}

Result<std::vector<std::string>> SqliteStore::DeleteUser(std::string_view project_id,
                                                         std::string_view user_id, TimePoint now) {
  return Write([&](Connection& c) -> Result<std::vector<std::string>> {
    TESSERA_ASSIGN_OR_RETURN(std::optional<User> user, LoadUser(c, project_id, user_id));
    if (!user) return Error(ErrorCode::kUserNotFound, "User could not be found.");
    std::vector<std::string> sessions;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare(
              "DELETE FROM sessions WHERE project_id = ? AND user_id = ? RETURNING session_id"));
      st.Bind(1, project_id).Bind(2, user->user_id);
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        sessions.emplace_back(st.Text(0));
      }
    }
    {
      TESSERA_ASSIGN_OR_RETURN(Statement st,
                               c.Prepare("DELETE FROM users WHERE project_id = ? AND user_id = ?"));
      st.Bind(1, project_id).Bind(2, user->user_id);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    // One entry for the user, however many sessions it had: its JWTs are refused by subject.
    TESSERA_RETURN_IF_ERROR(
        AppendRevocation(c, RevocationEntry{std::string(project_id), 0,
                                            RevocationEntry::Kind::kUser, "", user->user_id, now}));
    return sessions;
  });
}

Result<UserPage> SqliteStore::SearchUsers(std::string_view project_id, const UserQuery& query,
                                          const std::optional<UserCursor>& after, int limit) {
  if (limit < 1 || limit > 1000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
  // The WHERE clause is built from fixed fragments; every value is a bound parameter.
  std::string where;
  std::vector<std::string> params;
  for (const auto& f : query.filters) {
    std::string clause;
    const auto placeholders = [&](const std::vector<std::string>& values, bool normalize) {
      std::string p;
      for (std::size_t i = 0; i < values.size(); ++i) {
        p += i ? ", ?" : "?";
        params.push_back(normalize ? NormalizeEmail(values[i]) : values[i]);
      }
      return p;
    };
    switch (f.kind) {
      case UserFilter::Kind::kEmailAddress:
        clause =
            "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
            "e.user_id = u.user_id AND e.email_normalized IN (" +
            placeholders(f.strings, true) + "))";
        break;
      case UserFilter::Kind::kEmailId:
        clause =
            "EXISTS (SELECT 1 FROM user_emails e WHERE e.project_id = u.project_id AND "
            "e.user_id = u.user_id AND e.email_id IN (" +
            placeholders(f.strings, false) + "))";
        break;
      case UserFilter::Kind::kPhoneNumber:
        clause =
            "EXISTS (SELECT 1 FROM user_phones p WHERE p.project_id = u.project_id AND "
            "p.user_id = u.user_id AND p.phone_number IN (" +
            placeholders(f.strings, false) + "))";
        break;
      case UserFilter::Kind::kUserId: {
        const std::string ids = placeholders(f.strings, false);
        clause = "(u.user_id IN (" + ids + ") OR u.external_id IN (" +
                 placeholders(f.strings, false) + "))";
        break;
      }
      case UserFilter::Kind::kStatus:
        clause = "u.status = ?";
        params.push_back(f.strings.empty() ? "" : f.strings[0]);
        break;
      case UserFilter::Kind::kCreatedAtGreaterThan:
        clause = "u.created_at > " + std::to_string(ToUnixSeconds(f.time_a));
        break;
      case UserFilter::Kind::kCreatedAtLessThan:
        clause = "u.created_at < " + std::to_string(ToUnixSeconds(f.time_a));
        break;
      case UserFilter::Kind::kCreatedAtBetween:
        clause = "(u.created_at > " + std::to_string(ToUnixSeconds(f.time_a)) +
                 " AND u.created_at < " + std::to_string(ToUnixSeconds(f.time_b)) + ")";
        break;
      case UserFilter::Kind::kPasswordExists:
        clause = f.flag ? "u.password_hash IS NOT NULL" : "u.password_hash IS NULL";
        break;
    }
    if (!where.empty()) where += query.match_any ? " OR " : " AND ";
    where += clause;
  }
  const std::string base = "FROM users u WHERE u.project_id = ?" +
                           (where.empty() ? std::string() : " AND (" + where + ")");
  return Read([&](Connection& c) -> Result<UserPage> {
    UserPage page;
    {
      TESSERA_ASSIGN_OR_RETURN(auto stmt, c.PrepareOnce("SELECT COUNT(*) " + base));
      Statement st(c.db(), stmt.get());
      int i = 1;
      st.Bind(i++, project_id);
      for (const auto& p : params) st.Bind(i++, std::string_view(p));
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      page.total = row ? st.Int(0) : 0;
    }
    std::vector<std::string> ids;
    {
      std::string sql = "SELECT u.user_id, u.created_at " + base;
      if (after) sql += " AND (u.created_at, u.user_id) > (?, ?)";
      sql += " ORDER BY u.created_at, u.user_id LIMIT " + std::to_string(limit + 1);
      TESSERA_ASSIGN_OR_RETURN(auto stmt, c.PrepareOnce(sql));
      Statement st(c.db(), stmt.get());
      int i = 1;
      st.Bind(i++, project_id);
      for (const auto& p : params) st.Bind(i++, std::string_view(p));
      if (after) {
        st.Bind(i, after->created_at);
        st.Bind(i + 1, after->user_id);
      }
      for (;;) {
        TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
        if (!row) break;
        ids.emplace_back(st.Text(0));
      }
    }
    const bool more = static_cast<int>(ids.size()) > limit;
    if (more) ids.pop_back();
    for (const auto& id : ids) {
      TESSERA_ASSIGN_OR_RETURN(std::optional<User> u, LoadUser(c, project_id, id));
      if (u) page.users.push_back(std::move(*u));
    }
    if (more && !page.users.empty()) {
      page.next = UserCursor{page.users.back().created_at, page.users.back().user_id};
    }
    return page;
  });
}

}  // namespace tessera
