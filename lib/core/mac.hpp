// Ethernet MAC addresses. Thread-safety: plain value type; functions are pure.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sgfw::core {

struct Mac {
  std::array<uint8_t, 6> bytes{};
  auto operator<=>(const Mac&) const = default;

  [[nodiscard]] bool is_multicast() const noexcept { return (bytes[0] & 1) != 0; }
  [[nodiscard]] bool is_zero() const noexcept {
    for (auto b : bytes) if (b) return false;
    return true;
  }
  // The six bytes as one integer (first byte most significant): a hash/map key.
  [[nodiscard]] uint64_t as_u64() const noexcept {
    uint64_t v = 0;
    for (auto b : bytes) v = (v << 8) | b;
    return v;
  }
};

// "02:00:00:00:01:0a": six pairs of hex digits separated by ':' (case-insensitive).
[[nodiscard]] std::optional<Mac> parse_mac(std::string_view text);
[[nodiscard]] std::string to_string(const Mac& m);

}  // namespace sgfw::core
