// `tessera serve`: wires the store, the services and the HTTP server together and runs the
// background tasks (write-behind of last_accessed_at, key/config refresh, expired-session cleanup).
#ifndef TESSERA_SERVER_APP_H_
#define TESSERA_SERVER_APP_H_

#include <string>

#include "server/http_server.h"
#include "service/email/email_sender.h"
#include "service/email/email_sign_in.h"
#include "service/email/mail.h"
#include "service/password_hasher.h"
#include "service/revocation_feed.h"
#include "service/service_context.h"
#include "service/ssf.h"
#include "tessera/store/open_store.h"

namespace tessera::server {

struct ServeConfig {
  std::string database = "sqlite:./tessera.db";  // Default: sqlite:./tessera.db
  std::string master_key_file;                   // Default: see ResolveMasterKeyPath.
  std::string listen = "127.0.0.1:8080";         // Default: 127.0.0.1:8080
  std::string access_log = "stdout";             // stdout | stderr | off | <file>
  HttpServerOptions http;
  ServiceOptions service;
  Argon2Params argon2{.engine = Argon2Engine::kAuto};  // Default: 2 passes, 19 MiB, auto.
  StoreOptions store;
  RevocationFeedOptions revocations;
  SsfOptions ssf;
  // last_accessed_at touches are written at least this often. Default: 500 ms (the API promises
  // within 1 s).
  std::chrono::milliseconds touch_flush_interval{500};
  // How often the store is asked whether keys or settings changed (CLI rotation, other nodes).
  // Default: 1 s.
  std::chrono::milliseconds config_poll_interval{1000};
  // Email sign-in (docs/email.md). smtp_url: smtp://[user:pass@]host:port, smtps://..., or
  // file:DIR; "" delivers nothing from this node (messages wait in the outbox). Default: "".
  std::string smtp_url;
  std::string email_from = "Tessera <tessera@localhost>";  // Default: Tessera <tessera@localhost>
  std::string email_templates;  // A directory of replacement templates. Default: built-in only.
  SmtpOptions smtp;
  EmailSenderOptions email_sender;
  EmailSignInOptions email;
};

// Splits "host:port" ("[v6]:port" too). kInvalidArgument.
Status ParseListen(std::string_view listen, std::string& host, std::uint16_t& port);

// Runs the server until SIGTERM/SIGINT; returns the process exit code (0 after a clean drain).
int Serve(ServeConfig config);

}  // namespace tessera::server

#endif  // TESSERA_SERVER_APP_H_
