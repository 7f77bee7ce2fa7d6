// IP protocol numbers, ICMP and ICMPv6 types the product names (one place for every module).
// Thread-safety: constants only.
#pragma once

#include <cstdint>

namespace sgfw::core {

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmp6 = 58;

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParameterProblem = 12;
inline constexpr uint8_t kIcmpV6EchoRequest = 128;

// ICMPv6 types (RFC 4443, RFC 4861, RFC 2710/3810).
inline constexpr uint8_t kIcmp6DestUnreachable = 1;
inline constexpr uint8_t kIcmp6PacketTooBig = 2;
inline constexpr uint8_t kIcmp6TimeExceeded = 3;
inline constexpr uint8_t kIcmp6ParameterProblem = 4;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6MldQuery = 130;
inline constexpr uint8_t kIcmp6MldReport = 131;
inline constexpr uint8_t kIcmp6MldDone = 132;
inline constexpr uint8_t kIcmp6RouterSolicit = 133;
inline constexpr uint8_t kIcmp6RouterAdvert = 134;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135;
inline constexpr uint8_t kIcmp6NeighborAdvert = 136;
inline constexpr uint8_t kIcmp6Redirect = 137;
inline constexpr uint8_t kIcmp6Mld2Report = 143;

// Protocols whose rules and connections have ports.
[[nodiscard]] constexpr bool has_ports(uint8_t proto) { return proto == kProtoTcp || proto == kProtoUdp; }
// ICMP errors that may be related to a connection (docs/design/flow-table.md).
[[nodiscard]] constexpr bool is_icmp_error(uint8_t type) {
  return type == kIcmpDestUnreachable || type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
}
// ICMPv6 errors that may be related to a connection (RFC 4443 types 1-4; packet too big
// is the IPv6 form of IPv4's fragmentation needed).
[[nodiscard]] constexpr bool is_icmp6_error(uint8_t type) {
  return type >= kIcmp6DestUnreachable && type <= kIcmp6ParameterProblem;
}

}  // namespace sgfw::core
