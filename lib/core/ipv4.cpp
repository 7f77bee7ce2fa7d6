#include "core/ipv4.hpp"

#include <charconv>

namespace sgfw::core {

namespace {

// Parses a decimal number without sign or leading zeros, at most max.
std::optional<uint32_t> parse_decimal(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

std::optional<Ipv4> parse_ipv4(std::string_view text) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = (i < 3) ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return std::nullopt;
    auto octet = parse_decimal(text.substr(0, dot), 255);
    if (!octet) return std::nullopt;
    value = (value << 8) | *octet;
    text = (i < 3) ? text.substr(dot + 1) : std::string_view{};
  }
  return Ipv4{value};
}

CidrParse parse_cidr(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = parse_ipv4(text.substr(0, slash));
  if (!addr) return {};
  uint32_t prefix = 32;
  if (slash != std::string_view::npos) {
    auto p = parse_decimal(text.substr(slash + 1), 32);
    if (!p) return {};
    prefix = *p;
  }
  Cidr c{*addr, static_cast<uint8_t>(prefix)};
  if ((addr->value & ~c.mask()) != 0) return {std::nullopt, CidrError::kHostBits};
  return {c, CidrError::kSyntax};
}

std::string to_string(Ipv4 a) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    s += std::to_string((a.value >> shift) & 0xff);
    if (shift) s += '.';
  }
  return s;
}

std::string to_string(const Cidr& c) {
  return to_string(c.base) + "/" + std::to_string(c.prefix);
}

}  // namespace sgfw::core
