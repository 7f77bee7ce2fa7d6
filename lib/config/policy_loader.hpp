// Loads and validates a policy file (docs/semantics.md §1-2) into a finalized
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

// Loads policy text; `display_name` is the file name in messages.
[[nodiscard]] core::Expected<policy::Policy> load_policy_text(std::string_view text,
                                                              std::string_view display_name);

// deprecated: control switches to policy::check_vm_ports (policy/validate.hpp).
// policy::check_vm_ports with every name in `port_names` a VM port and no daemon file.
[[nodiscard]] core::Status check_vm_ports(const policy::Policy& policy,
                                          const std::vector<std::string>& port_names);

}  // namespace sgfw::config
