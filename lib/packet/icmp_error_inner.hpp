// The offending packet quoted inside an ICMP error (destination unreachable, time
// exceeded, parameter problem) or an ICMPv6 error (also packet too big), read so the flow table can find the connection the
// error is about (docs/enforcement.md §4 "related"). Thread-safety: plain value type.
#pragma once

#include <cstdint>

#include "packet/parsed_packet.hpp"

namespace sgfw::packet {

struct IcmpErrorInner {
  // False when the outer packet is not an unfragmented ICMP error or the quoted header
  // is truncated or garbage; the other fields are then zero. Not a drop reason: such
  // an error is simply not "related" and is judged like any other ICMP packet.
  bool valid = false;
  // The quoted packet's header, as the original sender wrote it (wire byte order).
  uint32_t src_be = 0;       // IPv4 quote only
  uint32_t dst_be = 0;       // IPv4 quote only
  uint8_t src6[16] = {};     // IPv6 quote only
  uint8_t dst6[16] = {};     // IPv6 quote only
  uint8_t proto = 0;         // IPv6: the upper-layer header after the quoted chain
  uint8_t icmp_type = 0;     // quoted ICMP (ICMPv6 for an IPv6 quote) only
  uint16_t sport_be = 0;     // quoted TCP/UDP only
  uint16_t dport_be = 0;     // quoted TCP/UDP only
  uint16_t icmp_id_be = 0;   // quoted ICMP (ICMPv6) echo request/reply only

  bool operator==(const IcmpErrorInner&) const = default;
};

// Data path. Pure and thread-safe; reads frame[0, len) only. `outer` must be parse()'s
// result for the same frame. Requirements (else valid == false): outer is kIpv4, ICMP,
// not a fragment, type 3, 11 or 12; the quoted IPv4 header (after the 8-byte ICMP
// header, inside outer.l4_len) has version 4, IHL >= 5, fits, total length >= IHL*4,
// fragment offset 0; for quoted TCP/UDP/ICMP, 8 bytes of its L4 header are present
// (RFC 792 guarantees them). The quoted header checksum and total length beyond the
// quote are not checked (routers quote truncated packets).
[[nodiscard]] IcmpErrorInner parse_icmp_error_inner(const uint8_t* frame, uint32_t len,
                                                    const ParsedPacket& outer) noexcept;

// The IPv6 twin, same contract. Requirements (else valid == false): outer is kIpv6,
// ICMPv6, not a fragment (an atomic fragment is fine), an error (core::is_icmp6_error:
// types 1-4); the quoted IPv6 header (after the 8-byte ICMPv6 header, inside
// outer.l4_len) has version 6 and its 40 bytes; its extension chain, walked like the
// parser's and bounded by the quote, is well formed (at most 8 headers, hop-by-hop
// first, one fragment header, no type 0 routing header, every header inside the
// quote) and holds no fragment header with a non-zero offset; for quoted
// TCP/UDP/ICMPv6, 8 bytes of its L4 header are present. The quoted payload length is
// not compared with the quote (RFC 4443 quotes as much as fits in 1280 bytes).
[[nodiscard]] IcmpErrorInner parse_icmp6_error_inner(const uint8_t* frame, uint32_t len,
                                                     const ParsedPacket& outer) noexcept;

}  // namespace sgfw::packet
