// IP protocol numbers and ICMP types the product names (one place for every module).
// Thread-safety: constants only.
#pragma once

#include <cstdint>

namespace sgfw::core {

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpV6 = 58;

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParameterProblem = 12;
inline constexpr uint8_t kIcmpV6EchoRequest = 128;

// Protocols whose rules and connections have ports.
[[nodiscard]] constexpr bool has_ports(uint8_t proto) { return proto == kProtoTcp || proto == kProtoUdp; }
// ICMP errors that may be related to a connection (docs/design/flow-table.md).
[[nodiscard]] constexpr bool is_icmp_error(uint8_t type) {
  return type == kIcmpDestUnreachable || type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
}

}  // namespace sgfw::core
