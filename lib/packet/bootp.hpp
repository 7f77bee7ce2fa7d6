// The fields of a BOOTP/DHCPv4 message (RFC 951, RFC 2131) the link services read:
// whether it is a request or a reply, and the client hardware address (chaddr) it is
// about (docs/enforcement.md §7 "DHCP"). Thread-safety: pure functions, plain values.
#pragma once

#include <cstdint>

#include "packet/parsed_packet.hpp"

namespace sgfw::packet {

inline constexpr uint16_t kDhcpServerPort = 67;
inline constexpr uint16_t kDhcpClientPort = 68;
inline constexpr uint8_t kBootRequest = 1;
inline constexpr uint8_t kBootReply = 2;
// op, htype, hlen, hops, xid(4), secs(2), flags(2), ciaddr, yiaddr, siaddr, giaddr,
// chaddr(16), sname(64), file(128): the fixed part every message carries.
inline constexpr uint32_t kBootpFixedLen = 236;
inline constexpr uint32_t kBootpChaddrOffset = 28;

struct BootpMessage {
  // False unless `outer` is an unfragmented IPv4/UDP packet whose UDP payload holds the
  // fixed BOOTP part with an Ethernet client address (htype 1, hlen 6). The other
  // fields are then zero. Not a drop reason by itself: the caller decides.
  bool valid = false;
  uint8_t op = 0;  // kBootRequest or kBootReply (anything else: valid, the caller rejects it)
  uint8_t chaddr[6] = {};
};

// Data path: reads frame[0, len) only, allocates nothing, never throws. `outer` must be
// parse()'s result for the same frame.
[[nodiscard]] BootpMessage read_bootp(const uint8_t* frame, uint32_t len, const ParsedPacket& outer) noexcept;

}  // namespace sgfw::packet
