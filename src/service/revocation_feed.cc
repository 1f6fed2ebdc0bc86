#include "service/revocation_feed.h"

#include <algorithm>

namespace tessera {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Entries read per store round trip; a longer log is read in several.
constexpr int kReadLimit = 10000;

}  // namespace

RevocationState RevocationView::After(std::int64_t after, SteadyClock::time_point now,
                                      std::size_t limit) const {
  RevocationState s;
  std::lock_guard lock(mu_);
  s.head = head_;
  s.first_kept = first_kept_;
  s.caught_up_once = caught_up_at_.has_value();
  if (caught_up_at_) {
    s.lag = std::chrono::duration_cast<std::chrono::milliseconds>(now - *caught_up_at_);
  }
  auto it =
      std::upper_bound(entries_.begin(), entries_.end(), after,
                       [](std::int64_t a, const RevocationEntry& e) { return a < e.sequence; });
  for (; it != entries_.end() && s.entries.size() < limit; ++it) s.entries.push_back(*it);
  return s;
}

RevocationState RevocationView::Relevant(TimePoint now, SteadyClock::time_point steady_now,
                                         Seconds jwt_lifetime, Seconds max_tolerance) const {
  RevocationState s;
  std::lock_guard lock(mu_);
  s.head = head_;
  s.first_kept = first_kept_;
  s.caught_up_once = caught_up_at_.has_value();
  if (caught_up_at_) {
    s.lag = std::chrono::duration_cast<std::chrono::milliseconds>(steady_now - *caught_up_at_);
  }
  for (const RevocationEntry& e : entries_) {
    if (e.revoked_at + jwt_lifetime + max_tolerance > now) s.entries.push_back(e);
  }
  return s;
}

void RevocationView::Watch(std::weak_ptr<void> token, std::function<void()> wake) const {
  std::lock_guard lock(mu_);
  watchers_.push_back({std::move(token), std::move(wake)});
  last_watched_ = SteadyClock::now();
}

std::vector<std::function<void()>> RevocationView::Apply(const RevocationBatch& batch,
                                                         SteadyClock::time_point read_started,
                                                         TimePoint now, Seconds retention) {
  std::vector<std::function<void()>> wakes;
  std::lock_guard lock(mu_);
  const bool grew = !batch.entries.empty();
  if (batch.first_kept > head_ + 1) {
    // Pruned past what this view holds (it was away longer than the retention): start over.
    entries_.clear();
  }
  for (const RevocationEntry& e : batch.entries) {
    if (e.sequence <= head_) continue;  // Already held (a racing read).
    entries_.push_back(e);
    head_ = e.sequence;
  }
  head_ = std::max(head_, batch.head);
  // Forget what no verifier needs any more.
  while (!entries_.empty() && entries_.front().revoked_at + retention < now) entries_.pop_front();
  first_kept_ = entries_.empty() ? head_ + 1 : entries_.front().sequence;
  if (batch.entries.size() < static_cast<std::size_t>(kReadLimit)) {
    // Everything the store had when the read started is here.
    if (!caught_up_at_ || read_started > *caught_up_at_) caught_up_at_ = read_started;
  }
  std::erase_if(watchers_, [](const Watcher& w) { return w.token.expired(); });
  if (!watchers_.empty()) last_watched_ = read_started;
  if (grew) {
    for (const Watcher& w : watchers_) wakes.push_back(w.wake);
  }
  return wakes;
}

bool RevocationView::Unwatched(SteadyClock::time_point now, std::chrono::seconds idle) const {
  std::lock_guard lock(mu_);
  std::erase_if(watchers_, [](const Watcher& w) { return w.token.expired(); });
  return watchers_.empty() && now - last_watched_ > idle;
}

RevocationFeed::RevocationFeed(SessionStore& store, const Clock& clock,
                               RevocationFeedOptions options)
    : store_(store), clock_(clock), options_(options) {}

RevocationFeed::~RevocationFeed() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RevocationFeed::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Run(); });
}

std::shared_ptr<const RevocationView> RevocationFeed::Followed(std::string_view project_id) const {
  std::shared_ptr<const RevocationView> view;
  {
    std::lock_guard lock(mu_);
    const auto it = views_.find(project_id);
    if (it == views_.end()) return nullptr;
    view = it->second;
  }
  // Counts as watched from now: a view handed out is not dropped as idle before its caller has
  // had the time to Watch it.
  std::lock_guard lock(view->mu_);
  view->last_watched_ = SteadyClock::now();
  return view;
}

Result<std::shared_ptr<const RevocationView>> RevocationFeed::Follow(std::string_view project_id) {
  if (auto view = Followed(project_id)) return view;  // (Followed marks it watched.)
  auto view = std::make_shared<RevocationView>(std::string(project_id));
  {
    std::lock_guard lock(view->mu_);
    view->last_watched_ = SteadyClock::now();
  }
  TESSERA_RETURN_IF_ERROR(Refresh(*view));
  std::lock_guard lock(mu_);
  // Another caller may have followed it meanwhile: keep theirs, it is as fresh.
  auto [it, added] = views_.emplace(std::string(project_id), view);
  return std::shared_ptr<const RevocationView>(it->second);
}

void RevocationFeed::Wake(std::string_view project_id) {
  {
    std::lock_guard lock(mu_);
    if (views_.find(project_id) == views_.end()) return;  // Nobody follows it here.
    woken_.insert_or_assign(std::string(project_id), true);
  }
  cv_.notify_all();
}

Status RevocationFeed::Refresh(RevocationView& view) {
  for (;;) {
    std::int64_t after;
    {
      std::lock_guard lock(view.mu_);
      after = view.head_;
    }
    const auto started = SteadyClock::now();
    TESSERA_ASSIGN_OR_RETURN(RevocationBatch batch,
                             store_.ReadRevocations(view.project_id(), after, kReadLimit));
    if (batch.first_kept > after + 1 && after > 0) {
      // Entries between what the view holds and what the store keeps were pruned (the view
      // was cut off longer than the retention): read from the first kept one.
      TESSERA_ASSIGN_OR_RETURN(
          batch, store_.ReadRevocations(view.project_id(), batch.first_kept - 1, kReadLimit));
    }
    const bool full = batch.entries.size() == static_cast<std::size_t>(kReadLimit);
    for (auto& wake : view.Apply(batch, started, clock_.Now(), options_.retention)) wake();
    if (!full) return Status::Ok();
  }
}

Status RevocationFeed::PollOnce() {
  std::vector<std::shared_ptr<RevocationView>> views;
  {
    std::lock_guard lock(mu_);
    woken_.clear();
    for (const auto& [id, view] : views_) views.push_back(view);
  }
  Status first;
  const auto now = SteadyClock::now();
  std::vector<std::string> idle;
  for (const auto& view : views) {
    if (Status s = Refresh(*view); !s.ok() && first.ok()) first = s;
    if (view->Unwatched(now, options_.idle_drop)) idle.push_back(view->project_id());
  }
  if (!idle.empty()) {
    std::lock_guard lock(mu_);
    for (const auto& id : idle) {
      const auto it = views_.find(id);
      if (it != views_.end() && it->second->Unwatched(now, options_.idle_drop)) views_.erase(it);
    }
  }
  return first;
}

void RevocationFeed::Run() {
  std::unique_lock lock(mu_);
  auto next = SteadyClock::now();
  while (!stop_) {
    cv_.wait_until(lock, next, [&] { return stop_ || !woken_.empty(); });
    if (stop_) break;
    lock.unlock();
    // Errors show as lag (the views' caught-up time stops moving): no log line per 100 ms.
    PollOnce().IgnoreError();
    lock.lock();
    next = SteadyClock::now() + options_.poll_interval;
  }
}

Status RevocationFeed::Prune() {
  return store_.PruneRevocations(clock_.Now() - options_.retention).status();
}

}  // namespace tessera
