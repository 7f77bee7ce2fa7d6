// The packet parser against random and mutated frames: the invariants every parse
// keeps. Part of the packet_parser test module.
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

// --------------------------------------------------------------------- Robustness ---

namespace {

bool is_parser_reason(DropReason r) {
  switch (r) {
    case DropReason::kMalformedL2:
    case DropReason::kMalformedIpv4:
    case DropReason::kMalformedL4:
    case DropReason::kFragmentInvalid:
    case DropReason::kUnsupportedEthertype:
    case DropReason::kVlanTagged:
    case DropReason::kIpSourceRoute:
    case DropReason::kMalformedIpv6:
    case DropReason::kIpv6HeaderChain:
    case DropReason::kIpv6RoutingType0:
      return true;
    default:
      return false;
  }
}

std::vector<Bytes> seed_frames() {
  const Bytes quoted = ipv4({.l4 = tcp(1, 2)});
  return {
      frame({.l4 = tcp(40000, 443, 0x02, 5, 20)}),
      frame({.options = Bytes(8, 1), .l4 = tcp(1, 2, 0x18, 8, 10)}),
      frame({.proto = 17, .l4 = udp(53, 53, 30)}, 10),
      frame({.proto = 1, .l4 = icmp(8, 0, 1, 1, Bytes(16, 0))}),
      frame({.proto = 1, .l4 = icmp(3, 3, 0, 0, quoted)}),
      frame({.proto = 1, .l4 = icmp(11, 0, 0, 0, ipv4({.proto = 1, .l4 = icmp(8, 0, 5, 5)}))}),
      frame({.proto = 132, .l4 = Bytes(40, 3)}),
      frame({.mf = true, .l4 = tcp(1, 2, 0x02, 5, 40)}),
      frame({.proto = 17, .frag_offset = 100, .l4 = Bytes(60, 4)}),
      eth(0x0806, arp_body(1), 18),
      eth(0x0806, arp_body(2)),
  };
}

// Checks what must hold for every frame, and exercises the inner parser too.
void check_invariants(const uint8_t* data, uint32_t len, std::vector<uint64_t>& reason_counts) {
  const ParsedPacket p = parse(data, len);
  switch (p.kind) {
    case Kind::kDrop:
      BOOST_REQUIRE(is_parser_reason(p.drop));
      ++reason_counts[static_cast<size_t>(p.drop)];
      break;
    case Kind::kArp:
      BOOST_REQUIRE(len >= 42u);
      BOOST_REQUIRE((p.arp_op == 1 || p.arp_op == 2));
      break;
    case Kind::kIpv4:
      BOOST_REQUIRE(p.l3_offset == 14);
      BOOST_REQUIRE(p.l4_offset >= 34);
      BOOST_REQUIRE(p.l4_offset <= 74);
      BOOST_REQUIRE(uint32_t{p.l4_offset} + p.l4_len <= len);
      BOOST_REQUIRE(p.frag_offset != 1);
      if (p.frag_offset != 0) BOOST_REQUIRE((p.sport_be == 0 && p.dport_be == 0));
      if (p.proto == 6 && p.frag_offset == 0) BOOST_REQUIRE(p.tcp_doff >= 20);
      if (p.proto == 6 && p.frag_offset == 0) BOOST_REQUIRE(p.tcp_doff <= p.l4_len);
      if (p.proto == 17 && !p.is_fragment) BOOST_REQUIRE(p.udp_len <= p.l4_len);
      break;
    case Kind::kIpv6:  // random bytes rarely reach it; test_packet_parser_v6.cpp checks it
      BOOST_REQUIRE(uint32_t{p.l4_offset} + p.l4_len <= len);
      break;
  }
  (void)parse_icmp_error_inner(data, len, p);
}

}  // namespace

BOOST_AUTO_TEST_CASE(robustness_random_and_mutated_frames) {
  constexpr int kIterations = 2'000'000;
  std::mt19937_64 rng(0x5eed5eedULL);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<uint32_t> length(0, 200);
  const std::vector<Bytes> seeds = seed_frames();
  std::vector<uint64_t> reasons(sgfw::core::kDropReasonCount, 0);
  uint64_t kinds[4] = {};
  Bytes scratch;
  Bytes padded;

  for (int i = 0; i < kIterations; ++i) {
    const int mode = i % 4;
    scratch.clear();
    if (mode == 0) {  // fully random bytes
      scratch.resize(length(rng));
      for (auto& b : scratch) b = static_cast<uint8_t>(byte(rng));
    } else if (mode == 1) {  // random, but IPv4 or ARP with a plausible first byte
      scratch.resize(length(rng));
      for (auto& b : scratch) b = static_cast<uint8_t>(byte(rng));
      if (scratch.size() >= 14) {
        const bool arp = (rng() & 7) == 0;
        put16(scratch, 12, arp ? 0x0806 : 0x0800);
        if (!arp && scratch.size() >= 15) {
          scratch[14] = static_cast<uint8_t>(0x40 | (5 + rng() % 11));
          if (scratch.size() >= 18 && (rng() & 1)) {  // total length within the frame
            const auto room = static_cast<uint32_t>(scratch.size() - 14);
            put16(scratch, 16, static_cast<uint16_t>(rng() % (room + 1)));
          }
          if (scratch.size() >= 24 && (rng() & 1)) put16(scratch, 20, static_cast<uint16_t>(rng() & 0x2003));
          const uint8_t protos[] = {1, 6, 17, 47, 0};
          if (scratch.size() >= 24) scratch[23] = protos[rng() % 5];
          fix_ip_checksum(scratch);
        } else if (arp && scratch.size() >= 22) {
          const Bytes a = arp_body(static_cast<uint16_t>(1 + rng() % 2));
          std::memcpy(scratch.data() + 14, a.data(), std::min<size_t>(8, scratch.size() - 14));
        }
      }
    } else {  // mutation of a valid frame: flip bytes, then maybe truncate
      scratch = seeds[rng() % seeds.size()];
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) scratch[rng() % scratch.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      if (rng() & 1) scratch.resize(rng() % (scratch.size() + 1));
      if (rng() & 1) fix_ip_checksum(scratch);  // get past the checksum to deeper checks
    }
    // Exact-size heap copy: under ASan, any read past `len` is caught.
    const auto len = static_cast<uint32_t>(scratch.size());
    std::unique_ptr<uint8_t[]> exact(len ? new uint8_t[len] : nullptr);
    if (len) std::memcpy(exact.get(), scratch.data(), len);
    check_invariants(exact.get(), len, reasons);
    const ParsedPacket p = parse(exact.get(), len);
    ++kinds[static_cast<size_t>(p.kind)];
    // Bytes after `len` never change the result.
    if (i % 16 == 0) {
      padded = scratch;
      for (int k = 0; k < 64; ++k) padded.push_back(static_cast<uint8_t>(byte(rng)));
      BOOST_REQUIRE((parse(padded.data(), len) == p));
    }
  }
  BOOST_TEST_MESSAGE("kinds drop/arp/ipv4: " << kinds[0] << "/" << kinds[1] << "/" << kinds[2]);
  for (size_t r = 0; r < reasons.size(); ++r)
    if (reasons[r]) BOOST_TEST_MESSAGE(sgfw::core::kDropReasonNames[r] << ": " << reasons[r]);
  // The generator reaches every outcome the parser has.
  BOOST_TEST(kinds[1] > 0u);
  BOOST_TEST(kinds[2] > 0u);
  for (DropReason r : {DropReason::kMalformedL2, DropReason::kMalformedIpv4, DropReason::kMalformedL4,
                       DropReason::kFragmentInvalid, DropReason::kUnsupportedEthertype,
                       DropReason::kVlanTagged})
    BOOST_TEST(reasons[static_cast<size_t>(r)] > 0u, to_string(r));
}
