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
#include "packet_frames6.hpp"

using namespace sgfw::packet;
using namespace sgfw::test;
using namespace sgfw::test::frames6;
using sgfw::core::DropReason;
using Kind = ParsedPacket::Kind;

// The IPv6 half of the parser (docs/design/packet-parser.md, "IPv6"): every accepted
// form and every drop with its exact reason. Frames are built byte by byte. Here: the
// upper layers, the IPv6 header, extension headers and fragments.

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
