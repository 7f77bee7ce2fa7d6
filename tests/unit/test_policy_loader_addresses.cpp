// IPv6 and allowedAddressPairs in policy files (docs/policy-format.md, "Addresses" and
// "Allowed address pairs"): every form, every error with its exact location, and the
// writer's round trip.
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "config/policy_loader.hpp"
#include "policy/limits.hpp"
#include "policy/policy_writer.hpp"
#include "policy_loader_test.hpp"

using namespace sgfw;
using namespace sgfw::test::loader;

namespace {

core::IpAddress ip(const char* s) { return *core::parse_ip(s); }
core::IpCidr cidr(const char* s) { return *core::parse_ip_cidr(s).cidr; }

}  // namespace

BOOST_AUTO_TEST_SUITE(addresses)

BOOST_AUTO_TEST_CASE(ipv6_in_ips_cidr_and_remotes) {
  auto p = load_ok(yaml(R"(
subnets:
  - {name: v6net, cidr: "2001:db8:1::/64"}
  - name: v6any
    cidr: ::/0
securityGroups:
  - name: g
    rules:
      - {name: a, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: "2001:0db8:0:0::/48"}}}
      - {name: b, direction: Egress, protocol: ICMP, remote: {subnetRef: {name: v6net}}}
      - name: c
        direction: Egress
        protocol: All
        remote: {address: {IPAddressOrCIDR: 2001:db8::10}}
vms:
  - {name: d, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1, "2001:db8::1", "::ffff:10.0.0.9"], securityGroups: [g]}
  - name: e
    ips:
      - 2001:0db8:0000::0002
      - "::"
)"));
  BOOST_TEST((p.find_subnet("v6net")->cidr == cidr("2001:db8:1::/64")));
  BOOST_TEST((p.find_subnet("v6any")->cidr == cidr("::/0")));
  const auto& rules = p.find_group("g")->rules;
  BOOST_TEST((rules[0].remote.cidr == cidr("2001:db8::/48")));
  BOOST_TEST((rules[2].remote.cidr == cidr("2001:db8::10/128")));
  const auto* d = p.find_vm("d");
  BOOST_REQUIRE_EQUAL(d->ips.size(), 3u);
  BOOST_TEST((d->ips[0] == ip("10.0.0.1")));
  BOOST_TEST((d->ips[1] == ip("2001:db8::1")));
  BOOST_TEST(d->ips[2].is_v6());  // IPv4-mapped IPv6 is IPv6, not 10.0.0.9
  const auto* e = p.find_vm("e");
  BOOST_TEST(core::to_string(e->ips[0]) == "2001:db8::2");
  BOOST_TEST(core::to_string(e->ips[1]) == "::");
  // YAML reads an unquoted "- ::" as a map, not as text: quote IPv6 that starts with
  // ':' (docs/policy-format.md).
  BOOST_TEST(load_error("vms:\n  - name: e\n    ips:\n      - ::\n") == "t.yaml:4:9: ip must be a scalar");
}

BOOST_AUTO_TEST_CASE(ipv6_errors_name_the_token) {
  auto remote = [](std::string v) {
    return load_error("securityGroups:\n  - name: g\n    rules:\n      - {direction: Ingress, protocol: TCP, "
                      "remote: {address: {IPAddressOrCIDR: " + v + "}}}\n");
  };
  // Column 72: the value of IPAddressOrCIDR on line 4.
  BOOST_TEST(remote("\"2001:db8::1/64\"") == "t.yaml:4:81: CIDR '2001:db8::1/64' has host bits set");
  BOOST_TEST(remote("\"::1/0\"") == "t.yaml:4:81: CIDR '::1/0' has host bits set");
  for (std::string v : {"2001:db8::/129", "2001:db8::/064", "2001:db8::g/64", "fe80::1%eth0", "[2001:db8::1]",
                        "1::2::3", "2001:db8::/"})
    BOOST_TEST(remote("\"" + v + "\"") == "t.yaml:4:81: invalid IPAddressOrCIDR '" + v + "'", v);
  BOOST_TEST(load_error("subnets:\n  - name: s\n    cidr: \"2001:db8:1::1/64\"\n") ==
             "t.yaml:3:11: CIDR '2001:db8:1::1/64' has host bits set");
  BOOST_TEST(load_error("subnets:\n  - name: s\n    cidr: \"2001:db8::/200\"\n") ==
             "t.yaml:3:11: invalid subnet cidr '2001:db8::/200'");
  BOOST_TEST(load_error("vms:\n  - name: a\n    ips: [\"2001:db8::1/128\"]\n") ==
             "t.yaml:3:11: invalid IPv6 address '2001:db8::1/128'");
  BOOST_TEST(load_error("vms:\n  - name: a\n    ips: [10.0.0.1, \"fe80::1%eth0\"]\n") ==
             "t.yaml:3:21: invalid IPv6 address 'fe80::1%eth0'");
  BOOST_TEST(load_error("vms:\n  - name: a\n    ips: [\"2001:db8:::1\"]\n") ==
             "t.yaml:3:11: invalid IPv6 address '2001:db8:::1'");
}

BOOST_AUTO_TEST_CASE(duplicate_addresses_compare_canonical_values) {
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: a, ips: ["2001:db8::1"]}
  - {name: b, ips: [10.0.0.2, "2001:0db8::0001"]}
)")) == "t.yaml:3:31: duplicate VM address 2001:0db8::0001 (also VM 'a')");
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: a, ips: ["2001:db8::1", "2001:db8:0::1"]}
)")) == "t.yaml:2:36: duplicate VM address 2001:db8:0::1 (listed twice)");
  // The IPv4-mapped form is another address than the IPv4 one.
  BOOST_TEST(load_error("vms:\n  - {name: a, ips: [10.0.0.1, \"::ffff:10.0.0.1\"]}\n") == "<loaded>");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(allowed_address_pairs)

BOOST_AUTO_TEST_CASE(pairs_of_both_families_with_and_without_mac) {
  auto p = load_ok(yaml(R"(
vms:
  - name: a
    port: p1
    mac: 02:00:00:00:00:01
    ips: [10.0.0.1, "2001:db8::1"]
    allowedAddressPairs:
      - {ip: 10.0.0.100, mac: "02:00:00:00:01:00"}
      - ip: 10.0.1.0/24
      - {ip: "2001:db8::100"}
      - {ip: "2001:db8:1::/64", mac: "02:00:00:00:01:01"}
  - {name: b, port: p1, mac: "02:00:00:00:00:02", ips: [10.0.0.2], allowedAddressPairs: [{ip: 10.0.0.100}]}
  - {name: c, ips: [10.0.0.3], allowedAddressPairs: []}
)"));
  const auto& pairs = p.find_vm("a")->allowed_address_pairs;
  BOOST_REQUIRE_EQUAL(pairs.size(), 4u);
  BOOST_TEST((pairs[0].ip == cidr("10.0.0.100/32")));
  BOOST_TEST(core::to_string(*pairs[0].mac) == "02:00:00:00:01:00");
  BOOST_TEST(pairs[0].at.line == 7u);
  BOOST_TEST(pairs[0].at.column == 14u);
  BOOST_TEST((pairs[1].ip == cidr("10.0.1.0/24")));
  BOOST_TEST(!pairs[1].mac.has_value());
  BOOST_TEST((pairs[2].ip == cidr("2001:db8::100/128")));
  BOOST_TEST((pairs[3].ip == cidr("2001:db8:1::/64")));
  // A shared pair (a VIP) of two VMs is legal.
  BOOST_TEST((p.find_vm("b")->allowed_address_pairs.at(0).ip == cidr("10.0.0.100/32")));
  BOOST_TEST(p.find_vm("c")->allowed_address_pairs.empty());
}

BOOST_AUTO_TEST_CASE(pair_syntax_errors) {
  auto vm = [](std::string pairs) {
    return load_error("vms:\n  - name: a\n    ips: [10.0.0.1]\n    allowedAddressPairs: " + pairs + "\n");
  };
  BOOST_TEST(vm("[{mac: \"02:00:00:00:01:00\"}]") == "t.yaml:4:27: allowed address pair has no 'ip'");
  BOOST_TEST(vm("[{ip: 10.0.0.9, port: 80}]") == "t.yaml:4:42: unknown key 'port' in allowed address pair");
  BOOST_TEST(vm("[{ip: 10.0.0.9, ip: 10.0.0.8}]") == "t.yaml:4:42: duplicate key 'ip'");
  BOOST_TEST(vm("[{ip: 10.0.0.9/24}]") == "t.yaml:4:32: CIDR '10.0.0.9/24' has host bits set");
  BOOST_TEST(vm("[{ip: \"2001:db8::1/64\"}]") == "t.yaml:4:32: CIDR '2001:db8::1/64' has host bits set");
  BOOST_TEST(vm("[{ip: 10.0.0.256}]") == "t.yaml:4:32: invalid allowed address pair ip '10.0.0.256'");
  BOOST_TEST(vm("[{ip: 10.0.0.9, mac: \"01:00:5e:00:00:01\"}]") ==
             "t.yaml:4:47: MAC '01:00:5e:00:00:01' is not a unicast address");
  BOOST_TEST(vm("[{ip: 10.0.0.9, mac: \"00:00:00:00:00:00\"}]") ==
             "t.yaml:4:47: MAC '00:00:00:00:00:00' is not a unicast address");
  BOOST_TEST(vm("[{ip: 10.0.0.9, mac: nope}]") == "t.yaml:4:47: invalid MAC 'nope': expected xx:xx:xx:xx:xx:xx");
  BOOST_TEST(vm("10.0.0.9") == "t.yaml:4:26: allowedAddressPairs must be a list");
}

BOOST_AUTO_TEST_CASE(at_most_sixteen_pairs) {
  std::string list;
  for (uint32_t i = 0; i < policy::kMaxAddressPairsPerVm; ++i)
    list += std::string(i ? ", " : "") + "{ip: 10.0.1." + std::to_string(i) + "}";
  auto vm = [](std::string l) { return "vms:\n  - name: a\n    ips: [10.0.0.1]\n    allowedAddressPairs: [" + l + "]\n"; };
  BOOST_TEST(load_error(vm(list)) == "<loaded>");
  BOOST_TEST(load_error(vm(list + ", {ip: 10.0.2.0}")) == "t.yaml:4:26: VM 'a' has more than 16 allowed address pairs");
}

BOOST_AUTO_TEST_CASE(pair_against_vm_addresses) {
  // Another VM's own address, equal or inside: an error naming both VMs, at the pair.
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: a, ips: [10.0.0.1], allowedAddressPairs: [{ip: 10.0.0.2}]}
  - {name: b, ips: [10.0.0.2]}
)")) == "t.yaml:2:59: VM 'a': allowed address pair 10.0.0.2 is an address of VM 'b'");
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: b, ips: ["2001:db8::2"]}
  - {name: a, ips: [10.0.0.1], allowedAddressPairs: [{ip: 10.0.0.0/30}, {ip: "2001:db8::/64"}]}
)")) == "t.yaml:3:78: VM 'a': allowed address pair 2001:db8::/64 contains 2001:db8::2, an address of VM 'b'");
  // Non-canonical text is compared by value and reported canonically.
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: b, ips: ["2001:db8::2"]}
  - {name: a, ips: [10.0.0.1], allowedAddressPairs: [{ip: "2001:0db8:0::0002"}]}
)")) == "t.yaml:3:59: VM 'a': allowed address pair 2001:db8::2 is an address of VM 'b'");
  // Its own address: redundant. A block around it is fine.
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: a, ips: [10.0.0.1, "2001:db8::1"], allowedAddressPairs: [{ip: "2001:db8::1"}]}
)")) == "t.yaml:2:74: VM 'a': allowed address pair 2001:db8::1 is its own address (redundant)");
  BOOST_TEST(load_error("vms:\n  - {name: a, ips: [10.0.0.1], allowedAddressPairs: [{ip: 10.0.0.0/24}]}\n") ==
             "<loaded>");
  // The same pair twice on one VM.
  BOOST_TEST(load_error("vms:\n  - {name: a, ips: [10.0.0.1], allowedAddressPairs: [{ip: 10.0.0.9}, {ip: 10.0.0.9/32}]}\n") ==
             "t.yaml:2:75: VM 'a': allowed address pair 10.0.0.9 listed twice");
  // Pairs of different VMs may overlap (a VIP, a block and an address in it).
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: a, ips: [10.0.0.1], allowedAddressPairs: [{ip: 10.0.0.100}, {ip: 10.0.9.0/24}]}
  - {name: b, ips: [10.0.0.2], allowedAddressPairs: [{ip: 10.0.0.100}, {ip: 10.0.9.7}]}
)")) == "<loaded>");
}

BOOST_AUTO_TEST_CASE(writer_round_trips_addresses_and_pairs) {
  auto p = load_ok(yaml(R"(
subnets:
  - {name: s4, cidr: 10.0.0.0/8}
  - {name: s6, cidr: "2001:db8::/32"}
  - {name: sany, cidr: "::/0"}
securityGroups:
  - name: g
    rules:
      - {direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: "::/0"}}}
      - {direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: "2001:db8::"}}}
      - {direction: Egress, protocol: TCP, port: 443, remote: {subnetRef: {name: s6}}}
vms:
  - name: a
    port: p1
    mac: 02:00:00:00:00:01
    ips: [10.0.0.1, "2001:0db8::1", "::ffff:192.0.2.1", "::"]
    allowedAddressPairs:
      - {ip: 10.0.0.100, mac: "02:00:00:00:01:00"}
      - {ip: 10.0.1.0/24}
      - {ip: "2001:db8::100"}
      - {ip: "2001:db8:1::/64", mac: "02:00:00:00:01:01"}
      - {ip: "2001:db8:2::"}
    securityGroups: [g]
  - {name: b, ips: ["2001:db8::2"], allowedAddressPairs: [{ip: 10.0.0.100}]}
)"));
  std::string text = policy::write_policy_yaml(p, "round trip");
  auto again = config::load_policy_text(text, "again.yaml");
  BOOST_REQUIRE_MESSAGE(again.has_value(), (again ? std::string() : again.error().message) << "\n" << text);
  BOOST_TEST(policy::write_policy_yaml(*again, "round trip") == text);
  BOOST_REQUIRE_EQUAL(again->vms.size(), p.vms.size());
  for (size_t i = 0; i < p.vms.size(); ++i) {
    BOOST_TEST((again->vms[i].ips == p.vms[i].ips));
    BOOST_TEST((again->vms[i].allowed_address_pairs == p.vms[i].allowed_address_pairs));
  }
  for (size_t i = 0; i < p.subnets.size(); ++i) BOOST_TEST((again->subnets[i].cidr == p.subnets[i].cidr));
  const auto& g1 = p.find_group("g")->rules;
  const auto& g2 = again->find_group("g")->rules;
  for (size_t i = 0; i < g1.size(); ++i) BOOST_TEST((g1[i].remote == g2[i].remote));
  // Canonical text in the file.
  BOOST_TEST(text.find("\"2001:db8::1\"") != std::string::npos);
  BOOST_TEST(text.find("{ip: \"2001:db8:2::\"}") != std::string::npos);
  BOOST_TEST(text.find("{ip: 10.0.0.100, mac: \"02:00:00:00:01:00\"}") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
