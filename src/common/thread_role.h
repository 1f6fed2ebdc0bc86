// What kind of thread the calling thread is, as the server sees it. The server tags its threads;
// code below it (the password hasher) reads the tag to count, and in debug builds refuse, slow work
// on a thread that must never block.
#ifndef TESSERA_COMMON_THREAD_ROLE_H_
#define TESSERA_COMMON_THREAD_ROLE_H_

#include <string_view>

namespace tessera {

enum class ThreadRole {
  kOther,    // Not tagged: a test, the CLI, a background thread.
  kIo,       // Runs connections: must never block (no store access, no password hash).
  kWorker,   // The worker pool: store writes, searches, reads.
  kHashing,  // The pool that runs the routes that hash a password.
};

// "other", "io", "worker", "hashing".
std::string_view ThreadRoleName(ThreadRole role);

// The calling thread's role: kOther unless a ScopedThreadRole is alive on it.
ThreadRole CurrentThreadRole();

// Tags the calling thread for its lifetime and restores the previous tag afterwards.
class ScopedThreadRole {
 public:
  explicit ScopedThreadRole(ThreadRole role);
  ~ScopedThreadRole();
  ScopedThreadRole(const ScopedThreadRole&) = delete;
  ScopedThreadRole& operator=(const ScopedThreadRole&) = delete;

 private:
  ThreadRole previous_;
};

}  // namespace tessera

#endif  // TESSERA_COMMON_THREAD_ROLE_H_
