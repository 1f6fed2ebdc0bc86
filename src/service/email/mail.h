// Email on the wire: the sealed form a message takes in the outbox, the MIME text it becomes, and
// the transports that deliver it (SMTP through libcurl, or a directory of .eml files).
#ifndef TESSERA_SERVICE_EMAIL_MAIL_H_
#define TESSERA_SERVICE_EMAIL_MAIL_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "service/email/email_templates.h"
#include "tessera/clock.h"
#include "tessera/crypto/master_key.h"
#include "tessera/random.h"
#include "tessera/result.h"
#include "tessera/store/outbox_store.h"

namespace tessera {

// A message as it waits in the outbox, before sealing.
struct MailContent {
  std::string to;  // The recipient's address.
  EmailContent content;
};

// The outbox record for `mail`: sealed under the master key (it carries a live token), bound to
// `message_id`.
Result<OutboxMessage> SealMail(const MasterKey& key, RandomSource& random, std::string message_id,
                               std::string project_id, const MailContent& mail, TimePoint now,
                               TimePoint expires_at);
// The message back. kDecryptionFailed under another master key or when tampered with.
Result<MailContent> OpenMail(const MasterKey& key, const OutboxMessage& message);

// "Name <address>" or a bare address. kInvalidArgument.
struct Mailbox {
  std::string display_name;  // "" for none.
  std::string address;
};
Result<Mailbox> ParseMailbox(std::string_view text);

// The RFC 5322 message: From, To, Subject (RFC 2047 when not ASCII), Date, Message-ID
// (<message_id@the From domain>), and a text part, or text and HTML parts
// (multipart/alternative). A part whose lines all fit is sent as 8bit, so a person reading the
// .eml can follow its link; any other part is base64.
std::string BuildMime(const Mailbox& from, const MailContent& mail, std::string_view message_id,
                      TimePoint date);

// Delivers one message. Implementations are thread-compatible: one sender thread uses each.
class MailTransport {
 public:
  virtual ~MailTransport() = default;
  // OK once the relay accepted the message (or the file is written). The error message is for
  // logs: it names the failure, never the message's content.
  virtual Status Send(const Mailbox& from, std::string_view to, std::string_view mime,
                      std::string_view message_id) = 0;
  // The destination for logs, without credentials ("smtp://host:587", "file:/dir").
  virtual std::string Describe() const = 0;
};

struct SmtpOptions {
  // STARTTLS on smtp:// URLs: "try" (when offered, the default), "required" or "never". smtps://
  // is TLS from the start whatever this says.
  std::string starttls = "try";
  std::chrono::seconds timeout{30};  // Whole exchange. Default: 30 s.
};

// `url`: smtp://[user:pass@]host:port, smtps://[user:pass@]host:port (libcurl), or file:DIR (each
// message written as DIR/<message id>.eml, mode 0600). kInvalidArgument for anything else.
Result<std::unique_ptr<MailTransport>> NewMailTransport(const std::string& url,
                                                        const SmtpOptions& options);

// Call once before any thread starts (libcurl's global state).
void InitMail();

}  // namespace tessera

#endif  // TESSERA_SERVICE_EMAIL_MAIL_H_
