// The packet parser's IPv4 fragments and the header quoted in ICMP errors (M12); the
// frame builders are packet_frames4.hpp's. Part of the packet_parser test module.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <initializer_list>
#include <random>
#include <vector>

#include "packet/icmp_error_inner.hpp"
#include "packet/parser.hpp"
#include "packet_frames4.hpp"

using namespace sgfw::packet;
using namespace sgfw::test;
using namespace sgfw::test::frames4;
using sgfw::core::DropReason;
using Kind = ParsedPacket::Kind;

// ----------------------------------------------------------------------- Fragments ---

BOOST_AUTO_TEST_CASE(fragments_first_middle_last) {
  // First: offset 0, MF, holds the TCP header.
  ParsedPacket p = expect_ipv4(frame({.id = 77, .mf = true, .l4 = tcp(5000, 80, 0x02, 5, 1460)}),
                               "first");
  BOOST_TEST(p.is_fragment);
  BOOST_TEST(p.first_fragment);
  BOOST_TEST(p.more_fragments);
  BOOST_TEST(p.frag_offset == 0);
  BOOST_TEST(p.sport_be == be16(5000));
  BOOST_TEST(p.dport_be == be16(80));
  BOOST_TEST(p.tcp_flags == 0x02);
  BOOST_TEST(p.ip_id_be == be16(77));
  BOOST_TEST(p.has_l4());

  // Middle: offset > 0, MF. Bytes that look like a TCP header must not be read as one.
  p = expect_ipv4(frame({.id = 77, .frag_offset = 185, .mf = true, .l4 = tcp(9, 9, 0x3f, 5, 1460)}),
                  "middle");
  BOOST_TEST(p.is_fragment);
  BOOST_TEST(!p.first_fragment);
  BOOST_TEST(p.more_fragments);
  BOOST_TEST(p.frag_offset == 185);
  BOOST_TEST(p.sport_be == 0);
  BOOST_TEST(p.dport_be == 0);
  BOOST_TEST(p.tcp_flags == 0);
  BOOST_TEST(p.l4_len == 1480);
  BOOST_TEST(!p.has_l4());

  // Last: offset > 0, no MF, any size (even shorter than an L4 header).
  for (size_t n : {0, 3, 500}) {
    p = expect_ipv4(frame({.proto = 17, .frag_offset = 370, .l4 = Bytes(n, 0)}), "last");
    BOOST_TEST(p.is_fragment);
    BOOST_TEST(!p.first_fragment);
    BOOST_TEST(!p.more_fragments);
    BOOST_TEST(p.l4_len == n);
  }
  // DF alone is not a fragment.
  p = expect_ipv4(frame({.df = true, .l4 = tcp(1, 2)}), "df");
  BOOST_TEST(!p.is_fragment);
}

BOOST_AUTO_TEST_CASE(fragment_offset_1_is_invalid) {
  for (uint8_t proto : {6, 17, 1, 47})
    for (bool mf : {false, true})
      expect_drop(frame({.proto = proto, .frag_offset = 1, .mf = mf, .l4 = Bytes(40, 0)}),
                  DropReason::kFragmentInvalid, "offset 1");
  // Offset 2 is fine (RFC 1858 only forbids 1).
  expect_ipv4(frame({.frag_offset = 2, .l4 = Bytes(3, 0)}), "offset 2");
}

BOOST_AUTO_TEST_CASE(short_first_fragment_is_invalid) {
  for (size_t n : {0, 8, 19}) {
    Bytes t = tcp(1, 2);
    t.resize(n);
    expect_drop(frame({.mf = true, .l4 = t}), DropReason::kFragmentInvalid, "tcp first < 20");
  }
  for (size_t n : {0, 4, 7}) {
    Bytes u = udp(1, 2);
    u.resize(n);
    expect_drop(frame({.proto = 17, .mf = true, .l4 = u}), DropReason::kFragmentInvalid,
                "udp first < 8");
    Bytes m = icmp(8, 0, 1, 1);
    m.resize(n);
    expect_drop(frame({.proto = 1, .mf = true, .l4 = m}), DropReason::kFragmentInvalid,
                "icmp first < 8");
  }
  // TCP options split across fragments: the first fragment lacks the whole header.
  Bytes t = tcp(1, 2, 0x02, 5, 4);  // 24 bytes
  t[12] = 0x80;                     // doff 8 = 32 bytes
  expect_drop(frame({.mf = true, .l4 = t}), DropReason::kFragmentInvalid, "tcp options split");
  // A first fragment of another protocol has no header requirement.
  expect_ipv4(frame({.proto = 47, .mf = true, .l4 = Bytes(0, 0)}), "gre first fragment");
}

BOOST_AUTO_TEST_CASE(first_fragment_l4_checks) {
  // UDP length covers the whole datagram, more than this fragment: fine.
  ParsedPacket p = expect_ipv4(frame({.proto = 17, .mf = true, .l4 = udp(53, 53, 1472, 3000)}),
                               "udp first");
  BOOST_TEST(p.udp_len == 3000);
  BOOST_TEST(p.dport_be == be16(53));
  // But below 8 it is garbage whatever follows.
  expect_drop(frame({.proto = 17, .mf = true, .l4 = udp(53, 53, 100, 7)}),
              DropReason::kMalformedL4, "udp first len 7");
  // TCP data offset < 5 is corrupt in any fragment.
  Bytes t = tcp(1, 2, 0x02, 5, 100);
  t[12] = 0x40;
  expect_drop(frame({.mf = true, .l4 = t}), DropReason::kMalformedL4, "tcp first doff 4");
  // ICMP first fragment (a large ping).
  p = expect_ipv4(frame({.proto = 1, .mf = true, .l4 = icmp(8, 0, 0x77, 1, Bytes(1472, 0))}),
                  "icmp first");
  BOOST_TEST(p.icmp_id_be == be16(0x77));
}

BOOST_AUTO_TEST_CASE(fragment_past_65535_is_invalid) {
  // Ping of death: offset 8189*8 = 65512, plus 100 bytes > 65535.
  expect_drop(frame({.proto = 1, .frag_offset = 8189, .l4 = Bytes(100, 0)}),
              DropReason::kFragmentInvalid, "ping of death");
  // Ending exactly at 65535 is allowed.
  expect_ipv4(frame({.proto = 1, .frag_offset = 8189, .l4 = Bytes(23, 0)}), "ends at 65535");
}

BOOST_AUTO_TEST_CASE(precedence_ipv4_header_before_fragment_before_l4) {
  Bytes f = frame({.frag_offset = 1, .l4 = Bytes(4, 0)});
  f[24] ^= 1;  // bad checksum and offset 1
  expect_drop(f, DropReason::kMalformedIpv4, "checksum before fragment");
  // Offset 1 with a short "TCP" payload: fragment-invalid, no L4 parse.
  expect_drop(frame({.frag_offset = 1, .l4 = Bytes(4, 0)}), DropReason::kFragmentInvalid, "frag");
}

// ------------------------------------------------------------ M12: ICMP error inner ---

namespace {
Bytes icmp_error(uint8_t type, const Bytes& quoted) {
  return frame({.proto = 1, .src = 0xc0a80001, .dst = kSrc, .l4 = icmp(type, 0, 0, 0, quoted)});
}
IcmpErrorInner inner_of(const Bytes& f) {
  const ParsedPacket p = parse_bytes(f);
  return parse_icmp_error_inner(f.data(), static_cast<uint32_t>(f.size()), p);
}
}  // namespace

BOOST_AUTO_TEST_CASE(m12_icmp_error_inner_header) {
  // Full quote of a TCP SYN, and the RFC 792 minimum (IP header + 8 bytes).
  Bytes quoted = ipv4({.src = kSrc, .dst = kDst, .l4 = tcp(40000, 443)});
  for (size_t n : {quoted.size(), size_t{28}}) {
    for (uint8_t type : {3, 11, 12}) {
      const IcmpErrorInner in = inner_of(icmp_error(type, Bytes(quoted.begin(), quoted.begin() + static_cast<long>(n))));
      BOOST_TEST(in.valid);
      BOOST_TEST(in.src_be == be32(kSrc));
      BOOST_TEST(in.dst_be == be32(kDst));
      BOOST_TEST(in.proto == 6);
      BOOST_TEST(in.sport_be == be16(40000));
      BOOST_TEST(in.dport_be == be16(443));
    }
  }
  // Quoted echo request: its identifier.
  IcmpErrorInner in = inner_of(icmp_error(11, ipv4({.proto = 1, .l4 = icmp(8, 0, 0x99, 1)})));
  BOOST_TEST(in.valid);
  BOOST_TEST(in.icmp_type == 8);
  BOOST_TEST(in.icmp_id_be == be16(0x99));
  // Quoted GRE: no L4 bytes needed.
  in = inner_of(icmp_error(3, ipv4({.proto = 47, .l4 = {}})));
  BOOST_TEST(in.valid);
  BOOST_TEST(in.proto == 47);
  // Quoted header with options.
  in = inner_of(icmp_error(3, ipv4({.proto = 17, .options = Bytes(12, 1), .l4 = udp(7, 8)})));
  BOOST_TEST(in.valid);
  BOOST_TEST(in.dport_be == be16(8));
}

BOOST_AUTO_TEST_CASE(m12_icmp_error_truncated_or_garbage_inner_is_not_valid) {
  const Bytes quoted = ipv4({.l4 = tcp(1, 2)});
  for (size_t n = 0; n < 28; ++n)  // fewer than 20 + 8 bytes
    BOOST_TEST(!inner_of(icmp_error(3, Bytes(quoted.begin(), quoted.begin() + static_cast<long>(n)))).valid);
  auto garbled = [&](size_t at, uint8_t v) {
    Bytes q = quoted;
    q[at] = v;
    return inner_of(icmp_error(3, q));
  };
  BOOST_TEST(!garbled(0, 0x65).valid);  // version 6
  BOOST_TEST(!garbled(0, 0x44).valid);  // IHL 4
  BOOST_TEST(!garbled(0, 0x4f).valid);  // IHL 15 beyond the quote
  {
    Bytes q = quoted;
    put16(q, 2, 19);  // total length < IHL*4
    BOOST_TEST(!inner_of(icmp_error(3, q)).valid);
    q = quoted;
    put16(q, 6, 0x2000 | 5);  // quoted non-first fragment: no L4 header to match
    BOOST_TEST(!inner_of(icmp_error(3, q)).valid);
    q = quoted;
    put16(q, 6, 0x2000);  // quoted first fragment: fine
    BOOST_TEST(inner_of(icmp_error(3, q)).valid);
  }
  // Not an error type, or not ICMP, or a fragment: nothing is read.
  BOOST_TEST(!inner_of(icmp_error(8, quoted)).valid);
  BOOST_TEST(!inner_of(icmp_error(0, quoted)).valid);
  BOOST_TEST(!inner_of(icmp_error(5, quoted)).valid);  // redirect: no special treatment
  BOOST_TEST(!inner_of(frame({.proto = 17, .l4 = udp(1, 2, 40)})).valid);
  BOOST_TEST(!inner_of(frame({.proto = 1, .mf = true, .l4 = icmp(3, 0, 0, 0, quoted)})).valid);
  BOOST_TEST(!inner_of(eth(0x0806, arp_body(1))).valid);
  // An outer total length that cuts the quote short; Ethernet padding is not quote.
  Bytes f = icmp_error(3, Bytes(quoted.begin(), quoted.begin() + 24));
  f.insert(f.end(), 40, 0);
  BOOST_TEST(!inner_of(f).valid);
  // A ParsedPacket claiming more bytes than the frame has is not trusted.
  Bytes g = icmp_error(3, quoted);
  ParsedPacket p = parse_bytes(g);
  BOOST_TEST(!parse_icmp_error_inner(g.data(), static_cast<uint32_t>(g.size() - 1), p).valid);
}
