// IPv4 frame builders and parse checks for the packet parser's unit tests
// (test_packet_parser*.cpp; the byte helpers are packet_bytes.hpp's): ARP, IPv4 with
// options and fragments, TCP, UDP and ICMP, byte-exact and editable. Test code only.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

#include "packet/parser.hpp"
#include "packet_bytes.hpp"

namespace sgfw::test::frames4 {

using sgfw::core::DropReason;
using sgfw::packet::ParsedPacket;
using Kind = ParsedPacket::Kind;

constexpr uint32_t kSrc = 0x0a00010a;  // 10.0.1.10
constexpr uint32_t kDst = 0x0a00010b;  // 10.0.1.11

inline uint16_t ip_checksum(const uint8_t* h, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>((h[i] << 8) | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Recompute the IPv4 header checksum of a frame after editing its header (IHL taken
// from the frame, clamped to what is there).
inline void fix_ip_checksum(Bytes& f) {
  if (f.size() < 34) return;
  size_t ihl = static_cast<size_t>(f[14] & 0x0f) * 4;
  if (ihl < 20) ihl = 20;
  if (14 + ihl > f.size()) return;
  put16(f, 24, 0);
  put16(f, 24, ip_checksum(f.data() + 14, ihl));
}

struct Ip {
  uint8_t proto = 6;
  uint32_t src = kSrc, dst = kDst;
  uint8_t ttl = 64;
  uint16_t id = 0x1234;
  uint16_t frag_offset = 0;  // 8-byte units
  bool mf = false, df = false;
  Bytes options;             // length a multiple of 4
  Bytes l4;
};

inline Bytes ipv4(const Ip& ip) {
  Bytes h;
  const size_t ihl = 20 + ip.options.size();
  h.push_back(static_cast<uint8_t>(0x40 | (ihl / 4)));
  h.push_back(0);
  append16(h, static_cast<uint16_t>(ihl + ip.l4.size()));
  append16(h, ip.id);
  append16(h, static_cast<uint16_t>((ip.df ? 0x4000 : 0) | (ip.mf ? 0x2000 : 0) |
                                    ip.frag_offset));
  h.push_back(ip.ttl);
  h.push_back(ip.proto);
  append16(h, 0);
  append32(h, ip.src);
  append32(h, ip.dst);
  h.insert(h.end(), ip.options.begin(), ip.options.end());
  put16(h, 10, ip_checksum(h.data(), ihl));
  h.insert(h.end(), ip.l4.begin(), ip.l4.end());
  return h;
}

inline Bytes frame(const Ip& ip, size_t pad = 0) { return eth(0x0800, ipv4(ip), pad); }


inline Bytes udp(uint16_t sport, uint16_t dport, size_t payload = 0, int length_field = -1) {
  Bytes u;
  append16(u, sport);
  append16(u, dport);
  append16(u, static_cast<uint16_t>(length_field >= 0 ? length_field : 8 + payload));
  append16(u, 0);
  u.insert(u.end(), payload, 0x62);
  return u;
}

inline Bytes icmp(uint8_t type, uint8_t code, uint16_t id = 0, uint16_t seq = 0, const Bytes& rest = {}) {
  Bytes m{type, code, 0, 0};
  append16(m, id);
  append16(m, seq);
  m.insert(m.end(), rest.begin(), rest.end());
  return m;
}

inline Bytes arp_body(uint16_t op, uint32_t spa = kSrc, uint32_t tpa = kDst) {
  Bytes a;
  append16(a, 1);       // htype Ethernet
  append16(a, 0x0800);  // ptype IPv4
  a.push_back(6);
  a.push_back(4);
  append16(a, op);
  a.insert(a.end(), kSrcMac, kSrcMac + 6);
  append32(a, spa);
  if (op == 2) a.insert(a.end(), kDstMac, kDstMac + 6);
  else a.insert(a.end(), 6, 0);
  append32(a, tpa);
  return a;
}

inline ParsedPacket parse_bytes(const Bytes& f) {
  return sgfw::packet::parse(f.data(), static_cast<uint32_t>(f.size()));
}

// The frame is dropped with exactly this reason.
inline void expect_drop(const Bytes& f, DropReason reason, const char* what) {
  const ParsedPacket p = parse_bytes(f);
  BOOST_TEST((p.kind == Kind::kDrop), what);
  BOOST_TEST(to_string(p.drop) == to_string(reason), what);
}

inline ParsedPacket expect_ipv4(const Bytes& f, const char* what) {
  const ParsedPacket p = parse_bytes(f);
  BOOST_TEST((p.kind == Kind::kIpv4), what << " (got " << to_string(p.drop) << ")");
  return p;
}

}  // namespace sgfw::test::frames4
