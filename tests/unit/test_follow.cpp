// The etcd follower's pure parts (docs/fleet.md, "Following the policy live"): which
// batches take the membership fast path, the key map, the persisted copy's header.
#define BOOST_TEST_MODULE follow
#include <boost/test/unit_test.hpp>

#include "config/policy_loader.hpp"
#include "follow/batch.hpp"
#include "follow/persisted_copy.hpp"

using namespace sgfw;

namespace {

const std::string kPrefix = "/sgfw/";
const std::string kVmA = R"({"name":"a","appliance":"edge-1","port":"p","ips":["10.0.0.1"],"securityGroups":["g1"]})";

etcd::Event put(const std::string& key, const std::string& value, int64_t rev = 10) {
  etcd::Event e;
  e.kv.key = key;
  e.kv.value = value;
  e.kv.mod_revision = rev;
  return e;
}

etcd::Event del(const std::string& key, int64_t rev = 10) {
  etcd::Event e;
  e.type = etcd::Event::Type::kDelete;
  e.kv.key = key;
  e.kv.mod_revision = rev;
  return e;
}

fleet::KeyValues before() {
  return {{"/sgfw/vms/a", kVmA},
          {"/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":[]})"},
          {"/sgfw/groups/g1", R"({"rules":[]})"}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(membership_only_batches_qualify) {
  auto kv = before();
  // Groups changed (also reordered keys and spaces: compared as JSON), two VMs, and one
  // VM written twice: the last value counts.
  auto one = follow::membership_only(
      kPrefix, kv,
      {put("/sgfw/vms/a", R"({"securityGroups":["g1","g2"], "ips":["10.0.0.1"],"port":"p","appliance":"edge-1","name":"a"})"),
       put("/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":["x"]})"),
       put("/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":["g1"]})")});
  BOOST_REQUIRE(one);
  BOOST_REQUIRE(one->size() == 2u);
  BOOST_TEST((*one)[0].key == "/sgfw/vms/a");
  BOOST_TEST((*one)[0].vm == "a");
  BOOST_TEST(((*one)[0].groups == std::vector<std::string>{"g1", "g2"}));
  BOOST_TEST((*one)[1].vm == "b");
  BOOST_TEST(((*one)[1].groups == std::vector<std::string>{"g1"}));
  // An unknown group still qualifies: set-groups' own check refuses it, naming the key.
  BOOST_TEST(follow::membership_only(kPrefix, kv, {put("/sgfw/vms/a", R"({"name":"a","appliance":"edge-1","port":"p","ips":["10.0.0.1"],"securityGroups":["nope"]})")}).has_value());
}

// A value nested deeper than 64 levels is left to the full decode (which refuses it):
// comparing two 500,000-level values crashed the daemon (stack overflow) before.
BOOST_AUTO_TEST_CASE(deeply_nested_values_take_the_full_decode) {
  const std::string deep = std::string(500000, '[') + std::string(500000, ']');
  fleet::KeyValues kv{{"/sgfw/vms/v", R"({"name":"v","securityGroups":["g1"],"z":)" + deep + "}"}};
  BOOST_TEST(!follow::membership_only(
                  kPrefix, kv, {put("/sgfw/vms/v", R"({"name":"v","securityGroups":["g2"],"z":)" + deep + "}")})
                  .has_value());
  // 60 levels still qualify.
  const std::string ok = std::string(60, '[') + std::string(60, ']');
  fleet::KeyValues kv2{{"/sgfw/vms/v", R"({"name":"v","securityGroups":["g1"],"z":)" + ok + "}"}};
  BOOST_TEST(follow::membership_only(kPrefix, kv2,
                                     {put("/sgfw/vms/v", R"({"name":"v","securityGroups":["g2"],"z":)" + ok + "}")})
                 .has_value());
}

BOOST_AUTO_TEST_CASE(other_batches_take_the_full_decode) {
  auto kv = before();
  auto full = [&](std::vector<etcd::Event> events) { return !follow::membership_only(kPrefix, kv, events).has_value(); };
  BOOST_TEST(full({}));                                                                   // nothing
  BOOST_TEST(full({del("/sgfw/vms/a")}));                                                 // a delete
  BOOST_TEST(full({put("/sgfw/vms/c", R"({"ips":["10.0.0.3"],"securityGroups":[]})")})); // a new VM
  BOOST_TEST(full({put("/sgfw/vms/b", R"({"ips":["10.0.0.9"],"securityGroups":[]})")})); // another field
  BOOST_TEST(full({put("/sgfw/vms/b", R"({"ips":["10.0.0.2"]})")}));                     // groups left out
  BOOST_TEST(full({put("/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":"g1"})")}));  // not an array
  BOOST_TEST(full({put("/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":[1]})")}));   // not strings
  BOOST_TEST(full({put("/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":[)")}));     // not JSON
  BOOST_TEST(full({put("/sgfw/vms/b", R"([1])")}));                                       // not an object
  BOOST_TEST(full({put("/sgfw/groups/g1", R"({"rules":[]})")}));                           // a group
  BOOST_TEST(full({put("/sgfw/meta/push", "x")}));                                        // the push marker
  BOOST_TEST(full({put("/sgfw/vms/b", R"({"ips":["10.0.0.2"],"securityGroups":["g1"]})"), del("/sgfw/groups/g1")}));
  BOOST_TEST(full({put("/sgfw/vms/B", R"({"securityGroups":[]})")}));                     // not a valid key
}

BOOST_AUTO_TEST_CASE(events_apply_to_the_key_map_in_order) {
  auto kv = before();
  follow::apply_events(kv, {put("/sgfw/vms/c", "1"), del("/sgfw/vms/a"), put("/sgfw/vms/c", "2"), del("/sgfw/vms/zz")});
  BOOST_TEST(kv.size() == 3u);
  BOOST_TEST(kv.count("/sgfw/vms/a") == 0u);
  BOOST_TEST(kv.at("/sgfw/vms/c") == "2");
  BOOST_TEST(follow::push_marker_key("/p/") == "/p/meta/push");
}

BOOST_AUTO_TEST_CASE(persisted_copy_header_round_trip) {
  follow::CopyHeader h{"/sgfw/", 4242, "edge-1"};
  BOOST_TEST(follow::copy_header_text(h) == "sgfw etcd copy: prefix /sgfw/ revision 4242 appliance edge-1");
  auto p = config::load_policy_text("securityGroups:\n  - {name: g1, rules: []}\nvms:\n  - {name: a, ips: [10.0.0.1], securityGroups: [g1]}\n", "t.yaml");
  BOOST_REQUIRE(p);
  std::string text = follow::copy_text(*p, h);
  BOOST_TEST(text.rfind("# sgfw etcd copy: prefix /sgfw/ revision 4242 appliance edge-1\n", 0) == 0u);
  auto back = follow::parse_copy_header(text);
  BOOST_REQUIRE(back);
  BOOST_TEST(back->prefix == "/sgfw/");
  BOOST_TEST(back->revision == 4242);
  BOOST_TEST(back->appliance == "edge-1");
  auto again = config::load_policy_text(text, "copy.yaml");  // the copy is a policy file
  BOOST_REQUIRE(again);
  BOOST_TEST(again->vms.size() == 1u);
  const std::string bad =
      "not a persisted etcd copy (its first line is not '# sgfw etcd copy: prefix P revision R appliance A')";
  for (const char* t : {"", "vms: []\n", "# sgfw etcd copy: prefix /p/ revision x appliance a\n",
                        "# sgfw etcd copy: prefix /p/ revision -1 appliance a\n",
                        "# sgfw etcd copy: prefix /p/ revision 1 appliance A_b\n",
                        "# sgfw etcd copy: prefix /p/ revision 1 appliance a extra\n",
                        "# sgfw etcd copy: prefix /p/ revision 1\n"}) {
    auto r = follow::parse_copy_header(t);
    BOOST_TEST(!r);
    if (!r) BOOST_TEST(r.error().message == bad);
  }
}
