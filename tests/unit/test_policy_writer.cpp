// policy::write_policy_yaml is what `vm set-groups` persists: what it writes must load
// back to the same policy, free text included.
#define BOOST_TEST_MODULE policy_writer
#include <boost/test/unit_test.hpp>

#include "config/policy_loader.hpp"
#include "policy/policy_writer.hpp"

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
