// What the data-plane parser (parser.hpp) learns from one Ethernet frame.
// Thread-safety: plain value type.
//
// Byte order: fields ending in `_be` hold the wire bytes as they are in the frame (loaded
// with memcpy, the rte_be16_t/rte_be32_t convention), so they can be compared with and
// stored into packet headers without swapping; every other field is in host order.
// Fields that do not apply to the packet's kind are zero (the value-initialised default).
// A kDrop result keeps what was parsed before the failing check (for attribution and
// debugging); callers must rely on `drop` only.
#pragma once

#include <cstdint>

#include "core/drop_reason.hpp"
#include "packet/wire.hpp"

namespace sgfw::packet {

struct ParsedPacket {
  enum class Kind : uint8_t {
    kDrop,  // malformed or unsupported: `drop` says why
    kArp,   // Ethernet/IPv4 ARP request or reply: arp_* fields
    kIpv4,  // IPv4: ip and (unless a non-first fragment) L4 fields
    kIpv6,  // IPv6: src6/dst6, the shared IP fields, (unless a non-first fragment) L4
  };

  Kind kind = Kind::kDrop;
  // Valid only when kind == kDrop: the one reason this frame is dropped (docs/enforcement.md §6).
  core::DropReason drop = core::DropReason::kMalformedL2;

  // --- Ethernet (set whenever the frame has the 14-byte header, also for drops) ------
  uint8_t dst_mac[6] = {};
  uint8_t src_mac[6] = {};

  // --- ARP (kind == kArp) -------------------------------------------------------------
  uint16_t arp_op = 0;       // 1 request, 2 reply (host order)
  uint8_t arp_sha[6] = {};   // sender hardware address
  uint8_t arp_tha[6] = {};   // target hardware address
  uint32_t arp_spa_be = 0;   // sender protocol (IPv4) address
  uint32_t arp_tpa_be = 0;   // target protocol (IPv4) address

  // --- IP (kind == kIpv4 or kIpv6; the fields below apply to both unless marked) -------
  uint32_t src_be = 0;       // IPv4 only
  uint32_t dst_be = 0;       // IPv4 only
  // IPv4: the protocol number. IPv6: the upper-layer header found after the extension
  // headers (6, 17, 58, or anything else: 50 ESP, 59 no next header, ...); in a
  // non-first fragment, the fragment header's next header (what the fragment's data
  // starts with, which may be another extension header).
  uint8_t proto = 0;
  uint8_t ttl = 0;           // IPv4 TTL, IPv6 hop limit
  uint16_t ip_id_be = 0;     // IPv4 identification: with (src, dst, proto) keys a fragment train
  uint16_t frag_offset = 0;  // fragment offset in 8-byte units
  bool more_fragments = false;  // MF flag (IPv6: the fragment header's M flag)
  // frag_offset != 0 || MF. IPv6: false without a fragment header and for an atomic
  // fragment (fragment header with offset 0 and M 0, RFC 6946).
  bool is_fragment = false;
  bool first_fragment = false;  // frag_offset == 0 && MF (the fragment that carries L4)
  uint16_t l3_offset = 0;    // offset of the IP header in the frame (14: no tags)
  // Start of the L4 header: IPv4 l3_offset + IHL*4 (options skipped); IPv6 after the
  // extension headers (in a non-first fragment: after the fragment header).
  uint16_t l4_offset = 0;
  // Bytes of L4 header + payload in this packet, from the IPv4 total length or the IPv6
  // payload length (never from the frame length: Ethernet padding is not counted). For a
  // fragment, this fragment's share only.
  uint16_t l4_len = 0;

  // --- L4 (kind == kIpv4 or kIpv6, not a non-first fragment) --------------------------
  uint16_t sport_be = 0;     // TCP/UDP source port, else 0
  uint16_t dport_be = 0;     // TCP/UDP destination port, else 0
  uint16_t udp_len = 0;      // UDP length field (host order, 8..l4_len when unfragmented)
  uint8_t tcp_flags = 0;     // TCP flags byte (CWR..FIN), TCP only
  uint8_t tcp_doff = 0;      // TCP header length in bytes (data offset * 4), TCP only
  uint8_t icmp_type = 0;     // ICMP or ICMPv6 only
  uint8_t icmp_code = 0;     // ICMP or ICMPv6 only
  // Identifier of an echo request or reply (ICMP 8/0, ICMPv6 128/129), else 0.
  uint16_t icmp_id_be = 0;

  // --- IPv6 only (kind == kIpv6) --------------------------------------------------------
  uint8_t src6[16] = {};     // wire order
  uint8_t dst6[16] = {};     // wire order
  // The fragment header's identification (also for an atomic fragment): with (src6,
  // dst6) it keys a fragment train (RFC 8200 §4.5; not proto, see above).
  uint32_t frag_id6_be = 0;

  // --- ICMPv6 neighbour discovery (kind == kIpv6, icmp_type 133..137, validated) -------
  uint8_t nd_target[16] = {};  // NS, NA, redirect: the target address (wire order)
  uint8_t nd_lladdr[6] = {};   // the link-layer address option's MAC, if any
  // Which link-layer option nd_lladdr came from: 0 none, 1 source (NS, RS, RA),
  // 2 target (NA, redirect). Only the kind the message type defines is read.
  uint8_t nd_lladdr_option = 0;
  uint8_t nd_na_flags = 0;     // NA: R 0x80, S 0x40, O 0x20 as in the header byte

  [[nodiscard]] bool dropped() const noexcept { return kind == Kind::kDrop; }
  // True when the L4 fields above were parsed (an unfragmented packet or a first
  // fragment of TCP/UDP/ICMP, or of TCP/UDP/ICMPv6 for IPv6).
  [[nodiscard]] bool has_l4() const noexcept {
    if (frag_offset != 0) return false;
    const bool tcp_udp = proto == wire::kProtoTcp || proto == wire::kProtoUdp;
    if (kind == Kind::kIpv4) return tcp_udp || proto == wire::kProtoIcmp;
    if (kind == Kind::kIpv6) return tcp_udp || proto == wire::kProtoIcmp6;
    return false;
  }

  bool operator==(const ParsedPacket&) const = default;
};

}  // namespace sgfw::packet
