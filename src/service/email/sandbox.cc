#include "service/email/sandbox.h"

#include "common/time_format.h"
#include "store/records_json.h"

namespace tessera::sandbox {

bool IsEmail(std::string_view email) { return NormalizeEmail(email) == kEmail; }

std::shared_ptr<const CachedUser> User() {
  static const std::shared_ptr<const CachedUser> user = [] {
    tessera::User u;
    u.user_id = std::string(kUserId);
    u.status = "active";
    u.emails.push_back({std::string(kEmailId), std::string(kEmail), true});
    u.phone_numbers.push_back({std::string(kPhoneId), std::string(kPhone), true});
    u.created_at = *ParseRfc3339("2021-08-28T00:41:58Z");
    u.updated_at = u.created_at;
    return MakeCachedUser(std::move(u));
  }();
  return user;
}

}  // namespace tessera::sandbox
