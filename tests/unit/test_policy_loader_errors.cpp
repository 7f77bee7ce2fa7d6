// The policy loader's refusals (docs/enforcement.md §1-2), each with its full
// "file:line:col: message": duplicates, names, the file's structure, YAML syntax, and
// the bounds on nesting and counts. Part of the policy_loader test module.
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

// ------------------------------------------------------------------ duplicates

BOOST_AUTO_TEST_CASE(duplicate_group_subnet_and_vm_names) {
  BOOST_TEST(load_error("securityGroups:\n  - name: g\n  - name: h\n  - name: g\n") ==
             "t.yaml:4:11: duplicate security group name 'g'");
  BOOST_TEST(load_error("subnets:\n  - {name: s, cidr: 10.0.0.0/8}\n  - {name: s, cidr: 11.0.0.0/8}\n") ==
             "t.yaml:3:12: duplicate subnet name 's'");
  BOOST_TEST(load_error("vms:\n  - {name: v, ips: [10.0.0.1]}\n  - {name: v, ips: [10.0.0.2]}\n") ==
             "t.yaml:3:12: duplicate VM name 'v'");
  // A subnet and a group may share a name.
  BOOST_TEST(load_error("subnets: [{name: x, cidr: 10.0.0.0/8}]\nsecurityGroups: [{name: x}]\n") ==
             "<loaded>");
}

BOOST_AUTO_TEST_CASE(duplicate_rule_names_after_defaulting) {
  // A rule named rule-1, then an unnamed second rule (index 1 -> "rule-1"): the error
  // points at the unnamed rule.
  BOOST_TEST(load_error(group_rules({{"name: rule-1", "direction: Ingress", "protocol: TCP", kAny},
                                     {"direction: Egress", "protocol: TCP", kAny}})) ==
             "t.yaml:8:9: duplicate rule name 'rule-1' in security group 'g'");
  // An unnamed first rule ("rule-0"), then a rule named rule-0.
  BOOST_TEST(load_error(group_rules({{"direction: Ingress", "protocol: TCP", kAny},
                                     {"name: rule-0", "direction: Egress", "protocol: TCP", kAny}})) ==
             "t.yaml:7:15: duplicate rule name 'rule-0' in security group 'g'");
  // Two explicit names.
  BOOST_TEST(load_error(group_rules({{"name: x", "direction: Ingress", "protocol: TCP", kAny},
                                     {"name: x", "direction: Egress", "protocol: UDP", kAny}})) ==
             "t.yaml:8:15: duplicate rule name 'x' in security group 'g'");
  // The same rule name in two groups is fine.
  BOOST_TEST(load_error(yaml(R"(
securityGroups:
  - {name: g, rules: [{name: x, direction: Ingress, protocol: TCP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}]}
  - {name: h, rules: [{name: x, direction: Ingress, protocol: TCP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}]}
)")) == "<loaded>");
}

BOOST_AUTO_TEST_CASE(duplicate_vm_addresses) {
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.1, 10.0.0.2, 10.0.0.1]"})) ==
             "t.yaml:5:31: duplicate VM address 10.0.0.1 (listed twice)");
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: a, port: p1, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}
  - {name: b, ips: [10.0.0.2, 10.0.0.1]}
)")) == "t.yaml:3:31: duplicate VM address 10.0.0.1 (also VM 'a')");
}

BOOST_AUTO_TEST_CASE(duplicate_mac_on_one_port) {
  BOOST_TEST(load_error(yaml(R"(
vms:
  - {name: a, port: p1, mac: 02:00:00:00:00:0a, ips: [10.0.0.1]}
  - {name: b, port: p2, mac: 02:00:00:00:00:0a, ips: [10.0.0.2]}
  - {name: c, port: p1, mac: 02:00:00:00:00:0A, ips: [10.0.0.3]}
)")) == "t.yaml:4:30: duplicate MAC '02:00:00:00:00:0A' on port 'p1' (also VM 'a')");
}

BOOST_AUTO_TEST_CASE(local_vm_needs_a_mac_and_macs_must_be_unicast) {
  BOOST_TEST(load_error("vms:\n  - name: a\n    port: p1\n    ips: [10.0.0.1]\n") ==
             "t.yaml:3:5: local VM 'a' has no 'mac'");
  BOOST_TEST(load_error("vms:\n  - {name: a, port: p1, mac: 02:00:00:00:01, ips: [10.0.0.1]}\n") ==
             "t.yaml:2:30: invalid MAC '02:00:00:00:01': expected xx:xx:xx:xx:xx:xx");
  BOOST_TEST(load_error("vms:\n  - {name: a, port: p1, mac: 01:00:5e:00:00:01, ips: [10.0.0.1]}\n") ==
             "t.yaml:2:30: MAC '01:00:5e:00:00:01' is not a unicast address");
  BOOST_TEST(load_error("vms:\n  - {name: a, port: p1, mac: 00:00:00:00:00:00, ips: [10.0.0.1]}\n") ==
             "t.yaml:2:30: MAC '00:00:00:00:00:00' is not a unicast address");
}

BOOST_AUTO_TEST_CASE(vm_structure_errors) {
  BOOST_TEST(load_error("vms:\n  - {name: a}\n") == "t.yaml:2:5: vm has no 'ips'");
  BOOST_TEST(load_error("vms:\n  - {name: a, ips: []}\n") ==
             "t.yaml:2:20: VM 'a' needs at least one address in 'ips'");
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.1]", "securityGroups: [default-allow-ssh, default-allow-ssh]"})) ==
             "t.yaml:6:41: security group 'default-allow-ssh' listed twice");
  BOOST_TEST(load_error(one_vm({"ips: 10.0.0.1"})) == "t.yaml:5:10: ips must be a list");
}

// ----------------------------------------------------------------------- names

BOOST_AUTO_TEST_CASE(builtin_group_names_are_reserved) {
  for (std::string n : {"default-allow-egress", "default-allow-web-protocols", "default-allow-ssh"})
    BOOST_TEST(load_error("securityGroups:\n  - name: " + n + "\n") ==
               "t.yaml:2:11: '" + n + "' is a built-in security group and cannot be defined", n);
}

BOOST_AUTO_TEST_CASE(invalid_names) {
  const std::string rules =
      ": names are 1-63 of [a-z0-9-], starting and ending with a letter or digit";
  std::string n64 = std::string(64, 'a');
  for (std::string n : std::vector<std::string>{"Web", "-a", "a-", "a_b", "a.b", "\"\"", "\"a b\"", n64}) {
    std::string shown = n.front() == '"' ? n.substr(1, n.size() - 2) : n;
    BOOST_TEST(load_error("securityGroups:\n  - name: " + n + "\n") ==
                   "t.yaml:2:11: invalid security group name '" + shown + "'" + rules, n);
  }
  BOOST_TEST(load_error("subnets:\n  - {name: Sub, cidr: 10.0.0.0/8}\n") ==
             "t.yaml:2:12: invalid subnet name 'Sub'" + rules);
  BOOST_TEST(load_error("vms:\n  - {name: vm_1, ips: [10.0.0.1]}\n") ==
             "t.yaml:2:12: invalid VM name 'vm_1'" + rules);
  BOOST_TEST(load_error("vms:\n  - {name: a, port: Eth0, ips: [10.0.0.1]}\n") ==
             "t.yaml:2:21: invalid port name 'Eth0'" + rules);
  BOOST_TEST(load_error(one_rule({"name: Http", "direction: Ingress", "protocol: TCP", kAny})) ==
             "t.yaml:4:15: invalid rule name 'Http'" + rules);
  BOOST_TEST(load_error("securityGroups:\n  - name: [a]\n") ==
             "t.yaml:2:11: security group name must be a scalar");
}

BOOST_AUTO_TEST_CASE(empty_values_are_reported_at_their_key) {
  // yaml-cpp places an empty value at the next token (here the next line): the loader
  // must point at the key instead.
  BOOST_TEST(load_error("securityGroups:\n  - name:\n    description: x\n") ==
             "t.yaml:2:5: 'name' has no value");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "remote:"})) ==
             "t.yaml:6:9: 'remote' has no value");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "port:", kAny})) ==
             "t.yaml:6:9: 'port' has no value");
  BOOST_TEST(load_error(one_rule({"name: ~", "direction: Ingress", "protocol: TCP", kAny})) ==
             "t.yaml:4:9: 'name' has no value");
  BOOST_TEST(load_error("vms:\n  - name: a\n    port: p1\n    mac:\n    ips: [10.0.0.1]\n") ==
             "t.yaml:4:5: 'mac' has no value");
  BOOST_TEST(load_error(one_rule({"direction:", "protocol: TCP", kAny})) ==
             "t.yaml:4:9: 'direction' has no value");
}

// ------------------------------------------------------------------ structure

BOOST_AUTO_TEST_CASE(unknown_keys_at_every_level) {
  BOOST_TEST(load_error("subnets: []\nsecurity_groups: []\n") ==
             "t.yaml:2:1: unknown key 'security_groups' in policy");
  BOOST_TEST(load_error("subnets:\n  - {name: s, cidr: 10.0.0.0/8, gateway: 10.0.0.1}\n") ==
             "t.yaml:2:33: unknown key 'gateway' in subnet");
  BOOST_TEST(load_error("securityGroups:\n  - name: g\n    rule: []\n") ==
             "t.yaml:3:5: unknown key 'rule' in security group");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "ports: 80", kAny})) ==
             "t.yaml:6:9: unknown key 'ports' in rule");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}, cidr: x}"})) ==
             "t.yaml:6:57: unknown key 'cidr' in remote");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {address: {IPAddressOrCidr: 0.0.0.0/0}}"})) ==
             "t.yaml:6:28: unknown key 'IPAddressOrCidr' in address");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {securityGroupRef: {name: g, id: 1}}"})) ==
             "t.yaml:6:46: unknown key 'id' in securityGroupRef");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {subnetRef: {nam: s}}"})) ==
             "t.yaml:6:30: unknown key 'nam' in subnetRef");
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.1]", "groups: []"})) ==
             "t.yaml:6:5: unknown key 'groups' in vm");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_at_every_level) {
  BOOST_TEST(load_error("vms: []\nsubnets: []\nvms: []\n") == "t.yaml:3:1: duplicate key 'vms'");
  BOOST_TEST(load_error("subnets:\n  - {name: s, cidr: 10.0.0.0/8, cidr: 11.0.0.0/8}\n") ==
             "t.yaml:2:33: duplicate key 'cidr'");
  BOOST_TEST(load_error("securityGroups:\n  - name: g\n    description: a\n    description: b\n") ==
             "t.yaml:4:5: duplicate key 'description'");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "direction: Egress", kAny})) ==
             "t.yaml:6:9: duplicate key 'direction'");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}, address: "
                                  "{IPAddressOrCIDR: 10.0.0.0/8}}"})) ==
             "t.yaml:6:57: duplicate key 'address'");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {address: {IPAddressOrCIDR: 0.0.0.0/0, IPAddressOrCIDR: "
                                  "10.0.0.0/8}}"})) ==
             "t.yaml:6:56: duplicate key 'IPAddressOrCIDR'");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {securityGroupRef: {name: g, name: g}}"})) ==
             "t.yaml:6:46: duplicate key 'name'");
  BOOST_TEST(load_error("subnets: [{name: s, cidr: 10.0.0.0/8}]\n" +
                        one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {subnetRef: {name: s, \"name\": s}}"})) ==
             "t.yaml:7:39: duplicate key 'name'");
  BOOST_TEST(load_error(one_vm({"ips: [10.0.0.1]", "mac: 02:00:00:00:00:02"})) ==
             "t.yaml:6:5: duplicate key 'mac'");
}

BOOST_AUTO_TEST_CASE(remote_needs_exactly_one_form) {
  const std::string msg =
      "remote must have exactly one of 'address', 'securityGroupRef', 'subnetRef'";
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "remote: {}"})) ==
             "t.yaml:6:17: " + msg);
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP",
                                  "remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}, "
                                  "securityGroupRef: {name: g}}"})) ==
             "t.yaml:6:17: " + msg);
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP", "remote: [a]"})) ==
             "t.yaml:6:17: remote must be a mapping");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: TCP"})) ==
             "t.yaml:4:9: rule has no 'remote'");
}

BOOST_AUTO_TEST_CASE(bad_direction_and_protocol_keywords) {
  BOOST_TEST(load_error(one_rule({"direction: In", "protocol: TCP", kAny})) ==
             "t.yaml:4:20: invalid direction 'In': expected Ingress or Egress");
  BOOST_TEST(load_error(one_rule({"direction: Inbound", "protocol: TCP", kAny})) ==
             "t.yaml:4:20: invalid direction 'Inbound': expected Ingress or Egress");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: SCTP", kAny})) ==
             "t.yaml:5:19: invalid protocol 'SCTP': expected TCP, UDP, ICMP or All");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: 6", kAny})) ==
             "t.yaml:5:19: invalid protocol '6': expected TCP, UDP, ICMP or All");
  BOOST_TEST(load_error(one_rule({"direction: Ingress", "protocol: Any", kAny})) ==
             "t.yaml:5:19: invalid protocol 'Any': expected TCP, UDP, ICMP or All");
  BOOST_TEST(load_error(one_rule({"protocol: TCP", kAny})) == "t.yaml:4:9: rule has no 'direction'");
  BOOST_TEST(load_error(one_rule({"direction: Egress", kAny})) == "t.yaml:4:9: rule has no 'protocol'");
}

BOOST_AUTO_TEST_CASE(wrong_shapes) {
  BOOST_TEST(load_error("hello\n") == "t.yaml:1:1: policy must be a mapping");
  BOOST_TEST(load_error("- a\n- b\n") == "t.yaml:1:1: policy must be a mapping");
  BOOST_TEST(load_error("subnets: 5\n") == "t.yaml:1:10: subnets must be a list");
  BOOST_TEST(load_error("securityGroups: {name: g}\n") == "t.yaml:1:17: securityGroups must be a list");
  BOOST_TEST(load_error("securityGroups:\n  - g\n") == "t.yaml:2:5: security group must be a mapping");
  BOOST_TEST(load_error("securityGroups:\n  - name: g\n    rules: {}\n") ==
             "t.yaml:3:12: rules must be a list");
  BOOST_TEST(load_error("securityGroups:\n  - {}\n") == "t.yaml:2:5: security group has no 'name'");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_have_a_location) {
  BOOST_TEST(load_error("subnets: [a, b\n") == "t.yaml:2:1: end of sequence flow not found");
  BOOST_TEST(load_error("vms:\n  - name: a: b\n") == "t.yaml:2:12: illegal map value");
}

BOOST_AUTO_TEST_CASE(a_second_yaml_document_is_an_error) {
  // yaml-cpp's Load reads the first document only: a second one must not be ignored.
  BOOST_TEST(load_error("securityGroups: [{name: g}]\n---\nvms: [{name: v, ips: [10.0.0.1]}]\n") ==
             "t.yaml:3:1: a policy file holds one YAML document");
  BOOST_TEST(load_error("securityGroups: []\n---\nvms: [1\n") ==
             "t.yaml:4:1: end of sequence flow not found");
}

BOOST_AUTO_TEST_CASE(one_document_is_enforced_while_parsing) {
  // The one-byte policy "," made yaml-cpp's LoadAll produce empty documents until
  // memory ran out (3.8 GB): the rule must stop the parser, not count its output.
  std::clock_t c0 = std::clock();  // CPU time: the suite may share a loaded machine
  BOOST_TEST(load_error(",") == "t.yaml:1:1: a policy file holds one YAML document");
  BOOST_TEST(load_error("---\n---\n---\n") == "t.yaml:3:1: a policy file holds one YAML document");
  BOOST_TEST(load_error(std::string(100000, ',')) == "t.yaml:1:1: a policy file holds one YAML document");
  BOOST_TEST((std::clock() - c0) < 2 * CLOCKS_PER_SEC);
  // One explicit document is fine; so is an empty file.
  BOOST_TEST(load_error("---\nvms: []\n...\n") == "<loaded>");
  BOOST_TEST(load_error("") == "<loaded>");
}

BOOST_AUTO_TEST_CASE(aliases_and_anchors_are_refused_with_their_location) {
  // An alias lets a small file expand without bound (a 133 KB policy once became
  // 1,000,004 rules).
  BOOST_TEST(load_error(yaml(R"(
securityGroups:
  - name: g
    rules:
      - &r {direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - *r
)")) == "t.yaml:4:9: anchors (&name) are not allowed");
  BOOST_TEST(load_error("vms: *x\n").rfind("t.yaml:1:6: ", 0) == 0);
}

BOOST_AUTO_TEST_CASE(nesting_is_bounded_while_parsing) {
  std::string deep = "subnets: " + std::string(65, '[') + std::string(65, ']') + "\n";
  BOOST_TEST(load_error(deep) == "t.yaml:1:73: nested deeper than 64 levels");
}

namespace {
std::string group_with_rules(size_t n) {
  std::string s = "securityGroups:\n  - name: g\n    rules:\n";
  for (size_t i = 0; i < n; ++i) s += "      - {direction: Egress, protocol: All, " + kAny + "}\n";
  return s;
}
}  // namespace

BOOST_AUTO_TEST_CASE(counts_are_bounded) {
  BOOST_TEST(load_error(group_with_rules(4096)) == "<loaded>");
  BOOST_TEST(load_error(group_with_rules(4097)) == "t.yaml:4100:9: security group 'g' has more than 4096 rules");
  // (The ceiling on all rules, 262,144, needs a 24 MB policy to reach: too slow for
  // this suite; it is the same counter one line below the per-group one.)
  std::string ips = "vms:\n  - name: a\n    ips: [";
  for (int i = 0; i < 257; ++i) ips += (i ? ", 10.1." : "10.1.") + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
  BOOST_TEST(load_error(ips + "]\n") == "t.yaml:3:10: VM 'a' has more than 256 addresses");
}

BOOST_AUTO_TEST_CASE(a_vms_group_list_is_checked_in_linear_time) {
  // 100,000 listed groups (the duplicate check used std::find: 549 KB took 14.9 s).
  std::string s = "vms:\n  - name: a\n    ips: [10.0.0.1]\n    securityGroups: [";
  for (int i = 0; i < 100000; ++i) s += (i ? ", g" : "g") + std::to_string(i);
  s += "]\n";
  std::clock_t c0 = std::clock();  // CPU time: the suite may share a loaded machine
  BOOST_TEST(load_error(s) == "t.yaml:4:21: VM 'a' lists more than 256 security groups");
  BOOST_TEST((std::clock() - c0) < 2 * CLOCKS_PER_SEC);
  std::string dup = "securityGroups: [";
  for (int i = 0; i < 200; ++i) dup += (i ? ", {name: g" : "{name: g") + std::to_string(i) + "}";
  dup += "]\nvms:\n  - name: a\n    ips: [10.0.0.1]\n    securityGroups: [";
  for (int i = 0; i < 200; ++i) dup += (i ? ", g" : "g") + std::to_string(i);
  BOOST_TEST(load_error(dup + ", g7]\n") == "t.yaml:5:1112: security group 'g7' listed twice");
  BOOST_TEST(load_error(dup + "]\n") == "<loaded>");
}

BOOST_AUTO_TEST_CASE(messages_escape_control_characters_and_bound_tokens) {
  BOOST_TEST(load_error("vms:\n  - name: \"a\\nsgfwd: x\\e[2J\"\n    ips: [10.0.0.1]\n") ==
             "t.yaml:2:11: invalid VM name 'a\\x0asgfwd: x\\x1b[2J': names are 1-63 of [a-z0-9-], "
             "starting and ending with a letter or digit");
  auto r = config::load_policy_text("\"k\\r\": 1\n", "evil\n.yaml");
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message == "evil\\x0a.yaml:1:1: unknown key 'k\\x0d' in policy");
  std::string long_name = "vms:\n  - name: " + std::string(100000, 'a') + "\n";
  BOOST_TEST(load_error(long_name).size() < 700u);
}
