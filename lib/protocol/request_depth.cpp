#include "protocol/request_depth.hpp"

namespace sgfw::protocol {

size_t json_depth(std::string_view text, size_t limit) noexcept {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '{':
      case '[':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > limit) return deepest;
        }
        break;
      case '}':
      case ']':
        if (depth) --depth;
        break;
      default: break;
    }
  }
  return deepest;
}

}  // namespace sgfw::protocol
