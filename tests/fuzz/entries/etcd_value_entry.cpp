// The etcd_value fuzz target (docs/fuzzing.md): one value of the etcd key layout
// (docs/fleet.md) among a small valid policy's keys. Input: byte 0 picks the key's kind
// (subnet, group, VM); the rest is the value. Properties: an error names a key (starts
// with a key of the input and ": ", or "key '"); a decoded policy encodes and decodes
// back to the same policy.
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
  if (policy::write_policy_yaml(*p, "") != policy::write_policy_yaml(*q, ""))
    wrong("the policy changed through encode and decode");
  return 0;
}

}  // namespace sgfw::fuzz
