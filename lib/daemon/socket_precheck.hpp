// What start-up would find at the control socket path, checked without changing
// anything (for `sgfwd --check`, and at start before the interfaces are locked so a
// second daemon on the same socket is told about the socket first). The socket itself
// is made by control::SocketServer later (docs/control.md, "Security"). Control path;
// thread-safe.
#pragma once

#include <string>

#include "core/expected.hpp"

namespace sgfw::daemon {

enum class SocketPathState { kFree, kStale, kServed };

// Errors: the path is too long, its directory is not a directory, or something other
// than a socket is at the path. kServed: another daemon answers there (an error at
// start, a note for --check); kStale: a dead socket the start will replace.
[[nodiscard]] core::Expected<SocketPathState> probe_control_socket(const std::string& path);

}  // namespace sgfw::daemon
