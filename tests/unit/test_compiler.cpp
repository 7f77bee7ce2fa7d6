// The pure policy compiler (docs/design/rule-compilation.md): rule ids in deciding
// order, classes for group references, images shared by content, and the exact
// rte_acl rule fields each kind of rule becomes.
#define BOOST_TEST_MODULE compiler
#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/compiler.hpp"
#include "config/policy_loader.hpp"
#include "test_policy.hpp"

using namespace sgfw;
using compiler::AclRuleSpec;
using compiler::CompiledPolicy;
using compiler::kNoContext;
using compiler::RuleImage;

namespace {

using testing::load;

uint32_t ip(std::string_view s) { return core::parse_ipv4(s)->value; }

uint32_t id_of(const CompiledPolicy& cp, std::string_view label) {
  for (size_t i = 0; i < cp.rules.size(); ++i)
    if (cp.rules[i].label() == label) return static_cast<uint32_t>(i);
  BOOST_FAIL("no rule " << label);
  return 0;
}

const compiler::VmEntry& vm(const CompiledPolicy& cp, std::string_view name) {
  for (const auto& v : cp.vms)
    if (v.name == name) return v;
  BOOST_FAIL("no VM " << name);
  return cp.vms.front();
}

const RuleImage& image(const CompiledPolicy& cp, uint32_t index) {
  BOOST_REQUIRE(index < cp.images.size());
  return cp.images[index];
}

// A rule spec with every field at its match-all value but the id.
AclRuleSpec any(uint32_t id) {
  AclRuleSpec s;
  s.rule_id = id;
  return s;
}

std::vector<std::string> labels(const CompiledPolicy& cp) {
  std::vector<std::string> v;
  for (const auto& r : cp.rules) v.push_back(r.label());
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(empty_policy_compiles_the_builtins_only) {
  CompiledPolicy cp = compiler::compile(load(""));
  std::vector<std::string> expected{"default-allow-egress/egress-all", "default-allow-egress/egress-all-ipv6",
                                    "default-allow-ssh/ssh", "default-allow-ssh/ssh-ipv6",
                                    "default-allow-web-protocols/http", "default-allow-web-protocols/https",
                                    "default-allow-web-protocols/http-ipv6",
                                    "default-allow-web-protocols/https-ipv6"};
  BOOST_TEST(labels(cp) == expected, boost::test_tools::per_element());
  BOOST_TEST(cp.images.empty());
  BOOST_TEST(cp.vms.empty());
  BOOST_TEST(cp.address_classes.empty());
  BOOST_REQUIRE_EQUAL(cp.class_groups.size(), 1u);
  BOOST_TEST(cp.class_groups[0].empty());
  BOOST_TEST(cp.acl_rule_count() == 0u);
}

BOOST_AUTO_TEST_CASE(rule_ids_follow_the_deciding_order) {
  auto p = load(R"(
securityGroups:
  - name: zeta
    rules:
      - {name: z0, direction: Ingress, protocol: TCP, port: 1, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: z1, direction: Egress, protocol: TCP, port: 2, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: z2, direction: Ingress, protocol: TCP, port: 3, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: alpha
    rules:
      - {name: a0, direction: Ingress, protocol: UDP, port: 4, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: g10
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [zeta, alpha]}
)");
  CompiledPolicy cp = compiler::compile(p);
  std::vector<std::string> expected{
      "alpha/a0",  "default-allow-egress/egress-all", "default-allow-egress/egress-all-ipv6",
      "default-allow-ssh/ssh", "default-allow-ssh/ssh-ipv6",
      "default-allow-web-protocols/http", "default-allow-web-protocols/https",
      "default-allow-web-protocols/http-ipv6", "default-allow-web-protocols/https-ipv6",
      "zeta/z0",   "zeta/z1", "zeta/z2"};
  BOOST_TEST(labels(cp) == expected, boost::test_tools::per_element());
  // The ingress image holds alpha/a0, zeta/z0, zeta/z2 with their global ids, in order.
  const auto& v = vm(cp, "v");
  const auto& in = image(cp, v.ingress_context).rules;
  BOOST_REQUIRE_EQUAL(in.size(), 3u);
  BOOST_TEST(in[0].rule_id == 0u);
  BOOST_TEST(in[1].rule_id == 9u);
  BOOST_TEST(in[2].rule_id == 11u);
  BOOST_TEST(in[0].port_lo == 4u);
  BOOST_TEST(in[2].port_lo == 3u);
  const auto& out = image(cp, v.egress_context).rules;
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].rule_id == 10u);
}

BOOST_AUTO_TEST_CASE(identical_group_sets_share_images) {
  auto p = load(R"(
securityGroups:
  - name: a
    rules:
      - {direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: b
    rules:
      - {direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: c
    rules:
      - {direction: Ingress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: v1, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [a, b]}
  - {name: v2, port: y, mac: 02:00:00:00:00:02, ips: [10.0.0.2], securityGroups: [b, a]}
  - {name: v3, port: x, mac: 02:00:00:00:00:03, ips: [10.0.0.3], securityGroups: [a]}
  - {name: v4, port: x, mac: 02:00:00:00:00:04, ips: [10.0.0.4], securityGroups: [c, b]}
)");
  CompiledPolicy cp = compiler::compile(p);
  const auto &v1 = vm(cp, "v1"), &v2 = vm(cp, "v2"), &v3 = vm(cp, "v3"), &v4 = vm(cp, "v4");
  BOOST_TEST(v1.ingress_context == v2.ingress_context);
  BOOST_TEST(v1.egress_context == v2.egress_context);
  // {a} and {a, b} have the same ingress rules: one image, shared by content.
  BOOST_TEST(v3.ingress_context == v1.ingress_context);
  BOOST_TEST(v3.egress_context == kNoContext);
  BOOST_TEST(v4.ingress_context != v1.ingress_context);
  BOOST_TEST(v4.egress_context == v1.egress_context);
  // Images: {a} ingress, {b} egress, {c} ingress; no duplicates.
  BOOST_TEST(cp.images.size() == 3u);
  std::set<RuleImage> distinct(cp.images.begin(), cp.images.end());
  BOOST_TEST(distinct.size() == cp.images.size());
  BOOST_TEST(cp.acl_rule_count() == 3u);
}

BOOST_AUTO_TEST_CASE(a_direction_without_rules_has_no_image) {
  auto p = load(R"(
securityGroups:
  - name: in-only
    rules:
      - {direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: nothing
vms:
  - {name: bare, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}
  - {name: ingress, port: x, mac: 02:00:00:00:00:02, ips: [10.0.0.2], securityGroups: [in-only]}
  - {name: none, port: x, mac: 02:00:00:00:00:03, ips: [10.0.0.3], securityGroups: [nothing]}
)");
  CompiledPolicy cp = compiler::compile(p);
  const auto& bare = vm(cp, "bare");
  BOOST_TEST(bare.ingress_context == kNoContext);
  BOOST_REQUIRE(bare.egress_context != kNoContext);
  const auto& eg = image(cp, bare.egress_context).rules;
  BOOST_REQUIRE_EQUAL(eg.size(), 1u);
  // default-allow-egress/egress-all: any protocol, any remote, any class, any port.
  BOOST_TEST((eg[0] == any(id_of(cp, "default-allow-egress/egress-all"))));
  BOOST_TEST(vm(cp, "ingress").egress_context == kNoContext);
  BOOST_TEST(vm(cp, "ingress").ingress_context != kNoContext);
  BOOST_TEST(vm(cp, "none").ingress_context == kNoContext);
  BOOST_TEST(vm(cp, "none").egress_context == kNoContext);
}

BOOST_AUTO_TEST_CASE(protocol_port_and_address_fields) {
  auto p = load(R"(
subnets:
  - {name: branch, cidr: 10.1.0.0/16}
securityGroups:
  - name: g
    rules:
      - {name: tcp80, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 192.168.1.0/24}}}
      - {name: udp-range, direction: Ingress, protocol: udp, portRange: 1000-1100, remote: {address: {IPAddressOrCIDR: 172.16.0.5}}}
      - {name: icmp, direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: all, direction: Ingress, protocol: All, remote: {subnetRef: {name: branch}}}
      - {name: tcp-any, direction: Ingress, protocol: TCP, remote: {subnetRef: {name: branch}}}
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [g]}
)");
  CompiledPolicy cp = compiler::compile(p);
  const auto& in = image(cp, vm(cp, "v").ingress_context).rules;
  BOOST_REQUIRE_EQUAL(in.size(), 5u);

  AclRuleSpec tcp80 = any(id_of(cp, "g/tcp80"));
  tcp80.proto = 6, tcp80.proto_mask = 0xff, tcp80.port_lo = 80, tcp80.port_hi = 80;
  tcp80.remote_addr = ip("192.168.1.0"), tcp80.remote_prefix = 24;
  BOOST_TEST((in[0] == tcp80));

  AclRuleSpec udp = any(id_of(cp, "g/udp-range"));
  udp.proto = 17, udp.proto_mask = 0xff, udp.port_lo = 1000, udp.port_hi = 1100;
  udp.remote_addr = ip("172.16.0.5"), udp.remote_prefix = 32;
  BOOST_TEST((in[1] == udp));

  AclRuleSpec icmp = any(id_of(cp, "g/icmp"));
  icmp.proto = 1, icmp.proto_mask = 0xff;
  BOOST_TEST((in[2] == icmp));
  BOOST_TEST(in[2].port_lo == 0u);
  BOOST_TEST(in[2].port_hi == 0xffffu);

  // subnetRef becomes the subnet's CIDR; All is protocol 0 with mask 0.
  AclRuleSpec all = any(id_of(cp, "g/all"));
  all.remote_addr = ip("10.1.0.0"), all.remote_prefix = 16;
  BOOST_TEST((in[3] == all));
  BOOST_TEST(in[3].proto_mask == 0u);
  BOOST_TEST(in[3].class_lo == 0u);
  BOOST_TEST(in[3].class_hi == 0xffffffffu);

  AclRuleSpec tcp_any = any(id_of(cp, "g/tcp-any"));
  tcp_any.proto = 6, tcp_any.proto_mask = 0xff;
  tcp_any.remote_addr = ip("10.1.0.0"), tcp_any.remote_prefix = 16;
  BOOST_TEST((in[4] == tcp_any));
}

BOOST_AUTO_TEST_CASE(group_references_become_class_ranges) {
  // Effective sets, in std::map order: {a} {a,b} {a,c} {b} {default-allow-egress}.
  auto p = load(R"(
securityGroups:
  - name: a
  - name: b
  - name: c
  - name: lonely
  - name: r
    rules:
      - {name: from-a, direction: Ingress, protocol: TCP, port: 1, remote: {securityGroupRef: {name: a}}}
      - {name: from-b, direction: Ingress, protocol: TCP, port: 2, remote: {securityGroupRef: {name: b}}}
      - {name: to-c, direction: Egress, protocol: All, remote: {securityGroupRef: {name: c}}}
      - {name: to-lonely, direction: Egress, protocol: All, remote: {securityGroupRef: {name: lonely}}}
      - {name: from-plain, direction: Ingress, protocol: UDP, remote: {securityGroupRef: {name: default-allow-egress}}}
vms:
  - {name: va, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.9], securityGroups: [a]}
  - {name: vab, port: x, mac: 02:00:00:00:00:02, ips: [10.0.0.8, 10.0.0.20], securityGroups: [b, a]}
  - {name: vac, ips: [10.0.0.7], securityGroups: [c, a]}
  - {name: vb, ips: [10.0.0.6], securityGroups: [b]}
  - {name: plain, ips: [10.0.0.5]}
  - {name: vr, port: x, mac: 02:00:00:00:00:03, ips: [10.0.0.1], securityGroups: [r]}
)");
  CompiledPolicy cp = compiler::compile(p);
  using Set = std::vector<std::string>;
  std::vector<Set> expected{{}, {"a"}, {"a", "b"}, {"a", "c"}, {"b"}, {"default-allow-egress"}, {"r"}};
  BOOST_REQUIRE_EQUAL(cp.class_groups.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    BOOST_TEST(cp.class_groups[i] == expected[i], boost::test_tools::per_element());

  // Every VM address, local or hosted elsewhere, sorted by address, with its class.
  std::vector<compiler::AddressClass> classes{
      {core::Ipv4{ip("10.0.0.1")}, 6}, {core::Ipv4{ip("10.0.0.5")}, 5},
      {core::Ipv4{ip("10.0.0.6")}, 4}, {core::Ipv4{ip("10.0.0.7")}, 3},
      {core::Ipv4{ip("10.0.0.8")}, 2}, {core::Ipv4{ip("10.0.0.9")}, 1},
      {core::Ipv4{ip("10.0.0.20")}, 2}};
  BOOST_TEST((cp.address_classes == classes));

  const auto& r = vm(cp, "vr");
  const auto& in = image(cp, r.ingress_context).rules;
  // from-a: classes 1..3 in one range; from-b: classes 2 and 4, two ranges, one id;
  // from-plain: class 5. Remote address fields stay match-all.
  BOOST_REQUIRE_EQUAL(in.size(), 4u);
  auto ref = [&](std::string_view label, uint8_t proto, uint16_t port, uint32_t lo, uint32_t hi) {
    AclRuleSpec s = any(id_of(cp, label));
    if (proto) s.proto = proto, s.proto_mask = 0xff;
    if (port) s.port_lo = s.port_hi = port;
    s.class_lo = lo, s.class_hi = hi;
    return s;
  };
  BOOST_TEST((in[0] == ref("r/from-a", 6, 1, 1, 3)));
  BOOST_TEST((in[1] == ref("r/from-b", 6, 2, 2, 2)));
  BOOST_TEST((in[2] == ref("r/from-b", 6, 2, 4, 4)));
  BOOST_TEST((in[3] == ref("r/from-plain", 17, 0, 5, 5)));
  // to-lonely references a group without members: no ACL rule, but the id exists.
  const auto& out = image(cp, r.egress_context).rules;
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST((out[0] == ref("r/to-c", 0, 0, 3, 3)));
  BOOST_TEST(id_of(cp, "r/to-lonely") == id_of(cp, "r/to-c") + 1);
}

BOOST_AUTO_TEST_CASE(a_reference_to_a_memberless_group_alone_gives_no_image) {
  auto p = load(R"(
securityGroups:
  - name: ghost
  - name: g
    rules:
      - {direction: Ingress, protocol: TCP, remote: {securityGroupRef: {name: ghost}}}
      - {direction: Egress, protocol: TCP, remote: {securityGroupRef: {name: g}}}
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [g]}
)");
  CompiledPolicy cp = compiler::compile(p);
  const auto& v = vm(cp, "v");
  BOOST_TEST(v.ingress_context == kNoContext);
  // A self-reference matches the VM's own class.
  BOOST_REQUIRE(v.egress_context != kNoContext);
  const auto& out = image(cp, v.egress_context).rules;
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].class_lo == 1u);
  BOOST_TEST(out[0].class_hi == 1u);
  BOOST_TEST(cp.class_groups[1] == std::vector<std::string>{"g"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(local_vms_only_in_vms_with_their_fields) {
  auto p = load(R"(
securityGroups:
  - name: g
vms:
  - {name: zz, port: p2, mac: 02:00:00:00:00:0B, ips: [10.0.0.3, 10.0.0.2], securityGroups: [g]}
  - {name: far, ips: [10.9.0.1], securityGroups: [g]}
  - {name: aa, port: p1, mac: 02:00:00:00:00:0a, ips: [10.0.0.1]}
)");
  CompiledPolicy cp = compiler::compile(p);
  BOOST_REQUIRE_EQUAL(cp.vms.size(), 2u);
  BOOST_TEST(cp.vms[0].name == "aa");
  BOOST_TEST(cp.vms[0].port == "p1");
  BOOST_TEST(core::to_string(cp.vms[0].mac) == "02:00:00:00:00:0a");
  BOOST_TEST(cp.vms[1].name == "zz");
  BOOST_TEST(cp.vms[1].port == "p2");
  BOOST_TEST(core::to_string(cp.vms[1].mac) == "02:00:00:00:00:0b");
  std::vector<core::Ipv4> zz_ips{core::Ipv4{ip("10.0.0.3")}, core::Ipv4{ip("10.0.0.2")}};
  BOOST_TEST((cp.vms[1].ips == zz_ips));
  // A group with no rules gives no image.
  BOOST_TEST(cp.vms[1].ingress_context == kNoContext);
  BOOST_TEST(cp.vms[1].egress_context == kNoContext);
  // The hosted-elsewhere VM is classed like its local group mate.
  BOOST_REQUIRE_EQUAL(cp.address_classes.size(), 4u);
  BOOST_TEST(cp.address_classes.back().addr.value == ip("10.9.0.1"));
  BOOST_TEST(cp.address_classes.back().klass == cp.address_classes[1].klass);  // 10.0.0.2, zz
  BOOST_TEST(cp.address_classes[0].klass != cp.address_classes[1].klass);      // aa: other set
}

// Addresses of both families and allowed address pairs (docs/design/rule-compilation.md,
// "Addresses the data plane leaves out"): the IPv4 images and address table are what
// they were, IPv6 contributes nothing, unshared IPv4 /32 pairs join their VM's class.
BOOST_AUTO_TEST_CASE(ipv4_images_ignore_ipv6_remotes_and_match_shared_or_block_pairs_by_address) {
  auto p = load(R"(
subnets:
  - {name: s6, cidr: "2001:db8:1::/64"}
  - {name: s4, cidr: 10.1.0.0/16}
securityGroups:
  - name: g
    rules:
      - {name: v6-addr, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: "::/0"}}}
      - {name: v6-subnet, direction: Ingress, protocol: All, remote: {subnetRef: {name: s6}}}
      - {name: v4-subnet, direction: Ingress, protocol: UDP, port: 53, remote: {subnetRef: {name: s4}}}
      - {name: peers, direction: Ingress, protocol: ICMP, remote: {securityGroupRef: {name: g}}}
      - {name: v6-out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: "2001:db8::/32"}}}
vms:
  - name: a
    port: p1
    mac: 02:00:00:00:00:01
    ips: ["2001:db8::1", 10.0.0.1]
    allowedAddressPairs: [{ip: 10.0.0.100}, {ip: 10.0.0.200}, {ip: 10.0.7.0/24}, {ip: "2001:db8::100"}]
    securityGroups: [g]
  - {name: b, port: p1, mac: 02:00:00:00:00:02, ips: [10.0.0.2], allowedAddressPairs: [{ip: 10.0.0.200}]}
  - {name: c, ips: ["2001:db8::3"], allowedAddressPairs: [{ip: 10.0.0.50}, {ip: 10.0.8.7}], securityGroups: [g]}
  - {name: d, ips: [10.0.0.4], allowedAddressPairs: [{ip: 10.0.8.0/24}]}
)");
  CompiledPolicy cp = compiler::compile(p);
  const auto& a = vm(cp, "a");
  BOOST_TEST(a.ips.size() == 1u);
  BOOST_TEST(a.ips[0].value == ip("10.0.0.1"));
  // Ingress: only the IPv4 subnet rule and the group reference; no egress rule at all.
  // The reference matches g's members' pairs that have no class (shared: 10.0.0.200 of
  // a and b, 10.0.8.7 of c inside d's block; a block: 10.0.7.0/24) as address rules,
  // then the members' classes. Not d's block (d is not in g).
  const auto& in = image(cp, a.ingress_context).rules;
  BOOST_REQUIRE_EQUAL(in.size(), 5u);
  BOOST_TEST(in[0].rule_id == id_of(cp, "g/v4-subnet"));
  BOOST_TEST(in[0].remote_addr == ip("10.1.0.0"));
  const std::pair<const char*, uint8_t> blocks[] = {{"10.0.0.200", 32}, {"10.0.7.0", 24}, {"10.0.8.7", 32}};
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST(in[1 + i].rule_id == id_of(cp, "g/peers"));
    BOOST_TEST(in[1 + i].proto == 1u);
    BOOST_TEST(in[1 + i].remote_addr == ip(blocks[i].first));
    BOOST_TEST(in[1 + i].remote_prefix == blocks[i].second);
    BOOST_TEST(in[1 + i].class_lo == 0u);
    BOOST_TEST(in[1 + i].class_hi == 0xffffffffu);
  }
  BOOST_TEST(in[4].rule_id == id_of(cp, "g/peers"));
  BOOST_TEST(in[4].proto == 1u);
  BOOST_TEST(in[4].remote_prefix == 0u);
  BOOST_TEST(in[4].class_lo == in[4].class_hi);
  BOOST_TEST(a.egress_context == kNoContext);
  // The address table: own IPv4 addresses, and the IPv4 /32 pairs no other VM holds
  // (10.0.0.100 of a, 10.0.0.50 of c); not 10.0.0.200 (a and b), not 10.0.8.7 (inside
  // d's block), not blocks, nothing IPv6.
  std::vector<std::string> table;
  for (const auto& ac : cp.address_classes) table.push_back(core::to_string(ac.addr));
  std::vector<std::string> expected{"10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.50", "10.0.0.100"};
  BOOST_TEST(table == expected, boost::test_tools::per_element());
  auto class_of = [&](const char* addr) {
    for (const auto& ac : cp.address_classes)
      if (ac.addr.value == ip(addr)) return ac.klass;
    return compiler::kNoClass;
  };
  BOOST_TEST(class_of("10.0.0.100") == class_of("10.0.0.1"));  // a's class
  BOOST_TEST(class_of("10.0.0.50") == class_of("10.0.0.1"));   // c is in g too: same set
  BOOST_TEST(class_of("10.0.0.4") != class_of("10.0.0.1"));    // d: default-allow-egress
}

BOOST_AUTO_TEST_CASE(ipv6_only_policy_compiles_to_the_ipv4_images_of_its_ipv4_parts) {
  auto p = load(R"(
vms:
  - {name: a, port: p1, mac: 02:00:00:00:00:01, ips: ["2001:db8::1"], securityGroups: [default-allow-ssh, default-allow-egress]}
)");
  CompiledPolicy cp = compiler::compile(p);
  const auto& a = vm(cp, "a");
  BOOST_TEST(a.ips.empty());
  BOOST_TEST(cp.address_classes.empty());
  // The built-ins' IPv4 rules stay (0.0.0.0/0); their IPv6 twins add nothing.
  const auto& in = image(cp, a.ingress_context).rules;
  BOOST_REQUIRE_EQUAL(in.size(), 1u);
  BOOST_TEST(in[0].rule_id == id_of(cp, "default-allow-ssh/ssh"));
  const auto& out = image(cp, a.egress_context).rules;
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_TEST(out[0].rule_id == id_of(cp, "default-allow-egress/egress-all"));
}

BOOST_AUTO_TEST_CASE(ipv6_images_mirror_the_ipv4_ones_with_ipv6_remotes) {
  auto p = load(R"(
securityGroups:
  - name: g
    rules:
      - {name: v4, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: 10.0.0.0/8}}}
      - {name: v6, direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: "2001:db8:ff00::/40"}}}
      - {name: peers, direction: Ingress, protocol: UDP, port: 53, remote: {securityGroupRef: {name: g}}}
vms:
  - {name: a, port: p1, mac: 02:00:00:00:00:01, ips: [10.0.0.1, "2001:db8::1"], allowedAddressPairs: [{ip: "2001:db8::100"}, {ip: "2001:db8:1::/64"}], securityGroups: [g]}
  - {name: b, ips: ["2001:db8::2"], securityGroups: [g]}
)");
  CompiledPolicy cp = compiler::compile(p);
  const auto& a = vm(cp, "a");
  BOOST_REQUIRE_EQUAL(a.ips6.size(), 1u);
  BOOST_TEST(core::to_string(a.ips6[0]) == "2001:db8::1");
  BOOST_REQUIRE(a.ingress6_context < cp.images6.size());
  BOOST_TEST(a.egress6_context == kNoContext);
  const auto& in6 = cp.images6[a.ingress6_context].rules;
  BOOST_REQUIRE_EQUAL(in6.size(), 3u);
  BOOST_TEST(in6[0].rule_id == id_of(cp, "g/v6"));
  BOOST_TEST(in6[0].proto == 58u);
  BOOST_TEST(in6[0].remote_prefix == 40u);
  BOOST_TEST(core::to_string(in6[0].remote_addr) == "2001:db8:ff00::");
  // a's pair block: an address rule of the group reference; its /128 pair: a's class.
  BOOST_TEST(in6[1].rule_id == id_of(cp, "g/peers"));
  BOOST_TEST(core::to_string(in6[1].remote_addr) == "2001:db8:1::");
  BOOST_TEST(in6[1].remote_prefix == 64u);
  BOOST_TEST(in6[2].rule_id == id_of(cp, "g/peers"));
  BOOST_TEST(in6[2].class_lo == in6[2].class_hi);
  // The IPv4 image is unchanged by the IPv6 rule.
  const auto& in4 = image(cp, a.ingress_context).rules;
  BOOST_REQUIRE_EQUAL(in4.size(), 2u);
  BOOST_TEST(in4[0].rule_id == id_of(cp, "g/v4"));
  // IPv6 address classes: own addresses of every VM and the unshared /128 pair.
  std::vector<std::string> table;
  for (const auto& ac : cp.address_classes6) table.push_back(core::to_string(ac.addr));
  std::vector<std::string> expected{"2001:db8::1", "2001:db8::2", "2001:db8::100"};
  BOOST_TEST(table == expected, boost::test_tools::per_element());
}
