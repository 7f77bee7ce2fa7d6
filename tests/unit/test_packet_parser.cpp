#define BOOST_TEST_MODULE packet_parser
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

// ----------------------------------------------------------------------- Ethernet ---

BOOST_AUTO_TEST_CASE(frames_shorter_than_ethernet_are_malformed_l2) {
  ParsedPacket p = parse(nullptr, 0);
  BOOST_TEST((p.kind == Kind::kDrop));
  BOOST_TEST(to_string(p.drop) == "malformed-l2");
  const Bytes f = frame({.l4 = tcp(1000, 80)});
  for (uint32_t n = 0; n < 14; ++n) {
    Bytes cut(f.begin(), f.begin() + n);
    expect_drop(cut, DropReason::kMalformedL2, "short ethernet");
  }
  // Exactly the Ethernet header: IPv4 with no header at all.
  expect_drop(Bytes(f.begin(), f.begin() + 14), DropReason::kMalformedIpv4, "eth only");
}

BOOST_AUTO_TEST_CASE(ethertypes_vlan_and_unsupported) {
  for (uint16_t t : {0x8100, 0x88a8, 0x9100}) {
    const ParsedPacket p = parse_bytes(eth(t, ipv4({.l4 = tcp(1, 2)})));
    BOOST_TEST((p.kind == Kind::kDrop));
    BOOST_TEST(to_string(p.drop) == "vlan-tagged");
    BOOST_TEST(std::memcmp(p.src_mac, kSrcMac, 6) == 0);  // MACs kept for counters
    BOOST_TEST(std::memcmp(p.dst_mac, kDstMac, 6) == 0);
  }
  // IPv6 (0x86dd) parses: tests/unit/test_packet_parser_v6.cpp.
  for (uint16_t t : {0x88cc, 0x8035, 0x0000, 0x05dc, 0xffff, 0x0801, 0x0805})
    expect_drop(eth(t, Bytes(60, 0x45)), DropReason::kUnsupportedEthertype, "ethertype");
}

// ---------------------------------------------------------------------------- ARP ---

BOOST_AUTO_TEST_CASE(arp_request_and_reply) {
  ParsedPacket p = parse_bytes(eth(0x0806, arp_body(1, 0x0a000001, 0x0a000002), 18));
  BOOST_TEST((p.kind == Kind::kArp));
  BOOST_TEST(p.arp_op == 1);
  BOOST_TEST(std::memcmp(p.arp_sha, kSrcMac, 6) == 0);
  BOOST_TEST(p.arp_spa_be == be32(0x0a000001));
  BOOST_TEST(p.arp_tpa_be == be32(0x0a000002));
  const uint8_t zero[6] = {};
  BOOST_TEST(std::memcmp(p.arp_tha, zero, 6) == 0);
  BOOST_TEST(std::memcmp(p.src_mac, kSrcMac, 6) == 0);

  p = parse_bytes(eth(0x0806, arp_body(2)));  // exactly 28 bytes, no padding
  BOOST_TEST((p.kind == Kind::kArp));
  BOOST_TEST(p.arp_op == 2);
  BOOST_TEST(std::memcmp(p.arp_tha, kDstMac, 6) == 0);
  BOOST_TEST(p.src_be == 0u);  // IPv4 fields untouched
}

BOOST_AUTO_TEST_CASE(arp_truncated_or_not_ethernet_ipv4_is_malformed_l2) {
  const Bytes good = eth(0x0806, arp_body(1));
  for (size_t n = 14; n < good.size(); ++n)
    expect_drop(Bytes(good.begin(), good.begin() + static_cast<long>(n)),
                DropReason::kMalformedL2, "truncated arp");
  auto mutate = [&](size_t at, uint8_t v) {
    Bytes f = good;
    f[at] = v;
    return f;
  };
  expect_drop(mutate(14 + 1, 6), DropReason::kMalformedL2, "htype 6");
  expect_drop(mutate(14 + 0, 1), DropReason::kMalformedL2, "htype 0x0101");
  expect_drop(mutate(14 + 2, 0x86), DropReason::kMalformedL2, "ptype");
  expect_drop(mutate(14 + 4, 8), DropReason::kMalformedL2, "hlen 8");
  expect_drop(mutate(14 + 5, 16), DropReason::kMalformedL2, "plen 16");
  for (uint8_t op : {0, 3, 4, 8})
    expect_drop(mutate(14 + 7, op), DropReason::kMalformedL2, "op");
  expect_drop(mutate(14 + 6, 1), DropReason::kMalformedL2, "op 0x0101");
}

// ----------------------------------------------------------------- valid IPv4 + L4 ---

BOOST_AUTO_TEST_CASE(tcp_fields) {
  const Bytes f = frame({.ttl = 17, .id = 0xbeef, .df = true,
                         .l4 = tcp(40000, 443, 0x12, 5, 100)});
  const ParsedPacket p = expect_ipv4(f, "tcp");
  BOOST_TEST(p.src_be == be32(kSrc));
  BOOST_TEST(p.dst_be == be32(kDst));
  BOOST_TEST(p.proto == 6);
  BOOST_TEST(p.ttl == 17);
  BOOST_TEST(p.ip_id_be == be16(0xbeef));
  BOOST_TEST(!p.is_fragment);
  BOOST_TEST(!p.first_fragment);
  BOOST_TEST(!p.more_fragments);
  BOOST_TEST(p.frag_offset == 0);
  BOOST_TEST(p.l3_offset == 14);
  BOOST_TEST(p.l4_offset == 34);
  BOOST_TEST(p.l4_len == 120);
  BOOST_TEST(p.sport_be == be16(40000));
  BOOST_TEST(p.dport_be == be16(443));
  BOOST_TEST(p.tcp_flags == 0x12);
  BOOST_TEST(p.tcp_doff == 20);
  BOOST_TEST(p.has_l4());
  BOOST_TEST(std::memcmp(p.dst_mac, kDstMac, 6) == 0);
  BOOST_TEST(std::memcmp(p.src_mac, kSrcMac, 6) == 0);
}

BOOST_AUTO_TEST_CASE(tcp_options_full_header_and_exact_fit) {
  ParsedPacket p = expect_ipv4(frame({.l4 = tcp(1, 2, 0x10, 15)}), "doff 15, no data");
  BOOST_TEST(p.tcp_doff == 60);
  BOOST_TEST(p.l4_len == 60);
  BOOST_TEST(p.dport_be == be16(2));
  p = expect_ipv4(frame({.l4 = tcp(1, 2, 0x10, 8, 3)}), "doff 8 with data");
  BOOST_TEST(p.tcp_doff == 32);
}

// Source routing is dropped; option lengths are checked against the header.
BOOST_AUTO_TEST_CASE(ipv4_options_source_route_and_lengths) {
  auto parse_opts = [](Bytes opts) { return parse_bytes(frame({.proto = 17, .options = opts, .l4 = udp(1, 2, 4)})); };
  for (uint8_t type : {uint8_t{0x83}, uint8_t{0x89}}) {
    ParsedPacket p = parse_opts({type, 7, 4, 192, 0, 2, 1, 0});
    BOOST_TEST((p.kind == ParsedPacket::Kind::kDrop && p.drop == DropReason::kIpSourceRoute));
    p = parse_opts({1, 1, 1, 1, type, 7, 4, 192, 0, 2, 1, 0});  // after NOPs too
    BOOST_TEST((p.kind == ParsedPacket::Kind::kDrop && p.drop == DropReason::kIpSourceRoute));
  }
  // Behind an end-of-list, bytes are padding: not parsed.
  BOOST_TEST((parse_opts({0, 0x83, 7, 4}).kind == ParsedPacket::Kind::kIpv4));
  // Length below 2, past the header, or missing.
  for (Bytes bad : {Bytes{0x44, 0, 0, 0}, Bytes{0x44, 1, 0, 0}, Bytes{0x44, 9, 5, 0}, Bytes{1, 1, 1, 0x44}}) {
    ParsedPacket p = parse_opts(bad);
    BOOST_TEST((p.kind == ParsedPacket::Kind::kDrop && p.drop == DropReason::kMalformedIpv4));
  }
  // Timestamp and record route with right lengths pass.
  BOOST_TEST((parse_opts({0x44, 8, 5, 0, 0, 0, 0, 0}).kind == ParsedPacket::Kind::kIpv4));
  BOOST_TEST((parse_opts({7, 7, 4, 0, 0, 0, 0, 0}).kind == ParsedPacket::Kind::kIpv4));
}

BOOST_AUTO_TEST_CASE(m07_ipv4_options_put_l4_at_ihl) {
  for (size_t opt_words : {1, 2, 10}) {
    Bytes opts(opt_words * 4, 0x01);  // NOPs
    opts.back() = 0x00;               // EOL
    const ParsedPacket p =
        expect_ipv4(frame({.proto = 17, .options = opts, .l4 = udp(5353, 53, 12)}), "options");
    BOOST_TEST(p.l4_offset == 34 + opt_words * 4);
    BOOST_TEST(p.l4_len == 20);
    BOOST_TEST(p.sport_be == be16(5353));
    BOOST_TEST(p.dport_be == be16(53));
  }
  // A 40-byte options area (IHL 15): a record-route option whose data looks like ports.
  Bytes opts(40, 0x07);
  opts[1] = 39;  // type 7 (record route), length 39, pointer 7; then end of list
  opts[39] = 0x00;
  const ParsedPacket p = expect_ipv4(frame({.options = opts, .l4 = tcp(22, 2222)}), "ihl 15");
  BOOST_TEST(p.l4_offset == 74);
  BOOST_TEST(p.sport_be == be16(22));
  BOOST_TEST(p.dport_be == be16(2222));
}

BOOST_AUTO_TEST_CASE(udp_fields_and_zero_payload) {
  ParsedPacket p = expect_ipv4(frame({.proto = 17, .l4 = udp(68, 67, 300)}), "udp");
  BOOST_TEST(p.sport_be == be16(68));
  BOOST_TEST(p.dport_be == be16(67));
  BOOST_TEST(p.udp_len == 308);
  BOOST_TEST(p.l4_len == 308);
  BOOST_TEST(p.tcp_flags == 0);
  p = expect_ipv4(frame({.proto = 17, .l4 = udp(1, 2)}), "udp header only");
  BOOST_TEST(p.udp_len == 8);
}

BOOST_AUTO_TEST_CASE(icmp_fields) {
  ParsedPacket p = expect_ipv4(frame({.proto = 1, .l4 = icmp(8, 0, 0x4242, 7, Bytes(56, 0))}),
                               "echo request");
  BOOST_TEST(p.icmp_type == 8);
  BOOST_TEST(p.icmp_code == 0);
  BOOST_TEST(p.icmp_id_be == be16(0x4242));
  BOOST_TEST(p.sport_be == 0);
  BOOST_TEST(p.dport_be == 0);
  p = expect_ipv4(frame({.proto = 1, .l4 = icmp(0, 0, 0x4343)}), "echo reply, 8 bytes");
  BOOST_TEST(p.icmp_id_be == be16(0x4343));
  p = expect_ipv4(frame({.proto = 1, .l4 = icmp(3, 4, 0x0000, 1400)}), "frag needed");
  BOOST_TEST(p.icmp_type == 3);
  BOOST_TEST(p.icmp_code == 4);
  BOOST_TEST(p.icmp_id_be == 0);  // not an echo: no identifier
}

BOOST_AUTO_TEST_CASE(m11_icmp_unknown_type_parses_truncated_is_malformed_l4) {
  // Decision: the parser does not judge ICMP types (an ICMP rule admits every type).
  const ParsedPacket p = expect_ipv4(frame({.proto = 1, .l4 = icmp(200, 9, 0x1111)}), "type 200");
  BOOST_TEST(p.icmp_type == 200);
  BOOST_TEST(p.icmp_code == 9);
  BOOST_TEST(p.icmp_id_be == 0);
  for (size_t n = 0; n < 8; ++n) {
    Bytes m = icmp(8, 0, 1, 1);
    m.resize(n);
    expect_drop(frame({.proto = 1, .l4 = m}), DropReason::kMalformedL4, "short icmp");
  }
}

BOOST_AUTO_TEST_CASE(m10_other_protocols_have_no_l4_checks) {
  for (uint8_t proto : {0, 4, 47, 50, 112, 132, 255}) {
    for (size_t n : {0, 1, 7, 40}) {
      const ParsedPacket p = expect_ipv4(frame({.proto = proto, .l4 = Bytes(n, 0xff)}), "proto");
      BOOST_TEST(p.proto == proto);
      BOOST_TEST(p.l4_len == n);
      BOOST_TEST(p.sport_be == 0);
      BOOST_TEST(p.dport_be == 0);
      BOOST_TEST(p.tcp_flags == 0);
      BOOST_TEST(!p.has_l4());
    }
  }
  // IP-in-IP: the inner header is payload, not parsed.
  const ParsedPacket p = expect_ipv4(frame({.proto = 4, .l4 = ipv4({.l4 = tcp(1, 2)})}), "ipip");
  BOOST_TEST(p.l4_len == 40);
  BOOST_TEST(p.sport_be == 0);
}

// --------------------------------------------------------------- M04: Ethernet padding

BOOST_AUTO_TEST_CASE(m04_padding_beyond_total_length_is_ignored) {
  // TCP SYN, 54 bytes, padded to the 60-byte minimum (and to 1500).
  for (size_t pad : {6, 1446}) {
    const ParsedPacket p = expect_ipv4(frame({.l4 = tcp(1, 2)}, pad), "padded tcp");
    BOOST_TEST(p.l4_len == 20);
  }
  // UDP with a zero payload, padded: the UDP length (8) matches total_length, not the frame.
  ParsedPacket p = expect_ipv4(frame({.proto = 17, .l4 = udp(1, 2)}, 18), "padded udp");
  BOOST_TEST(p.l4_len == 8);
  // ICMP echo with padding.
  p = expect_ipv4(frame({.proto = 1, .l4 = icmp(8, 0, 9, 9)}, 18), "padded icmp");
  BOOST_TEST(p.l4_len == 8);
  // Padding is never read as L4: total_length covers only the IPv4 header, the padding
  // holds a perfectly good TCP header.
  Bytes f = frame({.l4 = {}}, 0);
  const Bytes fake = tcp(1, 2);
  f.insert(f.end(), fake.begin(), fake.end());
  expect_drop(f, DropReason::kMalformedL4, "tcp header only in padding");
  // UDP whose header says 28 bytes while total_length covers 8: the padding is not payload.
  Bytes u = udp(1, 2, 0, 28);
  expect_drop(frame({.proto = 17, .l4 = u}, 20), DropReason::kMalformedL4, "udp len in padding");
}

// ------------------------------------------------------------- M01..M03, M05, M06

BOOST_AUTO_TEST_CASE(m01_ihl_below_5_is_malformed_ipv4) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes f = frame({.l4 = tcp(1, 2)});
    f[14] = static_cast<uint8_t>(0x40 | ihl);
    fix_ip_checksum(f);
    expect_drop(f, DropReason::kMalformedIpv4, "ihl < 5");
  }
}

BOOST_AUTO_TEST_CASE(m02_ihl_beyond_frame_is_malformed_ipv4) {
  // IHL 15 (60 bytes) but only the 20-byte header and no more in the frame.
  Bytes f = frame({.proto = 47, .l4 = {}});
  f[14] = 0x4f;
  put16(f, 16, 60);
  expect_drop(f, DropReason::kMalformedIpv4, "ihl 15 in a 34-byte frame");
  // IHL 6 and total length 24, frame one byte short of the options.
  Bytes g = frame({.options = Bytes(4, 1), .l4 = {}});
  g.pop_back();
  expect_drop(g, DropReason::kMalformedIpv4, "options cut");
  // Truncated below the 20-byte fixed header.
  const Bytes h = frame({.l4 = tcp(1, 2)});
  for (size_t n = 14; n < 34; ++n)
    expect_drop(Bytes(h.begin(), h.begin() + static_cast<long>(n)), DropReason::kMalformedIpv4,
                "short ipv4 header");
}

BOOST_AUTO_TEST_CASE(m03_total_length_checks) {
  // total_length < IHL*4.
  for (uint16_t tl : {0, 1, 19}) {
    Bytes f = frame({.l4 = tcp(1, 2)});
    put16(f, 16, tl);
    fix_ip_checksum(f);
    expect_drop(f, DropReason::kMalformedIpv4, "total_length < 20");
  }
  {
    Bytes f = frame({.options = Bytes(8, 1), .l4 = tcp(1, 2)});
    put16(f, 16, 27);  // IHL*4 == 28
    fix_ip_checksum(f);
    expect_drop(f, DropReason::kMalformedIpv4, "total_length < ihl*4 with options");
  }
  // total_length > bytes present (also when padding exists but is too short).
  for (size_t pad : {0, 4}) {
    Bytes f = frame({.l4 = tcp(1, 2)}, pad);
    put16(f, 16, static_cast<uint16_t>(40 + pad + 1));
    fix_ip_checksum(f);
    expect_drop(f, DropReason::kMalformedIpv4, "total_length beyond frame");
  }
  {
    Bytes f = frame({.l4 = tcp(1, 2)});
    put16(f, 16, 0xffff);
    fix_ip_checksum(f);
    expect_drop(f, DropReason::kMalformedIpv4, "total_length 65535");
  }
  // Frame truncated in the L4 part: total_length now exceeds the frame.
  const Bytes g = frame({.l4 = tcp(1, 2, 0x02, 5, 10)});
  expect_drop(Bytes(g.begin(), g.end() - 1), DropReason::kMalformedIpv4, "frame cut");
  // total_length shorter than the L4 header.
  for (size_t n : {0, 1, 19}) {
    Bytes t = tcp(1, 2);
    t.resize(n);
    expect_drop(frame({.l4 = t}), DropReason::kMalformedL4, "tcp shorter than 20");
  }
  for (size_t n : {0, 4, 7}) {
    Bytes u = udp(1, 2);
    u.resize(n);
    expect_drop(frame({.proto = 17, .l4 = u}), DropReason::kMalformedL4, "udp shorter than 8");
  }
}

BOOST_AUTO_TEST_CASE(m05_version_not_4_is_malformed_ipv4) {
  for (uint8_t v : {0, 1, 5, 6, 15}) {
    Bytes f = frame({.l4 = tcp(1, 2)});
    f[14] = static_cast<uint8_t>((v << 4) | 5);
    fix_ip_checksum(f);
    expect_drop(f, DropReason::kMalformedIpv4, "version");
  }
  // A real IPv6 header under ethertype 0x0800.
  Bytes v6(40, 0);
  v6[0] = 0x60;
  expect_drop(eth(0x0800, v6), DropReason::kMalformedIpv4, "ipv6 in 0x0800");
}

BOOST_AUTO_TEST_CASE(m06_bad_header_checksum_is_malformed_ipv4) {
  const Bytes good = frame({.options = Bytes(8, 1), .l4 = tcp(1, 2)});
  BOOST_TEST((parse_bytes(good).kind == Kind::kIpv4));
  for (size_t at = 14; at < 14 + 28; ++at) {  // every header and option byte
    if (at == 14) continue;                   // version/IHL: other checks first
    Bytes f = good;
    f[at] ^= 0x10;
    expect_drop(f, DropReason::kMalformedIpv4, "one bit flipped");
  }
  // Checksum 0 on a header whose correct checksum is not 0.
  Bytes f = good;
  put16(f, 24, 0);
  expect_drop(f, DropReason::kMalformedIpv4, "zero checksum");
  // The L4 checksum is not verified (decision): a garbage TCP checksum parses.
  Bytes g = frame({.l4 = tcp(1, 2)});
  put16(g, 34 + 16, 0xdead);
  expect_ipv4(g, "tcp checksum not verified");
}

BOOST_AUTO_TEST_CASE(m08_tcp_data_offset) {
  for (uint8_t doff = 0; doff < 5; ++doff) {
    Bytes t = tcp(1, 2, 0x02, 5, 40);
    t[12] = static_cast<uint8_t>(doff << 4);
    expect_drop(frame({.l4 = t}), DropReason::kMalformedL4, "doff < 5");
  }
  for (uint8_t doff = 6; doff <= 15; ++doff) {
    Bytes t = tcp(1, 2, 0x02, 5, 0);  // 20-byte segment
    t[12] = static_cast<uint8_t>(doff << 4);
    expect_drop(frame({.l4 = t}), DropReason::kMalformedL4, "doff*4 > segment");
  }
  // The options would fit in the Ethernet padding, but padding is not the segment.
  Bytes t = tcp(1, 2, 0x02, 5, 0);
  t[12] = 0x60;
  expect_drop(frame({.l4 = t}, 20), DropReason::kMalformedL4, "doff into padding");
}

BOOST_AUTO_TEST_CASE(m09_udp_length) {
  for (int len : {0, 1, 7})
    expect_drop(frame({.proto = 17, .l4 = udp(1, 2, 10, len)}), DropReason::kMalformedL4,
                "udp len < 8");
  for (int len : {19, 100, 65535})
    expect_drop(frame({.proto = 17, .l4 = udp(1, 2, 10, len)}), DropReason::kMalformedL4,
                "udp len > payload");
  // Shorter than the IP payload (but >= 8): accepted, like Linux trims it.
  const ParsedPacket p = expect_ipv4(frame({.proto = 17, .l4 = udp(1, 2, 10, 9)}), "udp len < l4");
  BOOST_TEST(p.udp_len == 9);
  BOOST_TEST(p.l4_len == 18);
}
