#define BOOST_TEST_MODULE core
#include <boost/test/unit_test.hpp>

#include "core/escape.hpp"
#include "core/frozen_hash_map.hpp"
#include "core/ip_address.hpp"
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

BOOST_AUTO_TEST_CASE(ipv6_parses_every_rfc4291_text_form_and_prints_rfc5952) {
  struct Case {
    const char* text;
    const char* canonical;
  };
  for (auto [text, canonical] : std::initializer_list<Case>{
           {"::", "::"},
           {"::1", "::1"},
           {"2001:db8::10", "2001:db8::10"},
           {"2001:0db8:0:0::10", "2001:db8::10"},
           {"2001:0DB8:0000:0000:0000:0000:0000:0010", "2001:db8::10"},
           {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},       // first of equal runs
           {"2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"},         // the longest run
           {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},    // one zero group stays
           {"fe80::", "fe80::"},
           {"1::", "1::"},
           {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},            // IPv4-mapped: dotted
           {"::ffff:c000:201", "::ffff:192.0.2.1"},
           {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},        // embedded quad elsewhere: hex
           {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"},
       }) {
    auto a = parse_ipv6(text);
    BOOST_REQUIRE_MESSAGE(a.has_value(), text);
    BOOST_TEST(to_string(*a) == canonical, text);
    auto any = parse_ip(text);
    BOOST_REQUIRE(any.has_value());
    BOOST_TEST(any->is_v6());
    BOOST_TEST(to_string(*any) == canonical, text);
  }
  BOOST_TEST((*parse_ipv6("2001:db8::1") == *parse_ipv6("2001:0db8::0001")));
  BOOST_TEST(parse_ipv6("::1")->bytes[15] == 1);
  BOOST_TEST(parse_ipv6("2001:db8::")->bytes[0] == 0x20);
  for (const char* bad : {"", ":", ":::", "1:2:3:4:5:6:7:8:9", "2001:db8::1%eth0", "[2001:db8::1]", " ::1", "::1 ",
                          "2001:db8::g", "12345::", "1::2::3", "::ffff:1.2.3", "::ffff:01.2.3.4", "::1/64"})
    BOOST_TEST(!parse_ipv6(bad).has_value(), bad);
  std::string with_nul("::1\0", 4);
  BOOST_TEST(!parse_ipv6(with_nul).has_value());
}

BOOST_AUTO_TEST_CASE(ip_address_orders_ipv4_first_and_converts_from_ipv4) {
  IpAddress v4 = Ipv4{0x0a000001};
  BOOST_TEST(v4.is_v4());
  BOOST_TEST(to_string(v4) == "10.0.0.1");
  BOOST_TEST((*parse_ip("10.0.0.1") == v4));
  BOOST_TEST((v4 < *parse_ip("::")));
  BOOST_TEST((*parse_ip("::1") < *parse_ip("::2")));
  BOOST_TEST(!parse_ip("10.0.0.01").has_value());  // IPv4 stays strict
  BOOST_TEST(!parse_ip("10.0.0.1:80").has_value());
}

BOOST_AUTO_TEST_CASE(ip_cidr_parses_both_families_and_reports_host_bits) {
  auto c = parse_ip_cidr("2001:db8:1::/64");
  BOOST_REQUIRE(c.cidr);
  BOOST_TEST(c.cidr->prefix == 64);
  BOOST_TEST((c.cidr->family() == Family::kIpv6));
  BOOST_TEST(c.cidr->contains(*parse_ip("2001:db8:1::5")));
  BOOST_TEST(c.cidr->contains(*parse_ip("2001:db8:1:0:ffff:ffff:ffff:ffff")));
  BOOST_TEST(!c.cidr->contains(*parse_ip("2001:db8:2::5")));
  BOOST_TEST(!c.cidr->contains(*parse_ip("10.0.0.1")));             // across families: false
  BOOST_TEST(to_string(*c.cidr) == "2001:db8:1::/64");
  BOOST_TEST(to_string(*parse_ip_cidr("2001:0db8:0001:0000::/64").cidr) == "2001:db8:1::/64");
  auto any6 = parse_ip_cidr("::/0");
  BOOST_REQUIRE(any6.cidr);
  BOOST_TEST(any6.cidr->contains(*parse_ip("2001:db8::1")));
  BOOST_TEST(!any6.cidr->contains(*parse_ip("0.0.0.0")));
  BOOST_TEST(!parse_ip_cidr("0.0.0.0/0").cidr->contains(*parse_ip("::")));
  auto host = parse_ip_cidr("2001:db8::1");
  BOOST_REQUIRE(host.cidr);
  BOOST_TEST(host.cidr->prefix == 128);
  BOOST_TEST(host.cidr->is_host());
  BOOST_TEST(parse_ip_cidr("10.0.0.1").cidr->prefix == 32);
  BOOST_TEST(parse_ip_cidr("2001:db8::/127").cidr.has_value());
  BOOST_TEST(parse_ip_cidr("2001:db8::1/128").cidr.has_value());
  for (const char* host_bits : {"2001:db8::1/64", "2001:db8::1/127", "::1/0", "2001:db8:1::/32", "10.0.0.1/24"}) {
    auto r = parse_ip_cidr(host_bits);
    BOOST_TEST(!r.cidr.has_value(), host_bits);
    BOOST_TEST((r.error == CidrError::kHostBits), host_bits);
  }
  for (const char* bad : {"2001:db8::/129", "2001:db8::/", "2001:db8::/064", "2001:db8::/-1", "10.0.0.0/33",
                          "[2001:db8::]/64", "2001:db8::/64 ", "fe80::%1/64"}) {
    auto r = parse_ip_cidr(bad);
    BOOST_TEST(!r.cidr.has_value(), bad);
    BOOST_TEST((r.error == CidrError::kSyntax), bad);
  }
  // Block containment, used for allowed address pairs.
  auto outer = *parse_ip_cidr("2001:db8::/64").cidr;
  BOOST_TEST(outer.contains(*parse_ip_cidr("2001:db8::100/120").cidr));
  BOOST_TEST(!parse_ip_cidr("2001:db8::100/120").cidr->contains(outer));
  BOOST_TEST(!parse_ip_cidr("0.0.0.0/0").cidr->contains(outer));
  BOOST_TEST(to_string(IpCidr::host(*parse_ip("::1"))) == "::1/128");
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

BOOST_AUTO_TEST_CASE(frozen_hash_map_finds_every_key_and_nothing_else) {
  using Map = sgfw::core::FrozenHashMap<uint32_t, uint32_t>;
  BOOST_TEST(Map().find(1, 7) == 7u);  // empty: every key is missing
  // A later item replaces an earlier one with the same key.
  Map small = Map::build({{5, 50}, {6, 60}, {5, 55}});
  BOOST_TEST(small.size() == 2u);
  BOOST_TEST(small.find(5, 0) == 55u);
  BOOST_TEST(small.find(6, 0) == 60u);
  BOOST_TEST(small.find(7, 0) == 0u);
  // 100,000 consecutive addresses of a /15 (network order, as the address table holds
  // them), and as many absent ones, one by one and in bulk.
  std::vector<std::pair<uint32_t, uint32_t>> items;
  for (uint32_t i = 0; i < 100000; ++i) items.push_back({__builtin_bswap32(0x0a000000u + i), i + 1});
  Map big = Map::build(items);
  BOOST_TEST(big.size() == 100000u);
  size_t wrong = 0;
  std::vector<uint32_t> keys, got(2 * items.size());
  for (const auto& [k, v] : items) {
    wrong += big.find(k, 0) != v;
    keys.push_back(k);
    keys.push_back(__builtin_bswap32(0x0b000000u + v));  // absent
  }
  big.find_bulk(keys.data(), static_cast<uint32_t>(keys.size()), got.data(), 0);
  for (size_t i = 0; i < items.size(); ++i) wrong += got[2 * i] != items[i].second || got[2 * i + 1] != 0;
  BOOST_TEST(wrong == 0u);
  // 64-bit keys: (port << 48) | MAC, as the snapshot's MAC table holds them.
  using MacMap = sgfw::core::FrozenHashMap<uint64_t, uint32_t>;
  std::vector<std::pair<uint64_t, uint32_t>> macs;
  for (uint32_t i = 0; i < 5000; ++i) macs.push_back({(uint64_t{i % 31} << 48) | (0x020000000000ull + i), i});
  MacMap mm = MacMap::build(macs);
  for (const auto& [k, v] : macs) wrong += mm.find(k, 0xffffffffu) != v;
  wrong += mm.find((uint64_t{3} << 48) | 0x020000000001ull, 0xffffffffu) != 0xffffffffu;  // MAC on another port
  // 128-bit keys (IPv6 addresses): 20,000 hosts of one /64 and their twins in another
  // /64 (same low half: only the high half tells them apart).
  using Map6 = sgfw::core::FrozenHashMap<sgfw::core::Key128, uint32_t>;
  std::vector<std::pair<sgfw::core::Key128, uint32_t>> six;
  for (uint32_t i = 0; i < 20000; ++i) six.push_back({{__builtin_bswap64(i + 1), 0x20010db800000000ull}, i + 1});
  Map6 m6 = Map6::build(six);
  for (const auto& [k, v] : six) {
    wrong += m6.find(k, 0) != v;
    wrong += m6.find({k.lo, 0x20010db800000001ull}, 0) != 0;
  }
  BOOST_TEST(wrong == 0u);
}

// Keys laid out against the first multiplier (i times its inverse: under it, key i's
// product is i, so every key's home is slot 0) must not grow the table: the build
// moves on to another multiplier at the same size.
BOOST_AUTO_TEST_CASE(frozen_hash_map_keys_colliding_under_one_multiplier_stay_small) {
  using MacMap = sgfw::core::FrozenHashMap<uint64_t, uint32_t>;
  const uint64_t k = 0x9e3779b97f4a7c15ULL;
  uint64_t inv = k;
  for (int i = 0; i < 6; ++i) inv *= 2 - k * inv;  // Newton: k * inv == 1 mod 2^64
  BOOST_TEST(k * inv == 1u);
  std::vector<std::pair<uint64_t, uint32_t>> items;
  for (uint32_t i = 1; i <= 300; ++i) items.push_back({i * inv, i});
  MacMap m = MacMap::build(items);
  BOOST_TEST(m.size() == 300u);
  BOOST_TEST(m.slot_count() <= 2048u);
  size_t wrong = 0;
  for (const auto& [key, v] : items) wrong += m.find(key, 0) != v;
  for (uint32_t i = 301; i <= 600; ++i) wrong += m.find(i * inv, 0) != 0;
  BOOST_TEST(wrong == 0u);
}
