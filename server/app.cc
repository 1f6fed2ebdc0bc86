#include "server/app.h"

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include "server/access_log.h"
#include "server/api.h"
#include "server/instrumented_store.h"
#include "server/metrics.h"
#include "server/routes.h"
#include "service/password_service.h"
#include "service/project_registry.h"
#include "service/session_service.h"
#include "service/user_service.h"

namespace tessera::server {
namespace {

// The kernel's transparent huge page mode ("always [madvise] never"), or "" where there is none.
std::string ReadTransparentHugePages() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Background work on one thread, woken every 100 ms or when asked to stop.
class Background {
 public:
  Background(ServiceContext& ctx, RevocationFeed& feed, Metrics& metrics, const ServeConfig& config)
      : ctx_(ctx), feed_(feed), metrics_(metrics), config_(config), thread_([this] { Loop(); }) {}

  ~Background() { Stop(); }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    FlushTouches();  // Whatever was touched up to the last request.
  }

  void FlushTouches() {
    std::vector<SessionTouch> batch = ctx_.touches.Drain();
    if (batch.empty()) return;
    const std::size_t n = batch.size();
    const Status s = ctx_.store.TouchSessions(batch);
    metrics_.TouchFlush(n, s.ok());
    if (!s.ok()) {
      ctx_.touches.Restore(std::move(batch));
      LogEvent("warn", "last_accessed_at write-behind failed; will retry",
               {{"error", s.ToString()}});
    }
  }

 private:
  void Loop() {
    using Clock = std::chrono::steady_clock;
    auto next_touch = Clock::now() + config_.touch_flush_interval;
    auto next_poll = Clock::now() + config_.config_poll_interval;
    auto next_forced = Clock::now() + std::chrono::seconds(30);
    auto next_cleanup = Clock::now() + std::chrono::minutes(10);
    std::unique_lock lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      if (stop_) break;
      lock.unlock();
      const auto now = Clock::now();
      if (now >= next_touch) {
        FlushTouches();
        next_touch = now + config_.touch_flush_interval;
      }
      if (now >= next_poll) {
        // Forced every 30 s as well: the published key set changes with time (retired keys age
        // out) even when nothing is written.
        const bool force = now >= next_forced;
        if (force) next_forced = now + std::chrono::seconds(30);
        if (Status s = ctx_.projects.Refresh(force); !s.ok()) {
          LogEvent("warn", "reloading projects failed", {{"error", s.ToString()}});
        }
        next_poll = now + config_.config_poll_interval;
      }
      if (now >= next_cleanup) {
        // Sessions dead for a day are never needed again (revocations stay in their stream).
        auto deleted = ctx_.store.DeleteExpiredSessions(ctx_.clock.Now() - std::chrono::hours(24));
        if (!deleted.ok()) {
          LogEvent("warn", "expired-session cleanup failed",
                   {{"error", deleted.status().ToString()}});
        }
        // Failed sign-ins of unknown emails whose window has passed and whose lock has ended.
        auto stale = ctx_.store.DeleteStaleUnknownEmailFailures(ctx_.clock.Now());
        if (!stale.ok()) {
          LogEvent("warn", "unknown-email failure cleanup failed",
                   {{"error", stale.status().ToString()}});
        }
        // One-time tokens a day past their expiry (until then a reuse answers "used or expired",
        // not "not found"), rate-limit windows that ended, abandoned messages after a week.
        const TimePoint wall = ctx_.clock.Now();
        for (auto r : {ctx_.store.DeleteExpiredOneTimeTokens(wall - std::chrono::hours(24)),
                       ctx_.store.DeleteExpiredRateLimits(wall),
                       ctx_.store.PruneOutbox(wall - std::chrono::hours(24 * 7))}) {
          if (!r.ok()) {
            LogEvent("warn", "email sign-in cleanup failed", {{"error", r.status().ToString()}});
          }
        }
        // Revocation log entries past the retention (no JWT they name can still verify).
        if (Status s = feed_.Prune(); !s.ok()) {
          LogEvent("warn", "revocation log cleanup failed", {{"error", s.ToString()}});
        }
        next_cleanup = now + std::chrono::minutes(10);
      }
      lock.lock();
    }
  }

  ServiceContext& ctx_;
  RevocationFeed& feed_;
  Metrics& metrics_;
  const ServeConfig& config_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

int Fail(const Status& s, std::string_view what) {
  LogEvent("error", what, {{"error", s.ToString()}});
  return 1;
}

}  // namespace

Status ParseListen(std::string_view listen, std::string& host, std::uint16_t& port) {
  const auto bad = [&] {
    return Error(
        ErrorCode::kInvalidArgument,
        "--listen must be host:port, e.g. 127.0.0.1:8080 (got \"" + std::string(listen) + "\")");
  };
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == listen.size()) return bad();
  std::string_view h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) return bad();
  unsigned long p = 0;
  for (const char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9') return bad();
    p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p > 65535) return bad();
  }
  host = std::string(h);
  port = static_cast<std::uint16_t>(p);
  return Status::Ok();
}

int Serve(ServeConfig config) {
  if (Status s = ParseListen(config.listen, config.http.host, config.http.port); !s.ok()) {
    return Fail(s, "invalid configuration");
  }
  if (Status s = ValidateHttpServerOptions(config.http); !s.ok()) {
    return Fail(s, "invalid configuration");
  }
  if (config.service.jwt_reuse.count() < 0 || config.service.jwt_reuse.count() > 60) {
    return Fail(Error(ErrorCode::kInvalidArgument, "--jwt-reuse-seconds must be 0..60"),
                "invalid configuration");
  }
  const RevocationFeedOptions& feed_options = config.revocations;
  if (feed_options.heartbeat_interval.count() < 10 ||
      feed_options.heartbeat_interval >= feed_options.stale_after) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      "--revocation-heartbeat-ms must be at least 10 and below the staleness "
                      "bound (" +
                          std::to_string(feed_options.stale_after.count()) + " ms)"),
                "invalid configuration");
  }
  if (feed_options.poll_interval.count() < 10 ||
      feed_options.poll_interval >= feed_options.stale_after) {
    return Fail(Error(ErrorCode::kInvalidArgument,
                      "--revocation-poll-ms must be at least 10 and below the staleness bound (" +
                          std::to_string(feed_options.stale_after.count()) + " ms)"),
                "invalid configuration");
  }
  if (Status s = ValidateSsfOptions(config.ssf); !s.ok()) {
    return Fail(s, "invalid configuration");
  }
  // One limiter for every password hash of this process (sign-up, sign-in, the dummy hash of
  // enumeration protection); the HTTP server gives the routes that hash a pool twice its size.
  if (config.http.hash_concurrency == 0) config.http.hash_concurrency = HashLimiter::DefaultSlots();
  const auto limiter = std::make_shared<HashLimiter>(config.http.hash_concurrency);
  config.argon2.engine = ResolveArgon2Engine(config.argon2.engine, ReadTransparentHugePages());
  auto hasher = PasswordHasher::Create(config.argon2, limiter);
  if (!hasher.ok()) return Fail(hasher.status(), "invalid configuration");
  InitMail();
  auto from = ParseMailbox(config.email_from);
  if (!from.ok()) return Fail(from.status(), "invalid configuration");
  config.email_sender.from = *from;
  if (Status s = ValidateEmailSenderOptions(config.email_sender); !s.ok()) {
    return Fail(s, "invalid configuration");
  }
  if (Status s = ValidateEmailSignInOptions(config.email); !s.ok()) {
    return Fail(s, "invalid configuration");
  }
  if (config.email_sender.lease <= config.smtp.timeout) {
    config.email_sender.lease = config.smtp.timeout * 2;
  }
  auto templates = EmailTemplates::Load(config.email_templates);
  if (!templates.ok()) return Fail(templates.status(), "invalid configuration");
  std::unique_ptr<MailTransport> transport;
  if (!config.smtp_url.empty()) {
    auto t = NewMailTransport(config.smtp_url, config.smtp);
    if (!t.ok()) return Fail(t.status(), "invalid configuration");
    transport = std::move(*t);
  }

  config.store.busy_timeout_ms = config.store.statement_timeout_ms;
  // One server per SQLite file: this server's caches (sessions, users, keys) assume no other
  // server writes the file, and SQLite has no change feed to tell it otherwise. The store takes
  // the lock, not this function, because the reason is the store's (PostgreSQL stores notify
  // each other and ignore the flag) and because the lock must live exactly as long as the open
  // database, through the drain below; the CLI opens the store without it and runs beside us.
  config.store.exclusive = true;
  config.store.on_warning = [](std::string_view warning) {
    LogEvent("warn", "store warning", {{"detail", warning}});
  };
  auto opened = OpenStore(config.database, config.store);
  if (!opened.ok()) return Fail(opened.status(), "cannot open the database");
  auto key_path = ResolveMasterKeyPath(config.database, config.master_key_file);
  if (!key_path.ok()) return Fail(key_path.status(), "no master key");
  auto master_key = OpenMasterKey(**opened, *key_path, SystemRandom());
  if (!master_key.ok()) return Fail(master_key.status(), "cannot use the master key");
  auto access_log = AccessLog::Open(config.access_log);
  if (!access_log.ok()) return Fail(access_log.status(), "cannot open the access log");

  const Router router(ApiRoutes());
  Metrics metrics(router.Labels());
  InstrumentedStore store(**opened, metrics);
  ProjectRegistry projects(store, *master_key, SystemClock());
  SessionCache sessions(config.service.session_cache_capacity);
  UserCache users(config.service.user_cache_capacity);
  TouchQueue touches;
  ServiceContext ctx{store,       projects,      sessions,       users,         touches,
                     *master_key, SystemClock(), SystemRandom(), config.service};
  RevocationFeed feed(store, SystemClock(), config.revocations);
  // A revocation on this node reaches its feed's followers at once, not at the next poll.
  ctx.on_revocation = [&feed](std::string_view project_id) { feed.Wake(project_id); };
  SessionService session_service(ctx);
  UserService user_service(ctx);
  PasswordService password_service(ctx, *hasher, session_service, user_service);
  const std::string delivery = transport ? transport->Describe() : "";
  config.email_sender.log = [](std::string_view what, std::string_view message_id,
                               std::string_view error) {
    LogEvent("warn", what, {{"message_id", message_id}, {"error", error}});
  };
  EmailSender sender(store, *master_key, SystemClock(), SystemRandom(), std::move(transport),
                     config.email_sender);
  EmailSignInService email_service(ctx, session_service, user_service, password_service, *hasher,
                                   *templates, config.email, [&sender] { sender.Wake(); });
  // Changes any node made (a shared store only), delivered in the order they committed: drop
  // what they made stale. While the store vouches that every acknowledged change has come
  // through here (caches_current), authenticate answers from these caches alone.
  store.SetChangeListener([&](const StoreChange& change) {
    switch (change.kind) {
      case StoreChange::Kind::kConfig:
        projects.Invalidate(change.project_id);
        break;
      case StoreChange::Kind::kUser:
        users.Evict(change.project_id, change.id);
        sessions.EvictUser(change.project_id, change.id);
        feed.Wake(change.project_id);  // Perhaps deleted: its revocation entry is in the log.
        break;
      case StoreChange::Kind::kSession:
        sessions.EvictSession(change.project_id, change.id);
        feed.Wake(change.project_id);
        break;
      case StoreChange::Kind::kAll:
        sessions.Clear();
        users.Clear();
        break;
    }
  });
  metrics.AddGauge("tessera_session_cache_entries", "Sessions cached in memory.",
                   [&] { return static_cast<double>(sessions.size()); });
  metrics.AddGauge("tessera_touch_queue_length", "last_accessed_at writes waiting.",
                   [&] { return static_cast<double>(touches.size()); });
  metrics.AddGauge("tessera_caches_current",
                   "1 while this node answers from its caches (its store vouches that every "
                   "acknowledged change has reached them), 0 while it confirms every use with "
                   "the database.",
                   [&] { return store.caches_current() ? 1.0 : 0.0; });
  metrics.AddGauge("tessera_password_hash_slots", "Password hashes that may run at once.",
                   [&] { return static_cast<double>(limiter->stats().slots); });
  metrics.AddGauge("tessera_password_hashes_in_flight", "Password hashes running now.",
                   [&] { return static_cast<double>(limiter->stats().in_flight); });
  metrics.AddGauge("tessera_password_hashes_in_flight_peak",
                   "The most password hashes that have run at once.",
                   [&] { return static_cast<double>(limiter->stats().peak_in_flight); });
  metrics.AddGauge("tessera_password_hashes_waiting", "Password hashes waiting for a slot.",
                   [&] { return static_cast<double>(limiter->stats().waiting); });
  metrics.AddCounter("tessera_password_hashes_total",
                     "Password hashes run (sign-ups, sign-ins, enumeration protection).",
                     [&] { return static_cast<double>(limiter->stats().admitted); });
  metrics.AddCounter("tessera_password_hashes_in_reused_memory_total",
                     "Password hashes that ran in their hashing slot's reused memory.",
                     [&] { return static_cast<double>(hasher->memory_stats().in_region); });
  metrics.AddCounter("tessera_password_hashes_in_fresh_memory_total",
                     "Password hashes that mapped memory of their own (all of them with "
                     "--argon2-engine libsodium).",
                     [&] { return static_cast<double>(hasher->memory_stats().one_off); });
  metrics.AddCounter("tessera_password_hashes_on_io_thread_total",
                     "Password hashes run on an I/O thread: always 0 unless there is a bug.",
                     [&] { return static_cast<double>(limiter->stats().on_io_thread); });

  metrics.AddGauge("tessera_email_outbox_pending",
                   "Emails waiting in the outbox for delivery (every node's, as last read).",
                   [&] { return static_cast<double>(sender.pending()); });
  metrics.AddGauge("tessera_email_outbox_failed",
                   "Emails abandoned undelivered (their token expired), kept a week.",
                   [&] { return static_cast<double>(sender.failed()); });
  metrics.AddGauge("tessera_email_outbox_oldest_pending_seconds",
                   "Age of the oldest email waiting in the outbox; 0 when none waits.",
                   [&] { return sender.oldest_pending_seconds(); });
  metrics.AddCounter("tessera_emails_sent_total", "Emails this node delivered to the relay.",
                     [&] { return static_cast<double>(sender.sent()); });
  metrics.AddCounter("tessera_email_delivery_failures_total",
                     "Delivery attempts of this node that failed (each is retried).",
                     [&] { return static_cast<double>(sender.attempt_failures()); });
  metrics.AddCounter("tessera_emails_abandoned_total",
                     "Emails this node gave up on because their token had expired.",
                     [&] { return static_cast<double>(sender.abandoned()); });

  Api api(router, Services{projects, session_service, user_service, password_service, email_service,
                           feed, store, metrics, SystemClock(), SystemRandom(), config.ssf});
  HttpServer server(config.http, api, metrics, **access_log);
  auto bound = server.Bind();
  if (!bound.ok()) return Fail(bound.status(), "cannot listen");
  {
    Background background(ctx, feed, metrics, config);
    feed.Start();
    sender.Start();
    if (delivery.empty()) {
      LogEvent("warn",
               "no --smtp-url: emails wait in the outbox until a node with one delivers them");
    } else {
      LogEvent("info", "delivering email", {{"to", delivery}});
    }
    LogEvent("info", "password hashing",
             {{"engine", Argon2EngineName(config.argon2.engine)},
              {"concurrency", std::to_string(config.http.hash_concurrency)}});
    LogEvent("info", "listening", {{"address", *bound}});
    server.Run();  // Until SIGTERM/SIGINT and the drain.
    background.Stop();
    sender.Stop();
  }
  // The listener captures the caches above by reference: stop it before they are destroyed.
  store.SetChangeListener({});
  (*access_log)->Flush();
  LogEvent("info", "stopped");
  return 0;
}

}  // namespace tessera::server
