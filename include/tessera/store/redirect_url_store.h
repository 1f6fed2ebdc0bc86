// The redirect-URL family of the store: per project, the URLs that emailed links may point at,
// by type, each type with at most one default (managed with `tessera redirect-urls`).
//
// Every method follows the contract shared by all store methods (tessera/store/store.h).
#ifndef TESSERA_STORE_REDIRECT_URL_STORE_H_
#define TESSERA_STORE_REDIRECT_URL_STORE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/clock.h"
#include "tessera/result.h"

namespace tessera {

enum class RedirectUrlType { kLogin, kSignup, kInvite, kResetPassword };

std::string_view RedirectUrlTypeName(RedirectUrlType type);  // "login", "signup", ...
std::optional<RedirectUrlType> RedirectUrlTypeFromName(std::string_view name);

struct RedirectUrl {
  std::string project_id;
  RedirectUrlType type = RedirectUrlType::kLogin;
  std::string url;  // Matched exactly, query and all.
  bool is_default = false;
  TimePoint created_at;
};

class RedirectUrlStore {
 public:
  virtual ~RedirectUrlStore() = default;

  // Adds the URL for its type, or updates its default flag if it is there. A default replaces the
  // type's previous default. kProjectNotFound.
  virtual Status AddRedirectUrl(const RedirectUrl& url) = 0;
  // The project's URLs by type, then URL.
  virtual Result<std::vector<RedirectUrl>> ListRedirectUrls(std::string_view project_id) = 0;
  // kRedirectUrlNotFound.
  virtual Status RemoveRedirectUrl(std::string_view project_id, RedirectUrlType type,
                                   std::string_view url) = 0;
};

}  // namespace tessera

#endif  // TESSERA_STORE_REDIRECT_URL_STORE_H_
