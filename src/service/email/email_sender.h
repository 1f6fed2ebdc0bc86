// The outbox's background sender: claims due messages (a lease, so several nodes never hold the
// same message), delivers each through the transport, and on failure retries it with exponential
// backoff until its token expires (docs/email.md, "The outbox").
#ifndef TESSERA_SERVICE_EMAIL_EMAIL_SENDER_H_
#define TESSERA_SERVICE_EMAIL_EMAIL_SENDER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "service/email/mail.h"
#include "tessera/clock.h"
#include "tessera/crypto/master_key.h"
#include "tessera/random.h"
#include "tessera/store/store.h"

namespace tessera {

struct EmailSenderOptions {
  Mailbox from{"Tessera", "tessera@localhost"};   // Default: Tessera <tessera@localhost>.
  std::chrono::milliseconds poll_interval{1000};  // Looks for due messages. Default: 1 s.
  Seconds lease{300};      // A claim lasts this long; must exceed the SMTP timeout. Default: 300 s.
  int batch = 20;          // Messages claimed at once. Default: 20.
  Seconds retry_base{2};   // First retry after this, doubling per attempt. Default: 2 s.
  Seconds retry_max{300};  // Longest wait between attempts. Default: 300 s.
  // Where warnings go (what happened, the message id, the error); never given a message's content.
  std::function<void(std::string_view what, std::string_view message_id, std::string_view error)>
      log;
};

// Validated once at start-up. kInvalidArgument naming the option.
Status ValidateEmailSenderOptions(const EmailSenderOptions& options);

class EmailSender {
 public:
  // `transport` null: this node delivers nothing (messages wait for a node that does); the
  // sender only keeps the outbox statistics current. Everything must outlive the sender.
  EmailSender(SessionStore& store, const MasterKey& key, const Clock& clock, RandomSource& random,
              std::unique_ptr<MailTransport> transport, EmailSenderOptions options);
  ~EmailSender();

  void Start();
  // Finishes the message in hand, then stops. Idempotent.
  void Stop();
  // Looks for due messages now (a message was just queued on this node).
  void Wake();

  // Counters for /metrics.
  std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  std::uint64_t attempt_failures() const { return failures_.load(std::memory_order_relaxed); }
  std::uint64_t abandoned() const { return abandoned_.load(std::memory_order_relaxed); }
  // The outbox as last read (every few seconds).
  std::int64_t pending() const { return pending_.load(std::memory_order_relaxed); }
  std::int64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  double oldest_pending_seconds() const { return oldest_.load(std::memory_order_relaxed); }
  bool delivering() const { return transport_ != nullptr; }

 private:
  void Loop();
  // Claims and delivers one batch. Returns how many it claimed.
  int DeliverBatch();
  void Deliver(const OutboxMessage& m, const std::string& claim_id);
  void RefreshStats();
  void LogFailure(std::string_view what, std::string_view message_id, const Status& s) const;

  SessionStore& store_;
  const MasterKey& key_;
  const Clock& clock_;
  RandomSource& random_;
  std::unique_ptr<MailTransport> transport_;
  const EmailSenderOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // GUARDED_BY(mu_)
  bool woken_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;

  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> abandoned_{0};
  std::atomic<std::int64_t> pending_{0};
  std::atomic<std::int64_t> failed_{0};
  std::atomic<double> oldest_{0};
};

}  // namespace tessera

#endif  // TESSERA_SERVICE_EMAIL_EMAIL_SENDER_H_
