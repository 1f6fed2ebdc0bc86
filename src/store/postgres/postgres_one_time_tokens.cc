// The one-time token and outbox families on PostgreSQL. A consume is one conditional UPDATE: two
// nodes presenting the same token at once both reach the row, the second waits for the first's
// row lock and then finds it consumed (READ COMMITTED re-reads the row), so only one succeeds.
// Outbox claims skip rows another node has locked (FOR UPDATE SKIP LOCKED) and take a lease.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>
#include <string>

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;

pg::Param DigestParam(const OneTimeDigest& d) {
  return pg::Bytea(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

Result<OneTimeToken> TokenFromRow(const Rows& r, int i) {
  OneTimeToken t;
  t.project_id = r.Text(i, 0);
  t.token_id = r.Text(i, 1);
  const auto kind = OneTimeTokenKindFromName(r.Text(i, 2));
  const std::string digest = r.Bytea(i, 3);
  if (!kind || digest.size() != t.digest.size()) {
    return Error(ErrorCode::kStoreCorrupt, "a stored one-time token is not valid");
  }
  t.kind = *kind;
  std::copy(digest.begin(), digest.end(), t.digest.begin());
  t.user_id = r.Text(i, 4);
  t.method_id = r.Text(i, 5);
  t.email = r.Text(i, 6);
  t.code_challenge = r.Text(i, 7);
  t.ip_address = r.Text(i, 8);
  t.user_agent = r.Text(i, 9);
  t.created_at = r.Time(i, 10);
  t.expires_at = r.Time(i, 11);
  t.consumed_at = r.OptTime(i, 12);
  return t;
}

}  // namespace

Status PostgresStore::IssueOneTimeTokens(const std::vector<OneTimeToken>& tokens, bool supersede,
                                         const std::optional<OutboxMessage>& message) {
  if (tokens.empty()) return Error(ErrorCode::kInternal, "no token to issue");
  return Write([&](Connection& c) -> Status {
    const OneTimeToken& first = tokens.front();
    if (supersede) {
      // Two sends for one method_id at once must not leave two live codes: the second waits here
      // until the first commits, then consumes the first's code.
      TESSERA_RETURN_IF_ERROR(c.Exec("one_time_token_lock",
                                     "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                     {pg::Text(first.project_id + "|" + first.method_id)}));
      TESSERA_RETURN_IF_ERROR(
          c.Exec("supersede_one_time_tokens",
                 "UPDATE one_time_tokens SET consumed_at = $1 WHERE "
                 "project_id = $2 AND method_id = $3 AND kind = $4 AND "
                 "consumed_at IS NULL",
                 {pg::Time(first.created_at), pg::Text(first.project_id), pg::Text(first.method_id),
                  pg::Text(OneTimeTokenKindName(first.kind))}));
    }
    for (const OneTimeToken& t : tokens) {
      TESSERA_RETURN_IF_ERROR(c.Exec(
          "insert_one_time_token",
          "INSERT INTO one_time_tokens(project_id, token_id, kind, digest, user_id, method_id, "
          "email, code_challenge, ip_address, user_agent, created_at, expires_at, consumed_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL)",
          {pg::Text(t.project_id), pg::Text(t.token_id), pg::Text(OneTimeTokenKindName(t.kind)),
           DigestParam(t.digest), pg::Text(t.user_id), pg::Text(t.method_id), pg::Text(t.email),
           pg::Text(t.code_challenge), pg::Text(t.ip_address), pg::Text(t.user_agent),
           pg::Time(t.created_at), pg::Time(t.expires_at)}));
    }
    if (message) {
      TESSERA_RETURN_IF_ERROR(c.Exec(
          "insert_outbox",
          "INSERT INTO email_outbox(message_id, project_id, sealed, state, attempts, created_at, "
          "next_attempt_at, expires_at, claim_id, claimed_until, last_error) VALUES ($1, $2, $3, "
          "'pending', 0, $4, $5, $6, NULL, NULL, '')",
          {pg::Text(message->message_id), pg::Text(message->project_id), pg::Bytea(message->sealed),
           pg::Time(message->created_at), pg::Time(message->next_attempt_at),
           pg::Time(message->expires_at)}));
    }
    return Status::Ok();
  });
}

Result<std::optional<OneTimeToken>> PostgresStore::FindOneTimeToken(std::string_view project_id,
                                                                    const OneTimeDigest& digest) {
  return Read([&](Connection& c) -> Result<std::optional<OneTimeToken>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("find_one_time_token",
                       "SELECT project_id, token_id, kind, digest, user_id, method_id, email, "
                       "code_challenge, ip_address, user_agent, created_at, expires_at, "
                       "consumed_at FROM one_time_tokens WHERE project_id = $1 AND digest = $2 "
                       "ORDER BY (consumed_at IS NULL) DESC, created_at DESC LIMIT 1",
                       {pg::Text(project_id), DigestParam(digest)}));
    if (r.size() == 0) return std::optional<OneTimeToken>();
    TESSERA_ASSIGN_OR_RETURN(OneTimeToken t, TokenFromRow(r, 0));
    return std::optional<OneTimeToken>(std::move(t));
  });
}

Result<bool> PostgresStore::ConsumeOneTimeToken(std::string_view project_id,
                                                std::string_view token_id, TimePoint now) {
  return Write([&](Connection& c) -> Result<bool> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("consume_one_time_token",
                       "UPDATE one_time_tokens SET consumed_at = $1 WHERE project_id = $2 AND "
                       "token_id = $3 AND consumed_at IS NULL AND expires_at > $1 "
                       "RETURNING token_id",
                       {pg::Time(now), pg::Text(project_id), pg::Text(token_id)}));
    return r.size() > 0;
  });
}

Result<std::int64_t> PostgresStore::RevokeOneTimeTokens(std::string_view project_id,
                                                        std::string_view method_id,
                                                        OneTimeTokenKind kind, TimePoint now) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("revoke_one_time_tokens",
                       "WITH u AS (UPDATE one_time_tokens SET consumed_at = $1 WHERE project_id = "
                       "$2 AND method_id = $3 AND kind = $4 AND consumed_at IS NULL RETURNING 1) "
                       "SELECT COUNT(*) FROM u",
                       {pg::Time(now), pg::Text(project_id), pg::Text(method_id),
                        pg::Text(OneTimeTokenKindName(kind))}));
    return r.Int(0, 0);
  });
}

Result<std::int64_t> PostgresStore::DeleteExpiredOneTimeTokens(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("delete_expired_one_time_tokens",
                       "WITH d AS (DELETE FROM one_time_tokens WHERE expires_at < $1 RETURNING 1) "
                       "SELECT COUNT(*) FROM d",
                       {pg::Time(cutoff)}));
    return r.Int(0, 0);
  });
}

Result<std::vector<OutboxMessage>> PostgresStore::ClaimOutbox(TimePoint now, Seconds lease,
                                                              int limit,
                                                              std::string_view claim_id) {
  if (limit < 1 || limit > 1000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
  return Write([&](Connection& c) -> Result<std::vector<OutboxMessage>> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("claim_outbox",
                       "UPDATE email_outbox o SET claim_id = $1, claimed_until = $2 FROM (SELECT "
                       "message_id FROM email_outbox WHERE state = 'pending' AND next_attempt_at "
                       "<= $3 AND (claimed_until IS NULL OR claimed_until <= $3) ORDER BY "
                       "next_attempt_at, created_at LIMIT $4 FOR UPDATE SKIP LOCKED) d WHERE "
                       "o.message_id = d.message_id RETURNING o.message_id, o.project_id, "
                       "o.sealed, o.attempts, o.created_at, o.next_attempt_at, o.expires_at, "
                       "o.last_error",
                       {pg::Text(claim_id), pg::Time(now + lease), pg::Time(now), pg::Int(limit)}));
    std::vector<OutboxMessage> out;
    for (int i = 0; i < r.size(); ++i) {
      OutboxMessage m;
      m.message_id = r.Text(i, 0);
      m.project_id = r.Text(i, 1);
      m.sealed = r.Bytea(i, 2);
      m.attempts = static_cast<int>(r.Int(i, 3));
      m.created_at = r.Time(i, 4);
      m.next_attempt_at = r.Time(i, 5);
      m.expires_at = r.Time(i, 6);
      m.last_error = r.Text(i, 7);
      out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const OutboxMessage& a, const OutboxMessage& b) {
      return a.created_at < b.created_at;
    });
    return out;
  });
}

Result<bool> PostgresStore::CompleteOutbox(std::string_view message_id, std::string_view claim_id) {
  return Write([&](Connection& c) -> Result<bool> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("complete_outbox",
                       "DELETE FROM email_outbox WHERE message_id = $1 AND claim_id = $2 "
                       "RETURNING 1",
                       {pg::Text(message_id), pg::Text(claim_id)}));
    return r.size() > 0;
  });
}

Result<bool> PostgresStore::RetryOutbox(std::string_view message_id, std::string_view claim_id,
                                        TimePoint next_attempt_at, std::string_view error) {
  return Write([&](Connection& c) -> Result<bool> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("retry_outbox",
                       "UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = $1, "
                       "last_error = $2, claim_id = NULL, claimed_until = NULL WHERE message_id "
                       "= $3 AND claim_id = $4 RETURNING 1",
                       {pg::Time(next_attempt_at), pg::Text(error), pg::Text(message_id),
                        pg::Text(claim_id)}));
    return r.size() > 0;
  });
}

Result<bool> PostgresStore::AbandonOutbox(std::string_view message_id, std::string_view claim_id,
                                          std::string_view error) {
  return Write([&](Connection& c) -> Result<bool> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("abandon_outbox",
                       "UPDATE email_outbox SET state = 'failed', sealed = ''::bytea, last_error "
                       "= $1, claim_id = NULL, claimed_until = NULL WHERE message_id = $2 AND "
                       "claim_id = $3 RETURNING 1",
                       {pg::Text(error), pg::Text(message_id), pg::Text(claim_id)}));
    return r.size() > 0;
  });
}

Result<OutboxStats> PostgresStore::GetOutboxStats() {
  return Read([&](Connection& c) -> Result<OutboxStats> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("outbox_stats",
                       "SELECT COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE "
                       "state = 'failed'), MIN(created_at) FILTER (WHERE state = 'pending') "
                       "FROM email_outbox",
                       {}));
    OutboxStats s;
    s.pending = r.Int(0, 0);
    s.failed = r.Int(0, 1);
    s.oldest_pending = r.OptTime(0, 2);
    return s;
  });
}

Result<std::int64_t> PostgresStore::PruneOutbox(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Rows r, c.Exec("prune_outbox",
                       "WITH d AS (DELETE FROM email_outbox WHERE state = 'failed' AND "
                       "created_at < $1 RETURNING 1) SELECT COUNT(*) FROM d",
                       {pg::Time(cutoff)}));
    return r.Int(0, 0);
  });
}

}  // namespace tessera
