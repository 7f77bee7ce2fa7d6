// "1 connection", "2 connections": counts in messages for people. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace sgfw::report {

// `n` and the noun, with `plural_form` (default: noun + "s") unless n == 1.
[[nodiscard]] inline std::string count_of(uint64_t n, const std::string& noun, const std::string& plural_form = "") {
  return std::to_string(n) + " " + (n == 1 ? noun : (plural_form.empty() ? noun + "s" : plural_form));
}

}  // namespace sgfw::report
