// On-the-wire header layouts read by the parser (Ethernet II, ARP for Ethernet/IPv4,
// IPv4, TCP, UDP, ICMP). Every field is a byte array, so the structs have alignment 1,
// no padding, and are only ever used with offsetof/sizeof: the parser never casts a
// frame pointer to them (no aliasing or alignment questions). Multi-byte fields are in
// network byte order. Thread-safety: constants only.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sgfw::packet::wire {

struct EthHdr {
  uint8_t dst[6];
  uint8_t src[6];
  uint8_t ethertype[2];
};

inline constexpr uint16_t kEthertypeIpv4 = 0x0800;
inline constexpr uint16_t kEthertypeArp = 0x0806;
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

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;

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

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParameterProblem = 12;

static_assert(sizeof(EthHdr) == 14 && alignof(EthHdr) == 1);
static_assert(sizeof(ArpHdr) == 28 && alignof(ArpHdr) == 1);
static_assert(sizeof(Ipv4Hdr) == 20 && alignof(Ipv4Hdr) == 1);
static_assert(sizeof(TcpHdr) == 20 && alignof(TcpHdr) == 1);
static_assert(sizeof(UdpHdr) == 8 && alignof(UdpHdr) == 1);
static_assert(sizeof(IcmpHdr) == 8 && alignof(IcmpHdr) == 1);

}  // namespace sgfw::packet::wire
