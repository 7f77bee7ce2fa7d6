// fleet::plan_push (docs/fleet.md, "Limits and the push of a large policy"): the diff,
// its guards, and steps within etcd's transaction limits.
#define BOOST_TEST_MODULE fleet_push
#include <boost/test/unit_test.hpp>

#include "fleet/push_plan.hpp"

using namespace sgfw;
using fleet::Write;

namespace {

fleet::KeyValues vms(int n, const std::string& value = "{}") {
  fleet::KeyValues kvs;
  for (int i = 0; i < n; ++i) kvs["/p/vms/vm-" + std::to_string(10000 + i)] = value;
  return kvs;
}

fleet::StoredKeys stored(const fleet::KeyValues& kvs, int64_t first_revision) {
  fleet::StoredKeys out;
  for (const auto& [k, v] : kvs) out[k] = {v, first_revision++};
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_same_keys_write_nothing) {
  auto kvs = vms(50);
  auto plan = fleet::plan_push(stored(kvs, 10), kvs, "/p/");
  BOOST_REQUIRE(plan);
  BOOST_TEST(plan->empty());
  BOOST_TEST(plan->unchanged == 50u);
}

BOOST_AUTO_TEST_CASE(a_change_is_one_guarded_write) {
  auto kvs = vms(50);
  auto current = stored(kvs, 10);
  current["/p/groups/gone"] = {"{}", 99};
  current["/p/meta/other"] = {"x", 100};  // not a policy key: left alone
  kvs["/p/vms/vm-10007"] = R"({"securityGroups":["b"]})";
  kvs["/p/vms/new"] = "{}";
  auto plan = fleet::plan_push(current, kvs, "/p/");
  BOOST_REQUIRE(plan);
  BOOST_REQUIRE(plan->steps.size() == 1u);
  BOOST_TEST(!plan->staged());
  BOOST_TEST(plan->puts == 2u);
  BOOST_TEST(plan->deletes == 1u);
  BOOST_TEST(plan->unchanged == 49u);
  const auto& s = plan->steps[0];
  BOOST_REQUIRE(s.size() == 3u);
  BOOST_TEST((s[0].type == Write::Type::kPut && s[0].key == "/p/vms/new" && s[0].expected_mod_revision == 0));
  BOOST_TEST((s[1].type == Write::Type::kPut && s[1].key == "/p/vms/vm-10007" && s[1].expected_mod_revision == 17));
  BOOST_TEST(s[1].value == R"({"securityGroups":["b"]})");
  BOOST_TEST((s[2].type == Write::Type::kDelete && s[2].key == "/p/groups/gone" && s[2].expected_mod_revision == 99));
}

BOOST_AUTO_TEST_CASE(ten_thousand_vms_are_staged_within_128_ops) {
  auto plan = fleet::plan_push({}, vms(10000, std::string(200, 'v')), "/p/");
  BOOST_REQUIRE(plan);
  BOOST_TEST(plan->staged());
  BOOST_TEST(plan->steps.size() == 79u);  // ceil(10,000 / 127)
  size_t total = 0;
  for (const auto& s : plan->steps) {
    BOOST_TEST(s.size() <= 127u);
    total += s.size();
  }
  BOOST_TEST(total == 10000u);
  BOOST_TEST(plan->steps.back().size() == 10000u - 78u * 127u);
}

BOOST_AUTO_TEST_CASE(steps_respect_the_byte_limit) {
  // 10,000-byte values + key + 32 bytes of overhead: 6 per 64 KiB step.
  auto plan = fleet::plan_push({}, vms(20, std::string(10000, 'v')), "/p/", {128, 64 * 1024});
  BOOST_REQUIRE(plan);
  BOOST_TEST(plan->steps.size() == 4u);
  BOOST_TEST(plan->steps[0].size() == 6u);
  BOOST_TEST(plan->steps[3].size() == 2u);
}

BOOST_AUTO_TEST_CASE(refusals) {
  auto big = fleet::plan_push({}, {{"/p/vms/a", std::string(2000, 'v')}}, "/p/", {128, 1024});
  BOOST_REQUIRE(!big);
  BOOST_TEST(big.error().message == "/p/vms/a: 2040 bytes, more than the transaction limit of 1024 bytes");
  auto busy = fleet::plan_push({{"/p/meta/push", {"{}", 42}}}, vms(1), "/p/");
  BOOST_REQUIRE(!busy);
  BOOST_TEST(busy.error().message == "a push is in progress: /p/meta/push exists (revision 42)");
  auto outside = fleet::plan_push({}, {{"/q/vms/a", "{}"}}, "/p/");
  BOOST_REQUIRE(!outside);
  BOOST_TEST(outside.error().message == "key '/q/vms/a': not a policy key under '/p/'");
  auto meta = fleet::plan_push({}, {{"/p/meta/push", "{}"}}, "/p/");
  BOOST_REQUIRE(!meta);
  BOOST_TEST(meta.error().message == "key '/p/meta/push': not a policy key under '/p/'");
  BOOST_TEST(fleet::plan_push({}, {}, "/p/", {1, 4096}).error().message ==
             "push limits: at least 2 operations and 1 KiB per transaction");
  BOOST_TEST(fleet::plan_push({}, {}, "p").error().message == "etcd prefix 'p': must end with '/'");
}
