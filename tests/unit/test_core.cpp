#define BOOST_TEST_MODULE core
#include <boost/test/unit_test.hpp>

#include "core/escape.hpp"
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

BOOST_AUTO_TEST_CASE(escape_for_log_defuses_control_characters_and_bounds_length) {
  BOOST_TEST(escape_for_log("web-1") == "web-1");
  BOOST_TEST(escape_for_log("x\nsgfwd: reload by uid 0: generation 42") ==
             "x\\x0asgfwd: reload by uid 0: generation 42");
  BOOST_TEST(escape_for_log("\x1b[2J\r\t\x7f\x01") == "\\x1b[2J\\x0d\\x09\\x7f\\x01");
  BOOST_TEST(escape_for_log(escape_for_log("a\nb")) == escape_for_log("a\nb"));  // idempotent
  BOOST_TEST(escape_for_log("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 is left alone
  BOOST_TEST(escape_for_log(std::string(10000, 'a')) == std::string(512, 'a') + "...(10000 bytes)");
  BOOST_TEST(escape_for_log("abcdef", 3) == "abc...(6 bytes)");
  for (int c = 0; c < 256; ++c) {
    std::string e = escape_for_log(std::string(1, static_cast<char>(c)));
    for (char x : e) BOOST_TEST((static_cast<unsigned char>(x) >= 0x20 && x != 0x7f));
  }
}
