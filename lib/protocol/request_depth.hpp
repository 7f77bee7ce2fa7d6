// Bounds the nesting of a control request before it is parsed (docs/testing.md,
// "A hostile member of control_group"): a JSON tree nested 100,000 deep is 200 KB of text, and copying,
// dumping or destroying it recursively overflows the control thread's stack.
// Pure and thread-safe; never throws.
#pragma once

#include <cstddef>
#include <string_view>

namespace sgfw::protocol {

inline constexpr size_t kMaxRequestDepth = 32;  // objects and arrays, the request itself included

// The deepest nesting of '{' and '[' in `text` outside string literals (backslash
// escapes inside strings honoured), counting only until it passes `limit`: one linear
// pass, no allocation. Malformed text is measured the same way (the parser rejects it).
[[nodiscard]] size_t json_depth(std::string_view text, size_t limit = kMaxRequestDepth) noexcept;

}  // namespace sgfw::protocol
