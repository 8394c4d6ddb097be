// Result types shared by every layer: errors are values, never exceptions.
//
// An Error carries a stable machine-readable `code` and a human `message`.
// For spec rules the code is the requirement id from spec/requirements/
// (for example "handle.syntax.tld-not-digit"), so a failure names the rule
// it broke and links straight to the catalog entry and the spec section.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace atproto {

struct Error {
  std::string code;     // stable id, usually a requirement id
  std::string message;  // for people; never compared by tools

  friend bool operator==(const Error&, const Error&) = default;
};

// Result<T>: either a value or an Error. Deliberately small: value() on an
// error (or error() on a value) is a programming bug and aborts via
// std::get's exception, which never happens for well-formed callers.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  // By value, not T&&: `for (auto& x : f().value())` must not iterate over
  // a destroyed temporary.
  T value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Error make_error(std::string code, std::string message) {
  return Error{std::move(code), std::move(message)};
}

}  // namespace atproto
