// Base64 (RFC 4648, with padding): how the capture file travels in the capture reply
// (docs/capture.md, "Transport"); sgfwctl decodes it (lib/ctl/base64.hpp).
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sgfw::control {

[[nodiscard]] std::string base64_encode(std::string_view bytes);

}  // namespace sgfw::control
