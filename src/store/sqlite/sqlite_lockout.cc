// The lockout family on SQLite: failed password attempts of users and of unknown emails.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

std::string_view KeyView(const EmailKey& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

// When a row of unknown_email_failures stops mattering.
TimePoint ExpiresAt(const FailureState& s, TimePoint now, const LockPolicy& policy) {
  TimePoint t = now;
  if (s.first_failed_at) t = std::max(t, *s.first_failed_at + policy.window);
  if (s.locked_until) t = std::max(t, *s.locked_until);
  return t;
}

}  // namespace

Result<FailureState> SqliteStore::RecordPasswordFailure(std::string_view project_id,
                                                        std::string_view user_id, TimePoint now,
                                                        const LockPolicy& policy) {
  // Read and written under the single writer: no concurrent failure is lost.
  return Write([&](Connection& c) -> Result<FailureState> {
    FailureState state;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT failed_attempts, first_failed_at, locked_until FROM users "
                    "WHERE project_id = ? AND user_id = ?"));
      st.Bind(1, project_id).Bind(2, user_id);
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Error(ErrorCode::kUserNotFound, "User could not be found.");
      state = {static_cast<int>(st.Int(0)), st.OptTime(1), st.OptTime(2)};
    }
    state = ApplyPasswordFailure(std::move(state), now, policy);
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("UPDATE users SET failed_attempts = ?, first_failed_at = ?, locked_until = ?, "
                  "updated_at = ?, version = version + 1 WHERE project_id = ? AND user_id = ?"));
    st.Bind(1, std::int64_t{state.attempts})
        .Bind(2, state.first_failed_at)
        .Bind(3, state.locked_until)
        .Bind(4, now)
        .Bind(5, project_id)
        .Bind(6, user_id);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return state;
  });
}

Result<FailureState> SqliteStore::RecordUnknownEmailFailure(std::string_view project_id,
                                                            const EmailKey& email, TimePoint now,
                                                            const LockPolicy& policy) {
  return Write([&](Connection& c) -> Result<FailureState> {
    FailureState state;
    {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("SELECT attempts, first_failed_at, locked_until FROM unknown_email_failures "
                    "WHERE project_id = ? AND email_key = ?"));
      st.Bind(1, project_id).BindBlob(2, KeyView(email));
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (row) state = {static_cast<int>(st.Int(0)), st.OptTime(1), st.OptTime(2)};
    }
    state = ApplyPasswordFailure(std::move(state), now, policy);
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("INSERT INTO unknown_email_failures(project_id, email_key, attempts, "
                  "first_failed_at, locked_until, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT(project_id, email_key) DO UPDATE SET attempts = excluded.attempts, "
                  "first_failed_at = excluded.first_failed_at, "
                  "locked_until = excluded.locked_until, expires_at = excluded.expires_at"));
    st.Bind(1, project_id)
        .BindBlob(2, KeyView(email))
        .Bind(3, std::int64_t{state.attempts})
        .Bind(4, state.first_failed_at)
        .Bind(5, state.locked_until)
        .Bind(6, ExpiresAt(state, now, policy));
    TESSERA_RETURN_IF_ERROR(st.Run());
    return state;
  });
}

Result<FailureState> SqliteStore::GetUnknownEmailFailures(std::string_view project_id,
                                                          const EmailKey& email) {
  return Read([&](Connection& c) -> Result<FailureState> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT attempts, first_failed_at, locked_until FROM unknown_email_failures "
                  "WHERE project_id = ? AND email_key = ?"));
    st.Bind(1, project_id).BindBlob(2, KeyView(email));
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return FailureState{};
    return FailureState{static_cast<int>(st.Int(0)), st.OptTime(1), st.OptTime(2)};
  });
}

Result<std::int64_t> SqliteStore::DeleteStaleUnknownEmailFailures(TimePoint now) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("DELETE FROM unknown_email_failures WHERE expires_at <= ?"));
    st.Bind(1, now);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return std::int64_t{st.changes()};
  });
}

}  // namespace tessera
