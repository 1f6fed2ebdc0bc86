// Revocation latency: how long after a revoke is sent do SDKs that verify JWTs locally refuse the
// session's JWT, and what a revoke's round trip costs.
//
//   bench/revocation_latency.sh    (starts the servers, creates the project, runs this, stops all)
//
// Two subcommands, both configured by the environment (TESSERA_BENCH_PROJECT_ID,
// TESSERA_BENCH_SECRET), so no secret appears on a command line:
//
//   revocation_latency create --url URL --count N --prefix P --out FILE
//       signs N users up with a password (POST /v1/passwords, one session each) from 4 threads and
//       writes "session_id session_jwt" lines to FILE.
//
//   revocation_latency run --sessions FILE [--skip K] --revocations N --rate R --revoke-url URL
//       [--feed-url URL] [--verifiers V] [--senders S] [--seed X] [--label TEXT]
//       [--rtt-out FILE] [--latency-out FILE]
//       revokes N of the sessions (from line K on) by session_id on an open-loop schedule whose
//       gaps are exponential with mean 1/R seconds (a Poisson process): a dispatcher hands each
//       revocation at its scheduled time to one of S sender threads (one connection each), which
//       sends it whether or not earlier revokes have returned. V verifier threads, each with its
//       own tessera::client::Client following the feed at --feed-url, first check that every JWT
//       verifies locally, then probe every millisecond, with Sessions().AuthenticateJwtLocal, the
//       JWT of every session whose revoke was sent and that this verifier has not yet refused.
//       Latency = the first kSessionRevoked answer - the time the revoke was sent, both read from
//       std::chrono::steady_clock in this process; one sample per (revocation, verifier). A local
//       acceptance more than 1 s after the revoke was sent is counted (it must never happen);
//       so is, from a probe every 10 ms of the sessions whose revoke is not sent yet, a refusal
//       before the revoke was sent (nor must that).
//       With --verifiers 0 only the revokes' round trips are measured.
//
// Prints a Markdown table and "RESULT key=value" lines for the script; --rtt-out and
// --latency-out write the raw samples in milliseconds, one a line.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tessera/client/client.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace client = tessera::client;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "revocation_latency: %s\n", what.c_str());
  std::exit(1);
}

// Concatenation by append (GCC 12 warns falsely, -Wrestrict, on "a" + std::string + ...).
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string s;
  (s.append(parts), ...);
  return s;
}

std::string Describe(const client::Error& e) { return Cat(e.error_type, ": ", e.error_message); }

std::string EnvOrDie(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    std::string what = name;
    what.append(" is not set");
    Die(what);
  }
  return v;
}

// --name value pairs; every value a string, read by the subcommand that needs it.
struct Args {
  std::vector<std::pair<std::string, std::string>> kv;

  const std::string* Find(const std::string& name) const {
    for (const auto& [k, v] : kv) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  std::string Get(const std::string& name, const std::string& fallback) const {
    const std::string* v = Find(name);
    return v != nullptr ? *v : fallback;
  }
  std::string Require(const std::string& name) const {
    const std::string* v = Find(name);
    if (v == nullptr) {
      std::string what = "missing --";
      what.append(name);
      Die(what);
    }
    return *v;
  }
  long Long(const std::string& name, long fallback) const {
    const std::string* v = Find(name);
    if (v == nullptr) return fallback;
    char* end = nullptr;
    const long n = std::strtol(v->c_str(), &end, 10);
    if (end == v->c_str() || *end != '\0' || n < 0) {
      std::string what = "--";
      what.append(name);
      what.append(" wants a non-negative integer");
      Die(what);
    }
    return n;
  }
  double Double(const std::string& name, double fallback) const {
    const std::string* v = Find(name);
    if (v == nullptr) return fallback;
    char* end = nullptr;
    const double d = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || *end != '\0' || !(d > 0)) {
      std::string what = "--";
      what.append(name);
      what.append(" wants a positive number");
      Die(what);
    }
    return d;
  }
};

Args Parse(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; i += 2) {
    std::string k = argv[i];
    if (!k.starts_with("--") || i + 1 >= argc) {
      std::string what = "bad argument: ";
      what.append(k);
      Die(what);
    }
    a.kv.emplace_back(k.substr(2), argv[i + 1]);
  }
  return a;
}

client::ClientOptions BaseOptions(const std::string& url) {
  client::ClientOptions o;
  o.project_id = EnvOrDie("TESSERA_BENCH_PROJECT_ID");
  o.secret = EnvOrDie("TESSERA_BENCH_SECRET");
  o.base_url = url;
  o.revocation_feed = false;
  return o;
}

std::unique_ptr<client::Client> MakeClient(client::ClientOptions o) {
  auto c = client::Client::Create(std::move(o));
  if (!c.ok()) Die(Cat("Client::Create: ", Describe(c.error())));
  return std::move(*c);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Nearest-rank percentile of sorted samples.
double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

void WriteSamples(const std::string& path, const std::vector<double>& samples) {
  if (path.empty()) return;
  std::ofstream out(path);
  char line[64];
  for (double s : samples) {
    std::snprintf(line, sizeof line, "%.3f\n", s);
    out << line;
  }
  if (!out) Die(Cat("cannot write ", path));
}

// --- create --------------------------------------------------------------------------------------

int Create(const Args& args) {
  const std::string url = args.Require("url");
  const long count = args.Long("count", 1000);
  const std::string prefix = args.Require("prefix");
  const std::string out_path = args.Require("out");
  auto c = MakeClient(BaseOptions(url));
  std::vector<std::string> lines(static_cast<std::size_t>(count));
  std::atomic<long> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (long i = next++; i < count; i = next++) {
        client::PasswordRequest r;
        r.email = prefix;
        r.email.append("-");
        r.email.append(std::to_string(i));
        r.email.append("@example.com");
        r.password = "correct-Horse-battery-staple-91-Quokka";
        r.session_duration_minutes = 60;
        auto p = c->Passwords().Create(r);
        if (!p.ok()) Die(Cat("POST /v1/passwords: ", Describe(p.error())));
        std::string line = p->session->session_id;
        line.append(" ");
        line.append(p->session_jwt);
        lines[static_cast<std::size_t>(i)] = std::move(line);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::ofstream out(out_path);
  for (const auto& l : lines) out << l << '\n';
  if (!out) Die(Cat("cannot write ", out_path));
  return 0;
}

// --- run -----------------------------------------------------------------------------------------

struct Revocation {
  std::string session_id;
  std::string jwt;
  Clock::time_point scheduled;
  // Steady-clock nanoseconds when the revoke was sent; 0 until then. Written by a sender, read by
  // the verifiers.
  std::atomic<std::int64_t> sent_ns{0};
  Clock::time_point sent;  // Written by the sender before sent_ns; read only after the run.
  double rtt_ms = -1;      // -1: failed.
};

std::int64_t Ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

struct VerifierResult {
  std::vector<double> latencies_ms;  // One per revocation refused.
  long late_acceptances = 0;         // Accepted locally > 1 s after the revoke was sent.
  long early_refusals = 0;           // kSessionRevoked before the revoke was sent.
  long stale = 0;                    // kFeedStale answers to probes.
  long other_errors = 0;
  long never_refused = 0;
  client::ClientStats stats;
};

int Run(const Args& args) {
  const std::string sessions_path = args.Require("sessions");
  const long skip = args.Long("skip", 0);
  const long n = args.Long("revocations", 1000);
  const double rate = args.Double("rate", 50);
  const std::string revoke_url = args.Require("revoke-url");
  const long verifiers = args.Long("verifiers", 2);
  const std::string feed_url = verifiers > 0 ? args.Require("feed-url") : "";
  const long senders = std::max(1L, args.Long("senders", 8));
  const long seed = args.Long("seed", 1);
  const std::string label = args.Get("label", "run");
  if (n < 1) Die("--revocations must be at least 1");

  // Sessions.
  std::vector<Revocation> revs(static_cast<std::size_t>(n));
  {
    std::ifstream in(sessions_path);
    std::string id, jwt;
    for (long i = 0; i < skip && (in >> id >> jwt); ++i) {
    }
    for (auto& r : revs) {
      if (!(in >> r.session_id >> r.jwt)) Die(Cat("not enough sessions in ", sessions_path));
    }
  }

  // Verifiers: each follows the feed and must accept every JWT locally before the run starts, so
  // that a refusal afterwards can only be the revocation.
  std::vector<std::unique_ptr<client::Client>> vclients;
  for (long v = 0; v < verifiers; ++v) {
    auto o = BaseOptions(feed_url);
    o.revocation_feed = true;
    o.verified_cache_capacity = static_cast<std::size_t>(n) + 16;
    vclients.push_back(MakeClient(std::move(o)));
  }
  for (auto& vc : vclients) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (auto& r : revs) {
      for (;;) {
        auto a = vc->Sessions().AuthenticateJwtLocal(r.jwt);
        if (a.ok()) break;
        const bool retry = a.error().kind == client::ErrorKind::kFeedStale ||
                           a.error().kind == client::ErrorKind::kJwksUnavailable;
        if (!retry || Clock::now() > deadline) {
          Die(Cat("a JWT is not accepted locally before the run: ", Describe(a.error())));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

  // The schedule: a Poisson process from 200 ms from now.
  std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
  std::exponential_distribution<double> gap(rate);
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(200);
  double at = 0;
  for (auto& r : revs) {
    at += gap(rng);
    r.scheduled =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at));
  }

  std::atomic<bool> stop_verifiers{false};
  // (revocation, verifier) pairs not yet refused.
  std::atomic<long> outstanding{n * verifiers};
  std::vector<VerifierResult> vresults(static_cast<std::size_t>(verifiers));
  std::vector<std::thread> vthreads;
  for (long v = 0; v < verifiers; ++v) {
    vthreads.emplace_back([&, v] {
      auto& c = *vclients[static_cast<std::size_t>(v)];
      auto& res = vresults[static_cast<std::size_t>(v)];
      std::size_t cursor = 0;            // Revocations before it were taken into `pending`.
      std::vector<std::size_t> pending;  // Sent, not yet refused by this verifier.
      auto tick = Clock::now();
      long ticks = 0;
      while (!stop_verifiers.load(std::memory_order_relaxed)) {
        // Take in every revocation sent since the last tick; senders stamp them in about
        // schedule order, and one sent out of order is taken at the next tick at the latest.
        for (std::size_t i = cursor; i < revs.size(); ++i) {
          if (revs[i].sent_ns.load(std::memory_order_acquire) == 0) break;
          pending.push_back(i);
          cursor = i + 1;
        }
        for (std::size_t k = 0; k < pending.size();) {
          Revocation& r = revs[pending[k]];
          auto a = c.Sessions().AuthenticateJwtLocal(r.jwt);
          const auto now = Clock::now();
          const std::int64_t since = Ns(now) - r.sent_ns.load(std::memory_order_acquire);
          if (!a.ok() && a.error().kind == client::ErrorKind::kSessionRevoked) {
            res.latencies_ms.push_back(static_cast<double>(since) / 1e6);
            pending[k] = pending.back();
            pending.pop_back();
            --outstanding;
            continue;
          }
          if (a.ok()) {
            if (since > 1'000'000'000) ++res.late_acceptances;
          } else if (a.error().kind == client::ErrorKind::kFeedStale) {
            ++res.stale;
          } else {
            ++res.other_errors;
          }
          ++k;
        }
        // Every 10 ms, the sessions whose revoke is not sent yet: none may be refused. (Every
        // millisecond would cost each verifier about a tenth of a core with 1 000 of them.) A
        // revoke sent during the probe is told apart by reading the stamp again afterwards.
        if (ticks++ % 10 == 0) {
          for (std::size_t i = cursor; i < revs.size(); ++i) {
            if (revs[i].sent_ns.load(std::memory_order_acquire) != 0) continue;
            auto a = c.Sessions().AuthenticateJwtLocal(revs[i].jwt);
            if (a.ok()) continue;
            if (a.error().kind == client::ErrorKind::kSessionRevoked) {
              if (revs[i].sent_ns.load(std::memory_order_acquire) == 0) ++res.early_refusals;
            } else if (a.error().kind == client::ErrorKind::kFeedStale) {
              ++res.stale;
            } else {
              ++res.other_errors;
            }
          }
        }
        // Every millisecond; a late wake-up does not make the next probes come faster.
        tick = std::max(tick + std::chrono::milliseconds(1), Clock::now());
        std::this_thread::sleep_until(tick);
      }
      res.never_refused = static_cast<long>(pending.size() + (revs.size() - cursor));
      res.stats = c.stats();
    });
  }

  // Senders: open loop. The dispatcher hands each revocation over at its scheduled time; a free
  // sender stamps it and sends it. With enough senders none waits for an earlier answer.
  auto rc = MakeClient(BaseOptions(revoke_url));
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::size_t> queue;
  bool dispatch_done = false;
  std::atomic<long> failures{0};
  std::vector<std::thread> sthreads;
  for (long s = 0; s < senders; ++s) {
    sthreads.emplace_back([&] {
      for (;;) {
        std::size_t i;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return !queue.empty() || dispatch_done; });
          if (queue.empty()) return;
          i = queue.front();
          queue.pop_front();
        }
        Revocation& r = revs[i];
        client::RevokeRequest req;
        req.session_id = r.session_id;
        r.sent = Clock::now();
        r.sent_ns.store(Ns(r.sent), std::memory_order_release);
        auto res = rc->Sessions().Revoke(req);
        const auto done = Clock::now();
        if (res.ok()) {
          r.rtt_ms = Ms(done - r.sent);
        } else {
          ++failures;
          std::fprintf(stderr, "revoke failed: %s\n", Describe(res.error()).c_str());
        }
      }
    });
  }
  // The SDK's connection pool opens a connection on a sender's first revoke (a loopback connect,
  // a fraction of a millisecond, for the first `senders` revokes only).
  for (std::size_t i = 0; i < revs.size(); ++i) {
    std::this_thread::sleep_until(revs[i].scheduled);
    {
      std::lock_guard lock(mu);
      queue.push_back(i);
    }
    cv.notify_one();
  }
  {
    std::lock_guard lock(mu);
    dispatch_done = true;
  }
  cv.notify_all();
  for (auto& t : sthreads) t.join();

  // Verifiers get 5 s after the last send to refuse what they have not yet refused.
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  while (outstanding.load() > 0 && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop_verifiers.store(true);
  for (auto& t : vthreads) t.join();

  // Figures.
  std::vector<double> rtts, lags;
  for (auto& r : revs) {
    if (r.rtt_ms >= 0) rtts.push_back(r.rtt_ms);
    lags.push_back(Ms(r.sent - r.scheduled));
  }
  std::sort(rtts.begin(), rtts.end());
  std::sort(lags.begin(), lags.end());
  std::vector<double> lat;
  long late = 0, early = 0, stale = 0, other = 0, never = 0;
  for (auto& v : vresults) {
    lat.insert(lat.end(), v.latencies_ms.begin(), v.latencies_ms.end());
    late += v.late_acceptances;
    early += v.early_refusals;
    stale += v.stale;
    other += v.other_errors;
    never += v.never_refused;
  }
  std::sort(lat.begin(), lat.end());
  const double span_s =
      std::chrono::duration<double>(revs.back().scheduled - revs.front().scheduled).count();

  std::printf("\n### %s\n\n", label.c_str());
  std::printf(
      "%ld revocations in %.1f s (mean %.1f/s scheduled, Poisson), %ld sender threads, "
      "%ld verifier(s); sends behind schedule: p99 %.2f ms, max %.2f ms\n\n",
      n, span_s, rate, senders, verifiers, Percentile(lags, 0.99), lags.back());
  std::printf("| measured | N | p50 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|\n");
  if (verifiers > 0) {
    std::printf(
        "| revoke sent -> first local refusal (kSessionRevoked) | %zu | %.1f ms | %.1f ms "
        "| %.1f ms | %.1f ms |\n",
        lat.size(), Percentile(lat, 0.5), Percentile(lat, 0.99), Percentile(lat, 0.999),
        lat.empty() ? 0 : lat.back());
  }
  std::printf(
      "| POST /v1/sessions/revoke round trip | %zu | %.2f ms | %.2f ms | %.2f ms | %.2f ms "
      "|\n",
      rtts.size(), Percentile(rtts, 0.5), Percentile(rtts, 0.99), Percentile(rtts, 0.999),
      rtts.empty() ? 0 : rtts.back());
  std::printf("\nrevokes failed: %ld", failures.load());
  if (verifiers > 0) {
    std::printf(
        "; local acceptances > 1 s after the revoke was sent: **%ld**; refusals before the "
        "revoke was sent: **%ld**; never refused within 5 s of the last send: %ld; kFeedStale "
        "answers to probes: %ld; other errors: %ld",
        late, early, never, stale, other);
  }
  std::printf("\n");
  for (std::size_t v = 0; v < vresults.size(); ++v) {
    const auto& s = vresults[v].stats;
    std::printf(
        "verifier %zu: feed connections %llu, failures %llu, frames %llu, sequence %llu%s%s\n", v,
        static_cast<unsigned long long>(s.revocation_feed_connections),
        static_cast<unsigned long long>(s.revocation_feed_failures),
        static_cast<unsigned long long>(s.revocation_frames),
        static_cast<unsigned long long>(s.revocation_sequence),
        s.revocation_feed_last_error.empty() ? "" : "; last error: ",
        s.revocation_feed_last_error.c_str());
  }
  std::printf(
      "RESULT label=%s n=%zu p50=%.3f p99=%.3f p999=%.3f max=%.3f late=%ld early=%ld "
      "never=%ld stale=%ld other=%ld rtt_n=%zu rtt_p50=%.3f rtt_p99=%.3f failures=%ld "
      "lag_max=%.3f\n",
      label.c_str(), lat.size(), Percentile(lat, 0.5), Percentile(lat, 0.99),
      Percentile(lat, 0.999), lat.empty() ? 0 : lat.back(), late, early, never, stale, other,
      rtts.size(), Percentile(rtts, 0.5), Percentile(rtts, 0.99), failures.load(), lags.back());
  WriteSamples(args.Get("rtt-out", ""), rtts);
  WriteSamples(args.Get("latency-out", ""), lat);
  return failures.load() == 0 && late == 0 && early == 0 && never == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: revocation_latency create|run --name value ...");
  const std::string cmd = argv[1];
  const Args args = Parse(argc, argv, 2);
  if (cmd == "create") return Create(args);
  if (cmd == "run") return Run(args);
  Die(Cat("unknown subcommand ", cmd));
}
