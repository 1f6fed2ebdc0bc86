// The lockout family on PostgreSQL: failed password attempts of users and of unknown emails.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>
#include <string>

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

pg::Param KeyParam(const EmailKey& k) {
  return pg::Bytea(std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
}

FailureState StateFrom(const Rows& r) {
  return FailureState{static_cast<int>(r.Int(0, 0)), r.OptTime(0, 1), r.OptTime(0, 2)};
}

// When a row of unknown_email_failures stops mattering.
TimePoint ExpiresAt(const FailureState& s, TimePoint now, const LockPolicy& policy) {
  TimePoint t = now;
  if (s.first_failed_at) t = std::max(t, *s.first_failed_at + policy.window);
  if (s.locked_until) t = std::max(t, *s.locked_until);
  return t;
}

}  // namespace

Result<FailureState> PostgresStore::RecordPasswordFailure(std::string_view project_id,
                                                          std::string_view user_id, TimePoint now,
                                                          const LockPolicy& policy) {
  // FOR UPDATE: concurrent failures of one user, on any node, are applied one after another.
  return Write([&](Connection& c) -> Result<FailureState> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("failures_of_user",
                       "SELECT failed_attempts, first_failed_at, locked_until FROM users "
                       "WHERE project_id = $1 AND user_id = $2 FOR UPDATE",
                       {pg::Text(project_id), pg::Text(user_id)}));
    if (r.size() == 0) return Error(ErrorCode::kUserNotFound, "User could not be found.");
    const FailureState state = ApplyPasswordFailure(StateFrom(r), now, policy);
    TESSERA_RETURN_IF_ERROR(c.Exec(
        "record_user_failure",
        "UPDATE users SET failed_attempts = $1, first_failed_at = $2, "
        "locked_until = $3, updated_at = $4, version = version + 1 "
        "WHERE project_id = $5 AND user_id = $6",
        {pg::Int(state.attempts), pg::OptTime(state.first_failed_at),
         pg::OptTime(state.locked_until), pg::Time(now), pg::Text(project_id), pg::Text(user_id)}));
    TESSERA_RETURN_IF_ERROR(Notify(c, "u|" + std::string(project_id) + "|" + std::string(user_id)));
    return state;
  });
}

Result<FailureState> PostgresStore::RecordUnknownEmailFailure(std::string_view project_id,
                                                              const EmailKey& email, TimePoint now,
                                                              const LockPolicy& policy) {
  return Write([&](Connection& c) -> Result<FailureState> {
    // The row first (a no-op when it exists), so that FOR UPDATE below has something to hold
    // even for the first failure of an address: two first failures then count as two.
    TESSERA_RETURN_IF_ERROR(c.Exec("ensure_unknown_email",
                                   "INSERT INTO unknown_email_failures(project_id, email_key, "
                                   "attempts, expires_at) VALUES ($1, $2, 0, $3) "
                                   "ON CONFLICT (project_id, email_key) DO NOTHING",
                                   {pg::Text(project_id), KeyParam(email), pg::Time(now)}));
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("failures_of_unknown_email",
                       "SELECT attempts, first_failed_at, locked_until FROM unknown_email_failures "
                       "WHERE project_id = $1 AND email_key = $2 FOR UPDATE",
                       {pg::Text(project_id), KeyParam(email)}));
    if (r.size() == 0) return Error(ErrorCode::kInternal, "unknown_email_failures row vanished");
    const FailureState state = ApplyPasswordFailure(StateFrom(r), now, policy);
    TESSERA_RETURN_IF_ERROR(c.Exec(
        "record_unknown_email_failure",
        "UPDATE unknown_email_failures SET attempts = $1, first_failed_at = $2, locked_until = $3, "
        "expires_at = $4 WHERE project_id = $5 AND email_key = $6",
        {pg::Int(state.attempts), pg::OptTime(state.first_failed_at),
         pg::OptTime(state.locked_until), pg::Time(ExpiresAt(state, now, policy)),
         pg::Text(project_id), KeyParam(email)}));
    return state;
  });
}

Result<FailureState> PostgresStore::GetUnknownEmailFailures(std::string_view project_id,
                                                            const EmailKey& email) {
  return Read([&](Connection& c) -> Result<FailureState> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("get_unknown_email_failures",
                       "SELECT attempts, first_failed_at, locked_until FROM unknown_email_failures "
                       "WHERE project_id = $1 AND email_key = $2",
                       {pg::Text(project_id), KeyParam(email)}));
    if (r.size() == 0) return FailureState{};
    return StateFrom(r);
  });
}

Result<std::int64_t> PostgresStore::DeleteStaleUnknownEmailFailures(TimePoint now) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("delete_stale_unknown_emails",
                       "WITH d AS (DELETE FROM unknown_email_failures WHERE expires_at <= $1 "
                       "RETURNING 1) SELECT COUNT(*) FROM d",
                       {pg::Time(now)}));
    return r.Int(0, 0);
  });
}

}  // namespace tessera
