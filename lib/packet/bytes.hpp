// Byte loaders for reading frames (the one place they live): memcpy or byte arithmetic,
// never an unaligned or aliasing access. `_be` loaders keep the wire bytes (network
// order, for comparing with and storing into headers); load_u16 converts to host
// order. Data path: inline. Thread-safety: pure.
#pragma once

#include <cstdint>
#include <cstring>

namespace sgfw::packet {

[[nodiscard]] inline uint16_t load_u16(const uint8_t* p) noexcept {  // big-endian -> host
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
[[nodiscard]] inline uint16_t load_be16(const uint8_t* p) noexcept {  // wire bytes kept
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
[[nodiscard]] inline uint32_t load_be32(const uint8_t* p) noexcept {  // wire bytes kept
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace sgfw::packet
