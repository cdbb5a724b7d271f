#pragma once
// Errors as values at module boundaries (LevelDB's Status habit): a parse either
// yields a value or a message saying what was expected and what was found.
#include <string>
#include <utility>
#include <stdexcept>
#include <variant>

namespace seam {

struct Error {
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error e) : v_(std::move(e)) {}       // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const { return value(); }
  const T* operator->() const { return &value(); }
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

inline Error err(std::string message) { return Error{std::move(message)}; }

// A configuration, input or usage problem the user must fix: the CLI maps it to exit code 2.
struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace seam
