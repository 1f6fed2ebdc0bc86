#include "service/email/email_sender.h"

#include <algorithm>

#include "service/ids.h"

namespace tessera {

// A failed attempt's log line names the message and the failure, never its content.
void EmailSender::LogFailure(std::string_view what, std::string_view message_id,
                             const Status& s) const {
  if (options_.log) options_.log(what, message_id, s.ToString());
}

Status ValidateEmailSenderOptions(const EmailSenderOptions& o) {
  if (o.poll_interval.count() < 10 || o.poll_interval.count() > 60000) {
    return Error(ErrorCode::kInvalidArgument, "--outbox-poll-ms must be 10..60000");
  }
  if (o.retry_base.count() < 1 || o.retry_max < o.retry_base || o.retry_max.count() > 86400) {
    return Error(
        ErrorCode::kInvalidArgument,
        "--smtp-retry-base-seconds must be at least 1 and at most --smtp-retry-max-seconds "
        "(at most 86400)");
  }
  if (o.lease.count() < 10)
    return Error(ErrorCode::kInvalidArgument, "the outbox lease is >= 10 s");
  if (o.batch < 1 || o.batch > 1000) return Error(ErrorCode::kInvalidArgument, "batch 1..1000");
  return Status::Ok();
}

EmailSender::EmailSender(SessionStore& store, const MasterKey& key, const Clock& clock,
                         RandomSource& random, std::unique_ptr<MailTransport> transport,
                         EmailSenderOptions options)
    : store_(store),
      key_(key),
      clock_(clock),
      random_(random),
      transport_(std::move(transport)),
      options_(std::move(options)) {}

EmailSender::~EmailSender() { Stop(); }

void EmailSender::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void EmailSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EmailSender::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void EmailSender::Loop() {
  using Steady = std::chrono::steady_clock;
  auto next_stats = Steady::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    int claimed = 0;
    if (transport_ != nullptr) claimed = DeliverBatch();
    if (Steady::now() >= next_stats) {
      RefreshStats();
      next_stats = Steady::now() + std::chrono::seconds(2);
    }
    lock.lock();
    // A full batch may mean more are due: go again at once.
    if (claimed >= options_.batch) continue;
    cv_.wait_for(lock, options_.poll_interval, [&] { return stop_ || woken_; });
    woken_ = false;
  }
}

int EmailSender::DeliverBatch() {
  auto claim_id = NewId("claim", false, random_);
  if (!claim_id.ok()) return 0;
  auto batch = store_.ClaimOutbox(clock_.Now(), options_.lease, options_.batch, *claim_id);
  if (!batch.ok()) {
    LogFailure("outbox claim failed; will retry", "", batch.status());
    return 0;
  }
  for (const OutboxMessage& m : *batch) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;  // Unsent claims are taken again when their lease ends.
    }
    Deliver(m, *claim_id);
  }
  return static_cast<int>(batch->size());
}

void EmailSender::Deliver(const OutboxMessage& m, const std::string& claim_id) {
  const TimePoint now = clock_.Now();
  if (now >= m.expires_at) {
    // What the message carries is dead: delivering it now would only confuse its reader.
    auto r = store_.AbandonOutbox(m.message_id, claim_id,
                                  m.last_error.empty() ? "expired before delivery" : m.last_error);
    if (r.ok() && *r) abandoned_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Status s;
  auto mail = OpenMail(key_, m);
  if (!mail.ok()) {
    s = mail.status();
  } else {
    const std::string mime = BuildMime(options_.from, *mail, m.message_id, now);
    s = transport_->Send(options_.from, mail->to, mime, m.message_id);
  }
  if (s.ok()) {
    auto done = store_.CompleteOutbox(m.message_id, claim_id);
    if (done.ok()) {
      sent_.fetch_add(1, std::memory_order_relaxed);
    } else {
      // Delivered, but the row stays: after the lease it may be sent a second time. The one case
      // where the outbox delivers twice (docs/email.md).
      LogFailure("delivered, but the outbox could not record it", m.message_id, done.status());
    }
    return;
  }
  failures_.fetch_add(1, std::memory_order_relaxed);
  LogFailure("email delivery failed; will retry", m.message_id, s);
  std::int64_t wait = options_.retry_base.count();
  for (int i = 0; i < m.attempts && wait < options_.retry_max.count(); ++i) wait *= 2;
  wait = std::min<std::int64_t>(wait, options_.retry_max.count());
  auto r = store_.RetryOutbox(m.message_id, claim_id, now + Seconds(wait), s.ToString());
  if (!r.ok()) LogFailure("outbox retry could not be recorded", m.message_id, r.status());
}

void EmailSender::RefreshStats() {
  auto stats = store_.GetOutboxStats();
  if (!stats.ok()) return;
  pending_.store(stats->pending, std::memory_order_relaxed);
  failed_.store(stats->failed, std::memory_order_relaxed);
  double oldest = 0;
  if (stats->oldest_pending) {
    oldest =
        std::max(0.0, std::chrono::duration<double>(clock_.Now() - *stats->oldest_pending).count());
  }
  oldest_.store(oldest, std::memory_order_relaxed);
}

}  // namespace tessera
