// Writes a policy back as YAML in the loader's format (built-in groups omitted, rule
// names explicit), so load_policy_text(write_policy_yaml(p)) gives p back. Used to
// persist `vm set-groups` changes; comments of the original file are not kept.
// Pure; thread-safe.
#pragma once

#include <string>

#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::config {

[[nodiscard]] std::string write_policy_yaml(const policy::Policy& policy);

// Replaces `path` atomically with `content`: a temporary file in the same directory,
// fsync, rename, fsync of the directory. A reader sees the old or the new file whole.
[[nodiscard]] core::Status write_file_atomically(const std::string& path, const std::string& content);

}  // namespace sgfw::config
