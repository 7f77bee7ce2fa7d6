// Internal to lib/packet: the IPv6 half of parse() (parser.hpp), checks and order in
// docs/design/packet-parser.md, "IPv6". Data path. Thread-safety: pure (writes only
// `pkt`, reads only its byte range).
#pragma once

#include <cstdint>

#include "packet/parsed_packet.hpp"

namespace sgfw::packet::detail {

// The IPv6 packet at `ip` (`avail` bytes to the frame's end): fills pkt as kIpv6 or
// drops it with one reason. pkt holds the Ethernet fields already.
void parse_ipv6(ParsedPacket& pkt, const uint8_t* ip, uint32_t avail) noexcept;

// Neighbour discovery message (types 133..137) at `m`, n bytes (>= 8), of an IPv6
// packet whose address, hop limit, type and code fields are already in pkt: validates
// it (RFC 4861) and fills the nd_* fields, or drops it as malformed-l4.
void parse_nd(ParsedPacket& pkt, const uint8_t* m, uint32_t n) noexcept;

}  // namespace sgfw::packet::detail
