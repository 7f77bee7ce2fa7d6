#include "core/escape.hpp"

namespace sgfw::core {

std::string escape_for_log(std::string_view text, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string_view kept = text.substr(0, max);
  std::string out;
  out.reserve(kept.size() + 16);
  for (char c : kept) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  if (text.size() > max) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace sgfw::core
