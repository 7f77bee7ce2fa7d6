// Frame builders for the pipeline scenario tests: Ethernet II frames with IPv4 (header
// checksum filled, optional options, fragment fields), TCP/UDP/ICMP, ICMP errors
// quoting another frame, and ARP. Byte-exact, no scapy, no DPDK. Test code only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgfw::scenario {

using Bytes = std::vector<uint8_t>;

struct Mac {
  uint8_t b[6];
};
[[nodiscard]] Mac mac(const std::string& text);  // "02:00:00:00:00:0a"
[[nodiscard]] uint32_t ip(const std::string& text);  // dotted quad -> host order

inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

struct Ip {  // the IPv4 header fields a scenario varies
  uint32_t src = 0, dst = 0;  // host order
  uint8_t proto = 0;
  uint16_t id = 1;
  uint16_t frag_offset = 0;  // 8-byte units
  bool more_fragments = false;
  Bytes options;             // padded to a multiple of 4 by the builder
  uint8_t ttl = 64;
};

// An Ethernet frame around an IPv4 packet whose payload (L4 header + data) is `l4`.
[[nodiscard]] Bytes ipv4_frame(Mac src, Mac dst, const Ip& ip, const Bytes& l4);
[[nodiscard]] Bytes tcp_header(uint16_t sport, uint16_t dport, uint8_t flags);
[[nodiscard]] Bytes udp_datagram(uint16_t sport, uint16_t dport, size_t payload);
[[nodiscard]] Bytes icmp_message(uint8_t type, uint8_t code, uint16_t id, uint16_t seq, const Bytes& data = {});

// Shorthands (src/dst are dotted quads).
[[nodiscard]] Bytes tcp(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst,
                        uint16_t dport, uint8_t flags);
[[nodiscard]] Bytes udp(Mac smac, Mac dmac, const std::string& src, uint16_t sport, const std::string& dst,
                        uint16_t dport, size_t payload = 8);
[[nodiscard]] Bytes icmp_echo(Mac smac, Mac dmac, const std::string& src, const std::string& dst, bool request,
                              uint16_t id, uint16_t seq = 1);
// An ICMP error (type/code) from src to dst quoting the IPv4 header and the first 8
// L4 bytes of `quoted` (an Ethernet frame built above).
[[nodiscard]] Bytes icmp_error(Mac smac, Mac dmac, const std::string& src, const std::string& dst, uint8_t type,
                               uint8_t code, const Bytes& quoted);
// Fragments of one UDP datagram (payload bytes of data) with IP id `id`, each carrying
// at most `mtu` IP bytes.
[[nodiscard]] std::vector<Bytes> udp_fragments(Mac smac, Mac dmac, const std::string& src, uint16_t sport,
                                               const std::string& dst, uint16_t dport, size_t payload,
                                               uint16_t id, size_t mtu = 1500);
[[nodiscard]] Bytes arp(Mac smac, Mac dmac, uint16_t op, Mac sha, const std::string& spa, Mac tha,
                        const std::string& tpa);

inline constexpr Mac kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

}  // namespace sgfw::scenario
