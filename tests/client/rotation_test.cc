// Key rotation under load: eight threads sign users in and verify every JWT they get back
// locally, while `tessera keys rotate` runs three times. Not one verification may fail.
//
// Why zero failures hold (docs/key_rotation.md):
//  * Publish before sign. A rotation activates the key that was already published as "next" by
//    the previous rotation (or at project creation), and the server loads the published set and
//    the signing key as one snapshot, once per poll (every 1 s). So the key that signs after
//    rotation N+1 was published at the poll that picked up rotation N; rotations spaced 1.5 s
//    apart (counted from the end of one CLI run to the start of the next) are picked up by
//    different polls, at least one poll interval (1 s) apart.
//  * The client refreshes its JWKS in the background every jwks_refresh_interval (1 s here), and
//    a JWT with a kid missing from its snapshot triggers a refetch, allowed once per
//    jwks_min_refetch_interval (1 s here). If the snapshot lacks the new signing key, the last
//    fetch was served before that key was published, hence more than one poll interval (>= 1 s)
//    before the JWT was minted: the refetch is allowed, and it returns the key.
//  * Keys that stop signing stay published for the JWT lifetime plus a margin, so JWTs signed
//    before a rotation keep verifying after it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "support.h"

namespace tessera::client::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

class RotationTest : public ServerTest {
 protected:
  // A fresh JWT on every authenticate: each loop iteration verifies newly minted bytes.
  std::vector<std::string> ServerArgs() const override { return {"--jwt-reuse-seconds", "0"}; }
};

TEST_F(RotationTest, ZeroFailedVerificationsAcrossThreeRotationsUnderLoad) {
  constexpr int kThreads = 8;
  ClientOptions o = Options();
  o.jwks_refresh_interval = seconds(1);
  o.jwks_min_refetch_interval = seconds(1);
  auto client = NewClient(o);
  ASSERT_NE(client, nullptr);

  std::vector<PasswordResponse> users;
  for (int t = 0; t < kThreads; ++t) {
    users.push_back(SignUp(*client));
    ASSERT_FALSE(users.back().session_token.empty());
  }

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> verified{0}, verify_failures{0}, api_failures{0};
  std::mutex mu;
  std::set<std::string> kids;         // GUARDED_BY(mu)
  std::vector<std::string> failures;  // GUARDED_BY(mu): the first few, for the message.
  const auto t0 = steady_clock::now();
  auto ms_since_start = [&] {
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0).count();
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const PasswordResponse& user = users[static_cast<std::size_t>(t)];
      const std::string email = user.user.emails.at(0).email;
      std::string token = user.session_token;
      std::set<std::string> my_kids;
      for (int i = 0; !stop.load(); ++i) {
        // Mostly by session token (a fresh JWT each time); every tenth a new password login.
        std::string jwt;
        if (i % 10 == 9) {
          PasswordRequest req{email, kStrongPassword, 60, std::nullopt, std::nullopt};
          auto r = client->Passwords().Authenticate(req);
          if (r.ok()) {
            token = r->session_token;
            jwt = r->session_jwt;
          } else {
            api_failures.fetch_add(1);
            std::lock_guard lock(mu);
            if (failures.size() < 10) failures.push_back("login: " + Describe(r.error()));
            continue;
          }
        } else {
          AuthenticateRequest req;
          req.session_token = token;
          auto r = client->Sessions().Authenticate(req);
          if (!r.ok()) {
            api_failures.fetch_add(1);
            std::lock_guard lock(mu);
            if (failures.size() < 10) failures.push_back("authenticate: " + Describe(r.error()));
            continue;
          }
          jwt = r->session_jwt;
        }
        auto v = client->Sessions().AuthenticateJwtLocal(jwt);
        const std::string kid = JwtKid(jwt);
        if (v.ok()) {
          verified.fetch_add(1);
          my_kids.insert(kid);
        } else {
          verify_failures.fetch_add(1);
          std::lock_guard lock(mu);
          if (failures.size() < 10) {
            failures.push_back("verify at +" + std::to_string(ms_since_start()) + " ms, kid " +
                               kid + ": " + Describe(v.error()));
          }
        }
      }
      std::lock_guard lock(mu);
      kids.insert(my_kids.begin(), my_kids.end());
    });
  }

  // Three rotations, 1.5 s apart (from the end of one to the start of the next), with load
  // before the first and after the last.
  std::vector<std::string> rotations;
  std::this_thread::sleep_for(milliseconds(1500));
  for (int r = 0; r < 3; ++r) {
    const auto start = ms_since_start();
    const bool ok = RotateKeys(database_url(), project_.project_id);
    rotations.push_back("rotation " + std::to_string(r + 1) + " at +" + std::to_string(start) +
                        ".." + std::to_string(ms_since_start()) + " ms" + (ok ? "" : " FAILED"));
    EXPECT_TRUE(ok);
    std::this_thread::sleep_for(milliseconds(1500));
  }
  std::this_thread::sleep_for(milliseconds(500));
  stop.store(true);
  for (auto& th : threads) th.join();

  const ClientStats st = client->stats();
  std::string report;
  for (const auto& r : rotations) report += r + "\n";
  report += "verified " + std::to_string(verified.load()) + ", verify failures " +
            std::to_string(verify_failures.load()) + ", API failures " +
            std::to_string(api_failures.load()) + ", kids seen " + std::to_string(kids.size()) +
            ", JWKS fetches " + std::to_string(st.jwks_fetches) + " (failed " +
            std::to_string(st.jwks_fetch_failures) + ")\n";
  for (const auto& f : failures) report += "  " + f + "\n";
  std::cout << report;

  EXPECT_EQ(verify_failures.load(), 0u) << report;
  EXPECT_EQ(api_failures.load(), 0u) << report;
  EXPECT_GT(kids.size(), 1u) << report;
  // Three rotations: the original key and the three it handed over to all signed something.
  EXPECT_EQ(kids.size(), 4u) << report;
  EXPECT_GT(verified.load(), 100u) << report;
}

}  // namespace
}  // namespace tessera::client::testing
