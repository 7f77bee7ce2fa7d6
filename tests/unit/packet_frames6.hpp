// IPv6 frame builders and parse checks for the packet parser's IPv6 unit tests
// (test_packet_parser_v6*.cpp; the byte helpers are packet_bytes.hpp's): the IPv6
// header, extension headers, fragments, TCP, UDP, ICMPv6 and neighbour discovery,
// byte-exact and editable. Test code only.
#pragma once

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/protocols.hpp"
#include "packet/parser.hpp"
#include "packet_bytes.hpp"

namespace sgfw::test::frames6 {

using sgfw::core::DropReason;
using sgfw::packet::ParsedPacket;
using Kind = ParsedPacket::Kind;
using Addr = std::array<uint8_t, 16>;

constexpr Addr kSrc = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0x0a};  // fd00::1:a
constexpr Addr kDst = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0x0b};  // fd00::1:b
constexpr Addr kLinkLocal = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr Addr kUnspecified = {};
constexpr Addr kAllNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr Addr kSolicited = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x01, 0, 0x0b};

using sgfw::test::append;
inline void append(Bytes& b, const Addr& a) { b.insert(b.end(), a.begin(), a.end()); }

struct Ip6 {
  uint8_t nh = 6;      // the first next header (of the IPv6 header)
  Addr src = kSrc, dst = kDst;
  uint8_t hop = 64;
  Bytes ext;           // extension headers, already chained
  Bytes l4;
  int payload_len = -1;  // -1: ext + l4
};

inline Bytes ipv6(const Ip6& ip) {
  Bytes h{0x60, 0x00, 0x12, 0x34};  // version 6, flow label 0x1234
  append16(h, static_cast<uint16_t>(ip.payload_len >= 0 ? ip.payload_len
                                                        : static_cast<int>(ip.ext.size() + ip.l4.size())));
  h.push_back(ip.nh);
  h.push_back(ip.hop);
  append(h, ip.src);
  append(h, ip.dst);
  append(h, ip.ext);
  append(h, ip.l4);
  return h;
}

inline Bytes frame(const Ip6& ip, size_t pad = 0) { return eth(0x86dd, ipv6(ip), pad); }

// Hop-by-hop or destination options: `opts` padded with PadN/Pad1 to a multiple of 8.
inline Bytes opts_hdr(uint8_t nh, Bytes opts = {}) {
  Bytes h{nh, 0};
  append(h, opts);
  const size_t rem = (8 - h.size() % 8) % 8;
  if (rem == 1) h.push_back(0);
  else if (rem >= 2) {
    h.push_back(1);
    h.push_back(static_cast<uint8_t>(rem - 2));
    h.insert(h.end(), rem - 2, 0);
  }
  h[1] = static_cast<uint8_t>(h.size() / 8 - 1);
  return h;
}
inline Bytes routing(uint8_t nh, uint8_t type, uint8_t segments_left = 0, size_t addresses = 1) {
  Bytes h{nh, static_cast<uint8_t>(2 * addresses), type, segments_left, 0, 0, 0, 0};
  for (size_t i = 0; i < addresses; ++i) append(h, kDst);
  return h;
}
inline Bytes frag(uint8_t nh, uint16_t offset, bool m, uint32_t id = 0xabcd1234) {
  Bytes h{nh, 0};
  append16(h, static_cast<uint16_t>((offset << 3) | (m ? 1 : 0)));
  append32(h, id);
  return h;
}
inline Bytes ah(uint8_t nh) {  // 24 bytes: SPI, sequence, 12 bytes of ICV
  Bytes h{nh, 4, 0, 0};
  append32(h, 0x100);
  append32(h, 1);
  h.insert(h.end(), 12, 0xaa);
  return h;
}

inline Bytes udp(uint16_t sport, uint16_t dport, size_t payload = 0) {
  Bytes u;
  append16(u, sport);
  append16(u, dport);
  append16(u, static_cast<uint16_t>(8 + payload));
  append16(u, 0x1111);
  u.insert(u.end(), payload, 0x62);
  return u;
}
inline Bytes icmp6(uint8_t type, uint8_t code, uint16_t id = 0, uint16_t seq = 0, const Bytes& rest = {}) {
  Bytes m{type, code, 0, 0};
  append16(m, id);
  append16(m, seq);
  append(m, rest);
  return m;
}

// Neighbour discovery.
inline Bytes lla(uint8_t type, const uint8_t* mac = kSrcMac) {
  Bytes o{type, 1};
  o.insert(o.end(), mac, mac + 6);
  return o;
}
inline Bytes ns(const Addr& target, const Bytes& opts = {}) {
  Bytes m{135, 0, 0, 0, 0, 0, 0, 0};
  append(m, target);
  append(m, opts);
  return m;
}
inline Bytes na(uint8_t flags, const Addr& target, const Bytes& opts = {}) {
  Bytes m{136, 0, 0, 0, flags, 0, 0, 0};
  append(m, target);
  append(m, opts);
  return m;
}
inline Bytes rs(const Bytes& opts = {}) {
  Bytes m{133, 0, 0, 0, 0, 0, 0, 0};
  append(m, opts);
  return m;
}
inline Bytes ra(const Bytes& opts = {}) {
  Bytes m{134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0};
  append(m, opts);
  return m;
}
inline Bytes redirect(const Addr& target, const Addr& dest, const Bytes& opts = {}) {
  Bytes m{137, 0, 0, 0, 0, 0, 0, 0};
  append(m, target);
  append(m, dest);
  append(m, opts);
  return m;
}
inline Bytes nd_frame(const Bytes& msg, const Addr& src = kSrc, const Addr& dst = kDst, uint8_t hop = 255) {
  return frame({.nh = 58, .src = src, .dst = dst, .hop = hop, .l4 = msg});
}

inline ParsedPacket parse_bytes(const Bytes& f) {
  // Exact-size heap copy: under ASan, a read past the frame is caught.
  std::unique_ptr<uint8_t[]> exact(f.empty() ? nullptr : new uint8_t[f.size()]);
  if (!f.empty()) std::memcpy(exact.get(), f.data(), f.size());
  return sgfw::packet::parse(exact.get(), static_cast<uint32_t>(f.size()));
}

inline void expect_drop(const Bytes& f, DropReason reason, const char* what) {
  const ParsedPacket p = parse_bytes(f);
  BOOST_TEST((p.kind == Kind::kDrop), what);
  BOOST_TEST(to_string(p.drop) == to_string(reason), what);
}

inline ParsedPacket expect_ipv6(const Bytes& f, const char* what) {
  const ParsedPacket p = parse_bytes(f);
  BOOST_TEST((p.kind == Kind::kIpv6), what << " (got " << to_string(p.drop) << ")");
  return p;
}

inline bool same(const uint8_t* a, const Addr& b) { return std::memcmp(a, b.data(), 16) == 0; }

}  // namespace sgfw::test::frames6
