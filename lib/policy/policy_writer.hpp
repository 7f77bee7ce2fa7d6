// Writes a policy::Policy as policy-file YAML (docs/enforcement.md §1) that
// config::load_policy_text reads back to an equal policy. Built-in groups are skipped
// (defining them is an error); rules named "rule-<index>" are written without a name.
// One flow-style line per rule and per VM keeps large files compact and fast to parse.
// Control path; pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "policy/model.hpp"

namespace sgfw::policy {

// `header` (may be empty) is written first, each line as a "# " comment.
[[nodiscard]] std::string write_policy_yaml(const policy::Policy& policy, std::string_view header);

}  // namespace sgfw::policy
