// Base64 decoding (RFC 4648, with padding) of the capture file in the capture reply
// (docs/capture.md, "Transport"). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sgfw::ctl {

// nullopt on a character outside the alphabet, misplaced padding or a length that is
// not a multiple of 4.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sgfw::ctl
