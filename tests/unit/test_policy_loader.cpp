// The policy loader (docs/enforcement.md §1-2): every validation rule has a failing example
// whose full "file:line:col: message" is asserted, so a location that drifts off the
// offending token fails a test; plus the positive cases (defaults, built-ins, hosted
// elsewhere) and check_vm_ports. Here: the positive cases, ports, CIDRs and references;
// test_policy_loader_errors.cpp: duplicates, names, structure and bounds.
#define BOOST_TEST_MODULE policy_loader
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "config/policy_loader.hpp"
#include "policy/validate.hpp"
#include "policy_loader_test.hpp"

using namespace sgfw;
using namespace sgfw::test::loader;
using policy::Direction;
using policy::PortRange;
using policy::Protocol;
using policy::Remote;

namespace {

const std::string kFullExample = yaml(R"(
subnets:
  - name: backend-subnet
    cidr: 10.0.1.0/24

securityGroups:
  - name: web-tier-sg              # a group may have no rules: it then only names members
  - name: app-tier-sg
    description: optional free text
    rules:
      - name: http-from-web        # optional; default "rule-<index>", counting from 0
        direction: Ingress         # Ingress | Egress
        protocol: TCP              # TCP | UDP | ICMP | All
        port: 8080                 # TCP/UDP only. Or: portRange: 1000-1100
        remote:                    # exactly one of the three forms
          securityGroupRef:
            name: web-tier-sg
      - direction: Egress
        protocol: All
        remote:
          address:
            IPAddressOrCIDR: 10.0.0.0/24
      - direction: Ingress
        protocol: UDP
        portRange: 1000-1100
        remote:
          subnetRef:
            name: backend-subnet

vms:
  - name: app-1
    port: vm-app1                  # appliance port (daemon config); omitted: hosted elsewhere
    mac: 02:00:00:00:01:0a         # required for local VMs
    ips: [10.0.1.10]               # the VM's addresses (its anti-spoofing source set)
    securityGroups: [app-tier-sg, default-allow-ssh]   # omitted or [] => default-allow-egress
)");

}  // namespace

// ---------------------------------------------------------------- positive cases

BOOST_AUTO_TEST_CASE(full_example_of_the_spec_loads) {
  auto p = load_ok(kFullExample);
  BOOST_REQUIRE_EQUAL(p.subnets.size(), 1u);
  BOOST_TEST(p.subnets[0].name == "backend-subnet");
  BOOST_TEST(core::to_string(p.subnets[0].cidr) == "10.0.1.0/24");
  std::vector<std::string> expected{"app-tier-sg", "default-allow-egress", "default-allow-ssh",
                                    "default-allow-web-protocols", "web-tier-sg"};
  BOOST_TEST(names_of(p.groups) == expected, boost::test_tools::per_element());

  const auto* web = p.find_group("web-tier-sg");
  BOOST_REQUIRE(web);
  BOOST_TEST(web->rules.empty());
  BOOST_TEST(!web->builtin);

  const auto* app = p.find_group("app-tier-sg");
  BOOST_REQUIRE(app);
  BOOST_TEST(app->description == "optional free text");
  BOOST_REQUIRE_EQUAL(app->rules.size(), 3u);
  const auto& r0 = app->rules[0];
  BOOST_TEST(r0.name == "http-from-web");
  BOOST_TEST((r0.direction == Direction::kIngress && r0.protocol == Protocol::kTcp));
  BOOST_TEST((r0.ports == PortRange{8080, 8080}));
  BOOST_TEST((r0.remote.kind == Remote::Kind::kGroup && r0.remote.name == "web-tier-sg"));
  const auto& r1 = app->rules[1];
  BOOST_TEST(r1.name == "rule-1");
  BOOST_TEST((r1.direction == Direction::kEgress && r1.protocol == Protocol::kAll));
  BOOST_TEST(!r1.ports.has_value());
  BOOST_TEST((r1.remote.kind == Remote::Kind::kAddress));
  BOOST_TEST(core::to_string(r1.remote.cidr) == "10.0.0.0/24");
  const auto& r2 = app->rules[2];
  BOOST_TEST(r2.name == "rule-2");
  BOOST_TEST((r2.direction == Direction::kIngress && r2.protocol == Protocol::kUdp));
  BOOST_TEST((r2.ports == PortRange{1000, 1100}));
  BOOST_TEST((r2.remote.kind == Remote::Kind::kSubnet && r2.remote.name == "backend-subnet"));

  BOOST_REQUIRE_EQUAL(p.vms.size(), 1u);
  const auto& vm = p.vms[0];
  BOOST_TEST(vm.name == "app-1");
  BOOST_TEST(vm.is_local());
  BOOST_TEST(*vm.port == "vm-app1");
  BOOST_TEST(core::to_string(*vm.mac) == "02:00:00:00:01:0a");
  BOOST_REQUIRE_EQUAL(vm.ips.size(), 1u);
  BOOST_TEST(core::to_string(vm.ips[0]) == "10.0.1.10");
  std::vector<std::string> listed{"app-tier-sg", "default-allow-ssh"};
  BOOST_TEST(vm.groups == listed, boost::test_tools::per_element());
  BOOST_TEST(policy::effective_groups(vm) == listed, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(empty_file_is_an_empty_policy_with_the_three_builtins) {
  for (std::string_view text : {"", "\n", "# only a comment\n", "---\n"}) {
    auto p = load_ok(text);
    BOOST_TEST(p.subnets.empty());
    BOOST_TEST(p.vms.empty());
    std::vector<std::string> expected{"default-allow-egress", "default-allow-ssh",
                                      "default-allow-web-protocols"};
    BOOST_TEST(names_of(p.groups) == expected, boost::test_tools::per_element());
    for (const auto& g : p.groups) BOOST_TEST(g.builtin);
    // Dual stack: each IPv4 rule, then its IPv6 twin (docs/enforcement.md §2).
    auto rule_names = [](const policy::Group& g) {
      std::vector<std::string> v;
      for (const auto& r : g.rules) v.push_back(r.name + " " + core::to_string(r.remote.cidr));
      return v;
    };
    std::vector<std::string> egress{"egress-all 0.0.0.0/0", "egress-all-ipv6 ::/0"};
    std::vector<std::string> ssh{"ssh 0.0.0.0/0", "ssh-ipv6 ::/0"};
    std::vector<std::string> web{"http 0.0.0.0/0", "https 0.0.0.0/0", "http-ipv6 ::/0", "https-ipv6 ::/0"};
    BOOST_TEST(rule_names(p.groups[0]) == egress, boost::test_tools::per_element());
    BOOST_TEST(rule_names(p.groups[1]) == ssh, boost::test_tools::per_element());
    BOOST_TEST(rule_names(p.groups[2]) == web, boost::test_tools::per_element());
    BOOST_TEST((p.groups[1].rules[0].ports == PortRange{22, 22}));
    BOOST_TEST((p.groups[1].rules[1].ports == PortRange{22, 22}));
    BOOST_TEST((p.groups[2].rules[2].ports == PortRange{80, 80}));
    BOOST_TEST((p.groups[2].rules[3].ports == PortRange{443, 443}));
  }
  // Empty lists are as good as absent ones.
  auto p = load_ok("subnets: []\nsecurityGroups: []\nvms: []\n");
  BOOST_TEST(p.groups.size() == 3u);
}

BOOST_AUTO_TEST_CASE(rule_names_default_to_rule_index_counting_named_rules) {
  auto p = load_ok(group_rules({{"name: first", "direction: Ingress", "protocol: TCP", kAny},
                                {"direction: Ingress", "protocol: UDP", kAny},
                                {"direction: Egress", "protocol: ICMP",
                                 "remote: {address: {IPAddressOrCIDR: 10.1.2.3}}"}}));
  const auto* g = p.find_group("g");
  BOOST_REQUIRE(g);
  BOOST_REQUIRE_EQUAL(g->rules.size(), 3u);
  BOOST_TEST(g->rules[0].name == "first");
  BOOST_TEST(g->rules[1].name == "rule-1");
  BOOST_TEST(g->rules[2].name == "rule-2");
  // A bare address means /32.
  BOOST_TEST(core::to_string(g->rules[2].remote.cidr) == "10.1.2.3/32");
}

BOOST_AUTO_TEST_CASE(effective_groups_default_only_without_groups) {
  auto p = load_ok(yaml(R"(
securityGroups:
  - name: zeta
  - name: alpha
vms:
  - {name: none, ips: [10.0.0.1]}
  - {name: empty, ips: [10.0.0.2], securityGroups: []}
  - {name: some, ips: [10.0.0.3], securityGroups: [zeta, alpha]}
  - {name: explicit, ips: [10.0.0.4], securityGroups: [zeta, default-allow-egress]}
)"));
  std::vector<std::string> def{"default-allow-egress"};
  BOOST_TEST(policy::effective_groups(*p.find_vm("none")) == def, boost::test_tools::per_element());
  BOOST_TEST(policy::effective_groups(*p.find_vm("empty")) == def, boost::test_tools::per_element());
  std::vector<std::string> some{"alpha", "zeta"};  // sorted by name
  BOOST_TEST(policy::effective_groups(*p.find_vm("some")) == some, boost::test_tools::per_element());
  std::vector<std::string> expl{"default-allow-egress", "zeta"};
  BOOST_TEST(policy::effective_groups(*p.find_vm("explicit")) == expl,
             boost::test_tools::per_element());
  // VMs are sorted by name.
  BOOST_TEST(p.vms[0].name == "empty");
  BOOST_TEST(p.vms[3].name == "some");
}

BOOST_AUTO_TEST_CASE(hosted_elsewhere_vms_need_no_port_and_no_mac) {
  auto p = load_ok(yaml(R"(
securityGroups:
  - name: db
vms:
  - name: remote-db
    ips: [10.9.0.1, 10.9.0.2]
    securityGroups: [db]
  - name: remote-with-mac
    mac: 02:00:00:00:00:09
    ips: [10.9.0.3]
)"));
  const auto* vm = p.find_vm("remote-db");
  BOOST_REQUIRE(vm);
  BOOST_TEST(!vm->is_local());
  BOOST_TEST(!vm->mac.has_value());
  BOOST_TEST(vm->ips.size() == 2u);
  BOOST_TEST(!p.find_vm("remote-with-mac")->is_local());
}

BOOST_AUTO_TEST_CASE(keywords_are_case_insensitive) {
  auto p = load_ok(yaml(R"(
securityGroups:
  - name: g
    rules:
      - {direction: INGRESS, protocol: tcp, port: 22, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {direction: eGrEsS, protocol: aLL, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {direction: ingress, protocol: Udp, portRange: 1-65535, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {direction: Egress, protocol: icmp, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
)"));
  const auto& r = p.find_group("g")->rules;
  BOOST_REQUIRE_EQUAL(r.size(), 4u);
  BOOST_TEST((r[0].direction == Direction::kIngress && r[0].protocol == Protocol::kTcp));
  BOOST_TEST((r[1].direction == Direction::kEgress && r[1].protocol == Protocol::kAll));
  BOOST_TEST((r[2].protocol == Protocol::kUdp && r[2].ports == PortRange{1, 65535}));
  BOOST_TEST((r[3].protocol == Protocol::kIcmp));
}

BOOST_AUTO_TEST_CASE(port_bounds_and_accepted_forms) {
  auto p = load_ok(one_rule({"direction: Ingress", "protocol: TCP", "port: 65535", kAny}));
  BOOST_TEST((p.groups.back().rules[0].ports == PortRange{65535, 65535}));
  p = load_ok(one_rule({"direction: Ingress", "protocol: UDP", "port: 1", kAny}));
  BOOST_TEST((p.groups.back().rules[0].ports == PortRange{1, 1}));
  p = load_ok(one_rule({"direction: Ingress", "protocol: TCP", "portRange: 5-5", kAny}));
  BOOST_TEST((p.groups.back().rules[0].ports == PortRange{5, 5}));
  // A name of exactly 63 characters is valid.
  std::string n63 = "a" + std::string(61, '-') + "z";
  p = load_ok("securityGroups:\n  - name: " + n63 + "\n");
  BOOST_TEST(p.find_group(n63) != nullptr);
}

BOOST_AUTO_TEST_CASE(same_mac_on_different_ports_is_fine) {
  auto p = load_ok(yaml(R"(
vms:
  - {name: a, port: p1, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}
  - {name: b, port: p2, mac: 02:00:00:00:00:01, ips: [10.0.0.2]}
  - {name: c, port: p1, mac: 02:00:00:00:00:02, ips: [10.0.0.3]}
)"));
  BOOST_TEST(p.vms.size() == 3u);
}

BOOST_AUTO_TEST_CASE(check_vm_ports_against_daemon_ports) {
  auto p = load_ok(yaml(R"(
vms:
  - {name: a, port: p1, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}
  - {name: b, port: p2, mac: 02:00:00:00:00:02, ips: [10.0.0.2]}
  - {name: elsewhere, ips: [10.0.0.3]}
)"));
  p.source.clear();  // no "t.yaml:line:col: " prefix (tests/unit/test_policy_validate.cpp has it)
  BOOST_TEST(policy::check_vm_ports(p, {{"p1", "p2", "uplink"}}).has_value());
  auto bad = policy::check_vm_ports(p, {{"p1", "uplink"}});
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().message == "VM 'b': unknown port 'p2'");
  BOOST_TEST(!policy::check_vm_ports(p, {}).has_value());
  // Hosted-elsewhere VMs have no port to check.
  BOOST_TEST(policy::check_vm_ports(load_ok("vms: [{name: x, ips: [10.0.0.9]}]\n"), {}).has_value());
}

// ------------------------------------------------------------------ port rules

BOOST_AUTO_TEST_CASE(ports_only_with_tcp_and_udp) {
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: ICMP", "port: 80", kAny})) ==
             "t.yaml:6:9: 'port' is not allowed with protocol ICMP (ports are only for TCP and UDP)");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: All", "port: 80", kAny})) ==
             "t.yaml:6:9: 'port' is not allowed with protocol All (ports are only for TCP and UDP)");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: icmp", "portRange: 1-2", kAny})) ==
             "t.yaml:6:9: 'portRange' is not allowed with protocol icmp (ports are only for TCP and UDP)");
  BOOST_TEST(load_error(one_rule({"portRange: 1-2", "direction: Egress", "protocol: ALL", kAny})) ==
             "t.yaml:4:9: 'portRange' is not allowed with protocol ALL (ports are only for TCP and UDP)");
}

BOOST_AUTO_TEST_CASE(port_out_of_range_or_not_an_integer) {
  auto err = [](std::string v) {
    return load_error(one_rule({"direction: Ingress", "protocol: TCP", "port: " + v, kAny}));
  };
  BOOST_TEST(err("0") == "t.yaml:6:15: port 0 out of range 1..65535");
  BOOST_TEST(err("65536") == "t.yaml:6:15: port 65536 out of range 1..65535");
  BOOST_TEST(err("-1") == "t.yaml:6:15: port -1 out of range 1..65535");
  BOOST_TEST(err("http") == "t.yaml:6:15: port must be an integer, not 'http'");
  BOOST_TEST(err("80.5") == "t.yaml:6:15: port must be an integer, not '80.5'");
  BOOST_TEST(err("1e3") == "t.yaml:6:15: port must be an integer, not '1e3'");
  BOOST_TEST(err("[80]") == "t.yaml:6:15: port must be a scalar");
}

BOOST_AUTO_TEST_CASE(port_range_malformed_reversed_or_out_of_range) {
  auto err = [](std::string v) {
    return load_error(one_rule({"direction: Ingress", "protocol: UDP", "portRange: " + v, kAny}));
  };
  auto msg = [](std::string v) {
    return "t.yaml:6:20: invalid portRange '" + v + "': expected A-B with 1 <= A <= B <= 65535";
  };
  for (std::string v : {"1000", "1000-", "-1000", "a-b", "1-2-3", "10 - 20", "1000-1100x",
                        "1100-1000", "0-10", "0-0", "1-65536", "65536-65536", "100000-100001"})
    BOOST_TEST(err(v) == msg(v), v);
  BOOST_TEST(err("[1, 2]") == "t.yaml:6:20: portRange must be a scalar");
}

BOOST_AUTO_TEST_CASE(port_and_port_range_not_both) {
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "port: 80",
                                  "portRange: 80-81", kAny})) ==
             "t.yaml:7:9: 'port' and 'portRange' cannot both be given");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "portRange: 80-81",
                                  "port: 80", kAny})) ==
             "t.yaml:7:9: 'port' and 'portRange' cannot both be given");
}

// --------------------------------------------------------------- CIDRs and IPs

BOOST_AUTO_TEST_CASE(cidr_with_host_bits_is_an_error) {
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {address: {IPAddressOrCIDR: 10.0.0.1/24}}"})) ==
             "t.yaml:6:45: CIDR '10.0.0.1/24' has host bits set");
  BOOST_TEST(load_error("subnets:\n  - name: s\n    cidr: 10.0.1.1/24\n") ==
             "t.yaml:3:11: CIDR '10.0.1.1/24' has host bits set");
  BOOST_TEST(load_error("subnets:\n  - name: s\n    cidr: 0.0.0.1/0\n") ==
             "t.yaml:3:11: CIDR '0.0.0.1/0' has host bits set");
}

BOOST_AUTO_TEST_CASE(malformed_cidr_or_ip_is_an_error) {
  auto remote = [](std::string v) {
    return load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                "remote: {address: {IPAddressOrCIDR: " + v + "}}"}));
  };
  for (std::string v : {"10.0.0.0/33", "10.0.0/24", "10.0.0.0/", "any", "10.0.0.0/-1",
                        "256.0.0.0/8", "10.0.0.0/08"})
    BOOST_TEST(remote(v) == "t.yaml:6:45: invalid IPAddressOrCIDR '" + v + "'", v);
  BOOST_TEST(load_error("subnets:\n  - name: s\n    cidr: 10.0.1.0/240\n") ==
             "t.yaml:3:11: invalid subnet cidr '10.0.1.0/240'");
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.256]"})) ==
             "t.yaml:5:11: invalid IPv4 address '10.0.0.256'");
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.1/32]"})) ==
             "t.yaml:5:11: invalid IPv4 address '10.0.0.1/32'");
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.1, 010.0.0.2]"})) ==
             "t.yaml:5:21: invalid IPv4 address '010.0.0.2'");
}

// ------------------------------------------------------------------ references

BOOST_AUTO_TEST_CASE(dangling_references_are_errors) {
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {securityGroupRef: {name: nope}}"})) ==
             "t.yaml:6:43: unknown security group 'nope'");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {subnetRef: {name: nope}}"})) ==
             "t.yaml:6:36: unknown subnet 'nope'");
  // A group of that name exists, but no subnet: subnets and groups are apart.
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {subnetRef: {name: g}}"})) ==
             "t.yaml:6:36: unknown subnet 'g'");
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.1]", "securityGroups: [default-allow-ssh, nope]"})) ==
             "t.yaml:6:41: unknown security group 'nope'");
  // References to built-ins and to groups defined after the reference are fine.
  auto p = load_ok(one_rule({"direction: Ingress", "protocol: TCP",
                             "remote: {securityGroupRef: {name: default-allow-ssh}}"}) +
                   "  - name: later\n" +
                   "vms: [{name: v, ips: [10.0.0.1], securityGroups: [later, g]}]\n");
  BOOST_TEST(p.find_group("later") != nullptr);
}
