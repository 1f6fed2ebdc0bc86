// Changes between nodes, and when a node may trust its caches (docs/scaling.md).
//
// Every write that other nodes' caches must hear about appends its notice to the change log
// inside its transaction: a sequence number from the one counter row, updated last in the
// transaction (so the row lock is held only for the commit), which makes sequence order commit
// order, with no gaps. Payloads are "c|<project>", "u|<project>|<user>", "s|<project>|<session>".
// A NOTIFY on one channel wakes the nodes; the table is the truth.
//
// Each serving node runs two threads: a LISTEN thread that only wakes the follower, and the
// follower, which reads the log after what it has applied (at once when woken, at least every
// 50 ms), delivers each notice to the change listener in order, and then renews its lease:
// node_leases(node_id, lease_until, applied). It renews only after a read that returned
// everything there was, so a live lease always means "applied everything up to a moment ago".
// The node trusts its caches until its renewal began plus the lease length, less a margin,
// measured on its own steady clock: a paused, cut-off or lagging node stops trusting them before
// anyone stops waiting for it.
//
// A writer, after its commit, waits until every other node with a live lease has applied its
// change. A lease is renewed only by a node caught up with the log at the renewal's start, so one
// lease length after the commit every live lease has applied it: no write waits longer.
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <openssl/rand.h>
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace tessera {
namespace {

using pg::Connection;
using pg::Rows;
using SteadyClock = std::chrono::steady_clock;

constexpr char kChannel[] = "tessera_changes";
// How long a lease lasts, and so the longest a write waits for a node that stopped answering.
constexpr std::chrono::milliseconds kLease{2000};
// A node stops trusting its caches this much before its lease ends in the database.
constexpr std::chrono::milliseconds kLeaseMargin{300};
// The follower reads the log at least this often, and renews an idle lease this often.
constexpr std::chrono::milliseconds kFollowInterval{50};
constexpr std::chrono::milliseconds kRenewInterval{250};
constexpr int kReadLimit = 1000;
// The log keeps this much history; a node cut off longer drops all its caches when it returns.
constexpr std::chrono::minutes kKeep{10};

}  // namespace

std::string PostgresStore::NewNodeId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::fill(std::begin(bytes), std::end(bytes), 0);
  char hex[33];
  for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  return std::string("node-") + hex;
}

// Replacing or clearing the listener first stops (joins) the threads that call the old one, so
// once this returns the old listener is never called again: its owner may be destroyed.
void PostgresStore::SetChangeListener(std::function<void(const StoreChange&)> listener) {
  StopListener();
  on_change_ = std::move(listener);
  if (!on_change_) return;
  stop_.store(false);
  listener_ = std::thread([this] { Listen(); });
  follower_ = std::thread([this] { Follow(); });
}

Status PostgresStore::Notify(Connection& c, const std::string& payload) {
  TESSERA_ASSIGN_OR_RETURN(
      Rows r, c.Exec("append_change",
                     "WITH s AS (UPDATE change_counter SET seq = seq + 1 WHERE id = 1 "
                     "RETURNING seq) INSERT INTO change_log(seq, payload) SELECT seq, $1 FROM s "
                     "RETURNING seq",
                     {pg::Text(payload)}));
  if (r.size() != 1) return Error(ErrorCode::kStoreCorrupt, "the change counter is missing");
  c.change_seq = r.Int(0, 0);
  return c.Exec("notify", "SELECT pg_notify($1, $2)", {pg::Text(kChannel), pg::Text(payload)})
      .status();
}

void PostgresStore::AwaitNodes(Connection& c, std::int64_t seq) {
  const auto deadline = SteadyClock::now() + kLease;
  while (SteadyClock::now() < deadline) {
    auto r = c.Exec("lagging_nodes",
                    "SELECT COUNT(*) FROM node_leases WHERE node_id <> $1 AND "
                    "lease_until > now() AND applied < $2",
                    {pg::Text(node_id_), pg::Int(seq)});
    // No answer: keep waiting for the leases to lapse (the deadline bounds it).
    if (r.ok() && r->Int(0, 0) == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// The LISTEN loop: one dedicated connection, reconnected with backoff when it drops. It only
// wakes the follower; a notice it misses costs one follow interval.
void PostgresStore::Listen() {
  std::chrono::milliseconds backoff(100);
  while (!stop_.load()) {
    auto conn = Connection::Connect(options_.url, options_.statement_timeout_ms);
    if (!conn.ok() || !(*conn)->Simple("LISTEN tessera_changes").ok()) {
      for (int waited = 0; waited < backoff.count() && !stop_.load(); waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    PGconn* raw = (*conn)->raw();
    while (!stop_.load() && (*conn)->healthy()) {
      pollfd pfd{PQsocket(raw), POLLIN, 0};
      const int ready = ::poll(&pfd, 1, 200);
      if (ready < 0) break;
      if (ready == 0) continue;
      if (PQconsumeInput(raw) == 0) break;
      bool any = false;
      while (PGnotify* n = PQnotifies(raw)) {
        any = true;
        PQfreemem(n);
      }
      if (any) {
        std::lock_guard lock(wake_mu_);
        woken_ = true;
        wake_cv_.notify_one();
      }
    }
  }
}

void PostgresStore::Follow() {
  std::int64_t applied = -1;  // Unknown until the first read of the counter.
  auto last_renew = SteadyClock::time_point{};
  auto last_prune = SteadyClock::now();
  std::int64_t renewed_at = -1;  // `applied` at the last renewal.
  std::chrono::milliseconds backoff(100);
  while (!stop_.load()) {
    auto conn = Connection::Connect(options_.url, options_.statement_timeout_ms);
    if (!conn.ok()) {
      for (int waited = 0; waited < backoff.count() && !stop_.load(); waited += 50) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    Connection& c = **conn;
    if (applied < 0) {
      // The caches were empty when this node started following: it starts at the head. Its
      // lease row exists from now on, not yet live, so no writer waits for it before it is.
      auto head = c.Exec("change_head", "SELECT seq FROM change_counter WHERE id = 1", {});
      if (!head.ok() || head->size() != 1) continue;
      applied = head->Int(0, 0);
      if (!c.Exec("lease_insert",
                  "INSERT INTO node_leases(node_id, lease_until, applied) "
                  "VALUES ($1, now() - interval '1 second', $2) ON CONFLICT (node_id) DO NOTHING",
                  {pg::Text(node_id_), pg::Int(applied)})
               .ok()) {
        continue;
      }
    }
    while (!stop_.load() && c.healthy()) {
      const auto started = SteadyClock::now();
      auto r = c.Exec("change_read",
                      "SELECT seq, payload, (SELECT MIN(seq) FROM change_log) FROM change_log "
                      "WHERE seq > $1 ORDER BY seq LIMIT $2",
                      {pg::Int(applied), pg::Int(kReadLimit)});
      if (!r.ok()) break;
      if (r->size() > 0 && !r->IsNull(0, 2) && r->Int(0, 2) > applied + 1) {
        // Entries this node never applied were pruned: drop every cache rather than guess.
        Deliver("*|");
      }
      for (int i = 0; i < r->size(); ++i) {
        Deliver(r->Text(i, 1));
        applied = r->Int(i, 0);
      }
      const bool complete = r->size() < kReadLimit;
      if (complete && (applied != renewed_at || started - last_renew >= kRenewInterval)) {
        auto renewed = c.Exec("lease_renew",
                              "UPDATE node_leases SET lease_until = now() + $2 * interval '1 "
                              "millisecond', applied = $3 WHERE node_id = $1",
                              {pg::Text(node_id_), pg::Int(kLease.count()), pg::Int(applied)});
        if (!renewed.ok()) break;
        current_until_.store((started + kLease - kLeaseMargin).time_since_epoch().count());
        last_renew = started;
        renewed_at = applied;
      }
      if (!complete) continue;  // More to read at once.
      if (started - last_prune >= std::chrono::minutes(1)) {
        // Any node may prune; what they delete is the same.
        c.Exec("change_prune", "DELETE FROM change_log WHERE at < now() - $1 * interval '1 minute'",
               {pg::Int(kKeep.count())})
            .status()
            .IgnoreError();
        c.Exec("lease_prune",
               "DELETE FROM node_leases WHERE lease_until < now() - interval '1 hour'", {})
            .status()
            .IgnoreError();
        last_prune = started;
      }
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, kFollowInterval, [&] { return woken_ || stop_.load(); });
      woken_ = false;
    }
  }
  // Leaving: no writer should wait for this node's lease any more.
  current_until_.store(0);
  if (auto conn = Connection::Connect(options_.url, options_.statement_timeout_ms); conn.ok()) {
    (*conn)
        ->Exec("lease_drop", "DELETE FROM node_leases WHERE node_id = $1", {pg::Text(node_id_)})
        .status()
        .IgnoreError();
  }
}

void PostgresStore::StopListener() {
  stop_.store(true);
  {
    std::lock_guard lock(wake_mu_);
    wake_cv_.notify_all();
  }
  if (listener_.joinable()) listener_.join();
  if (follower_.joinable()) follower_.join();
}

void PostgresStore::Deliver(std::string_view payload) {
  if (!on_change_ || payload.size() < 2 || payload[1] != '|') return;
  StoreChange change;
  switch (payload[0]) {
    case 'c':
      change.kind = StoreChange::Kind::kConfig;
      break;
    case 'u':
      change.kind = StoreChange::Kind::kUser;
      break;
    case 's':
      change.kind = StoreChange::Kind::kSession;
      break;
    case '*':
      change.kind = StoreChange::Kind::kAll;
      break;
    default:
      return;
  }
  payload.remove_prefix(2);
  const std::size_t bar = payload.find('|');
  change.project_id = std::string(payload.substr(0, bar));
  if (bar != std::string_view::npos) change.id = std::string(payload.substr(bar + 1));
  on_change_(change);
}

}  // namespace tessera
