// IPv6 address scopes the data path tests on raw wire bytes (RFC 4291 §2.4, §2.5.2,
// §2.7). Pure inline functions over 16 bytes in network order; thread-safe.
#pragma once

#include <cstdint>

namespace sgfw::core {

// fe80::/10.
[[nodiscard]] inline bool is_link_local6(const uint8_t* a16) noexcept {
  return a16[0] == 0xfe && (a16[1] & 0xc0) == 0x80;
}

// ff00::/8.
[[nodiscard]] inline bool is_multicast6(const uint8_t* a16) noexcept { return a16[0] == 0xff; }

// :: (a host that has no address yet: duplicate address detection, MLD).
[[nodiscard]] inline bool is_unspecified6(const uint8_t* a16) noexcept {
  uint8_t any = 0;
  for (int i = 0; i < 16; ++i) any |= a16[i];
  return any == 0;
}

// The MAC a modified EUI-64 interface identifier (RFC 4291 appendix A: ..., ff:fe in
// the middle, universal/local bit flipped) was made from, as core::Mac::as_u64 orders
// it; 0 when the low 64 bits are not of that form (a random or stable-privacy id).
[[nodiscard]] inline uint64_t eui64_mac(const uint8_t* a16) noexcept {
  if (a16[11] != 0xff || a16[12] != 0xfe) return 0;
  const uint8_t mac[6] = {static_cast<uint8_t>(a16[8] ^ 0x02), a16[9], a16[10], a16[13], a16[14], a16[15]};
  uint64_t v = 0;
  for (uint8_t b : mac) v = (v << 8) | b;
  return v;
}

}  // namespace sgfw::core
