// The data-plane frame parser: Ethernet II → ARP | IPv4 → TCP/UDP/ICMP | IPv6 →
// extension headers → TCP/UDP/ICMPv6 (neighbour discovery validated).
// Checks, their order and the drop reasons: docs/design/packet-parser.md.
#pragma once

#include <cstdint>

#include "packet/parsed_packet.hpp"

namespace sgfw::packet {

// Data path. Pure and thread-safe: reads frame[0, len) and nothing else (frame may be
// null when len == 0), allocates nothing, never throws. Every frame yields either a
// kArp/kIpv4/kIpv6 result or kDrop with exactly one reason (malformed-l2,
// malformed-ipv4, malformed-ipv6, malformed-l4, fragment-invalid, ip-source-route,
// ipv6-header-chain, ipv6-routing-type0, unsupported-ethertype, vlan-tagged).
// It does not judge addresses (spoofing, broadcast, martians): the caller does; the
// only address rules applied are RFC 4861's validity checks of neighbour discovery.
[[nodiscard]] ParsedPacket parse(const uint8_t* frame, uint32_t len) noexcept;

}  // namespace sgfw::packet
