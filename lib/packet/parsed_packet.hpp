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

  // --- IPv4 (kind == kIpv4) -----------------------------------------------------------
  uint32_t src_be = 0;
  uint32_t dst_be = 0;
  uint8_t proto = 0;         // IP protocol number
  uint8_t ttl = 0;
  uint16_t ip_id_be = 0;     // identification: with (src, dst, proto) keys a fragment train
  uint16_t frag_offset = 0;  // fragment offset in 8-byte units
  bool more_fragments = false;  // MF flag
  bool is_fragment = false;     // frag_offset != 0 || MF
  bool first_fragment = false;  // frag_offset == 0 && MF (the fragment that carries L4)
  uint16_t l3_offset = 0;    // offset of the IPv4 header in the frame (14: no tags)
  uint16_t l4_offset = 0;    // l3_offset + IHL*4 (options skipped)
  // Bytes of L4 header + payload in this packet, from the IPv4 total length (never from
  // the frame length: Ethernet padding is not counted). For a fragment, this fragment's
  // share only.
  uint16_t l4_len = 0;

  // --- L4 (kind == kIpv4, not a non-first fragment) -----------------------------------
  uint16_t sport_be = 0;     // TCP/UDP source port, else 0
  uint16_t dport_be = 0;     // TCP/UDP destination port, else 0
  uint16_t udp_len = 0;      // UDP length field (host order, 8..l4_len when unfragmented)
  uint8_t tcp_flags = 0;     // TCP flags byte (CWR..FIN), TCP only
  uint8_t tcp_doff = 0;      // TCP header length in bytes (data offset * 4), TCP only
  uint8_t icmp_type = 0;     // ICMP only
  uint8_t icmp_code = 0;     // ICMP only
  uint16_t icmp_id_be = 0;   // identifier of an echo request (8) or reply (0), else 0

  [[nodiscard]] bool dropped() const noexcept { return kind == Kind::kDrop; }
  // True when the L4 fields above were parsed (an unfragmented packet or a first
  // fragment of TCP/UDP/ICMP).
  [[nodiscard]] bool has_l4() const noexcept {
    return kind == Kind::kIpv4 && frag_offset == 0 &&
           (proto == wire::kProtoIcmp || proto == wire::kProtoTcp || proto == wire::kProtoUdp);
  }

  bool operator==(const ParsedPacket&) const = default;
};

}  // namespace sgfw::packet
