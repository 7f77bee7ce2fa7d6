#include "core/mac.hpp"

namespace sgfw::core {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Mac> parse_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  Mac m;
  for (size_t i = 0; i < 6; ++i) {
    int hi = hex_digit(text[i * 3]);
    int lo = hex_digit(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && text[i * 3 + 2] != ':') return std::nullopt;
    m.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return m;
}

std::string to_string(const Mac& m) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < 6; ++i) {
    if (i) s += ':';
    s += kHex[m.bytes[i] >> 4];
    s += kHex[m.bytes[i] & 15];
  }
  return s;
}

}  // namespace sgfw::core
