// Whether a file named by an operator can be read, with the system's reason when not
// ("cannot open nosuchfile.yaml: No such file or directory"). Used before the loaders so
// that a missing or unreadable file is reported with its errno rather than a location
// inside it. Control path; thread-safe.
#pragma once

#include <string>

#include "core/expected.hpp"

namespace sgfw::config {

// Ok when `path` is a regular file (or a link to one) this process can open for
// reading. Errors: "cannot open PATH: <strerror>", "cannot open PATH: it is a directory".
[[nodiscard]] core::Status check_readable(const std::string& path);

}  // namespace sgfw::config
