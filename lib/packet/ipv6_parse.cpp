// The IPv6 frame parser: header, extension chain, fragments, L4 (TCP, UDP, ICMPv6).
// Checks and their order: docs/design/packet-parser.md, "IPv6". Every read is preceded
// by a bounds check (against the payload length, itself checked against the frame).
#include <cstddef>
#include <cstring>

#include "packet/bytes.hpp"
#include "packet/ipv6_chain.hpp"
#include "packet/ipv6_parse.hpp"
#include "packet/l4_parse.hpp"
#include "packet/wire.hpp"

namespace sgfw::packet::detail {
namespace {

using core::DropReason;
using wire::Ipv6Hdr;

DropReason chain_reason(ChainError e, bool first_fragment) noexcept {
  switch (e) {
    case ChainError::kPastEnd:  // RFC 7112: the chain must be in the first fragment
      return first_fragment ? DropReason::kIpv6HeaderChain : DropReason::kMalformedIpv6;
    case ChainError::kTooMany:
      return DropReason::kIpv6HeaderChain;
    case ChainError::kRoutingType0:
      return DropReason::kIpv6RoutingType0;
    case ChainError::kMalformed:
    case ChainError::kNone:
      break;
  }
  return DropReason::kMalformedIpv6;
}

void set_fragment(ParsedPacket& pkt, const Ipv6Chain& c) noexcept {
  if (!c.has_frag) return;
  pkt.frag_offset = static_cast<uint16_t>(c.frag_field >> wire::kIpv6FragOffsetShift);
  pkt.more_fragments = (c.frag_field & wire::kIpv6FragMf) != 0;
  pkt.is_fragment = pkt.frag_offset != 0 || pkt.more_fragments;  // else atomic (RFC 6946)
  pkt.first_fragment = pkt.frag_offset == 0 && pkt.more_fragments;
  pkt.frag_id6_be = c.frag_id_be;
}

// Offset 1 (RFC 1858, as for IPv4); a fragment ending past 65535 bytes; a non-last
// fragment whose size is not a multiple of 8 (RFC 8200 §4.5). `data` = this fragment's
// share of the fragmentable part.
bool fragment_ok(const ParsedPacket& pkt, uint32_t data) noexcept {
  if (pkt.frag_offset == 1) return false;
  if (static_cast<uint32_t>(pkt.frag_offset) * 8 + data > wire::kIpv4MaxDatagram) return false;
  return !pkt.more_fragments || data % 8 == 0;
}

void parse_icmp6(ParsedPacket& pkt, const uint8_t* l4, uint32_t n, DropReason short_reason) noexcept {
  using wire::IcmpHdr;
  if (n < sizeof(IcmpHdr)) return drop(pkt, short_reason);
  pkt.icmp_type = l4[offsetof(IcmpHdr, type)];
  pkt.icmp_code = l4[offsetof(IcmpHdr, code)];
  if (pkt.icmp_type == wire::kIcmp6EchoRequest || pkt.icmp_type == wire::kIcmp6EchoReply) {
    pkt.icmp_id_be = load_be16(l4 + offsetof(IcmpHdr, id));
    return;
  }
  if (pkt.icmp_type < wire::kIcmp6RouterSolicit || pkt.icmp_type > wire::kIcmp6Redirect) return;
  // RFC 6980: neighbour discovery is never fragmented.
  if (pkt.is_fragment) return drop(pkt, DropReason::kMalformedL4);
  parse_nd(pkt, l4, n);
}

// L4 of an unfragmented packet, an atomic fragment or a first fragment.
void parse_l4(ParsedPacket& pkt, const uint8_t* l4) noexcept {
  const uint32_t n = pkt.l4_len;
  // An upper-layer header that does not fit in a first fragment: RFC 7112.
  const DropReason short_reason =
      pkt.first_fragment ? DropReason::kIpv6HeaderChain : DropReason::kMalformedL4;
  switch (pkt.proto) {
    case wire::kProtoTcp:
      return parse_tcp(pkt, l4, n, short_reason);
    case wire::kProtoUdp:
      return parse_udp(pkt, l4, n, pkt.first_fragment, short_reason);
    case wire::kProtoIcmp6:
      return parse_icmp6(pkt, l4, n, short_reason);
    default:  // ESP, no next header, GRE, SCTP, ...: judged by address and protocol only
      return;
  }
}

}  // namespace

void parse_ipv6(ParsedPacket& pkt, const uint8_t* ip, uint32_t avail) noexcept {
  if (avail < sizeof(Ipv6Hdr)) return drop(pkt, DropReason::kMalformedIpv6);
  const uint32_t payload = load_u16(ip + offsetof(Ipv6Hdr, payload_length));
  // Payload length 0 is the jumbogram marker (RFC 2675); only "no next header" can be
  // empty.
  if ((ip[0] >> 4) != 6 || payload > avail - sizeof(Ipv6Hdr) ||
      (payload == 0 && ip[offsetof(Ipv6Hdr, next_header)] != wire::kIpv6NoNextHeader))
    return drop(pkt, DropReason::kMalformedIpv6);
  std::memcpy(pkt.src6, ip + offsetof(Ipv6Hdr, src), 16);
  std::memcpy(pkt.dst6, ip + offsetof(Ipv6Hdr, dst), 16);
  pkt.ttl = ip[offsetof(Ipv6Hdr, hop_limit)];
  pkt.l3_offset = sizeof(wire::EthHdr);

  const uint32_t end = static_cast<uint32_t>(sizeof(Ipv6Hdr)) + payload;
  Ipv6Chain chain;
  const ChainError err = walk_ipv6_chain(ip, end, chain);
  set_fragment(pkt, chain);
  if (err != ChainError::kNone) return drop(pkt, chain_reason(err, pkt.first_fragment));
  pkt.proto = chain.proto;
  // The chain is at most 8 headers of at most 2048 bytes: l4_offset fits in 16 bits.
  pkt.l4_offset = static_cast<uint16_t>(sizeof(wire::EthHdr) + chain.l4_start);
  pkt.l4_len = static_cast<uint16_t>(end - chain.l4_start);
  if (pkt.is_fragment && !fragment_ok(pkt, end - chain.frag_data))
    return drop(pkt, DropReason::kFragmentInvalid);
  pkt.kind = ParsedPacket::Kind::kIpv6;
  if (pkt.frag_offset != 0) return;  // no L4 header here: the caller follows the first
  parse_l4(pkt, ip + chain.l4_start);
}

}  // namespace sgfw::packet::detail
