// IPv4 addresses and CIDR blocks in host byte order, with strict text parsing.
// Thread-safety: plain value types; all functions are pure and thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sgfw::core {

// An IPv4 address, host byte order (10.0.0.1 == 0x0a000001).
struct Ipv4 {
  uint32_t value = 0;
  auto operator<=>(const Ipv4&) const = default;
};

// A CIDR block. Invariant when produced by parse_cidr: no host bits set.
struct Cidr {
  Ipv4 base;
  uint8_t prefix = 32;  // 0..32
  auto operator<=>(const Cidr&) const = default;

  [[nodiscard]] uint32_t mask() const noexcept {
    return prefix == 0 ? 0u : ~uint32_t{0} << (32 - prefix);
  }
  [[nodiscard]] bool contains(Ipv4 a) const noexcept {
    return (a.value & mask()) == base.value;
  }
};

// Dotted quad, four decimal octets 0..255, no leading zeros, no spaces.
[[nodiscard]] std::optional<Ipv4> parse_ipv4(std::string_view text);

enum class CidrError { kSyntax, kHostBits };

// "a.b.c.d" (means /32) or "a.b.c.d/n" with 0 <= n <= 32. Host bits set is an error
// (reported separately so the caller can name it).
struct CidrParse {
  std::optional<Cidr> cidr;
  CidrError error = CidrError::kSyntax;
};
[[nodiscard]] CidrParse parse_cidr(std::string_view text);

[[nodiscard]] std::string to_string(Ipv4 a);
[[nodiscard]] std::string to_string(const Cidr& c);

}  // namespace sgfw::core
