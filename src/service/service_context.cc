#include "service/service_context.h"

#include "common/text.h"

namespace tessera {

Result<std::shared_ptr<const CachedUser>> LoadUser(ServiceContext& ctx, std::string_view project_id,
                                                   std::string_view user_id) {
  // With a shared store another node may have changed the user: read it (users are read on
  // admin paths; sessions check their user's version on every use, see SessionService).
  // An id no store can hold names no user (and must not reach a store that would alter it).
  if (!IsStorableText(user_id)) return Error(ErrorCode::kUserNotFound, "User could not be found.");
  const bool shared = ctx.store.shared();
  if (!shared) {
    if (auto cached = ctx.users.Find(project_id, user_id)) return cached;
  }
  const std::uint64_t epoch = ctx.users.epoch();
  TESSERA_ASSIGN_OR_RETURN(std::optional<User> user, ctx.store.GetUser(project_id, user_id));
  if (!user) return Error(ErrorCode::kUserNotFound, "User could not be found.");
  auto entry = MakeCachedUser(std::move(*user));
  // Cached under its canonical id only; a lookup by external id always reads the store.
  if (!shared && entry->user.user_id == user_id) ctx.users.Insert(entry, epoch);
  return entry;
}

}  // namespace tessera
