// Expected<T>: a value or an Error, after C++23 std::expected (GCC 12 in C++20 mode
// has none). Thread-safety: a plain value type. Never throws by itself.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sgfw::core {

// An error: a human-readable message, optionally prefixed by a source location
// ("file:line:col: message").
struct Error {
  std::string message;

  [[nodiscard]] const std::string& what() const noexcept { return message; }
};

struct Unexpected {
  Error error;
};

[[nodiscard]] inline Unexpected make_error(std::string message) {
  return Unexpected{Error{std::move(message)}};
}

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected u) : data_(std::in_place_index<1>, std::move(u.error)) {}

  [[nodiscard]] bool has_value() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(data_); }
  const T& value() const& { assert(has_value()); return std::get<0>(data_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!has_value()); return std::get<1>(data_); }

 private:
  std::variant<T, Error> data_;
};

// Expected<void>: success or an Error.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Unexpected u) : error_(std::move(u.error)), ok_(false) {}

  [[nodiscard]] bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Expected<void>;

}  // namespace sgfw::core
