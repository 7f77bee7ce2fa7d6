// The IPv6 parser against mutated frames: the invariants every parse keeps. Part of
// the packet_parser_v6 test module.
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
