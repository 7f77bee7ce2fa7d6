// The etcd_value fuzz target (docs/fuzzing.md): one value of the etcd key layout
// (docs/fleet.md) among a small valid policy's keys. Input: byte 0 picks the key's kind
// (subnet, group, VM); the rest is the value. Properties: an error names a key (starts
// with a key of the input and ": ", or "key '"); a decoded policy encodes and decodes
// back to the same policy (VMs hosted elsewhere keep their `appliance` in the decoded
// policy but not through encode, which writes `appliance` only with a `port`); the
// fleet view, when it decodes, encodes and decodes back to itself and gives the same
// appliance view as the input.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "entries.hpp"
#include "fleet/decode.hpp"
#include "fleet/encode.hpp"
#include "policy/policy_writer.hpp"

namespace sgfw::fuzz {

namespace {

[[noreturn]] void wrong(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

// The policy as the writer prints it, VMs without a port stripped of their appliance.
std::string text_without_remote_appliances(policy::Policy p) {
  for (auto& vm : p.vms)
    if (!vm.port) vm.appliance.reset();
  return policy::write_policy_yaml(p, "");
}

}  // namespace

int etcd_value(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kKeys[] = {"/sgfw/subnets/fz", "/sgfw/groups/fz", "/sgfw/vms/fz"};
  fleet::KeyValues kvs = {
      {"/sgfw/subnets/net", R"({"name":"net","cidr":"10.0.0.0/24"})"},
      {"/sgfw/groups/web", R"({"name":"web","rules":[{"direction":"Ingress","protocol":"TCP","port":443,)"
                           R"("remote":{"subnetRef":{"name":"net"}}}]})"},
      {"/sgfw/vms/a", R"({"name":"a","appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01",)"
                      R"("ips":["10.0.0.1"],"securityGroups":["web"]})"},
  };
  kvs[kKeys[data[0] % 3]] = std::string(reinterpret_cast<const char*>(data + 1), size - 1);
  auto p = fleet::decode_policy(kvs, "/sgfw/", "edge-1");
  if (!p) {
    const std::string& m = p.error().message;
    bool named = m.rfind("key '", 0) == 0;
    for (const auto& [k, v] : kvs) named |= m.rfind(k + ": ", 0) == 0;
    if (!named) wrong("error without a key: " + m);
    return 0;
  }
  auto again = fleet::encode_policy(*p, "/sgfw/", "edge-1");
  if (!again) wrong("decoded policy does not encode: " + again.error().message);
  auto q = fleet::decode_policy(*again, "/sgfw/", "edge-1");
  if (!q) wrong("encoded policy does not decode: " + q.error().message);
  if (text_without_remote_appliances(*p) != text_without_remote_appliances(*q))
    wrong("the policy changed through encode and decode");
  auto fleet_view = fleet::decode_fleet_policy(kvs, "/sgfw/");
  if (!fleet_view) return 0;  // stricter: MACs per port of every appliance, not only edge-1's
  auto fleet_keys = fleet::encode_policy(*fleet_view, "/sgfw/", "edge-1");
  if (!fleet_keys) wrong("the fleet view does not encode: " + fleet_keys.error().message);
  auto fleet_again = fleet::decode_fleet_policy(*fleet_keys, "/sgfw/");
  if (!fleet_again) wrong("the encoded fleet view does not decode: " + fleet_again.error().message);
  if (policy::write_policy_yaml(*fleet_view, "") != policy::write_policy_yaml(*fleet_again, ""))
    wrong("the fleet view changed through encode and decode");
  auto local = fleet::decode_policy(*fleet_keys, "/sgfw/", "edge-1");
  if (!local || policy::write_policy_yaml(*local, "") != policy::write_policy_yaml(*p, ""))
    wrong("the fleet view's keys decode to another policy on edge-1");
  return 0;
}

}  // namespace sgfw::fuzz
