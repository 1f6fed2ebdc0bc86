#include "common/thread_role.h"

namespace tessera {
namespace {

thread_local ThreadRole current_role = ThreadRole::kOther;

}  // namespace

std::string_view ThreadRoleName(ThreadRole role) {
  switch (role) {
    case ThreadRole::kOther:
      return "other";
    case ThreadRole::kIo:
      return "io";
    case ThreadRole::kWorker:
      return "worker";
    case ThreadRole::kHashing:
      return "hashing";
  }
  return "other";
}

ThreadRole CurrentThreadRole() { return current_role; }

ScopedThreadRole::ScopedThreadRole(ThreadRole role) : previous_(current_role) {
  current_role = role;
}

ScopedThreadRole::~ScopedThreadRole() { current_role = previous_; }

}  // namespace tessera
