// policy::write_policy_yaml is what `vm set-groups` persists: what it writes must load
// back to the same policy, free text included.
#define BOOST_TEST_MODULE policy_writer
#include <boost/test/unit_test.hpp>

#include "config/policy_loader.hpp"
#include "policy/policy_writer.hpp"

#include <cstdio>
#include <string>
#include <vector>

using namespace sgfw;

namespace {

const char* kPolicy = R"(
subnets:
  - {name: net, cidr: 10.0.0.0/24}
securityGroups:
  - name: web
    description: "quotes \" and backslash \\ and a\nnewline and tab\t!"
    rules:
      - {name: https, description: "it's: {not} [yaml]", direction: Ingress, protocol: TCP, port: 443,
         remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {direction: Egress, protocol: UDP, portRange: 1000-1100, remote: {subnetRef: {name: net}}}
      - {direction: Ingress, protocol: All, remote: {securityGroupRef: {name: web}}}
  - name: empty
vms:
  - {name: a, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1, 10.0.0.9], securityGroups: [web, default-allow-ssh]}
  - {name: far, ips: [10.9.0.1]}
)";

void require_equal(const policy::Policy& a, const policy::Policy& b) {
  BOOST_REQUIRE_EQUAL(a.groups.size(), b.groups.size());
  for (size_t g = 0; g < a.groups.size(); ++g) {
    BOOST_TEST(a.groups[g].name == b.groups[g].name);
    BOOST_TEST(a.groups[g].description == b.groups[g].description);
    BOOST_REQUIRE_EQUAL(a.groups[g].rules.size(), b.groups[g].rules.size());
    for (size_t r = 0; r < a.groups[g].rules.size(); ++r) {
      const auto& x = a.groups[g].rules[r];
      const auto& y = b.groups[g].rules[r];
      BOOST_TEST(x.name == y.name);
      BOOST_TEST(x.description == y.description);
      BOOST_TEST((x.direction == y.direction));
      BOOST_TEST((x.protocol == y.protocol));
      BOOST_TEST((x.ports == y.ports));
      BOOST_TEST((x.remote == y.remote));
    }
  }
  BOOST_REQUIRE_EQUAL(a.vms.size(), b.vms.size());
  for (size_t v = 0; v < a.vms.size(); ++v) {
    BOOST_TEST(a.vms[v].name == b.vms[v].name);
    BOOST_TEST((a.vms[v].port == b.vms[v].port));
    BOOST_TEST((a.vms[v].mac == b.vms[v].mac));
    BOOST_TEST((a.vms[v].ips == b.vms[v].ips));
    BOOST_TEST((a.vms[v].groups == b.vms[v].groups));
  }
  BOOST_REQUIRE_EQUAL(a.subnets.size(), b.subnets.size());
  BOOST_TEST((a.subnets[0].cidr == b.subnets[0].cidr));
}

}  // namespace

BOOST_AUTO_TEST_CASE(written_policy_loads_back_equal) {
  auto p = config::load_policy_text(kPolicy, "in.yaml");
  BOOST_REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
  BOOST_TEST(p->find_group("web")->description == "quotes \" and backslash \\ and a\nnewline and tab\t!");
  std::string text = policy::write_policy_yaml(*p, "written by a test");
  BOOST_TEST(text.rfind("# written by a test\n", 0) == 0u);
  auto q = config::load_policy_text(text, "out.yaml");
  BOOST_REQUIRE_MESSAGE(q, (q ? "" : q.error().message + "\n" + text));
  require_equal(*p, *q);
  // Writing again gives the same text (stable output for diffs of persisted files).
  BOOST_TEST(policy::write_policy_yaml(*q, "written by a test") == text);
}

BOOST_AUTO_TEST_CASE(membership_change_round_trips) {
  auto p = config::load_policy_text(kPolicy, "in.yaml");
  BOOST_REQUIRE(p);
  p->find_vm("a")->groups = {"empty"};
  p->find_vm("far")->groups = {"web", "empty"};
  auto q = config::load_policy_text(policy::write_policy_yaml(*p, ""), "out.yaml");
  BOOST_REQUIRE(q);
  BOOST_TEST((q->find_vm("a")->groups == std::vector<std::string>{"empty"}));
  BOOST_TEST((q->find_vm("far")->groups == std::vector<std::string>{"web", "empty"}));
}

BOOST_AUTO_TEST_CASE(names_that_yaml_reads_as_other_types_round_trip) {
  // Valid names that plain YAML reads as null, booleans or numbers: a group "null"
  // written unquoted after `vm set-groups` made the daemon refuse to restart.
  const std::vector<std::string> names = {"null", "true", "false", "yes", "no", "on", "off", "y", "n",
                                          "0x1", "1e3", "0o7", "123", "0", "1-2", "nan", "inf"};
  std::string text = "subnets:\n";
  for (const auto& n : names) text += "  - {name: \"" + n + "\", cidr: 10." + std::to_string(&n - &names[0]) + ".0.0/16}\n";
  text += "securityGroups:\n";
  for (const auto& n : names) {
    text += "  - name: \"" + n + "\"\n    description: \"~\"\n    rules:\n";
    text += "      - {name: \"" + n + "\", direction: Ingress, protocol: All, remote: {securityGroupRef: {name: \"" + n + "\"}}}\n";
    text += "      - {name: \"" + n + "-s\", direction: Egress, protocol: All, remote: {subnetRef: {name: \"" + n + "\"}}}\n";
  }
  text += "vms:\n";
  for (size_t i = 0; i < names.size(); ++i)
    text += "  - {name: \"" + names[i] + "\", port: \"" + names[i] + "\", mac: \"02:00:00:00:01:" +
            (i < 16 ? "0" : "") + [&] { char b[4]; std::snprintf(b, sizeof b, "%x", static_cast<unsigned>(i)); return std::string(b); }() +
            "\", ips: [10.200.0." + std::to_string(i + 1) + "], securityGroups: [\"" + names[i] + (i ? "\", \"null\"]}\n" : "\"]}\n");
  auto p = config::load_policy_text(text, "in.yaml");
  BOOST_REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
  std::string written = policy::write_policy_yaml(*p, "");
  auto q = config::load_policy_text(written, "out.yaml");
  BOOST_REQUIRE_MESSAGE(q, (q ? "" : q.error().message + "\n" + written));
  require_equal(*p, *q);
  for (size_t i = 0; i < p->subnets.size(); ++i) {
    BOOST_TEST(p->subnets[i].name == q->subnets[i].name);
    BOOST_TEST((p->subnets[i].cidr == q->subnets[i].cidr));
  }
  BOOST_TEST(q->find_group("null") != nullptr);
  BOOST_TEST(q->find_group("null")->description == "~");
  BOOST_TEST((q->find_vm("0x1")->groups == std::vector<std::string>{"0x1", "null"}));
  BOOST_TEST(policy::write_policy_yaml(*q, "") == written);
}
