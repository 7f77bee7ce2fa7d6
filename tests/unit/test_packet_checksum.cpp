// The IPv4 header checksum check of the parser (docs/design/packet-parser.md) against a
// byte-wise RFC 1071 reference, over random headers of every length (IHL 5..15): a
// header with the right checksum parses, and every single-bit change of it is a
// malformed-ipv4 drop. The parser sums 32-bit words; this pins it to the 16-bit sum.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
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

// Any checksum field, not only the right one and its one-bit neighbours: the parser
// accepts exactly the headers whose RFC 1071 sum is 0xffff, including the sums that
// need several end-around carries (all-ones words) and a checksum of 0x0000 or 0xffff.
BOOST_AUTO_TEST_CASE(the_checksum_check_accepts_exactly_the_headers_rfc1071_accepts) {
  std::mt19937 rng(20261202);
  size_t accepted = 0, refused = 0;
  for (int round = 0; round < 20000; ++round) {
    const unsigned ihl = 5 + rng() % 11;
    std::vector<uint8_t> f = random_frame(rng, ihl);
    uint8_t* ip = f.data() + 14;
    if (round % 4 == 0) {  // all-ones addresses and id: the sum wraps several times
      for (int i : {4, 5, 12, 13, 14, 15, 16, 17, 18, 19}) ip[i] = 0xff;
      ip[10] = ip[11] = 0;  // the checksum over the new bytes
      const uint16_t right = reference_checksum(ip, ihl * 4);
      ip[10] = static_cast<uint8_t>(right >> 8);
      ip[11] = static_cast<uint8_t>(right);
    }
    const unsigned pick = rng() % 4;  // keep it, 0x0000, 0xffff, or random
    if (pick == 1) ip[10] = ip[11] = 0x00;
    if (pick == 2) ip[10] = ip[11] = 0xff;
    if (pick == 3) ip[10] = static_cast<uint8_t>(rng()), ip[11] = static_cast<uint8_t>(rng());
    const bool right = reference_checksum(ip, ihl * 4) == 0;  // the complement of 0xffff
    ParsedPacket p = parse(f.data(), static_cast<uint32_t>(f.size()));
    const bool parsed = p.kind == ParsedPacket::Kind::kIpv4;
    BOOST_REQUIRE_MESSAGE(parsed == right, "round " << round << ", ihl " << ihl << ": parser " << parsed
                                                    << ", RFC 1071 " << right);
    if (!parsed) BOOST_REQUIRE(p.drop == sgfw::core::DropReason::kMalformedIpv4);
    (right ? accepted : refused) += 1;
  }
  BOOST_TEST(accepted > 4000U);
  BOOST_TEST(refused > 4000U);
  // A right header whose 32-bit words sum to exactly 0xffffffff (each half of the
  // loaded words sums to 0xffff without a carry): only the end-around carry of the last
  // fold makes it 0xffff. Fields chosen, then the destination completes each half.
  std::vector<uint8_t> f = random_frame(rng, 5);
  uint8_t* ip = f.data() + 14;
  const uint8_t fixed[16] = {0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 10, 0, 0, 1};
  std::memcpy(ip, fixed, sizeof fixed);
  auto lane = [&](int first) {  // the sum of bytes first, first+1 of each word, as loaded (little-endian)
    uint32_t v = 0;
    for (int w = 0; w < 4; ++w) v += static_cast<uint32_t>(ip[4 * w + first] | ip[4 * w + first + 1] << 8);
    return v;
  };
  const uint32_t low = 0xffff - lane(0), high = 0xffff - lane(2);
  ip[16] = static_cast<uint8_t>(low), ip[17] = static_cast<uint8_t>(low >> 8);
  ip[18] = static_cast<uint8_t>(high), ip[19] = static_cast<uint8_t>(high >> 8);
  BOOST_REQUIRE(reference_checksum(ip, 20) == 0);
  BOOST_TEST((parse(f.data(), static_cast<uint32_t>(f.size())).kind == ParsedPacket::Kind::kIpv4));
}
