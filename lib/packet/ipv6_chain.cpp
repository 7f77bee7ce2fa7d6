// The IPv6 extension header walk (docs/design/packet-parser.md, "IPv6"). Every read is
// preceded by a bounds check against `end`; the loop is bounded by the header count.
#include "packet/ipv6_chain.hpp"

#include <cstddef>

#include "packet/bytes.hpp"
#include "packet/wire.hpp"

namespace sgfw::packet::detail {
namespace {

bool is_extension(uint8_t nh) noexcept {
  return nh == wire::kIpv6HopByHop || nh == wire::kIpv6Routing || nh == wire::kIpv6Fragment ||
         nh == wire::kIpv6DestOptions || nh == wire::kIpv6Ah;
}

// Length in bytes of the extension header at `h` (its first two bytes are present).
uint32_t ext_len(uint8_t nh, const uint8_t* h) noexcept {
  const uint32_t l = h[offsetof(wire::Ipv6ExtHdr, length)];
  if (nh == wire::kIpv6Fragment) return sizeof(wire::Ipv6FragHdr);
  if (nh == wire::kIpv6Ah) return (l + 2) * 4;
  return (l + 1) * 8;
}

// The TLV options of a hop-by-hop or destination options header (`opts`, n bytes after
// its first two): Pad1 is one byte, every other option must fit; the jumbo payload
// option is refused (sgfw has no jumbograms). Unknown options are not interpreted.
bool options_ok(const uint8_t* opts, uint32_t n) noexcept {
  uint32_t i = 0;
  while (i < n) {
    const uint8_t type = opts[i];
    if (type == wire::kIpv6OptPad1) {
      ++i;
      continue;
    }
    if (type == wire::kIpv6OptJumbo || i + 1 >= n || i + 2 + opts[i + 1] > n) return false;
    i += 2u + opts[i + 1];
  }
  return true;
}

}  // namespace

ChainError walk_ipv6_chain(const uint8_t* ip, uint32_t end, Ipv6Chain& out) noexcept {
  uint8_t nh = ip[offsetof(wire::Ipv6Hdr, next_header)];
  uint32_t off = sizeof(wire::Ipv6Hdr);
  for (uint32_t count = 0; is_extension(nh); ++count) {
    if (count == wire::kIpv6MaxExtHeaders) return ChainError::kTooMany;
    if (nh == wire::kIpv6HopByHop && off != sizeof(wire::Ipv6Hdr)) return ChainError::kMalformed;
    if (end - off < sizeof(wire::Ipv6ExtHdr)) return ChainError::kPastEnd;
    const uint8_t* h = ip + off;
    const uint32_t len = ext_len(nh, h);
    if (len > end - off) return ChainError::kPastEnd;
    if (nh == wire::kIpv6HopByHop || nh == wire::kIpv6DestOptions) {
      if (!options_ok(h + 2, len - 2)) return ChainError::kMalformed;
    } else if (nh == wire::kIpv6Routing) {
      if (h[offsetof(wire::Ipv6RoutingHdr, routing_type)] == wire::kIpv6RoutingType0)
        return ChainError::kRoutingType0;
    } else if (nh == wire::kIpv6Fragment) {
      if (out.has_frag) return ChainError::kMalformed;
      out.has_frag = true;
      out.frag_field = load_u16(h + offsetof(wire::Ipv6FragHdr, offset_flags));
      out.frag_id_be = load_be32(h + offsetof(wire::Ipv6FragHdr, id));
      out.frag_data = off + len;
      if ((out.frag_field >> wire::kIpv6FragOffsetShift) != 0) {
        out.proto = h[offsetof(wire::Ipv6ExtHdr, next_header)];
        out.l4_start = off + len;
        return ChainError::kNone;  // the rest is fragment data
      }
    }
    nh = h[offsetof(wire::Ipv6ExtHdr, next_header)];
    off += len;
  }
  out.proto = nh;
  out.l4_start = off;
  return ChainError::kNone;
}

}  // namespace sgfw::packet::detail
