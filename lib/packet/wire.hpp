// On-the-wire header layouts read by the parser (Ethernet II, ARP for Ethernet/IPv4,
// IPv4, IPv6 and its extension headers, TCP, UDP, ICMP, ICMPv6 neighbour discovery). Every field is a byte array, so the structs have alignment 1,
// no padding, and are only ever used with offsetof/sizeof: the parser never casts a
// frame pointer to them (no aliasing or alignment questions). Multi-byte fields are in
// network byte order. Thread-safety: constants only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/protocols.hpp"

namespace sgfw::packet::wire {

struct EthHdr {
  uint8_t dst[6];
  uint8_t src[6];
  uint8_t ethertype[2];
};

inline constexpr uint16_t kEthertypeIpv4 = 0x0800;
inline constexpr uint16_t kEthertypeArp = 0x0806;
inline constexpr uint16_t kEthertypeIpv6 = 0x86dd;
inline constexpr uint16_t kEthertypeVlan = 0x8100;   // 802.1Q
inline constexpr uint16_t kEthertypeQinq = 0x88a8;   // 802.1ad
inline constexpr uint16_t kEthertypeQinqOld = 0x9100;  // pre-standard QinQ

struct ArpHdr {  // Ethernet/IPv4 ARP only (RFC 826 with hlen 6, plen 4)
  uint8_t htype[2];
  uint8_t ptype[2];
  uint8_t hlen;
  uint8_t plen;
  uint8_t op[2];
  uint8_t sha[6];
  uint8_t spa[4];
  uint8_t tha[6];
  uint8_t tpa[4];
};

inline constexpr uint16_t kArpHtypeEthernet = 1;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

struct Ipv4Hdr {
  uint8_t version_ihl;   // version << 4 | IHL (32-bit words)
  uint8_t tos;
  uint8_t total_length[2];
  uint8_t id[2];
  uint8_t flags_frag[2];  // reserved | DF | MF | 13-bit offset (8-byte units)
  uint8_t ttl;
  uint8_t proto;
  uint8_t checksum[2];
  uint8_t src[4];
  uint8_t dst[4];
};

inline constexpr uint16_t kIpv4FlagMf = 0x2000;

// IPv4 options (RFC 791): end of list and no-operation are one byte; every other
// option is type, length (>= 2, counting both), data.
inline constexpr uint8_t kIpv4OptEnd = 0;
inline constexpr uint8_t kIpv4OptNop = 1;
inline constexpr uint8_t kIpv4OptLsrr = 0x83;  // loose source and record route
inline constexpr uint8_t kIpv4OptSsrr = 0x89;  // strict source and record route
inline constexpr uint16_t kIpv4FragOffsetMask = 0x1fff;
inline constexpr uint32_t kIpv4MaxDatagram = 65535;

struct Ipv6Hdr {
  uint8_t version_class_flow[4];  // version << 28 | traffic class | flow label
  uint8_t payload_length[2];      // bytes after this 40-byte header
  uint8_t next_header;
  uint8_t hop_limit;
  uint8_t src[16];
  uint8_t dst[16];
};

// Extension headers (RFC 8200 §4, RFC 4302). Every one starts with next header and a
// length byte: (len + 1) * 8 bytes in all, except AH ((len + 2) * 4) and the fragment
// header (always 8; its second byte is reserved).
inline constexpr uint8_t kIpv6HopByHop = 0;
inline constexpr uint8_t kIpv6Routing = 43;
inline constexpr uint8_t kIpv6Fragment = 44;
inline constexpr uint8_t kIpv6Ah = 51;
inline constexpr uint8_t kIpv6DestOptions = 60;
inline constexpr uint8_t kIpv6NoNextHeader = 59;
inline constexpr uint32_t kIpv6MaxExtHeaders = 8;  // docs/design/packet-parser.md

struct Ipv6ExtHdr {  // the two bytes every extension header starts with
  uint8_t next_header;
  uint8_t length;
};

struct Ipv6RoutingHdr {
  uint8_t next_header;
  uint8_t length;        // 8-byte units after the first 8
  uint8_t routing_type;  // 0 is deprecated (RFC 5095)
  uint8_t segments_left;
  uint8_t data[4];
};
inline constexpr uint8_t kIpv6RoutingType0 = 0;

struct Ipv6FragHdr {
  uint8_t next_header;
  uint8_t reserved;
  uint8_t offset_flags[2];  // 13-bit offset (8-byte units) << 3 | 2 reserved bits | M
  uint8_t id[4];
};
inline constexpr uint16_t kIpv6FragOffsetShift = 3;
inline constexpr uint16_t kIpv6FragMf = 0x0001;

// Options of the hop-by-hop and destination options headers (RFC 8200 §4.2): Pad1 is
// one byte, every other option is type, data length, data.
inline constexpr uint8_t kIpv6OptPad1 = 0;
inline constexpr uint8_t kIpv6OptJumbo = 0xc2;  // RFC 2675

using core::kProtoIcmp;
using core::kProtoIcmp6;
using core::kProtoTcp;
using core::kProtoUdp;

struct TcpHdr {
  uint8_t sport[2];
  uint8_t dport[2];
  uint8_t seq[4];
  uint8_t ack[4];
  uint8_t data_offset;  // data offset << 4 | reserved
  uint8_t flags;        // CWR ECE URG ACK PSH RST SYN FIN
  uint8_t window[2];
  uint8_t checksum[2];
  uint8_t urgent[2];
};

struct UdpHdr {
  uint8_t sport[2];
  uint8_t dport[2];
  uint8_t length[2];
  uint8_t checksum[2];
};

struct IcmpHdr {  // the fixed 8 bytes; rest_of_header is id+seq for echo
  uint8_t type;
  uint8_t code;
  uint8_t checksum[2];
  uint8_t id[2];
  uint8_t seq[2];
};

using core::kIcmpDestUnreachable;
using core::kIcmpEchoReply;
using core::kIcmpEchoRequest;
using core::kIcmpParameterProblem;
using core::kIcmpTimeExceeded;

// ICMPv6 uses IcmpHdr's layout (type, code, checksum, 4 bytes: id+seq for echo).
using core::is_icmp6_error;
using core::kIcmp6EchoReply;
using core::kIcmp6EchoRequest;
using core::kIcmp6NeighborAdvert;
using core::kIcmp6NeighborSolicit;
using core::kIcmp6Redirect;
using core::kIcmp6RouterAdvert;
using core::kIcmp6RouterSolicit;

// Neighbour discovery (RFC 4861 §4): the fixed part of each message, then options.
// NS: 4 reserved bytes, target. NA: flags byte (R S O), 3 reserved, target. Redirect:
// 4 reserved, target, destination. Options: type, length (8-byte units, 0 is invalid).
inline constexpr uint32_t kNdRsLen = 8;
inline constexpr uint32_t kNdRaLen = 16;
inline constexpr uint32_t kNdNsNaLen = 24;
inline constexpr uint32_t kNdRedirectLen = 40;
inline constexpr uint32_t kNdTargetOffset = 8;         // NS, NA, redirect
inline constexpr uint32_t kNdRedirectDstOffset = 24;   // redirect's destination address
inline constexpr uint32_t kNdNaFlagsOffset = 4;
inline constexpr uint8_t kNdNaFlagsMask = 0xe0;        // R 0x80, S 0x40, O 0x20
inline constexpr uint8_t kNdNaFlagSolicited = 0x40;
inline constexpr uint8_t kNdOptSourceLla = 1;
inline constexpr uint8_t kNdOptTargetLla = 2;
inline constexpr uint8_t kNdHopLimit = 255;

static_assert(sizeof(EthHdr) == 14 && alignof(EthHdr) == 1);
static_assert(sizeof(ArpHdr) == 28 && alignof(ArpHdr) == 1);
static_assert(sizeof(Ipv4Hdr) == 20 && alignof(Ipv4Hdr) == 1);
static_assert(sizeof(Ipv6Hdr) == 40 && alignof(Ipv6Hdr) == 1);
static_assert(sizeof(Ipv6RoutingHdr) == 8 && alignof(Ipv6RoutingHdr) == 1);
static_assert(sizeof(Ipv6FragHdr) == 8 && alignof(Ipv6FragHdr) == 1);
static_assert(sizeof(TcpHdr) == 20 && alignof(TcpHdr) == 1);
static_assert(sizeof(UdpHdr) == 8 && alignof(UdpHdr) == 1);
static_assert(sizeof(IcmpHdr) == 8 && alignof(IcmpHdr) == 1);

}  // namespace sgfw::packet::wire
