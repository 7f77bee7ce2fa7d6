// Durable file replacement for persisting accepted policies. Control path.
#pragma once

#include <string>

#include "core/expected.hpp"

namespace sgfw::config {

// Replaces `path` atomically with `content`: a temporary file in the same directory,
// fsync, rename, fsync of the directory. A reader sees the old or the new file whole.
// The new file keeps the old one's mode and owner (a file that did not exist gets
// 0640). Comments and layout of the old file are not kept when the caller writes a
// generated text (docs/configuration.md, "policy").
[[nodiscard]] core::Status write_file_atomically(const std::string& path, const std::string& content);

}  // namespace sgfw::config
