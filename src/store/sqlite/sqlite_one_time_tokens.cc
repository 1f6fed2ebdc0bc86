// The one-time token and outbox families on SQLite. Writes are serialized (one writer, BEGIN
// IMMEDIATE), so a consume's conditional UPDATE and an outbox claim can never race with another.
#include "store/sqlite/sqlite_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <algorithm>
#include <string>

namespace tessera {
namespace {

using sqlite::Connection;
using sqlite::Statement;

std::string_view DigestView(const OneTimeDigest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

constexpr const char* kTokenColumns =
    "project_id, token_id, kind, digest, user_id, method_id, email, code_challenge, ip_address, "
    "user_agent, created_at, expires_at, consumed_at";

Result<OneTimeToken> TokenFromRow(const Statement& st) {
  OneTimeToken t;
  t.project_id = st.Text(0);
  t.token_id = st.Text(1);
  const auto kind = OneTimeTokenKindFromName(st.Text(2));
  const std::string_view digest = st.Blob(3);
  if (!kind || digest.size() != t.digest.size()) {
    return Error(ErrorCode::kStoreCorrupt, "a stored one-time token is not valid");
  }
  t.kind = *kind;
  std::copy(digest.begin(), digest.end(), t.digest.begin());
  t.user_id = st.Text(4);
  t.method_id = st.Text(5);
  t.email = st.Text(6);
  t.code_challenge = st.Text(7);
  t.ip_address = st.Text(8);
  t.user_agent = st.Text(9);
  t.created_at = st.Time(10);
  t.expires_at = st.Time(11);
  t.consumed_at = st.OptTime(12);
  return t;
}

// A claim-guarded update of one outbox row: true when `claim_id` held it.
template <typename BindRest>
Result<bool> UpdateClaimed(Connection& c, const char* sql, BindRest bind) {
  TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql));
  bind(st);
  TESSERA_RETURN_IF_ERROR(st.Run());
  return st.changes() > 0;
}

}  // namespace

Status SqliteStore::IssueOneTimeTokens(const std::vector<OneTimeToken>& tokens, bool supersede,
                                       const std::optional<OutboxMessage>& message) {
  if (tokens.empty()) return Error(ErrorCode::kInternal, "no token to issue");
  return Write([&](Connection& c) -> Status {
    const OneTimeToken& first = tokens.front();
    if (supersede) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("UPDATE one_time_tokens SET consumed_at = ? WHERE project_id = ? AND "
                    "method_id = ? AND kind = ? AND consumed_at IS NULL"));
      st.Bind(1, first.created_at)
          .Bind(2, first.project_id)
          .Bind(3, first.method_id)
          .Bind(4, OneTimeTokenKindName(first.kind));
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    for (const OneTimeToken& t : tokens) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT INTO one_time_tokens(project_id, token_id, kind, digest, user_id, "
                    "method_id, email, code_challenge, ip_address, user_agent, created_at, "
                    "expires_at, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)"));
      st.Bind(1, t.project_id)
          .Bind(2, t.token_id)
          .Bind(3, OneTimeTokenKindName(t.kind))
          .BindBlob(4, DigestView(t.digest))
          .Bind(5, t.user_id)
          .Bind(6, t.method_id)
          .Bind(7, t.email)
          .Bind(8, t.code_challenge)
          .Bind(9, t.ip_address)
          .Bind(10, t.user_agent)
          .Bind(11, t.created_at)
          .Bind(12, t.expires_at);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    if (message) {
      TESSERA_ASSIGN_OR_RETURN(
          Statement st,
          c.Prepare("INSERT INTO email_outbox(message_id, project_id, sealed, state, attempts, "
                    "created_at, next_attempt_at, expires_at, claim_id, claimed_until, "
                    "last_error) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, NULL, NULL, '')"));
      st.Bind(1, message->message_id)
          .Bind(2, message->project_id)
          .BindBlob(3, message->sealed)
          .Bind(4, message->created_at)
          .Bind(5, message->next_attempt_at)
          .Bind(6, message->expires_at);
      TESSERA_RETURN_IF_ERROR(st.Run());
    }
    return Status::Ok();
  });
}

Result<std::optional<OneTimeToken>> SqliteStore::FindOneTimeToken(std::string_view project_id,
                                                                  const OneTimeDigest& digest) {
  return Read([&](Connection& c) -> Result<std::optional<OneTimeToken>> {
    static const std::string sql = std::string("SELECT ") + kTokenColumns +
                                   " FROM one_time_tokens WHERE project_id = ? AND digest = ? "
                                   "ORDER BY consumed_at IS NULL DESC, created_at DESC LIMIT 1";
    TESSERA_ASSIGN_OR_RETURN(Statement st, c.Prepare(sql.c_str()));
    st.Bind(1, project_id).BindBlob(2, DigestView(digest));
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return std::optional<OneTimeToken>();
    TESSERA_ASSIGN_OR_RETURN(OneTimeToken t, TokenFromRow(st));
    return std::optional<OneTimeToken>(std::move(t));
  });
}

Result<bool> SqliteStore::ConsumeOneTimeToken(std::string_view project_id,
                                              std::string_view token_id, TimePoint now) {
  return Write([&](Connection& c) -> Result<bool> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("UPDATE one_time_tokens SET consumed_at = ? WHERE project_id = ? AND "
                  "token_id = ? AND consumed_at IS NULL AND expires_at > ?"));
    st.Bind(1, now).Bind(2, project_id).Bind(3, token_id).Bind(4, now);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return st.changes() > 0;
  });
}

Result<std::int64_t> SqliteStore::RevokeOneTimeTokens(std::string_view project_id,
                                                      std::string_view method_id,
                                                      OneTimeTokenKind kind, TimePoint now) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("UPDATE one_time_tokens SET consumed_at = ? WHERE project_id = ? AND "
                  "method_id = ? AND kind = ? AND consumed_at IS NULL"));
    st.Bind(1, now).Bind(2, project_id).Bind(3, method_id).Bind(4, OneTimeTokenKindName(kind));
    TESSERA_RETURN_IF_ERROR(st.Run());
    return std::int64_t{st.changes()};
  });
}

Result<std::int64_t> SqliteStore::DeleteExpiredOneTimeTokens(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(Statement st,
                             c.Prepare("DELETE FROM one_time_tokens WHERE expires_at < ?"));
    st.Bind(1, cutoff);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return std::int64_t{st.changes()};
  });
}

Result<std::vector<OutboxMessage>> SqliteStore::ClaimOutbox(TimePoint now, Seconds lease, int limit,
                                                            std::string_view claim_id) {
  if (limit < 1 || limit > 1000) return Error(ErrorCode::kInvalidArgument, "limit out of range");
  return Write([&](Connection& c) -> Result<std::vector<OutboxMessage>> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("UPDATE email_outbox SET claim_id = ?, claimed_until = ? WHERE message_id IN "
                  "(SELECT message_id FROM email_outbox WHERE state = 'pending' AND "
                  "next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?) "
                  "ORDER BY next_attempt_at, created_at LIMIT ?) RETURNING message_id, "
                  "project_id, sealed, attempts, created_at, next_attempt_at, expires_at, "
                  "last_error"));
    st.Bind(1, claim_id)
        .Bind(2, now + lease)
        .Bind(3, now)
        .Bind(4, now)
        .Bind(5, std::int64_t{limit});
    std::vector<OutboxMessage> out;
    for (;;) {
      TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      OutboxMessage m;
      m.message_id = st.Text(0);
      m.project_id = st.Text(1);
      m.sealed = st.Blob(2);
      m.attempts = static_cast<int>(st.Int(3));
      m.created_at = st.Time(4);
      m.next_attempt_at = st.Time(5);
      m.expires_at = st.Time(6);
      m.last_error = st.Text(7);
      out.push_back(std::move(m));
    }
    std::sort(out.begin(), out.end(), [](const OutboxMessage& a, const OutboxMessage& b) {
      return a.created_at < b.created_at;
    });
    return out;
  });
}

Result<bool> SqliteStore::CompleteOutbox(std::string_view message_id, std::string_view claim_id) {
  return Write([&](Connection& c) -> Result<bool> {
    return UpdateClaimed(c, "DELETE FROM email_outbox WHERE message_id = ? AND claim_id = ?",
                         [&](Statement& st) { st.Bind(1, message_id).Bind(2, claim_id); });
  });
}

Result<bool> SqliteStore::RetryOutbox(std::string_view message_id, std::string_view claim_id,
                                      TimePoint next_attempt_at, std::string_view error) {
  return Write([&](Connection& c) -> Result<bool> {
    return UpdateClaimed(
        c,
        "UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
        "claim_id = NULL, claimed_until = NULL WHERE message_id = ? AND claim_id = ?",
        [&](Statement& st) {
          st.Bind(1, next_attempt_at).Bind(2, error).Bind(3, message_id).Bind(4, claim_id);
        });
  });
}

Result<bool> SqliteStore::AbandonOutbox(std::string_view message_id, std::string_view claim_id,
                                        std::string_view error) {
  return Write([&](Connection& c) -> Result<bool> {
    return UpdateClaimed(
        c,
        "UPDATE email_outbox SET state = 'failed', sealed = X'', last_error = ?, claim_id = NULL, "
        "claimed_until = NULL WHERE message_id = ? AND claim_id = ?",
        [&](Statement& st) { st.Bind(1, error).Bind(2, message_id).Bind(3, claim_id); });
  });
}

Result<OutboxStats> SqliteStore::GetOutboxStats() {
  return Read([&](Connection& c) -> Result<OutboxStats> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'failed'), "
                  "0), MIN(CASE WHEN state = 'pending' THEN created_at END) FROM email_outbox"));
    TESSERA_ASSIGN_OR_RETURN(bool row, st.Step());
    OutboxStats s;
    if (row) {
      s.pending = st.Int(0);
      s.failed = st.Int(1);
      s.oldest_pending = st.OptTime(2);
    }
    return s;
  });
}

Result<std::int64_t> SqliteStore::PruneOutbox(TimePoint cutoff) {
  return Write([&](Connection& c) -> Result<std::int64_t> {
    TESSERA_ASSIGN_OR_RETURN(
        Statement st,
        c.Prepare("DELETE FROM email_outbox WHERE state = 'failed' AND created_at < ?"));
    st.Bind(1, cutoff);
    TESSERA_RETURN_IF_ERROR(st.Run());
    return std::int64_t{st.changes()};
  });
}

}  // namespace tessera
