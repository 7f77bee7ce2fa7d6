// The packet parser's neighbour discovery and ICMPv6 errors (their quoted header). Part
// of the packet_parser_v6 test module.
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
