// The storage interface: everything Tessera persists, behind one abstract class.
//
// SessionStore is the composite of one interface per record family, each in its own header with
// its records:
//   * ProjectStore (tessera/store/project_store.h): projects, secrets, settings, signing keys,
//     the configuration version.
//   * UserStore (tessera/store/user_store.h): users, their emails and phones, user search.
//   * SessionRecordStore (tessera/store/session_record_store.h): sessions, touches, the
//     revocation stream, expiry.
//   * SsfStreamStore (tessera/store/ssf_stream_store.h): Shared Signals event streams and their
//     acknowledgements.
//   * OneTimeTokenStore and OutboxStore (tessera/store/one_time_token_store.h, outbox_store.h):
//     email sign-in tokens and the messages that carry them; RedirectUrlStore
//     (redirect_url_store.h): where emailed links may point; RateLimitStore (rate_limit_store.h).
//   * SdkStore (tessera/store/sdk_store.h): the frontend SDK's allowed origins, projects by
//     public token.
//   * RbacStore (tessera/store/rbac_store.h): each project's roles-and-permissions policy.
// plus what belongs to the store as a whole: Ping, store-wide metadata, and change notification
// between nodes.
//
// Implementations: OpenSqliteStore (tessera/store/sqlite_store.h), the embedded default, and the
// PostgreSQL store for several nodes. Callers (the service layer and the CLI) see only this
// interface, so a backend can be swapped without touching them.
//
// Contract shared by every method, of every family:
//   * Thread-safe: any method may be called from any thread at any time.
//   * Durable: when a mutating method returns OK, the change survives a crash of the process and of
//     the machine (the implementation commits and syncs before returning).
//   * Atomic: a failed mutating method changes nothing.
//   * Errors: kStoreUnavailable when the database cannot be reached or stays busy past the
//     implementation's timeout (retrying later may help); kStoreCorrupt when it holds data Tessera
//     could not have written; the specific codes listed per method otherwise.
//   * Scope: every record belongs to one project; methods never return or touch another
//     project's records, whatever ids are passed.
//   * Time: stored with second precision.
#ifndef TESSERA_STORE_STORE_H_
#define TESSERA_STORE_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/result.h"
#include "tessera/store/lockout_store.h"
#include "tessera/store/one_time_token_store.h"
#include "tessera/store/outbox_store.h"
#include "tessera/store/project_store.h"
#include "tessera/store/rate_limit_store.h"
#include "tessera/store/rbac_store.h"
#include "tessera/store/redirect_url_store.h"
#include "tessera/store/revocation_store.h"
#include "tessera/store/sdk_store.h"
#include "tessera/store/session_record_store.h"
#include "tessera/store/ssf_stream_store.h"
#include "tessera/store/user_store.h"

namespace tessera {

// A change another node made, delivered by stores shared between nodes (PostgreSQL NOTIFY).
struct StoreChange {
  enum class Kind {
    kConfig,   // Keys, secrets, settings or the RBAC policy of `project_id` changed.
    kUser,     // User `id` changed or was deleted.
    kSession,  // Session `id` changed or was revoked.
    kAll,      // Changes were missed (a node cut off longer than the log keeps): drop everything.
  };
  Kind kind;
  std::string project_id;
  std::string id;
};

// --- The interface ----------------------------------------------------------------------------

class SessionStore : public ProjectStore,
                     public UserStore,
                     public LockoutStore,
                     public SessionRecordStore,
                     public RevocationLogStore,
                     public SsfStreamStore,
                     public OneTimeTokenStore,
                     public OutboxStore,
                     public RedirectUrlStore,
                     public RateLimitStore,
                     public SdkStore,
                     public RbacStore {
 public:
  ~SessionStore() override = default;

  // OK when the database answers.
  virtual Status Ping() = 0;

  // True when other Tessera nodes may write this store concurrently (PostgreSQL). Caches in front
  // of a shared store must not be authoritative: see GetSessionStamp and SetChangeListener.
  virtual bool shared() const { return false; }

  // True while every change that any node's write has acknowledged has been delivered to this
  // node's change listener (SetChangeListener): caches in front of the store may then answer
  // without asking it. Always true for a store no other node writes. A shared store makes it
  // true by following the store's change log under a lease (docs/scaling.md) and false as soon
  // as it cannot vouch for that, e.g. cut off from the database.
  virtual bool caches_current() const { return !shared(); }

  // Registers `listener` to be called (on a store-owned thread) for changes made by any node,
  // this one included, replacing any previous one. An empty function unregisters. When this
  // returns, a replaced listener is no longer running and will not be called again, so whatever
  // it captured may be destroyed. Stores that are never shared may ignore it.
  virtual void SetChangeListener(std::function<void(const StoreChange&)> listener) {
    (void)listener;
  }

  // Store-wide metadata (e.g. the master key fingerprint).
  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) = 0;
  // Sets `key` to `value` unless it is already set; returns the value now stored.
  virtual Result<std::string> PutMetaIfAbsent(std::string_view key, std::string_view value) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_STORE_H_
