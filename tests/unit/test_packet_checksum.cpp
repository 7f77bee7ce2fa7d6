// The IPv4 header checksum check of the parser (docs/design/packet-parser.md) against a
// byte-wise RFC 1071 reference, over random headers of every length (IHL 5..15): a
// header with the right checksum parses, and every single-bit change of it is a
// malformed-ipv4 drop. The parser sums 32-bit words; this pins it to the 16-bit sum.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "packet/parser.hpp"

using namespace sgfw::packet;

namespace {

// RFC 1071 over 16-bit big-endian words, the complement of the folded sum.
uint16_t reference_checksum(const uint8_t* h, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; i += 2) sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Ethernet + an IPv4 header of `ihl` words (options: NOPs) with random addresses, id,
// TTL and protocol (ICMP, so that a short payload parses), + an 8-byte ICMP echo.
std::vector<uint8_t> random_frame(std::mt19937& rng, unsigned ihl) {
  std::vector<uint8_t> f(14 + ihl * 4 + 8, 0);
  f[12] = 0x08;  // IPv4
  uint8_t* ip = f.data() + 14;
  ip[0] = static_cast<uint8_t>(0x40 | ihl);
  ip[1] = static_cast<uint8_t>(rng());  // DSCP/ECN
  const unsigned total = ihl * 4 + 8;
  ip[2] = static_cast<uint8_t>(total >> 8);
  ip[3] = static_cast<uint8_t>(total);
  ip[4] = static_cast<uint8_t>(rng());
  ip[5] = static_cast<uint8_t>(rng());
  ip[8] = static_cast<uint8_t>(1 + rng() % 255);  // TTL
  ip[9] = 1;                                       // ICMP
  for (int i = 12; i < 20; ++i) ip[i] = static_cast<uint8_t>(rng());
  for (unsigned i = 20; i < ihl * 4; ++i) ip[i] = 1;  // NOP options
  const uint16_t c = reference_checksum(ip, ihl * 4);
  ip[10] = static_cast<uint8_t>(c >> 8);
  ip[11] = static_cast<uint8_t>(c);
  f[14 + ihl * 4] = 8;  // echo request
  return f;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_checksum_check_agrees_with_rfc1071_for_every_header_length) {
  std::mt19937 rng(20261130);
  size_t flips = 0;
  for (unsigned ihl = 5; ihl <= 15; ++ihl) {
    for (int round = 0; round < 40; ++round) {
      std::vector<uint8_t> f = random_frame(rng, ihl);
      ParsedPacket ok = parse(f.data(), static_cast<uint32_t>(f.size()));
      BOOST_REQUIRE_MESSAGE(ok.kind == ParsedPacket::Kind::kIpv4, "ihl " << ihl << ": a right checksum must parse");
      for (unsigned byte = 0; byte < ihl * 4; ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
          std::vector<uint8_t> g = f;
          g[14 + byte] ^= static_cast<uint8_t>(1u << bit);
          ParsedPacket bad = parse(g.data(), static_cast<uint32_t>(g.size()));
          BOOST_REQUIRE_MESSAGE(bad.kind == ParsedPacket::Kind::kDrop && bad.drop == sgfw::core::DropReason::kMalformedIpv4,
                                "ihl " << ihl << ", byte " << byte << ", bit " << bit << ": must be malformed-ipv4");
          ++flips;
        }
      }
    }
  }
  BOOST_TEST(flips == 40U * 8U * (20U + 24U + 28U + 32U + 36U + 40U + 44U + 48U + 52U + 56U + 60U));
}
