// `tessera serve`: the API server's flags, each with its TESSERA_* environment variable.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "server/app.h"
#include "tools/command_support.h"
#include "tools/commands.h"

namespace tessera::tools {
namespace {

class ServeCommand final : public Command {
 public:
  explicit ServeCommand(CLI::App& app);
  std::optional<int> RunIfChosen() override;

 private:
  server::ServeConfig serve_;
  StoreFlags store_;
  // The durations, as the whole seconds or milliseconds their flags take (defaults from serve_).
  std::int64_t read_timeout_ = serve_.http.read_timeout.count();
  std::int64_t idle_timeout_ = serve_.http.idle_timeout.count();
  std::int64_t drain_timeout_ = serve_.http.drain_timeout.count();
  std::int64_t jwt_reuse_ = serve_.service.jwt_reuse.count();
  std::int64_t max_refresh_age_ = serve_.service.max_refresh_age.count();
  std::int64_t heartbeat_ms_ = serve_.revocations.heartbeat_interval.count();
  std::int64_t revocation_poll_ms_ = serve_.revocations.poll_interval.count();
  std::int64_t ssf_poll_wait_ = serve_.ssf.poll_wait.count();
  std::int64_t smtp_timeout_ = serve_.smtp.timeout.count();
  std::int64_t retry_base_ = serve_.email_sender.retry_base.count();
  std::int64_t retry_max_ = serve_.email_sender.retry_max.count();
  std::int64_t outbox_poll_ms_ = serve_.email_sender.poll_interval.count();
  std::int64_t address_window_ = serve_.email.per_address_window.count();
  std::int64_t ip_window_ = serve_.email.per_ip_window.count();
  std::string argon2_engine_ = "auto";  // Parsed into serve_.argon2.engine.
  CLI::App* cmd_;
};

ServeCommand::ServeCommand(CLI::App& app)
    : cmd_(app.add_subcommand(
          "serve",
          "Run the API server in the foreground until SIGTERM or SIGINT (then drain and exit).")) {
  cmd_->set_config("--config", "", "Read options from this TOML/INI file (key = value)");
  AddStoreFlags(cmd_, store_);
  cmd_->add_option("--listen", serve_.listen, "Address to listen on; port 0 picks a free one")
      ->envname("TESSERA_LISTEN")
      ->capture_default_str();
  cmd_->add_option("--threads", serve_.http.io_threads, "I/O threads (0 = one per core)")
      ->envname("TESSERA_THREADS")
      ->capture_default_str();
  cmd_->add_option("--workers", serve_.http.workers,
                   "Worker threads for database writes, reads and searches")
      ->envname("TESSERA_WORKERS")
      ->capture_default_str();
  cmd_->add_option("--hash-concurrency", serve_.http.hash_concurrency,
                   "Password hashes (Argon2id) that may run at once (0 = one per core); the "
                   "routes that hash run on their own pool of twice as many threads")
      ->envname("TESSERA_HASH_CONCURRENCY")
      ->capture_default_str();
  cmd_->add_option("--max-connections", serve_.http.max_connections,
                   "Open connections beyond this are closed at once")
      ->envname("TESSERA_MAX_CONNECTIONS")
      ->capture_default_str();
  cmd_->add_option("--max-body-bytes", serve_.http.max_body_bytes,
                   "Largest request body (413 above)")
      ->envname("TESSERA_MAX_BODY_BYTES")
      ->capture_default_str();
  cmd_->add_option("--max-header-bytes", serve_.http.max_header_bytes,
                   "Largest request header block (431 above)")
      ->envname("TESSERA_MAX_HEADER_BYTES")
      ->capture_default_str();
  cmd_->add_option("--read-timeout", read_timeout_, "Seconds to receive a request once started")
      ->envname("TESSERA_READ_TIMEOUT")
      ->capture_default_str();
  cmd_->add_option("--idle-timeout", idle_timeout_, "Seconds a keep-alive connection may idle")
      ->envname("TESSERA_IDLE_TIMEOUT")
      ->capture_default_str();
  cmd_->add_option("--drain-timeout", drain_timeout_,
                   "Seconds in-flight requests get after SIGTERM before connections are cut")
      ->envname("TESSERA_DRAIN_TIMEOUT")
      ->capture_default_str();
  cmd_->add_option("--jwt-reuse-seconds", jwt_reuse_,
                   "Return the JWT minted for the same unchanged session within this many seconds "
                   "instead of signing a new one (0 = always sign; see docs/api.md)")
      ->envname("TESSERA_JWT_REUSE_SECONDS")
      ->capture_default_str();
  cmd_->add_option("--jwt-max-refresh-age-seconds", max_refresh_age_,
                   "Refuse to refresh a session JWT issued longer ago than this; the session "
                   "token still works (0 = no limit, as Stytch; see docs/api.md)")
      ->envname("TESSERA_JWT_MAX_REFRESH_AGE_SECONDS")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{366} * 86400))
      ->capture_default_str();
  cmd_->add_option("--access-log", serve_.access_log, "stdout, stderr, off, or a file path")
      ->envname("TESSERA_ACCESS_LOG")
      ->capture_default_str();
  cmd_->add_option("--argon2-iterations", serve_.argon2.iterations, "Argon2id passes")
      ->envname("TESSERA_ARGON2_ITERATIONS")
      ->capture_default_str();
  cmd_->add_option("--argon2-memory-kib", serve_.argon2.memory_kib, "Argon2id memory (KiB)")
      ->envname("TESSERA_ARGON2_MEMORY_KIB")
      ->capture_default_str();
  cmd_->add_option("--argon2-engine", argon2_engine_,
                   "Who computes Argon2id: libargon2 (each hashing slot reuses one region of "
                   "memory on huge pages), libsodium (fresh memory for every hash; fastest when "
                   "transparent huge pages are 'always'), or auto (libsodium when they are, else "
                   "libargon2). Both read and write the same hashes")
      ->check(CLI::IsMember({"auto", "libargon2", "libsodium"}))
      ->envname("TESSERA_ARGON2_ENGINE")
      ->capture_default_str();
  cmd_->add_option("--db-pool-size", serve_.store.pool_size,
                   "PostgreSQL connections this node keeps open")
      ->envname("TESSERA_DB_POOL_SIZE")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd_->add_option("--db-statement-timeout-ms", serve_.store.statement_timeout_ms,
                   "PostgreSQL statement timeout, and the SQLite lock wait")
      ->envname("TESSERA_DB_STATEMENT_TIMEOUT_MS")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  cmd_->add_option("--jwt-cache-size", serve_.service.verified_jwt_cache_capacity,
                   "Session JWTs whose signature was checked, remembered so that refreshing one "
                   "again skips the signature check; 0 remembers none")
      ->envname("TESSERA_JWT_CACHE_SIZE")
      ->check(CLI::Range(std::size_t{0}, std::size_t{10000000}))
      ->capture_default_str();
  cmd_->add_option("--revocation-heartbeat-ms", heartbeat_ms_,
                   "How often a revocation feed stream sends a heartbeat (followers fail closed "
                   "after 1 s without one; see docs/revocation.md)")
      ->envname("TESSERA_REVOCATION_HEARTBEAT_MS")
      ->capture_default_str();
  cmd_->add_option("--revocation-poll-ms", revocation_poll_ms_,
                   "How often the revocation log of a followed project is read even without a "
                   "wake-up")
      ->envname("TESSERA_REVOCATION_POLL_MS")
      ->capture_default_str();
  cmd_->add_option("--public-url", serve_.ssf.public_url,
                   "The origin receivers reach this server at (https://host[:port]); names each "
                   "project's OpenID Shared Signals issuer, <public-url>/<project_id>. Default: "
                   "https:// and the request's Host header (see docs/revocation.md)")
      ->envname("TESSERA_PUBLIC_URL");
  cmd_->add_option("--ssf-poll-wait-seconds", ssf_poll_wait_,
                   "How long a Shared Signals poll with returnImmediately false waits for an "
                   "event before answering with none")
      ->envname("TESSERA_SSF_POLL_WAIT_SECONDS")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{300}))
      ->capture_default_str();
  cmd_->add_option("--session-cache-size", serve_.service.session_cache_capacity,
                   "Sessions kept in memory; 0 keeps none (every authenticate reads the database)")
      ->envname("TESSERA_SESSION_CACHE_SIZE")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000000}))
      ->capture_default_str();

  // Email sign-in (docs/email.md).
  cmd_->add_option(
          "--smtp-url", serve_.smtp_url,
          "Where emails go: smtp://[user:pass@]host:port (STARTTLS when offered, see "
          "--smtp-starttls), smtps://[user:pass@]host:port, or file:DIR (one .eml file per "
          "message, for development). Unset: emails wait in the outbox")
      ->envname("TESSERA_SMTP_URL");
  cmd_->add_option("--email-from", serve_.email_from, "Sender of every email: 'Name <address>'")
      ->envname("TESSERA_EMAIL_FROM")
      ->capture_default_str();
  cmd_->add_option("--email-templates", serve_.email_templates,
                   "Directory of replacement email templates (<kind>.subject/.txt/.html, see "
                   "docs/email.md)")
      ->envname("TESSERA_EMAIL_TEMPLATES");
  cmd_->add_option("--smtp-starttls", serve_.smtp.starttls, "STARTTLS on smtp:// URLs")
      ->envname("TESSERA_SMTP_STARTTLS")
      ->check(CLI::IsMember({"try", "required", "never"}))
      ->capture_default_str();
  cmd_->add_option("--smtp-timeout-seconds", smtp_timeout_, "Longest SMTP exchange")
      ->envname("TESSERA_SMTP_TIMEOUT_SECONDS")
      ->capture_default_str();
  cmd_->add_option("--smtp-retry-base-seconds", retry_base_,
                   "Wait before the first retry of a failed delivery (doubling per attempt)")
      ->envname("TESSERA_SMTP_RETRY_BASE_SECONDS")
      ->capture_default_str();
  cmd_->add_option("--smtp-retry-max-seconds", retry_max_, "Longest wait between delivery attempts")
      ->envname("TESSERA_SMTP_RETRY_MAX_SECONDS")
      ->capture_default_str();
  cmd_->add_option("--outbox-poll-ms", outbox_poll_ms_,
                   "How often the outbox is checked for due messages (at once after a local send)")
      ->envname("TESSERA_OUTBOX_POLL_MS")
      ->capture_default_str();
  cmd_->add_option("--email-rate-limit-per-address", serve_.email.per_address_limit,
                   "Emails per address per window, across every sending endpoint (0 = off)")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_PER_ADDRESS")
      ->capture_default_str();
  cmd_->add_option("--email-rate-limit-address-window-seconds", address_window_,
                   "Window of the per-address limit")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_ADDRESS_WINDOW_SECONDS")
      ->capture_default_str();
  cmd_->add_option("--email-rate-limit-per-ip", serve_.email.per_ip_limit,
                   "Sending calls per client IP per window: attributes.ip_address when given, "
                   "else the caller's address (0 = off)")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_PER_IP")
      ->capture_default_str();
  cmd_->add_option("--email-rate-limit-ip-window-seconds", ip_window_, "Window of the per-IP limit")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_IP_WINDOW_SECONDS")
      ->capture_default_str();
  cmd_->add_option("--email-otp-factor-type", serve_.email.otp_factor_type,
                   "The `type` of an email passcode's session factor")
      ->envname("TESSERA_EMAIL_OTP_FACTOR_TYPE")
      ->check(CLI::IsMember({"otp", "email_otp"}))
      ->capture_default_str();
}

std::optional<int> ServeCommand::RunIfChosen() {
  if (!cmd_->parsed()) return std::nullopt;
  serve_.database = store_.database;
  serve_.master_key_file = store_.master_key_file;
  serve_.http.read_timeout = Seconds(read_timeout_);
  serve_.argon2.engine = *ParseArgon2Engine(argon2_engine_);  // Checked by IsMember above.
  serve_.http.idle_timeout = Seconds(idle_timeout_);
  serve_.http.drain_timeout = Seconds(drain_timeout_);
  serve_.service.jwt_reuse = Seconds(jwt_reuse_);
  serve_.service.max_refresh_age = Seconds(max_refresh_age_);
  serve_.revocations.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms_);
  serve_.revocations.poll_interval = std::chrono::milliseconds(revocation_poll_ms_);
  serve_.ssf.poll_wait = Seconds(ssf_poll_wait_);
  serve_.smtp.timeout = Seconds(smtp_timeout_);
  serve_.email_sender.retry_base = Seconds(retry_base_);
  serve_.email_sender.retry_max = Seconds(retry_max_);
  serve_.email_sender.poll_interval = std::chrono::milliseconds(outbox_poll_ms_);
  serve_.email.per_address_window = Seconds(address_window_);
  serve_.email.per_ip_window = Seconds(ip_window_);
  return server::Serve(std::move(serve_));
}

}  // namespace

std::unique_ptr<Command> AddServeCommand(CLI::App& app) {
  return std::make_unique<ServeCommand>(app);
}

}  // namespace tessera::tools
