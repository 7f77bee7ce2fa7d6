#define BOOST_TEST_MODULE packet_parser_v6
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "core/protocols.hpp"
#include "packet/icmp_error_inner.hpp"
#include "packet/parser.hpp"

// The IPv6 half of the parser (docs/design/packet-parser.md, "IPv6"): every accepted
// form and every drop with its exact reason. Frames are built byte by byte.
using namespace sgfw::packet;
using sgfw::core::DropReason;
using Kind = ParsedPacket::Kind;
using Bytes = std::vector<uint8_t>;
using Addr = std::array<uint8_t, 16>;

namespace {

constexpr uint8_t kDstMac[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x0b};
constexpr uint8_t kSrcMac[6] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x0a};
constexpr Addr kSrc = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0x0a};  // fd00::1:a
constexpr Addr kDst = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0x0b};  // fd00::1:b
constexpr Addr kLinkLocal = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr Addr kUnspecified = {};
constexpr Addr kAllNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr Addr kSolicited = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x01, 0, 0x0b};

void append16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void append32(Bytes& b, uint32_t v) {
  append16(b, static_cast<uint16_t>(v >> 16));
  append16(b, static_cast<uint16_t>(v));
}
void append(Bytes& b, const Bytes& x) { b.insert(b.end(), x.begin(), x.end()); }
void append(Bytes& b, const Addr& a) { b.insert(b.end(), a.begin(), a.end()); }
void put16(Bytes& b, size_t at, uint16_t v) {
  b.at(at) = static_cast<uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<uint8_t>(v);
}
uint16_t be16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  uint16_t r;
  std::memcpy(&r, b, 2);
  return r;
}
uint32_t be32(uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  uint32_t r;
  std::memcpy(&r, b, 4);
  return r;
}

struct Ip6 {
  uint8_t nh = 6;      // the first next header (of the IPv6 header)
  Addr src = kSrc, dst = kDst;
  uint8_t hop = 64;
  Bytes ext;           // extension headers, already chained
  Bytes l4;
  int payload_len = -1;  // -1: ext + l4
};

Bytes ipv6(const Ip6& ip) {
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

Bytes eth(uint16_t ethertype, const Bytes& payload, size_t pad = 0) {
  Bytes f(kDstMac, kDstMac + 6);
  f.insert(f.end(), kSrcMac, kSrcMac + 6);
  append16(f, ethertype);
  append(f, payload);
  f.insert(f.end(), pad, 0xee);
  return f;
}
Bytes frame(const Ip6& ip, size_t pad = 0) { return eth(0x86dd, ipv6(ip), pad); }

// Hop-by-hop or destination options: `opts` padded with PadN/Pad1 to a multiple of 8.
Bytes opts_hdr(uint8_t nh, Bytes opts = {}) {
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
Bytes routing(uint8_t nh, uint8_t type, uint8_t segments_left = 0, size_t addresses = 1) {
  Bytes h{nh, static_cast<uint8_t>(2 * addresses), type, segments_left, 0, 0, 0, 0};
  for (size_t i = 0; i < addresses; ++i) append(h, kDst);
  return h;
}
Bytes frag(uint8_t nh, uint16_t offset, bool m, uint32_t id = 0xabcd1234) {
  Bytes h{nh, 0};
  append16(h, static_cast<uint16_t>((offset << 3) | (m ? 1 : 0)));
  append32(h, id);
  return h;
}
Bytes ah(uint8_t nh) {  // 24 bytes: SPI, sequence, 12 bytes of ICV
  Bytes h{nh, 4, 0, 0};
  append32(h, 0x100);
  append32(h, 1);
  h.insert(h.end(), 12, 0xaa);
  return h;
}

Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags = 0x02, uint8_t doff_words = 5,
          size_t payload = 0) {
  Bytes t;
  append16(t, sport);
  append16(t, dport);
  append32(t, 1000);
  append32(t, 0);
  t.push_back(static_cast<uint8_t>(doff_words << 4));
  t.push_back(flags);
  append16(t, 65535);
  append16(t, 0);
  append16(t, 0);
  for (size_t i = 20; i < size_t{doff_words} * 4; ++i) t.push_back(1);
  t.insert(t.end(), payload, 0x61);
  return t;
}
Bytes udp(uint16_t sport, uint16_t dport, size_t payload = 0) {
  Bytes u;
  append16(u, sport);
  append16(u, dport);
  append16(u, static_cast<uint16_t>(8 + payload));
  append16(u, 0x1111);
  u.insert(u.end(), payload, 0x62);
  return u;
}
Bytes icmp6(uint8_t type, uint8_t code, uint16_t id = 0, uint16_t seq = 0, const Bytes& rest = {}) {
  Bytes m{type, code, 0, 0};
  append16(m, id);
  append16(m, seq);
  append(m, rest);
  return m;
}

// Neighbour discovery.
Bytes lla(uint8_t type, const uint8_t* mac = kSrcMac) {
  Bytes o{type, 1};
  o.insert(o.end(), mac, mac + 6);
  return o;
}
Bytes ns(const Addr& target, const Bytes& opts = {}) {
  Bytes m{135, 0, 0, 0, 0, 0, 0, 0};
  append(m, target);
  append(m, opts);
  return m;
}
Bytes na(uint8_t flags, const Addr& target, const Bytes& opts = {}) {
  Bytes m{136, 0, 0, 0, flags, 0, 0, 0};
  append(m, target);
  append(m, opts);
  return m;
}
Bytes rs(const Bytes& opts = {}) {
  Bytes m{133, 0, 0, 0, 0, 0, 0, 0};
  append(m, opts);
  return m;
}
Bytes ra(const Bytes& opts = {}) {
  Bytes m{134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0};
  append(m, opts);
  return m;
}
Bytes redirect(const Addr& target, const Addr& dest, const Bytes& opts = {}) {
  Bytes m{137, 0, 0, 0, 0, 0, 0, 0};
  append(m, target);
  append(m, dest);
  append(m, opts);
  return m;
}
Bytes nd_frame(const Bytes& msg, const Addr& src = kSrc, const Addr& dst = kDst, uint8_t hop = 255) {
  return frame({.nh = 58, .src = src, .dst = dst, .hop = hop, .l4 = msg});
}

ParsedPacket parse_bytes(const Bytes& f) {
  // Exact-size heap copy: under ASan, a read past the frame is caught.
  std::unique_ptr<uint8_t[]> exact(f.empty() ? nullptr : new uint8_t[f.size()]);
  if (!f.empty()) std::memcpy(exact.get(), f.data(), f.size());
  return parse(exact.get(), static_cast<uint32_t>(f.size()));
}

void expect_drop(const Bytes& f, DropReason reason, const char* what) {
  const ParsedPacket p = parse_bytes(f);
  BOOST_TEST((p.kind == Kind::kDrop), what);
  BOOST_TEST(to_string(p.drop) == to_string(reason), what);
}

ParsedPacket expect_ipv6(const Bytes& f, const char* what) {
  const ParsedPacket p = parse_bytes(f);
  BOOST_TEST((p.kind == Kind::kIpv6), what << " (got " << to_string(p.drop) << ")");
  return p;
}

bool same(const uint8_t* a, const Addr& b) { return std::memcmp(a, b.data(), 16) == 0; }

}  // namespace

// -------------------------------------------------------------- valid IPv6 + L4 ---

BOOST_AUTO_TEST_CASE(tcp_fields) {
  const ParsedPacket p = expect_ipv6(frame({.hop = 17, .l4 = tcp(40000, 443, 0x12, 5, 100)}), "tcp");
  BOOST_TEST(same(p.src6, kSrc));
  BOOST_TEST(same(p.dst6, kDst));
  BOOST_TEST(p.src_be == 0u);
  BOOST_TEST(p.proto == 6);
  BOOST_TEST(p.ttl == 17);
  BOOST_TEST(!p.is_fragment);
  BOOST_TEST(p.frag_id6_be == 0u);
  BOOST_TEST(p.l3_offset == 14);
  BOOST_TEST(p.l4_offset == 54);
  BOOST_TEST(p.l4_len == 120);
  BOOST_TEST(p.sport_be == be16(40000));
  BOOST_TEST(p.dport_be == be16(443));
  BOOST_TEST(p.tcp_flags == 0x12);
  BOOST_TEST(p.tcp_doff == 20);
  BOOST_TEST(p.has_l4());
  BOOST_TEST(std::memcmp(p.src_mac, kSrcMac, 6) == 0);
  BOOST_TEST(std::memcmp(p.dst_mac, kDstMac, 6) == 0);
}

BOOST_AUTO_TEST_CASE(udp_icmp6_and_padding) {
  ParsedPacket p = expect_ipv6(frame({.nh = 17, .l4 = udp(546, 547, 30)}, 20), "udp padded");
  BOOST_TEST(p.sport_be == be16(546));
  BOOST_TEST(p.dport_be == be16(547));
  BOOST_TEST(p.udp_len == 38);
  BOOST_TEST(p.l4_len == 38);  // payload length, not the frame
  p = expect_ipv6(frame({.nh = 58, .l4 = icmp6(128, 0, 0x4242, 1, Bytes(56, 0))}), "echo request");
  BOOST_TEST(p.icmp_type == 128);
  BOOST_TEST(p.icmp_id_be == be16(0x4242));
  BOOST_TEST(p.has_l4());
  p = expect_ipv6(frame({.nh = 58, .l4 = icmp6(129, 0, 0x4343)}), "echo reply");
  BOOST_TEST(p.icmp_id_be == be16(0x4343));
  p = expect_ipv6(frame({.nh = 58, .l4 = icmp6(200, 7, 0x5555)}), "unknown type");
  BOOST_TEST(p.icmp_type == 200);
  BOOST_TEST(p.icmp_code == 7);
  BOOST_TEST(p.icmp_id_be == 0);
  // MLD: type only, whatever the hop limit or body.
  for (uint8_t t : {130, 131, 132, 143}) {
    p = expect_ipv6(frame({.nh = 58, .hop = 1, .l4 = icmp6(t, 0, 0, 0, Bytes(16, 0))}), "mld");
    BOOST_TEST(p.icmp_type == t);
  }
  // Truncated L4 headers.
  for (size_t n : {1, 19}) {
    Bytes t = tcp(1, 2);
    t.resize(n);
    expect_drop(frame({.l4 = t}), DropReason::kMalformedL4, "short tcp");
  }
  Bytes t = tcp(1, 2);
  t[12] = 0x40;
  expect_drop(frame({.l4 = t}), DropReason::kMalformedL4, "tcp doff 4");
  t[12] = 0x60;
  expect_drop(frame({.l4 = t}), DropReason::kMalformedL4, "tcp doff past segment");
  expect_drop(frame({.nh = 17, .l4 = Bytes(7, 0)}), DropReason::kMalformedL4, "short udp");
  Bytes u = udp(1, 2, 4);
  put16(u, 4, 20);
  expect_drop(frame({.nh = 17, .l4 = u}), DropReason::kMalformedL4, "udp length past datagram");
  put16(u, 4, 0);  // a jumbogram's UDP length (RFC 2675)
  expect_drop(frame({.nh = 17, .l4 = u}), DropReason::kMalformedL4, "udp length 0");
  expect_drop(frame({.nh = 58, .l4 = Bytes(7, 128)}), DropReason::kMalformedL4, "short icmpv6");
}

BOOST_AUTO_TEST_CASE(other_upper_layers_have_no_l4_checks) {
  for (uint8_t nh : {50, 59, 47, 132, 4, 41, 255}) {
    for (size_t n : {size_t{1}, size_t{40}}) {
      const ParsedPacket p = expect_ipv6(frame({.nh = nh, .l4 = Bytes(n, 0xff)}), "other");
      BOOST_TEST(p.proto == nh);
      BOOST_TEST(p.l4_len == n);
      BOOST_TEST(p.sport_be == 0);
      BOOST_TEST(!p.has_l4());
    }
  }
  // ESP after a destination options header: ESP is the upper layer.
  const ParsedPacket p = expect_ipv6(frame({.nh = 60, .ext = opts_hdr(50), .l4 = Bytes(32, 1)}), "esp");
  BOOST_TEST(p.proto == 50);
  BOOST_TEST(p.l4_offset == 54 + 8);
}

// ------------------------------------------------------------------ IPv6 header ---

BOOST_AUTO_TEST_CASE(header_truncated_version_and_lengths_are_malformed_ipv6) {
  const Bytes good = frame({.l4 = tcp(1, 2)});
  for (size_t n = 14; n < 54; ++n)
    expect_drop(Bytes(good.begin(), good.begin() + static_cast<long>(n)), DropReason::kMalformedIpv6,
                "short header");
  for (uint8_t v : {0, 4, 5, 7, 15}) {
    Bytes f = good;
    f[14] = static_cast<uint8_t>((v << 4) | (f[14] & 0x0f));
    expect_drop(f, DropReason::kMalformedIpv6, "version");
  }
  // An IPv4 header under 0x86dd.
  expect_drop(eth(0x86dd, Bytes(60, 0x45)), DropReason::kMalformedIpv6, "ipv4 in 0x86dd");
  // Payload length beyond the frame (also when padding is there but too short).
  expect_drop(frame({.l4 = tcp(1, 2), .payload_len = 21}), DropReason::kMalformedIpv6, "past frame");
  expect_drop(frame({.l4 = tcp(1, 2), .payload_len = 25}, 4), DropReason::kMalformedIpv6, "past padding");
  expect_drop(frame({.l4 = tcp(1, 2), .payload_len = 0xffff}), DropReason::kMalformedIpv6, "65535");
  // Payload length 0: the jumbogram marker, only "no next header" may be empty.
  expect_drop(frame({.l4 = tcp(1, 2), .payload_len = 0}), DropReason::kMalformedIpv6, "0 with tcp");
  expect_drop(frame({.nh = 0, .ext = opts_hdr(6), .l4 = tcp(1, 2), .payload_len = 0}),
              DropReason::kMalformedIpv6, "jumbogram");
  expect_drop(frame({.nh = 47, .payload_len = 0}, 6), DropReason::kMalformedIpv6, "0 with gre");
  ParsedPacket p = expect_ipv6(frame({.nh = 59, .payload_len = 0}, 6), "no next header, empty");
  BOOST_TEST(p.l4_len == 0);
  BOOST_TEST(p.proto == 59);
  // The jumbo payload option (RFC 2675) in a hop-by-hop header.
  expect_drop(frame({.nh = 0, .ext = opts_hdr(6, {0xc2, 4, 0, 1, 0, 0}), .l4 = tcp(1, 2)}),
              DropReason::kMalformedIpv6, "jumbo option");
}

// ------------------------------------------------------------ extension headers ---

BOOST_AUTO_TEST_CASE(extension_chain_accepted_forms) {
  // Hop-by-hop (router alert), destination options, routing type 2, AH, then TCP.
  Bytes ext = opts_hdr(60, {0x05, 2, 0, 0});
  append(ext, opts_hdr(43, {0x1e, 3, 1, 2, 3}));  // an unknown option: not interpreted
  append(ext, routing(51, 2, 1, 1));
  append(ext, ah(6));
  ParsedPacket p = expect_ipv6(frame({.nh = 0, .ext = ext, .l4 = tcp(1234, 22, 0x02, 6, 10)}), "chain");
  BOOST_TEST(p.proto == 6);
  BOOST_TEST(p.l4_offset == 54 + ext.size());
  BOOST_TEST(p.l4_len == 34);
  BOOST_TEST(p.dport_be == be16(22));
  BOOST_TEST(p.tcp_doff == 24);
  // Routing type 4 (segment routing) with two segments: allowed.
  p = expect_ipv6(frame({.nh = 43, .ext = routing(17, 4, 1, 2), .l4 = udp(5, 6)}), "srh");
  BOOST_TEST(p.dport_be == be16(6));
  BOOST_TEST(p.l4_offset == 54 + 40);
  // Type 2 with segments left 0 and an unknown type 253.
  expect_ipv6(frame({.nh = 43, .ext = routing(6, 2, 0), .l4 = tcp(1, 2)}), "type 2");
  expect_ipv6(frame({.nh = 43, .ext = routing(6, 253, 0), .l4 = tcp(1, 2)}), "type 253");
  // Exactly 8 extension headers.
  Bytes eight;
  for (int i = 0; i < 7; ++i) append(eight, opts_hdr(60));
  append(eight, opts_hdr(58));
  p = expect_ipv6(frame({.nh = 60, .ext = eight, .l4 = icmp6(128, 0, 7)}), "8 headers");
  BOOST_TEST(p.icmp_id_be == be16(7));
  BOOST_TEST(p.l4_offset == 54 + 64);
  // A destination options header of the maximum size (2048 bytes).
  Bytes opts;  // PadN options filling 2046 bytes
  for (size_t left = 2046; left > 0;) {
    const size_t n = std::min<size_t>(left - 2, 255);
    opts.push_back(1);
    opts.push_back(static_cast<uint8_t>(n));
    opts.insert(opts.end(), n, 0);
    left -= n + 2;
    if (left == 1) { opts.push_back(0); left = 0; }
  }
  Bytes big{6, 255};
  append(big, opts);
  BOOST_REQUIRE(big.size() == 2048u);
  p = expect_ipv6(frame({.nh = 60, .ext = big, .l4 = tcp(1, 2)}), "2048-byte options");
  BOOST_TEST(p.l4_offset == 54 + 2048);
}

BOOST_AUTO_TEST_CASE(extension_chain_drops) {
  // Nine extension headers.
  Bytes nine;
  for (int i = 0; i < 8; ++i) append(nine, opts_hdr(60));
  append(nine, opts_hdr(6));
  expect_drop(frame({.nh = 60, .ext = nine, .l4 = tcp(1, 2)}), DropReason::kIpv6HeaderChain, "9 headers");
  // Routing type 0, with and without segments left.
  for (uint8_t left : {0, 1})
    expect_drop(frame({.nh = 43, .ext = routing(6, 0, left, 1), .l4 = tcp(1, 2)}),
                DropReason::kIpv6RoutingType0, "rh0");
  // Hop-by-hop anywhere but first.
  Bytes ext = opts_hdr(0);
  append(ext, opts_hdr(6));
  expect_drop(frame({.nh = 60, .ext = ext, .l4 = tcp(1, 2)}), DropReason::kMalformedIpv6, "hbh second");
  // Two fragment headers (atomic ones, so nothing else is wrong).
  ext = frag(44, 0, false);
  append(ext, frag(6, 0, false));
  expect_drop(frame({.nh = 44, .ext = ext, .l4 = tcp(1, 2)}), DropReason::kMalformedIpv6, "two frag");
  // A header past the payload length (the frame may have more: padding is not payload).
  expect_drop(frame({.nh = 60, .ext = opts_hdr(6), .payload_len = 6}, 20), DropReason::kMalformedIpv6,
              "dest options past payload");
  expect_drop(frame({.nh = 60, .ext = {6}, .payload_len = 1}, 20), DropReason::kMalformedIpv6,
              "one byte of a header");
  Bytes long_len = opts_hdr(6);
  long_len[1] = 3;  // claims 32 bytes, 8 + 20 present
  expect_drop(frame({.nh = 60, .ext = long_len, .l4 = tcp(1, 2)}), DropReason::kMalformedIpv6, "len");
  Bytes long_ah = ah(6);
  long_ah[1] = 20;
  expect_drop(frame({.nh = 51, .ext = long_ah, .l4 = tcp(1, 2)}), DropReason::kMalformedIpv6, "ah len");
  // Bad option lists: an option past its header, a missing length byte.
  expect_drop(frame({.nh = 60, .ext = {6, 0, 0x1e, 5, 0, 0, 0, 0}, .l4 = tcp(1, 2)}),
              DropReason::kMalformedIpv6, "option past header");
  expect_drop(frame({.nh = 0, .ext = {6, 0, 1, 2, 0, 0, 0, 0x1e}, .l4 = tcp(1, 2)}),
              DropReason::kMalformedIpv6, "option length missing");
  // Precedence: the count is checked before the ninth header's bounds.
  expect_drop(frame({.nh = 60, .ext = nine, .l4 = tcp(1, 2), .payload_len = 65}), DropReason::kIpv6HeaderChain,
              "count before bounds");
}

// Truncation at every byte of a valid packet with extension headers: the frame cut
// (payload length unchanged) and the payload length cut to match. Never a crash,
// always one parser reason.
BOOST_AUTO_TEST_CASE(truncation_at_every_byte) {
  Bytes ext = opts_hdr(43, {0x05, 2, 0, 0});
  append(ext, routing(44, 2, 1, 1));
  append(ext, frag(60, 0, false, 9));
  append(ext, opts_hdr(6));
  const Bytes good = frame({.nh = 0, .ext = ext, .l4 = tcp(1, 2, 0x02, 7, 4)});
  BOOST_REQUIRE((parse_bytes(good).kind == Kind::kIpv6));
  for (size_t n = 0; n < good.size(); ++n) {
    Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
    const ParsedPacket p = parse_bytes(cut);
    BOOST_TEST((p.kind == Kind::kDrop));
    const DropReason want = n < 14 ? DropReason::kMalformedL2 : DropReason::kMalformedIpv6;
    BOOST_TEST(to_string(p.drop) == to_string(want), "cut at " << n);
    if (n < 54) continue;
    put16(cut, 18, static_cast<uint16_t>(n - 54));
    const ParsedPacket q = parse_bytes(cut);
    const size_t l4_bytes = n - std::min(n, 54 + ext.size());
    if (l4_bytes >= 28) {  // the whole TCP header (data offset 7): only data is cut
      BOOST_TEST((q.kind == Kind::kIpv6), "payload cut at " << n);
      continue;
    }
    BOOST_TEST((q.kind == Kind::kDrop), "payload cut at " << n);
    // Payload length 0 (n == 54) and a cut chain are malformed-ipv6; a cut TCP header
    // (the fragment header is atomic) malformed-l4.
    const DropReason want_q = n < 54 + ext.size() ? DropReason::kMalformedIpv6 : DropReason::kMalformedL4;
    BOOST_TEST(to_string(q.drop) == to_string(want_q), "payload cut at " << n);
  }
}

// -------------------------------------------------------------------- fragments ---

BOOST_AUTO_TEST_CASE(atomic_fragment_is_not_a_fragment) {
  const ParsedPacket p = expect_ipv6(frame({.nh = 44, .ext = frag(6, 0, false, 0x01020304),
                                            .l4 = tcp(5000, 80, 0x02, 5, 3)}), "atomic");
  BOOST_TEST(!p.is_fragment);
  BOOST_TEST(!p.first_fragment);
  BOOST_TEST(!p.more_fragments);
  BOOST_TEST(p.frag_offset == 0);
  BOOST_TEST(p.frag_id6_be == be32(0x01020304));
  BOOST_TEST(p.proto == 6);
  BOOST_TEST(p.dport_be == be16(80));
  BOOST_TEST(p.l4_offset == 54 + 8);
  BOOST_TEST(p.has_l4());
  // Any size (not a multiple of 8) is fine for an atomic fragment; a short TCP header
  // in it is malformed-l4 like in any unfragmented packet.
  Bytes t = tcp(1, 2);
  t.resize(10);
  expect_drop(frame({.nh = 44, .ext = frag(6, 0, false), .l4 = t}), DropReason::kMalformedL4, "short");
}

BOOST_AUTO_TEST_CASE(first_middle_last_fragments) {
  // First: offset 0, M, fragmentable part a multiple of 8 (8 + 1472 + 20 = 1500... use 1480).
  ParsedPacket p = expect_ipv6(frame({.nh = 44, .ext = frag(6, 0, true, 77), .l4 = tcp(5000, 80, 0x02, 5, 1460)}),
                               "first");
  BOOST_TEST(p.is_fragment);
  BOOST_TEST(p.first_fragment);
  BOOST_TEST(p.more_fragments);
  BOOST_TEST(p.frag_id6_be == be32(77));
  BOOST_TEST(p.sport_be == be16(5000));
  BOOST_TEST(p.has_l4());
  // First fragment of UDP: UDP length covers the whole datagram.
  Bytes u = udp(53, 53, 1464);
  put16(u, 4, 3000);
  p = expect_ipv6(frame({.nh = 44, .ext = frag(17, 0, true), .l4 = u}), "udp first");
  BOOST_TEST(p.udp_len == 3000);
  // Middle: bytes that look like a TCP header are not read.
  p = expect_ipv6(frame({.nh = 44, .ext = frag(6, 185, true, 77), .l4 = tcp(9, 9, 0x3f, 5, 1460)}), "middle");
  BOOST_TEST(p.is_fragment);
  BOOST_TEST(!p.first_fragment);
  BOOST_TEST(p.frag_offset == 185);
  BOOST_TEST(p.proto == 6);
  BOOST_TEST(p.sport_be == 0);
  BOOST_TEST(p.tcp_flags == 0);
  BOOST_TEST(p.l4_len == 1480);
  BOOST_TEST(p.l4_offset == 54 + 8);
  BOOST_TEST(!p.has_l4());
  // Last: any size; proto is what the fragment header names (here another header).
  for (size_t n : {0, 3, 501}) {
    p = expect_ipv6(frame({.nh = 44, .ext = frag(60, 370, false), .l4 = Bytes(n, 0)}), "last");
    BOOST_TEST(!p.more_fragments);
    BOOST_TEST(p.proto == 60);
    BOOST_TEST(p.l4_len == n);
  }
  // A hop-by-hop and routing header before the fragment header (unfragmentable part).
  Bytes ext = opts_hdr(43);
  append(ext, routing(44, 2, 0));
  append(ext, frag(17, 10, false));
  p = expect_ipv6(frame({.nh = 0, .ext = ext, .l4 = Bytes(13, 0)}), "unfragmentable part");
  BOOST_TEST(p.frag_offset == 10);
  BOOST_TEST(p.l4_len == 13);
}

BOOST_AUTO_TEST_CASE(fragment_invalid_cases) {
  for (bool m : {false, true})
    expect_drop(frame({.nh = 44, .ext = frag(17, 1, m), .l4 = Bytes(16, 0)}), DropReason::kFragmentInvalid,
                "offset 1");
  expect_ipv6(frame({.nh = 44, .ext = frag(17, 2, false), .l4 = Bytes(3, 0)}), "offset 2");
  // Ending past 65535: 8189 * 8 = 65512, + 24 > 65535; + 16 is fine.
  expect_drop(frame({.nh = 44, .ext = frag(58, 8189, false), .l4 = Bytes(24, 0)}),
              DropReason::kFragmentInvalid, "past 65535");
  expect_ipv6(frame({.nh = 44, .ext = frag(58, 8189, false), .l4 = Bytes(16, 0)}), "ends at 65528");
  // Non-last fragments whose size is not a multiple of 8 (RFC 8200 §4.5).
  expect_drop(frame({.nh = 44, .ext = frag(17, 100, true), .l4 = Bytes(13, 0)}),
              DropReason::kFragmentInvalid, "middle not multiple of 8");
  expect_drop(frame({.nh = 44, .ext = frag(17, 0, true), .l4 = udp(1, 2, 5)}),
              DropReason::kFragmentInvalid, "first not multiple of 8");
  expect_ipv6(frame({.nh = 44, .ext = frag(17, 100, false), .l4 = Bytes(13, 0)}), "last: any size");
}

// RFC 7112: the whole chain and the upper-layer header in the first fragment.
BOOST_AUTO_TEST_CASE(first_fragment_must_hold_the_header_chain) {
  // TCP header cut by the fragment boundary: 16 of 20 bytes.
  Bytes t = tcp(1, 2, 0x02, 5, 0);
  t.resize(16);
  expect_drop(frame({.nh = 44, .ext = frag(6, 0, true), .l4 = t}), DropReason::kIpv6HeaderChain, "tcp cut");
  // TCP options cut: data offset 8 (32 bytes), 24 present.
  t = tcp(1, 2, 0x02, 5, 4);
  t[12] = 0x80;
  expect_drop(frame({.nh = 44, .ext = frag(6, 0, true), .l4 = t}), DropReason::kIpv6HeaderChain,
              "tcp options cut");
  // UDP and ICMPv6 headers not there at all (the fragment holds only the chain).
  Bytes ext = frag(60, 0, true);
  append(ext, opts_hdr(17));
  expect_drop(frame({.nh = 44, .ext = ext}), DropReason::kIpv6HeaderChain, "udp missing");
  ext = frag(60, 0, true);
  append(ext, opts_hdr(58));
  expect_drop(frame({.nh = 44, .ext = ext}), DropReason::kIpv6HeaderChain, "icmpv6 missing");
  // A destination options header after the fragment header that runs past it.
  ext = frag(60, 0, true);
  ext.insert(ext.end(), {6, 2, 1, 12});  // claims 24 bytes
  ext.insert(ext.end(), 12, 0);
  expect_drop(frame({.nh = 44, .ext = ext}), DropReason::kIpv6HeaderChain, "chain cut");
  // The same cut header in an unfragmented packet is malformed.
  expect_drop(frame({.nh = 60, .ext = {6, 2, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}),
              DropReason::kMalformedIpv6, "cut unfragmented");
  // A first fragment of another protocol has no upper-layer requirement.
  expect_ipv6(frame({.nh = 44, .ext = frag(47, 0, true), .l4 = Bytes(8, 0)}), "gre first");
}

// ----------------------------------------------------------- neighbour discovery ---

BOOST_AUTO_TEST_CASE(nd_valid_messages) {
  // NS with a source link-layer option.
  ParsedPacket p = expect_ipv6(nd_frame(ns(kDst, lla(1)), kSrc, kSolicited), "ns");
  BOOST_TEST(p.icmp_type == 135);
  BOOST_TEST(same(p.nd_target, kDst));
  BOOST_TEST(p.nd_lladdr_option == 1);
  BOOST_TEST(std::memcmp(p.nd_lladdr, kSrcMac, 6) == 0);
  // DAD NS: source ::, to the solicited-node group, no option.
  p = expect_ipv6(nd_frame(ns(kDst), kUnspecified, kSolicited), "dad ns");
  BOOST_TEST(p.nd_lladdr_option == 0);
  BOOST_TEST(same(p.nd_target, kDst));
  // NA, solicited and override, with a target link-layer option.
  p = expect_ipv6(nd_frame(na(0x60, kSrc, lla(2)), kSrc, kDst), "na");
  BOOST_TEST(p.nd_na_flags == 0x60);
  BOOST_TEST(p.nd_lladdr_option == 2);
  BOOST_TEST(same(p.nd_target, kSrc));
  // Unsolicited NA to all nodes (S clear), router flag, reserved bits ignored.
  p = expect_ipv6(nd_frame(na(0xbf, kSrc), kLinkLocal, kAllNodes), "unsolicited na");
  BOOST_TEST(p.nd_na_flags == 0xa0);
  BOOST_TEST(p.nd_lladdr_option == 0);
  // NA with a source link-layer option: not its kind, ignored.
  p = expect_ipv6(nd_frame(na(0x20, kSrc, lla(1)), kSrc, kDst), "na with slla");
  BOOST_TEST(p.nd_lladdr_option == 0);
  // RS (from :: without options too), RA with options, redirect.
  p = expect_ipv6(nd_frame(rs(lla(1)), kLinkLocal, kAllNodes), "rs");
  BOOST_TEST(p.icmp_type == 133);
  BOOST_TEST(p.nd_lladdr_option == 1);
  expect_ipv6(nd_frame(rs(), kUnspecified, kAllNodes), "rs from ::");
  Bytes mtu{5, 1, 0, 0, 0, 0, 0x05, 0xdc};
  Bytes opts = lla(1);
  append(opts, mtu);
  p = expect_ipv6(nd_frame(ra(opts), kLinkLocal, kAllNodes), "ra");
  BOOST_TEST(p.icmp_type == 134);
  BOOST_TEST(p.nd_lladdr_option == 1);
  const Addr zero{};
  BOOST_TEST(same(p.nd_target, zero));
  p = expect_ipv6(nd_frame(redirect(kLinkLocal, kDst, lla(2)), kLinkLocal, kSrc), "redirect");
  BOOST_TEST(p.icmp_type == 137);
  BOOST_TEST(same(p.nd_target, kLinkLocal));
  BOOST_TEST(p.nd_lladdr_option == 2);
  // An atomic fragment may carry ND (RFC 6946).
  expect_ipv6(frame({.nh = 44, .hop = 255, .ext = frag(58, 0, false), .l4 = ns(kDst)}), "atomic ns");
}

BOOST_AUTO_TEST_CASE(nd_invalid_messages_are_malformed_l4) {
  const DropReason bad = DropReason::kMalformedL4;
  expect_drop(nd_frame(ns(kDst), kSrc, kSolicited, 254), bad, "hop limit 254");
  expect_drop(nd_frame(na(0, kSrc), kSrc, kDst, 1), bad, "na hop limit 1");
  expect_drop(nd_frame(rs(), kLinkLocal, kAllNodes, 64), bad, "rs hop limit 64");
  Bytes m = ns(kDst);
  m[1] = 1;
  expect_drop(nd_frame(m, kSrc, kSolicited), bad, "code 1");
  // Minimum lengths.
  auto cut = [](Bytes b, size_t n) {
    b.resize(n);
    return b;
  };
  expect_drop(nd_frame(cut(ns(kDst), 23), kSrc, kSolicited), bad, "ns 23");
  expect_drop(nd_frame(cut(na(0, kSrc), 16), kSrc, kDst), bad, "na 16");
  expect_drop(nd_frame(cut(ra(), 15), kLinkLocal, kAllNodes), bad, "ra 15");
  expect_drop(nd_frame(cut(rs(), 8), kLinkLocal, kAllNodes, 254), bad, "rs 8, hop 254");
  const Bytes rd = redirect(kLinkLocal, kDst);
  expect_drop(nd_frame(Bytes(rd.begin(), rd.end() - 1), kLinkLocal, kSrc), bad, "redirect 39");
  // Options: length 0, past the end, a trailing byte.
  expect_drop(nd_frame(ns(kDst, {1, 0, 0, 0, 0, 0, 0, 0}), kSrc, kSolicited), bad, "option length 0");
  expect_drop(nd_frame(ns(kDst, {1, 2, 0, 0, 0, 0, 0, 0}), kSrc, kSolicited), bad, "option past end");
  expect_drop(nd_frame(rs({1}), kLinkLocal, kAllNodes), bad, "one byte of option");
  // Two link-layer options of the same kind (also of the kind the message ignores).
  Bytes two = lla(1);
  append(two, lla(1));
  expect_drop(nd_frame(ns(kDst, two), kSrc, kSolicited), bad, "two slla");
  two = lla(2);
  append(two, lla(2));
  expect_drop(nd_frame(na(0, kSrc, two), kSrc, kDst), bad, "two tlla");
  Bytes both = lla(1);
  append(both, lla(2));
  expect_ipv6(nd_frame(ns(kDst, both), kSrc, kSolicited), "one of each kind");
  // DAD with a source link-layer option; DAD not to a solicited-node group.
  expect_drop(nd_frame(ns(kDst, lla(1)), kUnspecified, kSolicited), bad, "dad ns with slla");
  expect_drop(nd_frame(ns(kDst), kUnspecified, kDst), bad, "dad ns unicast");
  expect_drop(nd_frame(rs(lla(1)), kUnspecified, kAllNodes), bad, "rs from :: with slla");
  // Multicast targets.
  expect_drop(nd_frame(ns(kAllNodes), kSrc, kSolicited), bad, "ns multicast target");
  expect_drop(nd_frame(na(0, kAllNodes), kSrc, kDst), bad, "na multicast target");
  expect_drop(nd_frame(redirect(kAllNodes, kDst), kLinkLocal, kSrc), bad, "redirect multicast target");
  expect_drop(nd_frame(redirect(kLinkLocal, kAllNodes), kLinkLocal, kSrc), bad, "redirect multicast dst");
  // Solicited NA to a multicast destination; RA or redirect not from link-local.
  expect_drop(nd_frame(na(0x40, kSrc), kSrc, kAllNodes), bad, "solicited na to multicast");
  expect_drop(nd_frame(ra(), kSrc, kAllNodes), bad, "ra from global");
  expect_drop(nd_frame(redirect(kLinkLocal, kDst), kSrc, kDst), bad, "redirect from global");
  // ND in a first fragment (RFC 6980).
  Bytes big = ns(kDst, Bytes(16, 0));
  big[25] = 2;  // one 16-byte option of type 0
  expect_drop(frame({.nh = 44, .hop = 255, .ext = frag(58, 0, true), .l4 = big}), bad, "fragmented ns");
}

// ------------------------------------------------------------------ ICMPv6 errors ---

namespace {
Bytes icmp6_error(uint8_t type, const Bytes& quoted) {
  return frame({.nh = 58, .src = kLinkLocal, .dst = kSrc, .l4 = icmp6(type, 0, 0, 1280, quoted)});
}
IcmpErrorInner inner_of(const Bytes& f) {
  const ParsedPacket p = parse_bytes(f);
  return parse_icmp6_error_inner(f.data(), static_cast<uint32_t>(f.size()), p);
}
}  // namespace

BOOST_AUTO_TEST_CASE(is_icmp6_error_types) {
  for (int t = 0; t < 256; ++t)
    BOOST_TEST(sgfw::core::is_icmp6_error(static_cast<uint8_t>(t)) == (t >= 1 && t <= 4), t);
}

BOOST_AUTO_TEST_CASE(icmp6_error_inner_header) {
  // Packet too big quoting a TCP segment (full and 8 bytes of TCP).
  const Bytes quoted = ipv6({.src = kSrc, .dst = kDst, .l4 = tcp(40000, 443, 0x18, 5, 1200)});
  for (size_t n : {quoted.size(), size_t{48}}) {
    for (uint8_t type : {1, 2, 3, 4}) {
      const IcmpErrorInner in = inner_of(icmp6_error(type, Bytes(quoted.begin(), quoted.begin() + static_cast<long>(n))));
      BOOST_TEST(in.valid);
      BOOST_TEST(same(in.src6, kSrc));
      BOOST_TEST(same(in.dst6, kDst));
      BOOST_TEST(in.src_be == 0u);
      BOOST_TEST(in.proto == 6);
      BOOST_TEST(in.sport_be == be16(40000));
      BOOST_TEST(in.dport_be == be16(443));
    }
  }
  // UDP behind a destination options header and an atomic fragment header.
  Bytes ext = opts_hdr(44);
  append(ext, frag(17, 0, false));
  IcmpErrorInner in = inner_of(icmp6_error(1, ipv6({.nh = 60, .ext = ext, .l4 = udp(5353, 53, 10)})));
  BOOST_TEST(in.valid);
  BOOST_TEST(in.proto == 17);
  BOOST_TEST(in.dport_be == be16(53));
  // A quoted first fragment: its L4 header is there.
  in = inner_of(icmp6_error(2, ipv6({.nh = 44, .ext = frag(6, 0, true), .l4 = tcp(1, 2)})));
  BOOST_TEST(in.valid);
  BOOST_TEST(in.dport_be == be16(2));
  // Quoted echo request: its identifier.
  in = inner_of(icmp6_error(3, ipv6({.nh = 58, .l4 = icmp6(128, 0, 0x99, 1)})));
  BOOST_TEST(in.valid);
  BOOST_TEST(in.icmp_type == 128);
  BOOST_TEST(in.icmp_id_be == be16(0x99));
  // Quoted ESP: no L4 bytes needed.
  in = inner_of(icmp6_error(1, ipv6({.nh = 50, .payload_len = 100})));
  BOOST_TEST(in.valid);
  BOOST_TEST(in.proto == 50);
  // The outer packet itself as an atomic fragment.
  const Bytes f = frame({.nh = 44, .src = kLinkLocal, .dst = kSrc, .ext = frag(58, 0, false),
                         .l4 = icmp6(2, 0, 0, 1280, quoted)});
  BOOST_TEST(inner_of(f).valid);
}

BOOST_AUTO_TEST_CASE(icmp6_error_truncated_or_garbage_inner_is_not_valid) {
  const Bytes quoted = ipv6({.l4 = tcp(1, 2)});
  for (size_t n = 0; n < 48; ++n)
    BOOST_TEST(!inner_of(icmp6_error(1, Bytes(quoted.begin(), quoted.begin() + static_cast<long>(n)))).valid);
  Bytes q = quoted;
  q[0] = 0x45;
  BOOST_TEST(!inner_of(icmp6_error(1, q)).valid);  // version 4
  // Quoted non-first fragment, routing type 0, nine headers, a chain cut by the quote.
  BOOST_TEST(!inner_of(icmp6_error(1, ipv6({.nh = 44, .ext = frag(6, 5, true), .l4 = tcp(1, 2)}))).valid);
  BOOST_TEST(!inner_of(icmp6_error(1, ipv6({.nh = 43, .ext = routing(6, 0, 1), .l4 = tcp(1, 2)}))).valid);
  Bytes nine;
  for (int i = 0; i < 8; ++i) append(nine, opts_hdr(60));
  append(nine, opts_hdr(6));
  BOOST_TEST(!inner_of(icmp6_error(1, ipv6({.nh = 60, .ext = nine, .l4 = tcp(1, 2)}))).valid);
  const Bytes cut = ipv6({.nh = 60, .ext = opts_hdr(6), .l4 = tcp(1, 2)});
  BOOST_TEST(!inner_of(icmp6_error(1, Bytes(cut.begin(), cut.begin() + 44))).valid);
  BOOST_TEST(inner_of(icmp6_error(1, Bytes(cut.begin(), cut.begin() + 56))).valid);
  // Not an error, not ICMPv6, a fragment, IPv4: nothing read.
  BOOST_TEST(!inner_of(icmp6_error(128, quoted)).valid);
  BOOST_TEST(!inner_of(icmp6_error(137, quoted)).valid);
  BOOST_TEST(!inner_of(frame({.nh = 17, .l4 = udp(1, 2, 60)})).valid);
  Bytes q64 = quoted;
  q64.resize(64);  // fragment data 8 + 64: a valid first fragment
  const Bytes first = frame({.nh = 44, .ext = frag(58, 0, true), .l4 = icmp6(1, 0, 0, 0, q64)});
  BOOST_TEST((parse_bytes(first).kind == Kind::kIpv6));
  BOOST_TEST(!inner_of(first).valid);
  // The IPv4 reader refuses IPv6 errors, and the IPv6 reader IPv4 ones.
  const Bytes e = icmp6_error(1, quoted);
  const ParsedPacket p = parse_bytes(e);
  BOOST_TEST(!parse_icmp_error_inner(e.data(), static_cast<uint32_t>(e.size()), p).valid);
  // Ethernet padding is not quote; a ParsedPacket claiming more than the frame is not trusted.
  Bytes f = icmp6_error(1, Bytes(quoted.begin(), quoted.begin() + 44));
  f.insert(f.end(), 40, 0);
  BOOST_TEST(!inner_of(f).valid);
  BOOST_TEST(!parse_icmp6_error_inner(e.data(), static_cast<uint32_t>(e.size() - 1), p).valid);
}

// ------------------------------------------------------------------- robustness ---

namespace {

bool is_parser_reason(DropReason r) {
  switch (r) {
    case DropReason::kMalformedL2:
    case DropReason::kMalformedIpv6:
    case DropReason::kMalformedL4:
    case DropReason::kFragmentInvalid:
    case DropReason::kIpv6HeaderChain:
    case DropReason::kIpv6RoutingType0:
      return true;
    default:
      return false;
  }
}

std::vector<Bytes> seed_frames() {
  Bytes chain = opts_hdr(43, {0x05, 2, 0, 0});
  append(chain, routing(44, 2, 1));
  append(chain, frag(60, 0, true));
  append(chain, opts_hdr(6));
  return {
      frame({.l4 = tcp(40000, 443, 0x02, 7, 20)}),
      frame({.nh = 0, .ext = chain, .l4 = tcp(1, 2, 0x10, 5, 12)}),
      frame({.nh = 17, .l4 = udp(546, 547, 30)}, 10),
      frame({.nh = 58, .l4 = icmp6(128, 0, 1, 1, Bytes(16, 0))}),
      frame({.nh = 58, .l4 = icmp6(2, 0, 0, 1280, ipv6({.l4 = tcp(1, 2)}))}),
      frame({.nh = 44, .ext = frag(17, 100, true), .l4 = Bytes(64, 4)}),
      frame({.nh = 51, .ext = ah(50), .l4 = Bytes(24, 5)}),
      nd_frame(ns(kDst, lla(1)), kSrc, kSolicited),
      nd_frame(na(0x60, kSrc, lla(2)), kSrc, kDst),
      nd_frame(ra(lla(1)), kLinkLocal, kAllNodes),
      nd_frame(redirect(kLinkLocal, kDst, lla(2)), kLinkLocal, kSrc),
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(robustness_mutated_ipv6_frames) {
  constexpr int kIterations = 400'000;
  std::mt19937_64 rng(0x6eed6eedULL);
  const std::vector<Bytes> seeds = seed_frames();
  for (const Bytes& s : seeds) BOOST_REQUIRE((parse_bytes(s).kind == Kind::kIpv6));
  std::vector<uint64_t> reasons(sgfw::core::kDropReasonCount, 0);
  uint64_t accepted = 0;
  Bytes f;
  for (int i = 0; i < kIterations; ++i) {
    f = seeds[rng() % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      // Mostly the headers, where the checks are.
      const size_t at = (rng() & 1) ? 14 + rng() % std::min<size_t>(f.size() - 14, 120) : rng() % f.size();
      f[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    if (rng() & 1) f.resize(rng() % (f.size() + 1));
    if ((rng() & 1) && f.size() >= 54) put16(f, 18, static_cast<uint16_t>(f.size() - 54));
    const auto len = static_cast<uint32_t>(f.size());
    std::unique_ptr<uint8_t[]> exact(len ? new uint8_t[len] : nullptr);
    if (len) std::memcpy(exact.get(), f.data(), len);
    const ParsedPacket p = parse(exact.get(), len);
    if (p.kind == Kind::kDrop) {
      if (len >= 14 && f[12] == 0x86 && f[13] == 0xdd) BOOST_REQUIRE(is_parser_reason(p.drop));
      ++reasons[static_cast<size_t>(p.drop)];
    } else if (p.kind == Kind::kIpv6) {
      ++accepted;
      BOOST_REQUIRE(p.l3_offset == 14);
      BOOST_REQUIRE(p.l4_offset >= 54);
      BOOST_REQUIRE(uint32_t{p.l4_offset} + p.l4_len <= len);
      BOOST_REQUIRE(p.frag_offset != 1);
      if (p.frag_offset != 0) BOOST_REQUIRE((p.sport_be == 0 && p.dport_be == 0 && !p.has_l4()));
      if (p.proto == 6 && p.frag_offset == 0) BOOST_REQUIRE((p.tcp_doff >= 20 && p.tcp_doff <= p.l4_len));
      if (p.proto == 17 && !p.is_fragment) BOOST_REQUIRE(p.udp_len <= p.l4_len);
      if (p.proto == 58 && p.icmp_type >= 133 && p.icmp_type <= 137) BOOST_REQUIRE(p.ttl == 255);
    }
    const IcmpErrorInner in = parse_icmp6_error_inner(exact.get(), len, p);
    if (!in.valid) BOOST_REQUIRE((in == IcmpErrorInner{}));
    if (i % 16 == 0) {  // bytes after `len` never change the result
      Bytes padded = f;
      for (int k = 0; k < 64; ++k) padded.push_back(static_cast<uint8_t>(rng()));
      BOOST_REQUIRE((parse(padded.data(), len) == p));
    }
  }
  BOOST_TEST_MESSAGE("ipv6 accepted: " << accepted);
  for (size_t r = 0; r < reasons.size(); ++r)
    if (reasons[r]) BOOST_TEST_MESSAGE(sgfw::core::kDropReasonNames[r] << ": " << reasons[r]);
  BOOST_TEST(accepted > 0u);
  for (DropReason r : {DropReason::kMalformedIpv6, DropReason::kMalformedL4, DropReason::kFragmentInvalid,
                       DropReason::kIpv6HeaderChain, DropReason::kIpv6RoutingType0})
    BOOST_TEST(reasons[static_cast<size_t>(r)] > 0u, to_string(r));
}
