// A VM's optional `appliance` in a policy file (docs/policy-format.md, "appliance"):
// the loader's name rule and location, MACs unique per (appliance, port), and the
// writer's round trip.
#define BOOST_TEST_MODULE policy_appliance
#include <boost/test/unit_test.hpp>

#include <string>

#include "config/policy_loader.hpp"
#include "policy/policy_writer.hpp"

using namespace sgfw;

namespace {

std::string error_of(const std::string& yaml) {
  auto p = config::load_policy_text(yaml, "p.yaml");
  return p ? std::string("loaded") : p.error().message;
}

policy::Policy load(const std::string& yaml) {
  auto p = config::load_policy_text(yaml, "p.yaml");
  BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
  return *p;
}

}  // namespace

BOOST_AUTO_TEST_CASE(appliance_is_read_and_optional) {
  auto p = load(R"(vms:
  - {name: a, appliance: edge-1, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1]}
  - {name: b, appliance: edge-2, ips: [10.0.0.2]}
  - {name: c, port: p1, mac: "02:00:00:00:00:03", ips: [10.0.0.3]}
)");
  BOOST_REQUIRE(p.vms.size() == 3u);
  BOOST_TEST(p.find_vm("a")->appliance.value_or("-") == "edge-1");
  BOOST_TEST(p.find_vm("b")->appliance.value_or("-") == "edge-2");
  BOOST_TEST(!p.find_vm("b")->port.has_value());  // an appliance without a port is allowed in a file
  BOOST_TEST(!p.find_vm("c")->appliance.has_value());
  // A file source enforces every VM with a port, whatever its appliance says.
  BOOST_TEST(p.find_vm("a")->is_local());
  BOOST_TEST(p.find_vm("c")->is_local());
}

BOOST_AUTO_TEST_CASE(a_bad_appliance_name_is_located) {
  BOOST_TEST(error_of("vms:\n  - {name: a, appliance: Edge_1, ips: [10.0.0.1]}\n") ==
             "p.yaml:2:26: invalid appliance name 'Edge_1': names are 1-63 of [a-z0-9-], starting and ending "
             "with a letter or digit");
  BOOST_TEST(error_of("vms:\n  - name: a\n    appliance: [edge-1]\n    ips: [10.0.0.1]\n")
                 .rfind("p.yaml:3:16: ", 0) == 0u);
  BOOST_TEST(error_of("vms:\n  - {name: a, appliance: '', ips: [10.0.0.1]}\n")
                 .rfind("p.yaml:2:26: invalid appliance name ''", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(macs_are_unique_per_appliance_and_port) {
  // The same port name on two appliances is two ports: the same MAC may be on both.
  BOOST_TEST(error_of(R"(vms:
  - {name: a, appliance: edge-1, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1]}
  - {name: b, appliance: edge-2, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.2]}
)") == "loaded");
  BOOST_TEST(error_of(R"(vms:
  - {name: a, appliance: edge-1, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1]}
  - {name: b, appliance: edge-1, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.2]}
)") == "p.yaml:3:49: duplicate MAC '02:00:00:00:00:01' on port 'p1' of appliance 'edge-1' (also VM 'a')");
  // Without appliances the rule is the one of a file source: per port.
  BOOST_TEST(error_of(R"(vms:
  - {name: a, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1]}
  - {name: b, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.2]}
)") == "p.yaml:3:30: duplicate MAC '02:00:00:00:00:01' on port 'p1' (also VM 'a')");
}

BOOST_AUTO_TEST_CASE(the_writer_round_trips_appliance) {
  auto p = load(R"(vms:
  - {name: a, appliance: edge-1, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1]}
  - {name: b, appliance: edge-2, ips: [10.0.0.2]}
  - {name: c, ips: [10.0.0.3]}
)");
  std::string text = policy::write_policy_yaml(p, "");
  BOOST_TEST(text.find("{name: \"a\", appliance: \"edge-1\", port: \"p1\"") != std::string::npos, text);
  BOOST_TEST(text.find("{name: \"c\", ips:") != std::string::npos, text);
  auto back = config::load_policy_text(text, "w.yaml");
  BOOST_REQUIRE_MESSAGE(back.has_value(), (back ? std::string() : back.error().message));
  BOOST_TEST(back->find_vm("a")->appliance.value_or("-") == "edge-1");
  BOOST_TEST(back->find_vm("b")->appliance.value_or("-") == "edge-2");
  BOOST_TEST(!back->find_vm("c")->appliance.has_value());
  BOOST_TEST(policy::write_policy_yaml(*back, "") == text);
}
