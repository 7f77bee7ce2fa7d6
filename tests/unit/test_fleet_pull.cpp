// A fleet policy file (docs/fleet.md, "policy push and pull"): encode_policy keeps each
// VM's own `appliance`; decode_fleet_policy keeps every VM's `appliance` and `port`;
// push(pull()) writes nothing, on the examples and on a generated 400-VM policy spread
// over two appliances.
#define BOOST_TEST_MODULE fleet_pull
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

#include "bench/policy_generator.hpp"
#include "config/policy_loader.hpp"
#include "fleet/decode.hpp"
#include "fleet/encode.hpp"
#include "fleet/push_plan.hpp"
#include "policy/policy_writer.hpp"

using namespace sgfw;

namespace {

const std::string kPrefix = "/sgfw/";

std::string source_dir() {
  const char* d = std::getenv("SGFW_SOURCE_DIR");
  return d ? d : ".";
}

policy::Policy load(const std::string& yaml) {
  auto p = config::load_policy_text(yaml, "t.yaml");
  BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
  return *p;
}

fleet::KeyValues encode(const policy::Policy& p, const std::string& appliance) {
  auto kvs = fleet::encode_policy(p, kPrefix, appliance);
  BOOST_REQUIRE_MESSAGE(kvs.has_value(), (kvs ? std::string() : kvs.error().message));
  return *kvs;
}

fleet::StoredKeys as_stored(const fleet::KeyValues& kvs) {
  fleet::StoredKeys out;
  int64_t rev = 5;
  for (const auto& [k, v] : kvs) out[k] = {v, rev++};
  return out;
}

// What `policy pull` writes and `policy push` reads back: the fleet view, through the
// writer's text and the loader, encoded by an appliance that is none of the VMs'.
void pull_push_is_empty(const fleet::KeyValues& in_etcd) {
  auto pulled = fleet::decode_fleet_policy(in_etcd, kPrefix);
  BOOST_REQUIRE_MESSAGE(pulled.has_value(), (pulled ? std::string() : pulled.error().message));
  auto file = config::load_policy_text(policy::write_policy_yaml(*pulled, "pulled"), "pulled.yaml");
  BOOST_REQUIRE_MESSAGE(file.has_value(), (file ? std::string() : file.error().message));
  auto again = encode(*file, "edge-9");
  BOOST_TEST((again == in_etcd));
  auto plan = fleet::plan_push(as_stored(in_etcd), again, kPrefix);
  BOOST_REQUIRE_MESSAGE(plan.has_value(), (plan ? std::string() : plan.error().message));
  BOOST_TEST(plan->empty());
  BOOST_TEST(plan->puts == 0u);
  BOOST_TEST(plan->deletes == 0u);
  BOOST_TEST(plan->unchanged == in_etcd.size());
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_vms_own_appliance_wins) {
  auto p = load(R"(vms:
  - {name: a, appliance: edge-2, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1]}
  - {name: b, port: p1, mac: "02:00:00:00:00:02", ips: [10.0.0.2]}
  - {name: c, appliance: edge-3, ips: [10.0.0.3]}
  - {name: d, ips: [10.0.0.4]}
)");
  auto kvs = encode(p, "edge-1");
  BOOST_TEST(kvs.at("/sgfw/vms/a") == R"({"appliance":"edge-2","ips":["10.0.0.1"],"mac":"02:00:00:00:00:01",)"
                                     R"("name":"a","port":"p1","securityGroups":[]})");
  BOOST_TEST(kvs.at("/sgfw/vms/b") == R"({"appliance":"edge-1","ips":["10.0.0.2"],"mac":"02:00:00:00:00:02",)"
                                     R"("name":"b","port":"p1","securityGroups":[]})");
  // No port: no appliance in the value (a value holds both or neither).
  BOOST_TEST(kvs.at("/sgfw/vms/c") == R"({"ips":["10.0.0.3"],"name":"c","securityGroups":[]})");
  BOOST_TEST(kvs.at("/sgfw/vms/d") == R"({"ips":["10.0.0.4"],"name":"d","securityGroups":[]})");
  // Every VM with a port has its own appliance: no pushing appliance name is needed.
  auto own = load("vms:\n  - {name: a, appliance: edge-2, port: p1, mac: \"02:00:00:00:00:01\", ips: [10.0.0.1]}\n");
  BOOST_TEST(fleet::encode_policy(own, kPrefix, "").has_value());
  BOOST_TEST(!fleet::encode_policy(load("vms:\n  - {name: b, port: p1, mac: \"02:00:00:00:00:02\", ips: [10.0.0.2]}\n"),
                                   kPrefix, "")
                  .has_value());
  auto bad = own;
  bad.vms[0].appliance = "Edge 2";  // built in code, past the loader's check
  auto refused = fleet::encode_policy(bad, kPrefix, "edge-1");
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().message == "VM 'a': the appliance name 'Edge 2' must be 1-63 of [a-z0-9-]");
}

BOOST_AUTO_TEST_CASE(each_appliance_sees_its_own_vms_local) {
  auto p = load(R"(vms:
  - {name: a, appliance: edge-1, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1]}
  - {name: b, appliance: edge-2, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.2]}
)");
  auto kvs = encode(p, "edge-1");
  for (const char* app : {"edge-1", "edge-2"}) {
    auto view = fleet::decode_policy(kvs, kPrefix, app);
    BOOST_REQUIRE_MESSAGE(view.has_value(), (view ? std::string() : view.error().message));
    for (const auto& vm : view->vms) {
      BOOST_TEST(vm.is_local() == (*vm.appliance == app), vm.name << " on " << app);
    }
  }
  // The fleet view keeps both ports; the same MAC on port p1 of two appliances is fine.
  auto fleet_view = fleet::decode_fleet_policy(kvs, kPrefix);
  BOOST_REQUIRE_MESSAGE(fleet_view.has_value(), (fleet_view ? std::string() : fleet_view.error().message));
  BOOST_TEST(fleet_view->find_vm("a")->port.value_or("-") == "p1");
  BOOST_TEST(fleet_view->find_vm("b")->port.value_or("-") == "p1");
  BOOST_TEST(fleet_view->find_vm("b")->appliance.value_or("-") == "edge-2");
  BOOST_TEST(fleet_view->source == "etcd:/sgfw/");
}

BOOST_AUTO_TEST_CASE(the_fleet_view_checks_macs_per_appliance_and_port) {
  fleet::KeyValues kvs = {
      {"/sgfw/vms/a", R"({"appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01","ips":["10.0.0.1"]})"},
      {"/sgfw/vms/b", R"({"appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01","ips":["10.0.0.2"]})"},
  };
  auto r = fleet::decode_fleet_policy(kvs, kPrefix);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message ==
             "/sgfw/vms/b: duplicate MAC '02:00:00:00:00:01' on port 'p1' of appliance 'edge-1' (also VM 'a')");
  // Bad values are refused as by decode_policy, naming the key.
  kvs["/sgfw/vms/b"] = R"({"port":"p1","mac":"02:00:00:00:00:02","ips":["10.0.0.2"]})";
  BOOST_TEST(fleet::decode_fleet_policy(kvs, kPrefix).error().message ==
             "/sgfw/vms/b: 'port' without 'appliance': which appliance is the port on?");
  BOOST_TEST(fleet::decode_fleet_policy({}, "sgfw").error().message == "etcd prefix 'sgfw': must end with '/'");
}

BOOST_AUTO_TEST_CASE(pull_then_push_writes_nothing_on_the_examples) {
  for (std::string f : {"/conf/policy.yaml", "/conf/demo-policy.yaml"}) {
    BOOST_TEST_CONTEXT(f) {
      auto p = config::load_policy_file(source_dir() + f);
      BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
      pull_push_is_empty(encode(*p, "edge-1"));
    }
  }
}

BOOST_AUTO_TEST_CASE(pull_then_push_writes_nothing_on_400_vms_of_two_appliances) {
  bench::GeneratorOptions g;
  g.vms = 400;
  g.local_vms = 200;
  g.groups = 40;
  g.roles = 20;
  g.rules_per_group = 8;
  g.ports = 8;
  g.family = bench::Families::kDual;
  auto p = bench::generate_policy(g);
  BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
  // Half the local VMs on edge-2 (their own appliance), the rest on the pusher's edge-1.
  size_t on_two = 0;
  for (size_t i = 0; i < p->vms.size(); ++i) {
    if (p->vms[i].port && i % 2 == 1) {
      p->vms[i].appliance = "edge-2";
      ++on_two;
    }
  }
  BOOST_REQUIRE(on_two == 100u);
  auto kvs = encode(*p, "edge-1");
  size_t with_edge2 = 0, with_edge1 = 0;
  for (const auto& [k, v] : kvs) {
    with_edge2 += v.find(R"("appliance":"edge-2")") != std::string::npos;
    with_edge1 += v.find(R"("appliance":"edge-1")") != std::string::npos;
  }
  BOOST_TEST(with_edge2 == 100u);
  BOOST_TEST(with_edge1 == 100u);
  pull_push_is_empty(kvs);
  // One VM moved to the other appliance: exactly one key to write.
  auto moved = *p;
  for (auto& vm : moved.vms)
    if (vm.appliance && *vm.appliance == "edge-2") {
      vm.appliance = "edge-3";
      break;
    }
  auto plan = fleet::plan_push(as_stored(kvs), encode(moved, "edge-1"), kPrefix);
  BOOST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->puts == 1u);
  BOOST_TEST(plan->deletes == 0u);
  BOOST_TEST(plan->unchanged == kvs.size() - 1);
}
