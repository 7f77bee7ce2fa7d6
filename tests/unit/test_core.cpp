#define BOOST_TEST_MODULE core
#include <boost/test/unit_test.hpp>

#include "core/ipv4.hpp"
#include "core/mac.hpp"

using namespace sgfw::core;

BOOST_AUTO_TEST_CASE(ipv4_parses_strict_dotted_quads) {
  BOOST_TEST(parse_ipv4("10.0.0.1")->value == 0x0a000001u);
  BOOST_TEST(parse_ipv4("255.255.255.255")->value == 0xffffffffu);
  BOOST_TEST(parse_ipv4("0.0.0.0")->value == 0u);
  for (const char* bad : {"", "10.0.0", "10.0.0.1.2", "256.0.0.1", "10.0.0.01", "10.0.0.-1",
                          " 10.0.0.1", "10.0.0.1 ", "a.b.c.d", "10..0.1", "1e1.0.0.1"})
    BOOST_TEST(!parse_ipv4(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(cidr_rejects_host_bits_and_defaults_to_32) {
  auto c = parse_cidr("10.0.1.0/24");
  BOOST_REQUIRE(c.cidr);
  BOOST_TEST(c.cidr->prefix == 24);
  BOOST_TEST(c.cidr->contains(*parse_ipv4("10.0.1.200")));
  BOOST_TEST(!c.cidr->contains(*parse_ipv4("10.0.2.1")));
  BOOST_TEST(parse_cidr("10.0.0.1").cidr->prefix == 32);
  auto h = parse_cidr("10.0.0.1/24");
  BOOST_TEST(!h.cidr);
  BOOST_TEST((h.error == CidrError::kHostBits));
  BOOST_TEST((parse_cidr("10.0.0.0/33").error == CidrError::kSyntax));
  BOOST_TEST(parse_cidr("0.0.0.0/0").cidr->contains(*parse_ipv4("1.2.3.4")));
  BOOST_TEST(to_string(*parse_cidr("192.168.0.0/16").cidr) == "192.168.0.0/16");
}

BOOST_AUTO_TEST_CASE(mac_parse_and_format) {
  auto m = parse_mac("02:00:00:00:01:0A");
  BOOST_REQUIRE(m);
  BOOST_TEST(to_string(*m) == "02:00:00:00:01:0a");
  BOOST_TEST(!m->is_multicast());
  BOOST_TEST(parse_mac("ff:ff:ff:ff:ff:ff")->is_multicast());
  BOOST_TEST(!parse_mac("02:00:00:00:01").has_value());
  BOOST_TEST(!parse_mac("02-00-00-00-01-0a").has_value());
}
