#include "packet/icmp_error_inner.hpp"

#include <cstddef>
#include <cstring>

#include "packet/bytes.hpp"
#include "packet/ipv6_chain.hpp"
#include "packet/wire.hpp"

namespace sgfw::packet {

IcmpErrorInner parse_icmp_error_inner(const uint8_t* frame, uint32_t len,
                                      const ParsedPacket& outer) noexcept {
  using wire::Ipv4Hdr;
  IcmpErrorInner inner{};
  if (outer.kind != ParsedPacket::Kind::kIpv4 || outer.proto != wire::kProtoIcmp ||
      outer.is_fragment)
    return inner;
  if (outer.icmp_type != wire::kIcmpDestUnreachable &&
      outer.icmp_type != wire::kIcmpTimeExceeded &&
      outer.icmp_type != wire::kIcmpParameterProblem)
    return inner;
  // Bounds: outer's own L4 region, and never past the frame (defence against a caller
  // passing a ParsedPacket from another frame).
  const uint32_t start = uint32_t{outer.l4_offset} + sizeof(wire::IcmpHdr);
  const uint32_t end = uint32_t{outer.l4_offset} + outer.l4_len;
  if (outer.l4_len < sizeof(wire::IcmpHdr) || end > len) return inner;
  const uint8_t* ip = frame + start;
  const uint32_t avail = end - start;
  if (avail < sizeof(Ipv4Hdr)) return inner;
  const uint8_t version_ihl = ip[offsetof(Ipv4Hdr, version_ihl)];
  const uint32_t header_len = static_cast<uint32_t>(version_ihl & 0x0f) * 4;
  const uint32_t total_len =
      static_cast<uint32_t>((ip[offsetof(Ipv4Hdr, total_length)] << 8) |
                            ip[offsetof(Ipv4Hdr, total_length) + 1]);
  const uint32_t frag_offset =
      static_cast<uint32_t>(((ip[offsetof(Ipv4Hdr, flags_frag)] << 8) |
                             ip[offsetof(Ipv4Hdr, flags_frag) + 1])) &
      wire::kIpv4FragOffsetMask;
  if ((version_ihl >> 4) != 4 || header_len < sizeof(Ipv4Hdr) || header_len > avail ||
      total_len < header_len || frag_offset != 0)
    return inner;
  const uint8_t proto = ip[offsetof(Ipv4Hdr, proto)];
  const uint8_t* l4 = ip + header_len;
  const uint32_t l4_avail = avail - header_len;
  const bool known_l4 =
      proto == wire::kProtoTcp || proto == wire::kProtoUdp || proto == wire::kProtoIcmp;
  if (known_l4 && l4_avail < 8) return inner;

  inner.src_be = load_be32(ip + offsetof(Ipv4Hdr, src));
  inner.dst_be = load_be32(ip + offsetof(Ipv4Hdr, dst));
  inner.proto = proto;
  if (proto == wire::kProtoTcp || proto == wire::kProtoUdp) {
    // TCP and UDP both start with sport, dport.
    inner.sport_be = load_be16(l4 + offsetof(wire::UdpHdr, sport));
    inner.dport_be = load_be16(l4 + offsetof(wire::UdpHdr, dport));
  } else if (proto == wire::kProtoIcmp) {
    inner.icmp_type = l4[offsetof(wire::IcmpHdr, type)];
    if (inner.icmp_type == wire::kIcmpEchoRequest || inner.icmp_type == wire::kIcmpEchoReply)
      inner.icmp_id_be = load_be16(l4 + offsetof(wire::IcmpHdr, id));
  }
  inner.valid = true;
  return inner;
}

IcmpErrorInner parse_icmp6_error_inner(const uint8_t* frame, uint32_t len,
                                       const ParsedPacket& outer) noexcept {
  using wire::Ipv6Hdr;
  IcmpErrorInner inner{};
  if (outer.kind != ParsedPacket::Kind::kIpv6 || outer.proto != wire::kProtoIcmp6 ||
      outer.is_fragment || !wire::is_icmp6_error(outer.icmp_type))
    return inner;
  // Bounds: outer's own L4 region, and never past the frame.
  const uint32_t start = uint32_t{outer.l4_offset} + sizeof(wire::IcmpHdr);
  const uint32_t end = uint32_t{outer.l4_offset} + outer.l4_len;
  if (outer.l4_len < sizeof(wire::IcmpHdr) || end > len) return inner;
  const uint8_t* ip = frame + start;
  const uint32_t avail = end - start;
  if (avail < sizeof(Ipv6Hdr) || (ip[0] >> 4) != 6) return inner;
  detail::Ipv6Chain chain;
  if (detail::walk_ipv6_chain(ip, avail, chain) != detail::ChainError::kNone ||
      (chain.frag_field >> wire::kIpv6FragOffsetShift) != 0)
    return inner;
  const uint8_t proto = chain.proto;
  const uint8_t* l4 = ip + chain.l4_start;
  const bool known_l4 =
      proto == wire::kProtoTcp || proto == wire::kProtoUdp || proto == wire::kProtoIcmp6;
  if (known_l4 && avail - chain.l4_start < 8) return inner;

  std::memcpy(inner.src6, ip + offsetof(Ipv6Hdr, src), 16);
  std::memcpy(inner.dst6, ip + offsetof(Ipv6Hdr, dst), 16);
  inner.proto = proto;
  if (proto == wire::kProtoTcp || proto == wire::kProtoUdp) {
    inner.sport_be = load_be16(l4 + offsetof(wire::UdpHdr, sport));
    inner.dport_be = load_be16(l4 + offsetof(wire::UdpHdr, dport));
  } else if (proto == wire::kProtoIcmp6) {
    inner.icmp_type = l4[offsetof(wire::IcmpHdr, type)];
    if (inner.icmp_type == wire::kIcmp6EchoRequest || inner.icmp_type == wire::kIcmp6EchoReply)
      inner.icmp_id_be = load_be16(l4 + offsetof(wire::IcmpHdr, id));
  }
  inner.valid = true;
  return inner;
}

}  // namespace sgfw::packet
