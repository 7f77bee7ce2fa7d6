// Makes text that may carry client input safe to log or show on a terminal
// (docs/testing.md, "A hostile member of control_group"): a member must not be able
// to forge a log line (newline) or drive an operator's terminal (ESC sequences)
// through a name or a quoted token.
// Pure, thread-safe, allocation only for the result; never throws beyond std::bad_alloc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sgfw::core {

inline constexpr size_t kMaxLoggedText = 512;  // bytes of input kept

// Every byte < 0x20 and 0x7f becomes "\xNN" (backslashes are kept as they are, so
// escaping twice changes nothing); input past `max` bytes is cut and "...(N bytes)"
// appended with its full length.
[[nodiscard]] std::string escape_for_log(std::string_view text, size_t max = kMaxLoggedText);

}  // namespace sgfw::core
