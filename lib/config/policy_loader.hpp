// Loads and validates a policy file (docs/enforcement.md §1-2) into a finalized
// policy::Policy. Every failure is one message "file:line:col: message" pointing at the
// offending token; nothing is half-loaded (the result is a value or an error).
// Control-path only; thread-safe (no shared state). Never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::config {

// Reads `path` and loads it; the path is the file name in messages.
[[nodiscard]] core::Expected<policy::Policy> load_policy_file(const std::string& path);
// A policy file's content, for a caller that parses it and keeps the text (read once:
// what is parsed is what is persisted). Errors: "path:1:1: cannot open/read file".
[[nodiscard]] core::Expected<std::string> read_policy_file(const std::string& path);

// Loads policy text; `display_name` is the file name in messages.
[[nodiscard]] core::Expected<policy::Policy> load_policy_text(std::string_view text,
                                                              std::string_view display_name);


}  // namespace sgfw::config
