// Changes between nodes: every write that other nodes' caches must hear about sends a NOTIFY on one
// channel inside its transaction, and each node runs one LISTEN thread that turns the notices into
// StoreChange calls. Payloads are "c|<project>", "u|<project>|<user>" and "s|<project>|<session>".
#include "store/postgres/postgres_store_impl.h"
// ^ This file's own header: first, kept out of the sorted block below, so it must compile alone.

#include <poll.h>

#include <algorithm>
#include <chrono>

namespace tessera {
namespace {

using pg::Connection;

constexpr char kChannel[] = "tessera_changes";

}  // namespace

// Replacing or clearing the listener first stops (joins) the thread that calls the old one, so
// once this returns the old listener is never called again: its owner may be destroyed.
void PostgresStore::SetChangeListener(std::function<void(const StoreChange&)> listener) {
  StopListener();
  on_change_ = std::move(listener);
  if (!on_change_) return;
  stop_.store(false);
  listener_ = std::thread([this] { Listen(); });
}

Status PostgresStore::Notify(Connection& c, const std::string& payload) {
  return c.Exec("notify", "SELECT pg_notify($1, $2)", {pg::Text(kChannel), pg::Text(payload)})
      .status();
}

// The LISTEN loop: one dedicated connection, reconnected with backoff when it drops.
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
      while (PGnotify* n = PQnotifies(raw)) {
        Deliver(n->extra != nullptr ? n->extra : "");
        PQfreemem(n);
      }
    }
  }
}

void PostgresStore::StopListener() {
  stop_.store(true);
  if (listener_.joinable()) listener_.join();
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
