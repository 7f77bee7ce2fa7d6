// lib/fleet (docs/fleet.md): a policy as keys under an etcd prefix and back. The example
// policies and a generated one round-trip; every bad value is refused with a message
// naming its key.
#define BOOST_TEST_MODULE fleet_keys
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

#include "bench/policy_generator.hpp"
#include "config/policy_loader.hpp"
#include "fleet/decode.hpp"
#include "fleet/encode.hpp"
#include "policy/policy_writer.hpp"

using namespace sgfw;

namespace {

const std::string kPrefix = "/sgfw/";

std::string source_dir() {
  const char* d = std::getenv("SGFW_SOURCE_DIR");
  return d ? d : ".";
}

// The policy as the writer prints it: equal text, equal policy (test_policy_writer).
std::string text(const policy::Policy& p) { return policy::write_policy_yaml(p, ""); }

void round_trip(const policy::Policy& p) {
  auto kvs = fleet::encode_policy(p, kPrefix, "edge-1");
  BOOST_REQUIRE_MESSAGE(kvs.has_value(), (kvs ? std::string() : kvs.error().message));
  size_t user_groups = 0;
  for (const auto& g : p.groups) user_groups += !g.builtin;
  BOOST_TEST(kvs->size() == p.subnets.size() + user_groups + p.vms.size());
  auto back = fleet::decode_policy(*kvs, kPrefix, "edge-1");
  BOOST_REQUIRE_MESSAGE(back.has_value(), (back ? std::string() : back.error().message));
  // Every VM with a port comes back with the appliance it was encoded for.
  policy::Policy hosted = p;
  for (auto& vm : hosted.vms)
    if (vm.port) vm.appliance = "edge-1";
  BOOST_TEST(text(*back) == text(hosted));
  BOOST_TEST(back->source == "etcd:/sgfw/");
  // On another appliance every VM is hosted elsewhere (it keeps its appliance, loses its
  // port); the rest is the same.
  auto other = fleet::decode_policy(*kvs, kPrefix, "edge-2");
  BOOST_REQUIRE_MESSAGE(other.has_value(), (other ? std::string() : other.error().message));
  policy::Policy remote = hosted;
  for (auto& vm : remote.vms) vm.port.reset();
  BOOST_TEST(text(*other) == text(remote));
  // Encoding the decoded policy gives the same keys and values.
  auto again = fleet::encode_policy(*back, kPrefix, "edge-1");
  BOOST_REQUIRE(again);
  BOOST_TEST((*again == *kvs));
}

policy::Policy load(const std::string& yaml) {
  auto p = config::load_policy_text(yaml, "t.yaml");
  BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
  return *p;
}

// Decodes a minimal valid policy with one key replaced or added; returns the error.
std::string error_with(const std::string& key, const std::string& value) {
  fleet::KeyValues kvs = {
      {"/sgfw/subnets/net", R"({"name":"net","cidr":"10.0.0.0/24"})"},
      {"/sgfw/groups/web", R"({"name":"web","rules":[{"direction":"Ingress","protocol":"TCP","port":443,)"
                           R"("remote":{"subnetRef":{"name":"net"}}}]})"},
      {"/sgfw/vms/a", R"({"name":"a","appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01",)"
                      R"("ips":["10.0.0.1"],"securityGroups":["web"]})"},
  };
  kvs[key] = value;
  auto r = fleet::decode_policy(kvs, kPrefix, "edge-1");
  return r ? std::string("decoded") : r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(example_policies_round_trip) {
  for (std::string f : {"/conf/policy.yaml", "/conf/demo-policy.yaml"}) {
    BOOST_TEST_CONTEXT(f) {
      auto p = config::load_policy_file(source_dir() + f);
      BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
      BOOST_REQUIRE(!p->vms.empty());
      round_trip(*p);
    }
  }
}

BOOST_AUTO_TEST_CASE(free_text_ipv6_pairs_and_rule_names_round_trip) {
  round_trip(load(R"(
subnets:
  - {name: net6, cidr: "2001:db8:1::/64"}
securityGroups:
  - name: web
    description: "quotes \" backslash \\ newline\n tab\t \u00e9"
    rules:
      - {name: https, description: "{not} [json]", direction: Ingress, protocol: TCP, port: 443,
         remote: {address: {IPAddressOrCIDR: "::/0"}}}
      - {direction: Egress, protocol: UDP, portRange: 1000-1100, remote: {subnetRef: {name: net6}}}
      - {name: rule-0, direction: Ingress, protocol: ICMP, remote: {securityGroupRef: {name: web}}}
  - name: empty
vms:
  - {name: a, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1, "2001:db8:1::10"],
     allowedAddressPairs: [{ip: 10.0.0.100, mac: "02:00:00:00:00:64"}, {ip: "2001:db8:1::/120"}],
     securityGroups: [web, default-allow-ssh]}
  - {name: far, ips: [10.9.0.1]}
  - {name: nogroups, ips: [10.9.0.2], securityGroups: []}
)"));
}

BOOST_AUTO_TEST_CASE(generated_policy_round_trips) {
  bench::GeneratorOptions g;
  g.vms = 400;
  g.local_vms = 50;
  g.groups = 40;
  g.roles = 20;
  g.rules_per_group = 8;
  g.ports = 8;
  g.family = bench::Families::kDual;
  auto p = bench::generate_policy(g);
  BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
  round_trip(*p);
}

BOOST_AUTO_TEST_CASE(empty_prefix_is_an_empty_policy) {
  auto p = fleet::decode_policy({}, kPrefix, "edge-1");
  BOOST_REQUIRE(p);
  BOOST_TEST(p->vms.empty());
  BOOST_TEST(p->subnets.empty());
  BOOST_TEST(p->groups.size() == 3u);  // the built-in groups only
}

BOOST_AUTO_TEST_CASE(a_minimal_valid_policy_decodes) {
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"ips":["10.0.0.2"]})") == "decoded");  // name from the key
  BOOST_TEST(error_with("/sgfw/meta/push", "not a policy value") == "decoded");  // the push protocol's
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused_naming_the_key) {
  BOOST_TEST(error_with("/sgfw/subnets/net", R"({"name":"net","cidr":"10.0.0.0/33"})") ==
             "/sgfw/subnets/net: invalid subnet cidr '10.0.0.0/33'");
  BOOST_TEST(error_with("/sgfw/subnets/net", R"({"name":"net","cidr":"10.0.0.1/24"})") ==
             "/sgfw/subnets/net: CIDR '10.0.0.1/24' has host bits set");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":["nope"]})") ==
             "/sgfw/vms/b: unknown security group 'nope'");
  BOOST_TEST(error_with("/sgfw/groups/db", R"({"rules":[{"direction":"Ingress","protocol":"All",)"
                                           R"("remote":{"subnetRef":{"name":"gone"}}}]})") ==
             "/sgfw/groups/db: unknown subnet 'gone'");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"ips":["10.0.0.1"]})") ==
             "/sgfw/vms/b: duplicate VM address 10.0.0.1 (also VM 'a')");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"name":"c","ips":["10.0.0.2"]})") ==
             "/sgfw/vms/b: 'name' must be 'b', the key's last part");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"name":7,"ips":["10.0.0.2"]})") ==
             "/sgfw/vms/b: 'name' must be 'b', the key's last part");
  BOOST_TEST(error_with("/sgfw/vms/b", R"(["10.0.0.2"])") == "/sgfw/vms/b: the value must be a JSON object");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"port":"p2","mac":"02:00:00:00:00:02","ips":["10.0.0.2"]})") ==
             "/sgfw/vms/b: 'port' without 'appliance': which appliance is the port on?");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"appliance":"edge-1","ips":["10.0.0.2"]})") ==
             "/sgfw/vms/b: 'appliance' without 'port'");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"appliance":"Edge 1","port":"p","ips":["10.0.0.2"]})") ==
             "/sgfw/vms/b: 'appliance' must be a name: 1-63 of [a-z0-9-]");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"appliance":"edge-1","port":"p2","ips":["10.0.0.2"]})") ==
             "/sgfw/vms/b: local VM 'b' has no 'mac'");
  BOOST_TEST(error_with("/sgfw/groups/default-allow-ssh", "{}") ==
             "/sgfw/groups/default-allow-ssh: 'default-allow-ssh' is a built-in security group and cannot be defined");
  std::string not_json = error_with("/sgfw/groups/web", R"({"name":"web",)");
  BOOST_TEST(not_json.rfind("/sgfw/groups/web: the value is not JSON: ", 0) == 0, not_json);
  std::string empty = error_with("/sgfw/groups/web", "");
  BOOST_TEST(empty.rfind("/sgfw/groups/web: the value is not JSON: ", 0) == 0, empty);
  // A number JSON can write but a double cannot hold: refused naming the key (it threw
  // out of the decoder before; found by the etcd_value fuzz target).
  std::string huge = error_with("/sgfw/groups/web", R"({"name":"web","x":2e3999})");
  BOOST_TEST(huge.rfind("/sgfw/groups/web: the value is not JSON: ", 0) == 0, huge);
  BOOST_TEST(huge.find("number overflow") != std::string::npos, huge);
}

BOOST_AUTO_TEST_CASE(a_value_of_another_appliance_loses_its_port_only) {
  // Its MAC and port would clash with VM a on edge-1; on edge-1 it is remote, so no clash.
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"appliance":"edge-2","port":"p1","mac":"02:00:00:00:00:01",)"
                                       R"("ips":["10.0.0.2"]})") == "decoded");
  BOOST_TEST(error_with("/sgfw/vms/b", R"({"appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01",)"
                                       R"("ips":["10.0.0.2"]})") ==
             "/sgfw/vms/b: duplicate MAC '02:00:00:00:00:01' on port 'p1' of appliance 'edge-1' (also VM 'a')");
}

BOOST_AUTO_TEST_CASE(bad_keys_are_refused) {
  BOOST_TEST(error_with("/sgfw/other/x", "{}") == "key '/sgfw/other/x': expected /sgfw/{subnets,groups,vms}/NAME");
  BOOST_TEST(error_with("/sgfw/vms/Bad_Name", "{}") ==
             "key '/sgfw/vms/Bad_Name': invalid VM name 'Bad_Name': names are 1-63 of [a-z0-9-], "
             "starting and ending with a letter or digit");
  BOOST_TEST(error_with("/sgfw/vms/", "{}") ==
             "key '/sgfw/vms/': invalid VM name '': names are 1-63 of [a-z0-9-], "
             "starting and ending with a letter or digit");
  BOOST_TEST(error_with("/other/vms/x", "{}") == "key '/other/vms/x': not under the prefix '/sgfw/'");
  BOOST_TEST(!fleet::decode_policy({}, "sgfw", "edge-1"));
  BOOST_TEST(fleet::decode_policy({}, "sgfw", "edge-1").error().message == "etcd prefix 'sgfw': must end with '/'");
}

BOOST_AUTO_TEST_CASE(one_key_per_object) {
  BOOST_TEST(fleet::key_for("/p/", fleet::Kind::kVm, "a") == "/p/vms/a");
  BOOST_TEST(fleet::key_for("/p/", fleet::Kind::kGroup, "g") == "/p/groups/g");
  BOOST_TEST(fleet::key_for("/p/", fleet::Kind::kSubnet, "s") == "/p/subnets/s");
  auto ref = fleet::parse_key("/p/", "/p/groups/g");
  BOOST_REQUIRE(ref);
  BOOST_TEST((ref->kind == fleet::Kind::kGroup));
  BOOST_TEST(ref->name == "g");
  // A VM's group change is one value: only its key differs.
  auto p = load("securityGroups: [{name: a}, {name: b}]\nvms: [{name: v, ips: [10.0.0.1], securityGroups: [a]}]\n");
  auto before = fleet::encode_policy(p, "/p/", "edge-1");
  p.find_vm("v")->groups = {"b"};
  auto after = fleet::encode_policy(p, "/p/", "edge-1");
  BOOST_REQUIRE(before && after);
  size_t differ = 0;
  for (const auto& [k, v] : *before) differ += after->at(k) != v;
  BOOST_TEST(differ == 1u);
  BOOST_TEST(after->at("/p/vms/v") == R"({"ips":["10.0.0.1"],"name":"v","securityGroups":["b"]})");
}
