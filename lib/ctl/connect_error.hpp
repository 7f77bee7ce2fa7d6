// Why sgfwctl cannot reach the daemon, in words that say what to do
// (docs/control.md, "When sgfwctl cannot reach sgfwd"). Control path; thread-safe.
#pragma once

#include <string>

namespace sgfw::ctl {

// The message for a failed connect(2) to `socket_path` with `err` (an errno value):
// looks at what is at the path (nothing, a directory, a regular file, a socket nobody
// listens on, a directory this user may not enter) and names the remedy.
[[nodiscard]] std::string connect_error_message(const std::string& socket_path, int err);

}  // namespace sgfw::ctl
