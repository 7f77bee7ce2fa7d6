// Internal to lib/packet: the TCP and UDP header checks shared by the IPv4 and IPv6
// parsers (docs/design/packet-parser.md). Data path: inline, so each caller compiles
// to what it had before the split. Thread-safety: pure (writes only `pkt`).
#pragma once

#include <cstddef>
#include <cstdint>

#include "packet/bytes.hpp"
#include "packet/parsed_packet.hpp"
#include "packet/wire.hpp"

namespace sgfw::packet::detail {

inline void drop(ParsedPacket& pkt, core::DropReason reason) noexcept {
  pkt.kind = ParsedPacket::Kind::kDrop;
  pkt.drop = reason;
}

// TCP header in `l4` (n bytes of this packet). `short_reason` is the reason when the
// header (20 bytes, or its options) does not fit: malformed-l4 in an unfragmented
// packet, the fragment reason in a first fragment. Data offset < 5 is malformed-l4.
inline void parse_tcp(ParsedPacket& pkt, const uint8_t* l4, uint32_t n,
                      core::DropReason short_reason) noexcept {
  using wire::TcpHdr;
  if (n < sizeof(TcpHdr)) return drop(pkt, short_reason);
  const uint32_t doff = static_cast<uint32_t>(l4[offsetof(TcpHdr, data_offset)] >> 4) * 4;
  if (doff < sizeof(TcpHdr)) return drop(pkt, core::DropReason::kMalformedL4);
  // Options that spill past this packet: malformed when unfragmented; in a first
  // fragment the TCP header is split across fragments (RFC 1858 tiny fragment).
  if (doff > n) return drop(pkt, short_reason);
  pkt.sport_be = load_be16(l4 + offsetof(TcpHdr, sport));
  pkt.dport_be = load_be16(l4 + offsetof(TcpHdr, dport));
  pkt.tcp_flags = l4[offsetof(TcpHdr, flags)];
  pkt.tcp_doff = static_cast<uint8_t>(doff);
}

// UDP header in `l4` (n bytes). A first fragment holds only part of the datagram, so
// only the lower bound of the UDP length applies there. Shorter than n is trimmed
// (Linux).
inline void parse_udp(ParsedPacket& pkt, const uint8_t* l4, uint32_t n, bool first_fragment,
                      core::DropReason short_reason) noexcept {
  using wire::UdpHdr;
  if (n < sizeof(UdpHdr)) return drop(pkt, short_reason);
  const uint16_t udp_len = load_u16(l4 + offsetof(UdpHdr, length));
  if (udp_len < sizeof(UdpHdr) || (!first_fragment && udp_len > n))
    return drop(pkt, core::DropReason::kMalformedL4);
  pkt.sport_be = load_be16(l4 + offsetof(UdpHdr, sport));
  pkt.dport_be = load_be16(l4 + offsetof(UdpHdr, dport));
  pkt.udp_len = udp_len;
}

}  // namespace sgfw::packet::detail
