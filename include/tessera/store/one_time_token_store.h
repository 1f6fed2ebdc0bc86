// The one-time token family of the store: magic links, invites, embeddable links, email
// passcodes and password-reset tokens, each kept only as a digest and consumed at most once.
//
// A token is issued together with the email that carries it (tessera/store/outbox_store.h), in
// one transaction: a token never exists without its message, nor a message without its token.
// Consuming is one conditional write (unconsumed, unexpired), so a token works once even when it
// is presented concurrently on several nodes.
//
// Every method follows the contract shared by all store methods (tessera/store/store.h).
#ifndef TESSERA_STORE_ONE_TIME_TOKEN_STORE_H_
#define TESSERA_STORE_ONE_TIME_TOKEN_STORE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"
#include "tessera/store/outbox_store.h"

namespace tessera {

enum class OneTimeTokenKind {
  kMagicLink,      // magic_links/email/send and login_or_create (and a reset email's login link).
  kInvite,         // magic_links/email/invite.
  kEmbedded,       // POST /v1/magic_links: returned to the caller, never emailed.
  kEmailOtp,       // otps/email/*: a six-digit code.
  kPasswordReset,  // passwords/email/reset/start.
};

std::string_view OneTimeTokenKindName(OneTimeTokenKind kind);
std::optional<OneTimeTokenKind> OneTimeTokenKindFromName(std::string_view name);

// A keyed digest of a token or code (HMAC-SHA-256 under a subkey of the master key): the lookup
// key. A six-digit code could be found from a plain hash by trying every code; the key keeps a
// copy of the database alone from telling anything.
using OneTimeDigest = std::array<std::uint8_t, 32>;

struct OneTimeToken {
  std::string project_id;
  std::string token_id;  // "one-time-token-test-<uuid>"
  OneTimeTokenKind kind = OneTimeTokenKind::kMagicLink;
  OneTimeDigest digest{};
  std::string user_id;
  std::string method_id;       // The email_id it was sent to; "" for an embeddable link.
  std::string email;           // The address it was sent to; "" for an embeddable link.
  std::string code_challenge;  // PKCE (base64url SHA-256 of the verifier); "" for none.
  std::string ip_address;      // attributes at send time, for `options` matching.
  std::string user_agent;
  TimePoint created_at;
  TimePoint expires_at;
  std::optional<TimePoint> consumed_at;  // Used, replaced by a newer code, or revoked.
};

class OneTimeTokenStore {
 public:
  virtual ~OneTimeTokenStore() = default;

  // Stores `tokens` (all of one project) and, when given, the message carrying them, in one
  // transaction. With `supersede`, first consumes (at the first token's created_at) every
  // unconsumed token of the same project, method_id and kind as the first token: one live code
  // per method_id. kStoreConflict when a token id or message id exists.
  virtual Status IssueOneTimeTokens(const std::vector<OneTimeToken>& tokens, bool supersede,
                                    const std::optional<OutboxMessage>& message) = 0;
  // The token with this digest, whatever its state (an unconsumed one first, then the newest).
  virtual Result<std::optional<OneTimeToken>> FindOneTimeToken(std::string_view project_id,
                                                               const OneTimeDigest& digest) = 0;
  // Marks the token consumed at `now` if it is unconsumed and expires after `now`. True when this
  // call consumed it; false when it was consumed (by anyone) before, has expired or is unknown.
  virtual Result<bool> ConsumeOneTimeToken(std::string_view project_id, std::string_view token_id,
                                           TimePoint now) = 0;
  // Consumes every unconsumed token of `kind` sent to `method_id` (e.g. a revoked invite).
  // Returns how many.
  virtual Result<std::int64_t> RevokeOneTimeTokens(std::string_view project_id,
                                                   std::string_view method_id,
                                                   OneTimeTokenKind kind, TimePoint now) = 0;
  // Deletes tokens that expired before `cutoff`. Returns how many.
  virtual Result<std::int64_t> DeleteExpiredOneTimeTokens(TimePoint cutoff) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_ONE_TIME_TOKEN_STORE_H_
