// The data-plane frame parser (IPv6: ipv6_parse.cpp). Checks and their order: docs/design/packet-parser.md.
// Every read is preceded by a bounds check against `len`; loads go through memcpy or
// byte arithmetic (no unaligned or aliasing access).
#include "packet/parser.hpp"

#include <cstddef>
#include <cstring>

#include "packet/bytes.hpp"
#include "packet/ipv6_parse.hpp"
#include "packet/l4_parse.hpp"
#include "packet/wire.hpp"

namespace sgfw::packet {
namespace {

using core::DropReason;
using Kind = ParsedPacket::Kind;

using detail::drop;

// RFC 1071: the one's-complement sum over a header whose checksum is right is 0xffff.
// Summed in 32-bit words as loaded (header_len is a multiple of 4, at least 20): the
// one's-complement sum does not depend on byte order (RFC 1071 §2(B)), and 0xffff reads
// the same in both. Each fold adds a word to itself rotated by half its width: the high
// half then holds the sum of the two halves with the end-around carry added back.
inline bool ipv4_checksum_ok(const uint8_t* h, uint32_t header_len) noexcept {
  uint64_t sum = uint64_t{load_be32(h)} + load_be32(h + 4) + load_be32(h + 8) + load_be32(h + 12) + load_be32(h + 16);
  for (uint32_t i = 20; i < header_len; i += 4) sum += load_be32(h + i);  // options: at most 10 words
  sum += (sum >> 32) | (sum << 32);
  uint32_t sum32 = static_cast<uint32_t>(sum >> 32);
  sum32 += (sum32 >> 16) | (sum32 << 16);
  return (sum32 >> 16) == 0xffff;
}

// Walks the options of an IPv4 header (`opts`, n bytes). Source routing (LSRR, SSRR)
// is dropped (docs/design/packet-parser.md); an option whose length is below 2 or runs
// past the header is malformed. Bounded by n (every step advances at least one byte).
bool options_ok(ParsedPacket& pkt, const uint8_t* opts, uint32_t n) noexcept {
  uint32_t i = 0;
  while (i < n) {
    const uint8_t type = opts[i];
    if (type == wire::kIpv4OptEnd) return true;
    if (type == wire::kIpv4OptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= n || opts[i + 1] < 2 || i + opts[i + 1] > n) {
      drop(pkt, DropReason::kMalformedIpv4);
      return false;
    }
    if (type == wire::kIpv4OptLsrr || type == wire::kIpv4OptSsrr) {
      drop(pkt, DropReason::kIpSourceRoute);
      return false;
    }
    i += opts[i + 1];
  }
  return true;
}

void parse_arp(ParsedPacket& pkt, const uint8_t* a, uint32_t avail) noexcept {
  using wire::ArpHdr;
  if (avail < sizeof(ArpHdr)) return drop(pkt, DropReason::kMalformedL2);
  const uint16_t op = load_u16(a + offsetof(ArpHdr, op));
  if (load_u16(a + offsetof(ArpHdr, htype)) != wire::kArpHtypeEthernet ||
      load_u16(a + offsetof(ArpHdr, ptype)) != wire::kEthertypeIpv4 ||
      a[offsetof(ArpHdr, hlen)] != 6 || a[offsetof(ArpHdr, plen)] != 4 ||
      (op != wire::kArpOpRequest && op != wire::kArpOpReply))
    return drop(pkt, DropReason::kMalformedL2);
  pkt.kind = Kind::kArp;
  pkt.arp_op = op;
  std::memcpy(pkt.arp_sha, a + offsetof(ArpHdr, sha), 6);
  std::memcpy(pkt.arp_tha, a + offsetof(ArpHdr, tha), 6);
  pkt.arp_spa_be = load_be32(a + offsetof(ArpHdr, spa));
  pkt.arp_tpa_be = load_be32(a + offsetof(ArpHdr, tpa));
}

// L4 of an unfragmented packet or a first fragment. `l4` holds pkt.l4_len bytes.
void parse_l4(ParsedPacket& pkt, const uint8_t* l4) noexcept {
  const uint32_t n = pkt.l4_len;
  const bool first_fragment = pkt.first_fragment;
  // A first fragment too short for the L4 header cannot be judged: fragment-invalid.
  // The same shortfall in an unfragmented packet is malformed-l4.
  const DropReason short_reason =
      first_fragment ? DropReason::kFragmentInvalid : DropReason::kMalformedL4;
  switch (pkt.proto) {
    case wire::kProtoTcp:
      return detail::parse_tcp(pkt, l4, n, short_reason);
    case wire::kProtoUdp:
      return detail::parse_udp(pkt, l4, n, first_fragment, short_reason);
    case wire::kProtoIcmp: {
      using wire::IcmpHdr;
      if (n < sizeof(IcmpHdr)) return drop(pkt, short_reason);
      pkt.icmp_type = l4[offsetof(IcmpHdr, type)];
      pkt.icmp_code = l4[offsetof(IcmpHdr, code)];
      if (pkt.icmp_type == wire::kIcmpEchoRequest || pkt.icmp_type == wire::kIcmpEchoReply)
        pkt.icmp_id_be = load_be16(l4 + offsetof(IcmpHdr, id));
      return;
    }
    default:  // IP-in-IP, GRE, SCTP, 0, 255, ...: judged by address and protocol only
      return;
  }
}

void parse_ipv4(ParsedPacket& pkt, const uint8_t* ip, uint32_t avail) noexcept {
  using wire::Ipv4Hdr;
  if (avail < sizeof(Ipv4Hdr)) return drop(pkt, DropReason::kMalformedIpv4);
  const uint8_t version_ihl = ip[offsetof(Ipv4Hdr, version_ihl)];
  const uint32_t header_len = static_cast<uint32_t>(version_ihl & 0x0f) * 4;
  const uint32_t total_len = load_u16(ip + offsetof(Ipv4Hdr, total_length));
  if ((version_ihl >> 4) != 4 || header_len < sizeof(Ipv4Hdr) || header_len > avail ||
      total_len < header_len || total_len > avail || !ipv4_checksum_ok(ip, header_len))
    return drop(pkt, DropReason::kMalformedIpv4);

  if (header_len > sizeof(Ipv4Hdr) &&
      !options_ok(pkt, ip + sizeof(Ipv4Hdr), header_len - static_cast<uint32_t>(sizeof(Ipv4Hdr))))
    return;
  pkt.src_be = load_be32(ip + offsetof(Ipv4Hdr, src));
  pkt.dst_be = load_be32(ip + offsetof(Ipv4Hdr, dst));
  pkt.proto = ip[offsetof(Ipv4Hdr, proto)];
  pkt.ttl = ip[offsetof(Ipv4Hdr, ttl)];
  pkt.ip_id_be = load_be16(ip + offsetof(Ipv4Hdr, id));
  const uint16_t flags_frag = load_u16(ip + offsetof(Ipv4Hdr, flags_frag));
  pkt.frag_offset = flags_frag & wire::kIpv4FragOffsetMask;
  pkt.more_fragments = (flags_frag & wire::kIpv4FlagMf) != 0;
  pkt.is_fragment = pkt.frag_offset != 0 || pkt.more_fragments;
  pkt.first_fragment = pkt.frag_offset == 0 && pkt.more_fragments;
  pkt.l3_offset = sizeof(wire::EthHdr);
  pkt.l4_offset = static_cast<uint16_t>(sizeof(wire::EthHdr) + header_len);
  pkt.l4_len = static_cast<uint16_t>(total_len - header_len);

  if (pkt.frag_offset != 0) {
    // RFC 1858: offset 1 can only serve to overwrite the TCP header of the first
    // fragment. A fragment ending past 65535 bytes is a ping of death. Both: no use.
    if (pkt.frag_offset == 1 ||
        static_cast<uint32_t>(pkt.frag_offset) * 8 + pkt.l4_len > wire::kIpv4MaxDatagram)
      return drop(pkt, DropReason::kFragmentInvalid);
    pkt.kind = Kind::kIpv4;  // no L4 header here: the caller follows the first fragment
    return;
  }
  pkt.kind = Kind::kIpv4;
  return parse_l4(pkt, ip + header_len);
}

}  // namespace

ParsedPacket parse(const uint8_t* frame, uint32_t len) noexcept {
  using wire::EthHdr;
  ParsedPacket pkt{};
  if (len < sizeof(EthHdr)) {
    drop(pkt, DropReason::kMalformedL2);
    return pkt;
  }
  std::memcpy(pkt.dst_mac, frame + offsetof(EthHdr, dst), 6);
  std::memcpy(pkt.src_mac, frame + offsetof(EthHdr, src), 6);
  const uint8_t* l3 = frame + sizeof(EthHdr);
  const uint32_t avail = len - sizeof(EthHdr);
  switch (load_u16(frame + offsetof(EthHdr, ethertype))) {
    case wire::kEthertypeIpv4:
      parse_ipv4(pkt, l3, avail);
      break;
    case wire::kEthertypeArp:
      parse_arp(pkt, l3, avail);
      break;
    case wire::kEthertypeIpv6:
      detail::parse_ipv6(pkt, l3, avail);
      break;
    case wire::kEthertypeVlan:
    case wire::kEthertypeQinq:
    case wire::kEthertypeQinqOld:
      drop(pkt, DropReason::kVlanTagged);
      break;
    default:
      drop(pkt, DropReason::kUnsupportedEthertype);
      break;
  }
  return pkt;  // one object on every path: NRVO
}

}  // namespace sgfw::packet
