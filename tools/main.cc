// The `tessera` command: the server and its administrative subcommands.
#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "common/time_format.h"
#include "server/app.h"
#include "service/email/email_sign_in.h"
#include "service/project_registry.h"
#include "service/sdk_origins.h"
#include "tessera/store/open_store.h"
#include "tessera/token/key_ring.h"
#include "tools/import_users.h"

namespace {

using namespace tessera;

struct StoreFlags {
  std::string database = "sqlite:./tessera.db";
  std::string master_key_file;
};

void AddStoreFlags(CLI::App* cmd, StoreFlags& f) {
  cmd->add_option("--database", f.database,
                  "Database URL: sqlite:<file> (created if missing) or a libpq URI "
                  "postgresql://user@host:port/db")
      ->envname("TESSERA_DATABASE")
      ->capture_default_str();
  cmd->add_option("--master-key-file", f.master_key_file,
                  "File holding the master key that seals private keys and session tokens; "
                  "created (mode 0600) on first use. Default for SQLite: <database>.master-key; "
                  "required for PostgreSQL")
      ->envname("TESSERA_MASTER_KEY_FILE");
}

int Fail(const Status& s) {
  std::fprintf(stderr, "tessera: %s\n",
               s.message().empty() ? s.ToString().c_str() : s.message().c_str());
  return 1;
}

struct Opened {
  std::unique_ptr<SessionStore> store;
  std::optional<MasterKey> key;
};

Result<Opened> Open(const StoreFlags& f, int writer_cache_kib = 0) {
  Opened o;
  StoreOptions options;  // Not exclusive: subcommands run beside a server.
  options.writer_cache_kib = writer_cache_kib;
  options.on_warning = [](std::string_view warning) {
    std::fprintf(stderr, "tessera: warning: %.*s\n", static_cast<int>(warning.size()),
                 warning.data());
  };
  TESSERA_ASSIGN_OR_RETURN(o.store, OpenStore(f.database, options));
  TESSERA_ASSIGN_OR_RETURN(std::string path, ResolveMasterKeyPath(f.database, f.master_key_file));
  TESSERA_ASSIGN_OR_RETURN(MasterKey key, OpenMasterKey(*o.store, path, SystemRandom()));
  o.key.emplace(std::move(key));
  return o;
}

// The store alone, for subcommands that touch nothing sealed (no master key needed).
Result<std::unique_ptr<SessionStore>> OpenStoreOnly(const StoreFlags& f) {
  StoreOptions options;  // Not exclusive: subcommands run beside a server.
  options.on_warning = [](std::string_view warning) {
    std::fprintf(stderr, "tessera: warning: %.*s\n", static_cast<int>(warning.size()),
                 warning.data());
  };
  return OpenStore(f.database, options);
}

// The whole of `path` ("-": standard input).
Result<std::string> ReadWholeFile(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kInvalidArgument, "cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `tessera rbac get` output, which `tessera rbac set --file` reads back.
std::string RbacJson(std::string_view project_id, const LoadedRbacPolicy& p) {
  boost::json::object o{{"project_id", project_id}, {"version", p.version}};
  if (p.version > 0) o["updated_at"] = FormatRfc3339(p.updated_at);
  o["policy"] = boost::json::parse(rbac::ToJson(p.policy));
  return boost::json::serialize(o);
}

boost::json::object KeyJson(const KeyRecord& r, const KeyRing& ring, TimePoint now) {
  boost::json::object o;
  o["kid"] = r.kid;
  o["project_id"] = r.project_id;
  o["alg"] = AlgorithmName(r.alg);
  o["state"] = KeyStateName(r.state);
  o["published"] = ring.IsPublished(r, now);
  o["created_at"] = FormatRfc3339(r.created_at);
  o["activated_at"] = r.activated_at ? boost::json::value(FormatRfc3339(*r.activated_at)) : nullptr;
  o["retired_at"] = r.retired_at ? boost::json::value(FormatRfc3339(*r.retired_at)) : nullptr;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Tessera: a self-hosted session service with a Stytch-compatible API.\n"
      "Start with `tessera projects create --json`, then `tessera serve`."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tessera 0.1.0");

  // --- serve ----------------------------------------------------------------------------------
  server::ServeConfig serve;
  StoreFlags serve_store;
  auto* serve_cmd = app.add_subcommand(
      "serve",
      "Run the API server in the foreground until SIGTERM or SIGINT (then drain and exit).");
  serve_cmd->set_config("--config", "", "Read options from this TOML/INI file (key = value)");
  AddStoreFlags(serve_cmd, serve_store);
  serve_cmd->add_option("--listen", serve.listen, "Address to listen on; port 0 picks a free one")
      ->envname("TESSERA_LISTEN")
      ->capture_default_str();
  serve_cmd->add_option("--threads", serve.http.io_threads, "I/O threads (0 = one per core)")
      ->envname("TESSERA_THREADS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--workers", serve.http.workers,
                   "Worker threads for database writes, reads and searches")
      ->envname("TESSERA_WORKERS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--hash-concurrency", serve.http.hash_concurrency,
                   "Password hashes (Argon2id) that may run at once (0 = one per core); the "
                   "routes that hash run on their own pool of twice as many threads")
      ->envname("TESSERA_HASH_CONCURRENCY")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-connections", serve.http.max_connections,
                   "Open connections beyond this are closed at once")
      ->envname("TESSERA_MAX_CONNECTIONS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-body-bytes", serve.http.max_body_bytes,
                   "Largest request body (413 above)")
      ->envname("TESSERA_MAX_BODY_BYTES")
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-header-bytes", serve.http.max_header_bytes,
                   "Largest request header block (431 above)")
      ->envname("TESSERA_MAX_HEADER_BYTES")
      ->capture_default_str();
  std::int64_t read_timeout = serve.http.read_timeout.count();
  std::int64_t idle_timeout = serve.http.idle_timeout.count();
  std::int64_t drain_timeout = serve.http.drain_timeout.count();
  std::int64_t jwt_reuse = serve.service.jwt_reuse.count();
  std::int64_t max_refresh_age = serve.service.max_refresh_age.count();
  serve_cmd->add_option("--read-timeout", read_timeout, "Seconds to receive a request once started")
      ->envname("TESSERA_READ_TIMEOUT")
      ->capture_default_str();
  serve_cmd->add_option("--idle-timeout", idle_timeout, "Seconds a keep-alive connection may idle")
      ->envname("TESSERA_IDLE_TIMEOUT")
      ->capture_default_str();
  serve_cmd
      ->add_option("--drain-timeout", drain_timeout,
                   "Seconds in-flight requests get after SIGTERM before connections are cut")
      ->envname("TESSERA_DRAIN_TIMEOUT")
      ->capture_default_str();
  serve_cmd
      ->add_option("--jwt-reuse-seconds", jwt_reuse,
                   "Return the JWT minted for the same unchanged session within this many seconds "
                   "instead of signing a new one (0 = always sign; see docs/api.md)")
      ->envname("TESSERA_JWT_REUSE_SECONDS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--jwt-max-refresh-age-seconds", max_refresh_age,
                   "Refuse to refresh a session JWT issued longer ago than this; the session "
                   "token still works (0 = no limit, as Stytch; see docs/api.md)")
      ->envname("TESSERA_JWT_MAX_REFRESH_AGE_SECONDS")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{366} * 86400))
      ->capture_default_str();
  serve_cmd->add_option("--access-log", serve.access_log, "stdout, stderr, off, or a file path")
      ->envname("TESSERA_ACCESS_LOG")
      ->capture_default_str();
  serve_cmd->add_option("--argon2-iterations", serve.argon2.iterations, "Argon2id passes")
      ->envname("TESSERA_ARGON2_ITERATIONS")
      ->capture_default_str();
  serve_cmd->add_option("--argon2-memory-kib", serve.argon2.memory_kib, "Argon2id memory (KiB)")
      ->envname("TESSERA_ARGON2_MEMORY_KIB")
      ->capture_default_str();
  std::string argon2_engine = "auto";
  serve_cmd
      ->add_option("--argon2-engine", argon2_engine,
                   "Who computes Argon2id: libargon2 (each hashing slot reuses one region of "
                   "memory on huge pages), libsodium (fresh memory for every hash; fastest when "
                   "transparent huge pages are 'always'), or auto (libsodium when they are, else "
                   "libargon2). Both read and write the same hashes")
      ->check(CLI::IsMember({"auto", "libargon2", "libsodium"}))
      ->envname("TESSERA_ARGON2_ENGINE")
      ->capture_default_str();
  serve_cmd
      ->add_option("--db-pool-size", serve.store.pool_size,
                   "PostgreSQL connections this node keeps open")
      ->envname("TESSERA_DB_POOL_SIZE")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve_cmd
      ->add_option("--db-statement-timeout-ms", serve.store.statement_timeout_ms,
                   "PostgreSQL statement timeout, and the SQLite lock wait")
      ->envname("TESSERA_DB_STATEMENT_TIMEOUT_MS")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  serve_cmd
      ->add_option("--jwt-cache-size", serve.service.verified_jwt_cache_capacity,
                   "Session JWTs whose signature was checked, remembered so that refreshing one "
                   "again skips the signature check; 0 remembers none")
      ->envname("TESSERA_JWT_CACHE_SIZE")
      ->check(CLI::Range(std::size_t{0}, std::size_t{10000000}))
      ->capture_default_str();
  std::int64_t heartbeat_ms = serve.revocations.heartbeat_interval.count();
  std::int64_t revocation_poll_ms = serve.revocations.poll_interval.count();
  serve_cmd
      ->add_option("--revocation-heartbeat-ms", heartbeat_ms,
                   "How often a revocation feed stream sends a heartbeat (followers fail closed "
                   "after 1 s without one; see docs/revocation.md)")
      ->envname("TESSERA_REVOCATION_HEARTBEAT_MS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--revocation-poll-ms", revocation_poll_ms,
                   "How often the revocation log of a followed project is read even without a "
                   "wake-up")
      ->envname("TESSERA_REVOCATION_POLL_MS")
      ->capture_default_str();
  std::int64_t ssf_poll_wait = serve.ssf.poll_wait.count();
  serve_cmd
      ->add_option("--public-url", serve.ssf.public_url,
                   "The origin receivers reach this server at (https://host[:port]); names each "
                   "project's OpenID Shared Signals issuer, <public-url>/<project_id>. Default: "
                   "https:// and the request's Host header (see docs/revocation.md)")
      ->envname("TESSERA_PUBLIC_URL");
  serve_cmd
      ->add_option("--ssf-poll-wait-seconds", ssf_poll_wait,
                   "How long a Shared Signals poll with returnImmediately false waits for an "
                   "event before answering with none")
      ->envname("TESSERA_SSF_POLL_WAIT_SECONDS")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{300}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--session-cache-size", serve.service.session_cache_capacity,
                   "Sessions kept in memory; 0 keeps none (every authenticate reads the database)")
      ->envname("TESSERA_SESSION_CACHE_SIZE")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000000}))
      ->capture_default_str();

  // Email sign-in (docs/email.md).
  serve_cmd
      ->add_option(
          "--smtp-url", serve.smtp_url,
          "Where emails go: smtp://[user:pass@]host:port (STARTTLS when offered, see "
          "--smtp-starttls), smtps://[user:pass@]host:port, or file:DIR (one .eml file per "
          "message, for development). Unset: emails wait in the outbox")
      ->envname("TESSERA_SMTP_URL");
  serve_cmd->add_option("--email-from", serve.email_from, "Sender of every email: 'Name <address>'")
      ->envname("TESSERA_EMAIL_FROM")
      ->capture_default_str();
  serve_cmd
      ->add_option("--email-templates", serve.email_templates,
                   "Directory of replacement email templates (<kind>.subject/.txt/.html, see "
                   "docs/email.md)")
      ->envname("TESSERA_EMAIL_TEMPLATES");
  serve_cmd->add_option("--smtp-starttls", serve.smtp.starttls, "STARTTLS on smtp:// URLs")
      ->envname("TESSERA_SMTP_STARTTLS")
      ->check(CLI::IsMember({"try", "required", "never"}))
      ->capture_default_str();
  std::int64_t smtp_timeout = serve.smtp.timeout.count();
  std::int64_t retry_base = serve.email_sender.retry_base.count();
  std::int64_t retry_max = serve.email_sender.retry_max.count();
  std::int64_t outbox_poll_ms = serve.email_sender.poll_interval.count();
  std::int64_t address_window = serve.email.per_address_window.count();
  std::int64_t ip_window = serve.email.per_ip_window.count();
  serve_cmd->add_option("--smtp-timeout-seconds", smtp_timeout, "Longest SMTP exchange")
      ->envname("TESSERA_SMTP_TIMEOUT_SECONDS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--smtp-retry-base-seconds", retry_base,
                   "Wait before the first retry of a failed delivery (doubling per attempt)")
      ->envname("TESSERA_SMTP_RETRY_BASE_SECONDS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--smtp-retry-max-seconds", retry_max, "Longest wait between delivery attempts")
      ->envname("TESSERA_SMTP_RETRY_MAX_SECONDS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--outbox-poll-ms", outbox_poll_ms,
                   "How often the outbox is checked for due messages (at once after a local send)")
      ->envname("TESSERA_OUTBOX_POLL_MS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--email-rate-limit-per-address", serve.email.per_address_limit,
                   "Emails per address per window, across every sending endpoint (0 = off)")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_PER_ADDRESS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--email-rate-limit-address-window-seconds", address_window,
                   "Window of the per-address limit")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_ADDRESS_WINDOW_SECONDS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--email-rate-limit-per-ip", serve.email.per_ip_limit,
                   "Sending calls per client IP per window: attributes.ip_address when given, "
                   "else the caller's address (0 = off)")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_PER_IP")
      ->capture_default_str();
  serve_cmd
      ->add_option("--email-rate-limit-ip-window-seconds", ip_window, "Window of the per-IP limit")
      ->envname("TESSERA_EMAIL_RATE_LIMIT_IP_WINDOW_SECONDS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--email-otp-factor-type", serve.email.otp_factor_type,
                   "The `type` of an email passcode's session factor")
      ->envname("TESSERA_EMAIL_OTP_FACTOR_TYPE")
      ->check(CLI::IsMember({"otp", "email_otp"}))
      ->capture_default_str();

  // --- projects -------------------------------------------------------------------------------
  auto* projects_cmd = app.add_subcommand("projects", "Create and list projects.");
  projects_cmd->require_subcommand(1);
  StoreFlags projects_store;
  std::string name = "Tessera project";
  bool live = false, json = false, enumeration_protection = false;
  std::string policy = "zxcvbn", jwt_alg = "RS256";
  ProjectSettings settings;
  auto* create_cmd = projects_cmd->add_subcommand(
      "create", "Create a project with its first signing keys; prints its id and secret once.");
  AddStoreFlags(create_cmd, projects_store);
  create_cmd->add_option("--name", name, "Display name")->capture_default_str();
  create_cmd->add_flag("--live", live, "A live project (project-live-…) instead of a test one");
  create_cmd->add_flag("--json", json, "Print one JSON object");
  create_cmd->add_option("--password-policy", policy, "zxcvbn or luds")
      ->check(CLI::IsMember({"zxcvbn", "luds"}))
      ->capture_default_str();
  create_cmd->add_option("--luds-min-length", settings.luds_min_length, "LUDS minimum length")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  create_cmd
      ->add_option("--luds-min-complexity", settings.luds_min_complexity,
                   "LUDS character classes required (1-4)")
      ->check(CLI::Range(1, 4))
      ->capture_default_str();
  create_cmd->add_flag("--enumeration-protection", enumeration_protection,
                       "Answer an unknown email on passwords/authenticate exactly like a wrong "
                       "password (same work, same error) instead of email_not_found");
  create_cmd
      ->add_option("--lock-threshold", settings.lock_threshold,
                   "Failed password attempts before a user is locked")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  create_cmd
      ->add_option("--jwt-algorithm", jwt_alg,
                   "RS256 (the only one the Stytch SDKs verify locally), ES256 or EdDSA")
      ->check(CLI::IsMember({"RS256", "ES256", "EdDSA"}))
      ->capture_default_str();

  auto* list_cmd = projects_cmd->add_subcommand("list", "List projects (never their secrets).");
  AddStoreFlags(list_cmd, projects_store);
  list_cmd->add_flag("--json", json, "Print one JSON object");

  // --- secrets --------------------------------------------------------------------------------
  auto* secrets_cmd = app.add_subcommand(
      "secrets",
      "Create, list and delete a project's API secrets. A project holds one or two at once, so a "
      "secret can be replaced without downtime: create a second one, move every caller to it, "
      "delete the first. A running server accepts a new secret, and refuses a deleted one, "
      "within about a second.");
  secrets_cmd->require_subcommand(1);
  StoreFlags secrets_store;
  std::string secrets_project, secret_id;
  auto* secret_create_cmd = secrets_cmd->add_subcommand(
      "create",
      "Add a secret to the project and print it once (Tessera keeps only its hash). Refused "
      "when the project already has two: delete one first.");
  AddStoreFlags(secret_create_cmd, secrets_store);
  secret_create_cmd->add_option("--project", secrets_project, "Project id")->required();
  secret_create_cmd->add_flag("--json", json, "Print one JSON object");
  auto* secret_list_cmd = secrets_cmd->add_subcommand(
      "list", "List the project's secrets by id and creation time (never the secrets).");
  AddStoreFlags(secret_list_cmd, secrets_store);
  secret_list_cmd->add_option("--project", secrets_project, "Project id")->required();
  secret_list_cmd->add_flag("--json", json, "Print one JSON object");
  auto* secret_delete_cmd = secrets_cmd->add_subcommand(
      "delete",
      "Delete one of the project's secrets: API calls made with it are refused from then on. "
      "The project's last secret cannot be deleted.");
  AddStoreFlags(secret_delete_cmd, secrets_store);
  secret_delete_cmd->add_option("--project", secrets_project, "Project id")->required();
  secret_delete_cmd
      ->add_option("--secret-id", secret_id, "Id of the secret (`tessera secrets list` shows them)")
      ->required();

  // --- sdk-origins ----------------------------------------------------------------------------
  auto* origins_cmd = app.add_subcommand(
      "sdk-origins",
      "Add, list and remove the web origins allowed to use a project's frontend SDK API "
      "(/sdk/v1) with its public token. A page on any other origin is refused. A running server "
      "applies a change within about a second.");
  origins_cmd->require_subcommand(1);
  StoreFlags origins_store;
  std::string origins_project, origin;
  auto* origin_add_cmd = origins_cmd->add_subcommand(
      "add", "Allow an origin: scheme://host[:port], e.g. https://app.example.com.");
  AddStoreFlags(origin_add_cmd, origins_store);
  origin_add_cmd->add_option("--project", origins_project, "Project id")->required();
  origin_add_cmd->add_option("--origin", origin, "The origin, as the browser sends it")->required();
  auto* origin_list_cmd = origins_cmd->add_subcommand("list", "List the allowed origins.");
  AddStoreFlags(origin_list_cmd, origins_store);
  origin_list_cmd->add_option("--project", origins_project, "Project id")->required();
  origin_list_cmd->add_flag("--json", json, "Print one JSON object");
  auto* origin_remove_cmd = origins_cmd->add_subcommand("remove", "Stop allowing an origin.");
  AddStoreFlags(origin_remove_cmd, origins_store);
  origin_remove_cmd->add_option("--project", origins_project, "Project id")->required();
  origin_remove_cmd->add_option("--origin", origin, "The origin")->required();

  // --- keys -----------------------------------------------------------------------------------
  auto* keys_cmd = app.add_subcommand("keys", "Inspect and rotate signing keys.");
  keys_cmd->require_subcommand(1);
  StoreFlags keys_store;
  std::string project_id, kid;
  auto* rotate_cmd = keys_cmd->add_subcommand(
      "rotate",
      "Activate the published next key and publish a fresh next key (docs/key_rotation.md).");
  AddStoreFlags(rotate_cmd, keys_store);
  rotate_cmd->add_option("--project", project_id, "Project id")->required();
  rotate_cmd->add_flag("--json", json, "Print one JSON object");
  auto* keys_list_cmd = keys_cmd->add_subcommand("list", "List signing keys and their states.");
  AddStoreFlags(keys_list_cmd, keys_store);
  keys_list_cmd->add_option("--project", project_id, "Only this project");
  keys_list_cmd->add_flag("--json", json, "Print one JSON object");
  auto* retire_cmd = keys_cmd->add_subcommand(
      "retire", "Withdraw a next key that has never signed (the active key cannot be retired).");
  AddStoreFlags(retire_cmd, keys_store);
  retire_cmd->add_option("--project", project_id, "Project id")->required();
  retire_cmd->add_option("--kid", kid, "Key id")->required();

  // --- users ----------------------------------------------------------------------------------
  auto* users_cmd = app.add_subcommand("users", "Bring users into a project.");
  users_cmd->require_subcommand(1);
  StoreFlags users_store;
  tools::ImportOptions import;
  std::string import_file, import_report, import_progress = "auto";
  int import_cache_mib = 64;
  auto* import_cmd = users_cmd->add_subcommand(
      "import",
      "Import users with password hashes made elsewhere (bcrypt, md_5, sha_1, sha_512, argon_2i, "
      "argon_2id, scrypt, pbkdf_2, phpass, firebase_scrypt): a file with one passwords/migrate "
      "request body (JSON) per line, checked exactly as the API checks it and written straight "
      "into the database, many users per transaction. Users already present with a password "
      "(same email or external_id) are skipped, so a re-run is safe. Every refused line is "
      "reported with its number and reason; the exit status is 0 only when every line is in. "
      "See docs/migration.md.");
  AddStoreFlags(import_cmd, users_store);
  import_cmd->add_option("--project", import.project_id, "Project id")->required();
  import_cmd->add_option("--file", import_file, "JSON Lines file; - reads standard input")
      ->required();
  import_cmd->add_option("--report", import_report,
                         "Also write each refused line as a JSON object {line, error_type, "
                         "error_message} to this file");
  import_cmd->add_option("--batch-size", import.batch_size, "Users per transaction")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
      ->capture_default_str();
  import_cmd
      ->add_option("--cache-mib", import_cache_mib,
                   "SQLite: page cache of the import's connection, filled only as the database "
                   "grows (the inserts land all over the user indexes, and a page the cache "
                   "misses is a read). Peak memory is about this plus one batch")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  import_cmd
      ->add_option("--progress", import_progress,
                   "auto (a bar on a terminal, else a line every 5 s), bar, lines or off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}))
      ->capture_default_str();
  // --- redirect-urls --------------------------------------------------------------------------
  auto* redirect_cmd = app.add_subcommand(
      "redirect-urls",
      "Manage where emailed links may point, per project and type (login, signup, invite, "
      "reset_password). A request naming a URL not listed for its type is refused; without a "
      "URL, the type's default is used.");
  redirect_cmd->require_subcommand(1);
  StoreFlags redirect_store;
  std::string redirect_project, redirect_type, redirect_url;
  bool redirect_default = false;
  const auto types = CLI::IsMember({"login", "signup", "invite", "reset_password"});
  auto* redirect_add_cmd = redirect_cmd->add_subcommand(
      "add", "Allow a URL for a type (again: only updates --default).");
  AddStoreFlags(redirect_add_cmd, redirect_store);
  redirect_add_cmd->add_option("--project", redirect_project, "Project id")->required();
  redirect_add_cmd->add_option("--type", redirect_type, "login, signup, invite or reset_password")
      ->required()
      ->check(types);
  redirect_add_cmd->add_option("--url", redirect_url, "The URL, matched exactly")->required();
  redirect_add_cmd->add_flag("--default", redirect_default,
                             "Use it when a request names no URL of this type");
  auto* redirect_list_cmd = redirect_cmd->add_subcommand("list", "List the project's URLs.");
  AddStoreFlags(redirect_list_cmd, redirect_store);
  redirect_list_cmd->add_option("--project", redirect_project, "Project id")->required();
  redirect_list_cmd->add_flag("--json", json, "Print one JSON object");
  auto* redirect_remove_cmd = redirect_cmd->add_subcommand("remove", "Remove a URL of a type.");
  AddStoreFlags(redirect_remove_cmd, redirect_store);
  redirect_remove_cmd->add_option("--project", redirect_project, "Project id")->required();
  redirect_remove_cmd
      ->add_option("--type", redirect_type, "login, signup, invite or reset_password")
      ->required()
      ->check(types);
  redirect_remove_cmd->add_option("--url", redirect_url, "The URL")->required();
  // --- rbac -----------------------------------------------------------------------------------
  auto* rbac_cmd = app.add_subcommand(
      "rbac",
      "Set and show a project's roles-and-permissions policy (docs/rbac.md). A running server "
      "serves a new policy, and enforces it on authorization checks, within about a second.");
  rbac_cmd->require_subcommand(1);
  StoreFlags rbac_store;
  std::string rbac_project, rbac_file;
  std::int64_t rbac_expect = -1;
  auto* rbac_set_cmd = rbac_cmd->add_subcommand(
      "set",
      "Validate the policy in --file (a JSON object with roles, resources and scopes, or what "
      "`rbac get` prints) and make it the project's policy, replacing the previous one.");
  AddStoreFlags(rbac_set_cmd, rbac_store);
  rbac_set_cmd->add_option("--project", rbac_project, "Project id")->required();
  rbac_set_cmd->add_option("--file", rbac_file, "Policy file; - reads standard input")->required();
  rbac_set_cmd->add_option("--expect-version", rbac_expect,
                           "Refuse unless the stored policy is at this version (0: none set "
                           "yet), so a concurrent change is not overwritten unseen");
  rbac_set_cmd->add_flag("--json", json, "Print one JSON object");
  auto* rbac_get_cmd = rbac_cmd->add_subcommand(
      "get", "Print the project's policy, with its version, as one JSON object.");
  AddStoreFlags(rbac_get_cmd, rbac_store);
  rbac_get_cmd->add_option("--project", rbac_project, "Project id")->required();

  CLI11_PARSE(app, argc, argv);

  if (rbac_set_cmd->parsed()) {
    auto text = ReadWholeFile(rbac_file);
    if (!text.ok()) return Fail(text.status());
    // Validated before the store is opened: a bad file changes nothing and needs no database.
    auto parsed = rbac::ParsePolicy(*text);
    if (parsed.ok()) parsed = rbac::Normalize(std::move(*parsed));
    if (!parsed.ok()) return Fail(parsed.status());
    auto store = OpenStoreOnly(rbac_store);
    if (!store.ok()) return Fail(store.status());
    std::int64_t expected = rbac_expect;
    if (expected < 0) {
      auto project = (*store)->GetProject(rbac_project);
      if (!project.ok()) return Fail(project.status());
      if (!*project) return Fail(Error(ErrorCode::kProjectNotFound, "no such project"));
      auto current = LoadRbacPolicy(**store, rbac_project);
      if (!current.ok()) return Fail(current.status());
      expected = current->version;
    }
    auto stored =
        SetRbacPolicy(**store, rbac_project, std::move(*parsed), expected, SystemClock().Now());
    if (!stored.ok()) return Fail(stored.status());
    if (json) {
      std::cout << RbacJson(rbac_project, *stored) << "\n";
    } else {
      std::cout << "policy version " << stored->version << " set for " << rbac_project << "\n";
    }
    return 0;
  }

  if (rbac_get_cmd->parsed()) {
    auto store = OpenStoreOnly(rbac_store);
    if (!store.ok()) return Fail(store.status());
    auto project = (*store)->GetProject(rbac_project);
    if (!project.ok()) return Fail(project.status());
    if (!*project) return Fail(Error(ErrorCode::kProjectNotFound, "no such project"));
    auto current = LoadRbacPolicy(**store, rbac_project);
    if (!current.ok()) return Fail(current.status());
    std::cout << RbacJson(rbac_project, *current) << "\n";
    return 0;
  }

  if (serve_cmd->parsed()) {
    serve.database = serve_store.database;
    serve.master_key_file = serve_store.master_key_file;
    serve.http.read_timeout = Seconds(read_timeout);
    serve.argon2.engine = *ParseArgon2Engine(argon2_engine);  // Checked by IsMember above.
    serve.http.idle_timeout = Seconds(idle_timeout);
    serve.http.drain_timeout = Seconds(drain_timeout);
    serve.service.jwt_reuse = Seconds(jwt_reuse);
    serve.service.max_refresh_age = Seconds(max_refresh_age);
    serve.revocations.heartbeat_interval = std::chrono::milliseconds(heartbeat_ms);
    serve.revocations.poll_interval = std::chrono::milliseconds(revocation_poll_ms);
    serve.ssf.poll_wait = Seconds(ssf_poll_wait);
    serve.smtp.timeout = Seconds(smtp_timeout);
    serve.email_sender.retry_base = Seconds(retry_base);
    serve.email_sender.retry_max = Seconds(retry_max);
    serve.email_sender.poll_interval = std::chrono::milliseconds(outbox_poll_ms);
    serve.email.per_address_window = Seconds(address_window);
    serve.email.per_ip_window = Seconds(ip_window);
    return server::Serve(std::move(serve));
  }

  if (create_cmd->parsed()) {
    auto opened = Open(projects_store);
    if (!opened.ok()) return Fail(opened.status());
    settings.password_policy = policy == "luds" ? PasswordPolicy::kLuds : PasswordPolicy::kZxcvbn;
    settings.enumeration_protection = enumeration_protection;
    settings.jwt_algorithm = *AlgorithmFromName(jwt_alg);
    auto created = CreateProject(*opened->store, *opened->key, SystemRandom(), SystemClock().Now(),
                                 name, live, settings);
    if (!created.ok()) return Fail(created.status());
    const std::string& first_secret_id = created->project.secrets.front().secret_id;
    if (json) {
      boost::json::object o{{"project_id", created->project.project_id},
                            {"secret", created->secret},
                            {"secret_id", first_secret_id},
                            {"public_token", created->project.public_token},
                            {"name", created->project.name},
                            {"live", created->project.live}};
      std::cout << boost::json::serialize(o) << "\n";
    } else {
      std::cout << "project_id: " << created->project.project_id << "\n"
                << "secret:     " << created->secret << "\n"
                << "secret_id:  " << first_secret_id << "\n"
                << "public_token: " << created->project.public_token << "\n"
                << "The secret is shown only now; Tessera keeps only its hash. The public token "
                   "is for the frontend SDK and is not a secret (`tessera projects list` shows "
                   "it).\n";
    }
    return 0;
  }

  if (list_cmd->parsed()) {
    auto opened = Open(projects_store);
    if (!opened.ok()) return Fail(opened.status());
    auto list = opened->store->ListProjects();
    if (!list.ok()) return Fail(list.status());
    boost::json::array arr;
    for (const auto& p : *list) {
      if (json) {
        arr.push_back(boost::json::object{{"project_id", p.project_id},
                                          {"name", p.name},
                                          {"live", p.live},
                                          {"public_token", p.public_token},
                                          {"created_at", FormatRfc3339(p.created_at)}});
      } else {
        std::cout << p.project_id << "  " << p.public_token << "  " << FormatRfc3339(p.created_at)
                  << "  " << p.name << "\n";
      }
    }
    if (json) std::cout << boost::json::serialize(boost::json::object{{"projects", arr}}) << "\n";
    return 0;
  }

  if (secret_create_cmd->parsed()) {
    auto opened = Open(secrets_store);
    if (!opened.ok()) return Fail(opened.status());
    auto created =
        CreateProjectSecret(*opened->store, SystemRandom(), secrets_project, SystemClock().Now());
    if (!created.ok()) return Fail(created.status());
    if (json) {
      std::cout << boost::json::serialize(boost::json::object{
                       {"project_id", secrets_project},
                       {"secret_id", created->record.secret_id},
                       {"secret", created->secret},
                       {"created_at", FormatRfc3339(created->record.created_at)}})
                << "\n";
    } else {
      std::cout << "secret_id: " << created->record.secret_id << "\n"
                << "secret:    " << created->secret << "\n"
                << "The secret is shown only now; Tessera keeps only its hash. Every secret of "
                   "the project works until it is deleted (`tessera secrets delete`).\n";
    }
    return 0;
  }

  if (secret_list_cmd->parsed()) {
    auto opened = Open(secrets_store);
    if (!opened.ok()) return Fail(opened.status());
    auto project = opened->store->GetProject(secrets_project);
    if (!project.ok()) return Fail(project.status());
    if (!*project) return Fail(Error(ErrorCode::kProjectNotFound, "no such project"));
    boost::json::array secrets;
    for (const ProjectSecret& secret : (*project)->secrets) {
      if (json) {
        secrets.push_back(boost::json::object{{"secret_id", secret.secret_id},
                                              {"created_at", FormatRfc3339(secret.created_at)}});
      } else {
        std::cout << secret.secret_id << "  " << FormatRfc3339(secret.created_at) << "\n";
      }
    }
    if (json) {
      std::cout << boost::json::serialize(
                       boost::json::object{{"project_id", secrets_project}, {"secrets", secrets}})
                << "\n";
    }
    return 0;
  }

  if (secret_delete_cmd->parsed()) {
    auto opened = Open(secrets_store);
    if (!opened.ok()) return Fail(opened.status());
    if (Status s = opened->store->DeleteSecret(secrets_project, secret_id); !s.ok()) {
      return Fail(s);
    }
    std::cout << "deleted " << secret_id << "\n";
    return 0;
  }

  if (import_cmd->parsed()) {
    auto opened = Open(users_store, import_cache_mib * 1024);
    if (!opened.ok()) return Fail(opened.status());
    std::FILE* in = stdin;
    std::int64_t size = 0;
    if (import_file != "-") {
      in = std::fopen(import_file.c_str(), "rb");
      if (in == nullptr) {
        return Fail(Error(ErrorCode::kInvalidArgument, "cannot open " + import_file));
      }
      if (std::fseek(in, 0, SEEK_END) == 0) size = std::ftell(in);
      std::rewind(in);
    }
    std::FILE* report = nullptr;
    if (!import_report.empty()) {
      report = std::fopen(import_report.c_str(), "w");
      if (report == nullptr) {
        return Fail(Error(ErrorCode::kInvalidArgument, "cannot write " + import_report));
      }
    }
    using P = tools::ImportOptions::Progress;
    import.progress = import_progress == "bar"     ? P::kBar
                      : import_progress == "lines" ? P::kLines
                      : import_progress == "off"   ? P::kOff
                                                   : P::kAuto;
    auto summary = tools::ImportUsers(*opened->store, in, size, import, SystemRandom(),
                                      SystemClock(), stderr, report, stderr);
    if (in != stdin) std::fclose(in);
    if (report != nullptr && std::fclose(report) != 0) {
      return Fail(Error(ErrorCode::kInvalidArgument, "writing " + import_report + " failed"));
    }
    if (!summary.ok()) return Fail(summary.status());
    std::printf("%s\n", boost::json::serialize(boost::json::object{{"lines", summary->lines},
                                                                   {"created", summary->created},
                                                                   {"attached", summary->attached},
                                                                   {"skipped", summary->skipped},
                                                                   {"refused", summary->refused}})
                            .c_str());
    return summary->complete() ? 0 : 1;
  }

  if (origin_add_cmd->parsed()) {
    auto normalized = NormalizeSdkOrigin(origin);
    if (!normalized.ok()) return Fail(normalized.status());
    auto opened = Open(origins_store);
    if (!opened.ok()) return Fail(opened.status());
    const SdkOrigin record{*normalized, std::chrono::floor<Seconds>(SystemClock().Now())};
    if (Status s = opened->store->AddSdkOrigin(origins_project, record); !s.ok()) return Fail(s);
    std::cout << "allowed " << *normalized << "\n";
    return 0;
  }

  if (origin_list_cmd->parsed()) {
    auto opened = Open(origins_store);
    if (!opened.ok()) return Fail(opened.status());
    auto project = opened->store->GetProject(origins_project);
    if (!project.ok()) return Fail(project.status());
    if (!*project) return Fail(Error(ErrorCode::kProjectNotFound, "no such project"));
    auto origins = opened->store->ListSdkOrigins(origins_project);
    if (!origins.ok()) return Fail(origins.status());
    boost::json::array arr;
    for (const SdkOrigin& o : *origins) {
      if (json) {
        arr.push_back(
            boost::json::object{{"origin", o.origin}, {"created_at", FormatRfc3339(o.created_at)}});
      } else {
        std::cout << o.origin << "  " << FormatRfc3339(o.created_at) << "\n";
      }
    }
    if (json) {
      std::cout << boost::json::serialize(
                       boost::json::object{{"project_id", origins_project},
                                           {"public_token", (*project)->public_token},
                                           {"origins", arr}})
                << "\n";
    }
    return 0;
  }

  if (origin_remove_cmd->parsed()) {
    // Normalized as `add` stored it; a value that is not an origin is removed as given, so a
    // stored row can always be named.
    auto normalized = NormalizeSdkOrigin(origin);
    const std::string stored = normalized.ok() ? *normalized : origin;
    auto opened = Open(origins_store);
    if (!opened.ok()) return Fail(opened.status());
    if (Status s = opened->store->RemoveSdkOrigin(origins_project, stored); !s.ok()) {
      return Fail(s);
    }
    std::cout << "removed " << stored << "\n";
    return 0;
  }

  if (rotate_cmd->parsed()) {
    auto opened = Open(keys_store);
    if (!opened.ok()) return Fail(opened.status());
    const TimePoint now = SystemClock().Now();
    auto ring = RotateProjectKeys(*opened->store, *opened->key, SystemRandom(), project_id, now);
    if (!ring.ok()) return Fail(ring.status());
    const KeyRecord* active = ring->Active();
    if (json) {
      boost::json::array keys;
      for (const auto& r : ring->records()) keys.push_back(KeyJson(r, *ring, now));
      std::cout << boost::json::serialize(
                       boost::json::object{{"project_id", project_id},
                                           {"active_kid", active ? active->kid : ""},
                                           {"keys", keys}})
                << "\n";
    } else {
      std::cout << "active key: " << (active ? active->kid : "(none)") << "\n";
    }
    return 0;
  }

  if (keys_list_cmd->parsed()) {
    auto opened = Open(keys_store);
    if (!opened.ok()) return Fail(opened.status());
    std::vector<std::string> ids;
    if (!project_id.empty()) {
      ids.push_back(project_id);
    } else {
      auto list = opened->store->ListProjects();
      if (!list.ok()) return Fail(list.status());
      for (const auto& p : *list) ids.push_back(p.project_id);
    }
    const TimePoint now = SystemClock().Now();
    boost::json::array keys;
    for (const auto& id : ids) {
      auto records = opened->store->ListKeys(id);
      if (!records.ok()) return Fail(records.status());
      KeyRing ring(std::move(*records));
      for (const auto& r : ring.records()) {
        if (json) {
          keys.push_back(KeyJson(r, ring, now));
        } else {
          std::cout << r.kid << "  " << AlgorithmName(r.alg) << "  " << KeyStateName(r.state)
                    << (ring.IsPublished(r, now) ? "  published" : "  unpublished") << "  "
                    << r.project_id << "\n";
        }
      }
    }
    if (json) std::cout << boost::json::serialize(boost::json::object{{"keys", keys}}) << "\n";
    return 0;
  }

  if (redirect_add_cmd->parsed()) {
    if (!IsValidRedirectUrl(redirect_url)) {
      return Fail(Error(ErrorCode::kInvalidArgument,
                        "--url must be an absolute URL (scheme:..., printable ASCII, no spaces)"));
    }
    auto opened = Open(redirect_store);
    if (!opened.ok()) return Fail(opened.status());
    const RedirectUrl url{redirect_project, *RedirectUrlTypeFromName(redirect_type), redirect_url,
                          redirect_default, SystemClock().Now()};
    if (Status s = opened->store->AddRedirectUrl(url); !s.ok()) return Fail(s);
    std::cout << "added " << redirect_type << " " << redirect_url
              << (redirect_default ? " (default)" : "") << "\n";
    return 0;
  }

  if (redirect_list_cmd->parsed()) {
    auto opened = Open(redirect_store);
    if (!opened.ok()) return Fail(opened.status());
    auto project = opened->store->GetProject(redirect_project);
    if (!project.ok()) return Fail(project.status());
    if (!*project) return Fail(Error(ErrorCode::kProjectNotFound, "no such project"));
    auto urls = opened->store->ListRedirectUrls(redirect_project);
    if (!urls.ok()) return Fail(urls.status());
    boost::json::array arr;
    for (const RedirectUrl& u : *urls) {
      if (json) {
        arr.push_back(boost::json::object{{"type", RedirectUrlTypeName(u.type)},
                                          {"url", u.url},
                                          {"default", u.is_default},
                                          {"created_at", FormatRfc3339(u.created_at)}});
      } else {
        std::cout << RedirectUrlTypeName(u.type) << "  " << u.url
                  << (u.is_default ? "  (default)" : "") << "\n";
      }
    }
    if (json) {
      std::cout << boost::json::serialize(boost::json::object{{"project_id", redirect_project},
                                                              {"redirect_urls", arr}})
                << "\n";
    }
    return 0;
  }

  if (redirect_remove_cmd->parsed()) {
    auto opened = Open(redirect_store);
    if (!opened.ok()) return Fail(opened.status());
    if (Status s = opened->store->RemoveRedirectUrl(
            redirect_project, *RedirectUrlTypeFromName(redirect_type), redirect_url);
        !s.ok()) {
      return Fail(s);
    }
    std::cout << "removed " << redirect_type << " " << redirect_url << "\n";
    return 0;
  }

  if (retire_cmd->parsed()) {
    auto opened = Open(keys_store);
    if (!opened.ok()) return Fail(opened.status());
    auto ring = RetireProjectKey(*opened->store, project_id, kid, SystemClock().Now());
    if (!ring.ok()) return Fail(ring.status());
    std::cout << "retired " << kid << "\n";
    return 0;
  }
  return 0;
}
