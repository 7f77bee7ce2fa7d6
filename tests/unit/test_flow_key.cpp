// The IPv4 connection key (lib/flow/flow_key.hpp): make_flow_key composes the key as
// two machine words; it must equal, byte for byte (rte_hash compares bytes, pad
// included), the key written field by field, and map both directions of a connection
// to the same key.
#define BOOST_TEST_MODULE flow_key
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <random>

#include "flow/flow_key.hpp"

using sgfw::flow::FlowKey;
using sgfw::flow::make_flow_key;

namespace {

// The definition, field by field: the endpoint that sorts first (address, then port) is lo.
FlowKey reference_key(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, bool* src_is_lo) {
  FlowKey k;
  std::memset(&k, 0, sizeof k);
  const bool keep = src < dst || (src == dst && sport <= dport);
  k.proto = proto;
  k.addr_lo = keep ? src : dst;
  k.addr_hi = keep ? dst : src;
  k.port_lo = keep ? sport : dport;
  k.port_hi = keep ? dport : sport;
  *src_is_lo = keep;
  return k;
}

}  // namespace

BOOST_AUTO_TEST_CASE(equals_the_field_by_field_key_in_both_directions) {
  std::mt19937_64 rng(15);
  size_t mismatches = 0, asymmetric = 0;
  for (int i = 0; i < 1000000; ++i) {
    const uint64_t x = rng(), y = rng();
    const uint32_t src = static_cast<uint32_t>(x);
    const uint32_t dst = i % 4 == 0 ? src : static_cast<uint32_t>(x >> 32);  // equal addresses too
    const uint16_t sport = static_cast<uint16_t>(y);
    const uint16_t dport = i % 8 == 0 ? sport : static_cast<uint16_t>(y >> 16);
    const uint8_t proto = static_cast<uint8_t>(y >> 32);
    bool want_lo = false, lo = false, back_lo = false;
    const FlowKey want = reference_key(proto, src, sport, dst, dport, &want_lo);
    const FlowKey got = make_flow_key(proto, src, sport, dst, dport, &lo);
    const FlowKey back = make_flow_key(proto, dst, dport, src, sport, &back_lo);
    mismatches += std::memcmp(&want, &got, sizeof got) != 0 || want_lo != lo;
    asymmetric += std::memcmp(&got, &back, sizeof got) != 0 || (lo == back_lo && !(src == dst && sport == dport));
  }
  BOOST_TEST(mismatches == 0u);
  BOOST_TEST(asymmetric == 0u);
}

BOOST_AUTO_TEST_CASE(known_key_bytes) {
  // 10.0.0.2:80 -> 10.0.0.1:5000 over TCP (wire-order values as read from a packet).
  const uint32_t a = 0x0200000a, b = 0x0100000a;  // 10.0.0.2, 10.0.0.1 as loaded on x86
  bool lo = true;
  const FlowKey k = make_flow_key(6, a, 0x5000, b, 0x8813, &lo);
  BOOST_TEST(!lo);  // b sorts first
  BOOST_TEST(k.addr_lo == b);
  BOOST_TEST(k.addr_hi == a);
  BOOST_TEST(k.port_lo == 0x8813);
  BOOST_TEST(k.port_hi == 0x5000);
  BOOST_TEST(k.proto == 6);
  BOOST_TEST((k.pad[0] == 0 && k.pad[1] == 0 && k.pad[2] == 0));
}
