// Result<T>: a value or an error Status, returned by value.
//
// The shape follows absl::StatusOr: `ok()`, `status()`, `value()`, `*` and `->`. The class is
// [[nodiscard]], so a caller cannot silently drop an error. Accessing the value of an error result
// is a programming error and aborts (it never throws).
#ifndef TESSERA_RESULT_H_
#define TESSERA_RESULT_H_

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "tessera/status.h"

namespace tessera {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status, not Result<Status>");

 public:
  // Implicit from a value and from an error, so `return value;` and `return status;` both work.
  // REQUIRES: `status` is not OK.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}        // NOLINT
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(v_).ok()) std::abort();  // An OK status carries no value.
  }
  template <typename U,
            typename = std::enable_if_t<
                std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Result> &&
                !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : v_(std::in_place_index<0>, T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }

  // OK when a value is held, else the error.
  Status status() const& { return ok() ? Status() : std::get<1>(v_); }
  Status status() && { return ok() ? Status() : std::move(std::get<1>(v_)); }

  // REQUIRES: ok().
  T& value() & { return Checked(); }
  const T& value() const& { return const_cast<Result*>(this)->Checked(); }
  T&& value() && { return std::move(Checked()); }
  T& operator*() & { return Checked(); }
  const T& operator*() const& { return const_cast<Result*>(this)->Checked(); }
  T&& operator*() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->Checked(); }

  // The value, or `fallback` on error.
  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

 private:
  T& Checked() {
    if (!ok()) std::abort();
    return std::get<0>(v_);
  }

  std::variant<T, Status> v_;
};

namespace internal {
inline Status AsStatus(Status s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace tessera

#define TESSERA_CONCAT_INNER_(a, b) a##b
#define TESSERA_CONCAT_(a, b) TESSERA_CONCAT_INNER_(a, b)

// Returns the error from the enclosing function when `expr` (a Status or a Result) is not OK.
#define TESSERA_RETURN_IF_ERROR(expr)                                          \
  do {                                                                         \
    ::tessera::Status tessera_status_ = ::tessera::internal::AsStatus((expr)); \
    if (!tessera_status_.ok()) return tessera_status_;                         \
  } while (0)

// `TESSERA_ASSIGN_OR_RETURN(auto x, MakeX());` declares or assigns `x` from a Result, or returns
// its error from the enclosing function.
#define TESSERA_ASSIGN_OR_RETURN(lhs, rexpr) \
  TESSERA_ASSIGN_OR_RETURN_IMPL_(TESSERA_CONCAT_(tessera_result_, __LINE__), lhs, rexpr)
#define TESSERA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#endif  // TESSERA_RESULT_H_
