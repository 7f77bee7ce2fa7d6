// The classification cache in the real pipeline (docs/design/packet-path.md, "The
// classification cache"): a repeated check is answered by the cache (its hit counter
// proves it), with the same verdict and the same exact counters as rte_acl's; a
// policy reload or a set-groups makes every cached answer, allow or deny, unusable.
// Denials are remembered at once; allows are sampled, so those cases send until one is.
#define BOOST_TEST_MODULE classify_cache_scenarios
#include <boost/test/unit_test.hpp>

#include "vms.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

const std::string kA = "10.0.0.10", kB = "10.0.0.11", kInet = "203.0.113.7";

const std::string kEgress54Rule =
    "      - {name: dns, direction: Egress, protocol: UDP, port: 54, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n";

// a: egress UDP 53 (or `a_rules`). b: ingress UDP 53 (plus `b_extra`). Group client54:
// egress UDP 54 (no VM).
std::string policy(const std::string& a_rules =
                       "      - {name: dns, direction: Egress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n",
                   const std::string& b_extra = "") {
  return "securityGroups:\n"
         "  - name: client\n"
         "    rules:\n" +
         a_rules +
         "  - name: client54\n"
         "    rules:\n" +
         kEgress54Rule +
         "  - name: server\n"
         "    rules:\n"
         "      - {name: dns, direction: Ingress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n" +
         b_extra +
         "vms:\n"
         "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [client]}\n"
         "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [server]}\n";
}
const std::string kPort54 =
    "      - {name: alt, direction: Ingress, protocol: UDP, port: 54, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n";
// a's rule moved to port 54: a's egress context keeps its index, with other content.
const std::string kEgress54 = kEgress54Rule;

uint64_t hits(Rig& rig) { return rig.pipeline().classify_caches().v4.hits(); }
uint64_t misses(Rig& rig) { return rig.pipeline().classify_caches().v4.misses(); }

// Allowed answers are remembered one time in a few (sampled): sends a's new UDP
// connections to kInet:53 from source ports `sport`, `sport`+1, ... until one is
// answered by the cache. Returns how many were sent (each passed, to the uplink).
unsigned until_cached(Rig& rig, uint16_t sport) {
  const uint64_t before = hits(rig);
  unsigned sent = 0;
  while (hits(rig) == before && sent < 200) {
    BOOST_TEST(rig.passes("vm-a", udp(kMacA, kInetMac, kA, static_cast<uint16_t>(sport + sent), kInet, 53), "uplink"));
    ++sent;
  }
  BOOST_TEST_REQUIRE(hits(rig) == before + 1);
  return sent;
}

}  // namespace

// A denied check repeated from other source ports: one rte_acl answer, then the cache's,
// each packet dropped as no-rule.
BOOST_AUTO_TEST_CASE(denied_check_answered_by_cache_for_every_source_port) {
  Rig rig(policy());
  for (uint16_t sport = 1000; sport < 1005; ++sport)
    BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacB, kInet, sport, kB, 54)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 5u);
  BOOST_TEST(rig.port_drops("uplink", DropReason::kNoRule) == 5u);
  BOOST_TEST(misses(rig) == 1u);
  BOOST_TEST(hits(rig) == 4u);
  // The allowed port is another key: a miss (remembered or not: allows are sampled).
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacB, kInet, 2000, kB, 53), "vm-b"));
  BOOST_TEST(misses(rig) == 2u);
  BOOST_TEST(hits(rig) == 4u);
  BOOST_TEST(rig.flows().size() == 1u);
}

// The dangerous direction: an allow cached before a reload that moves the rule must
// not let a new connection through after it (the context index is the same before
// and after, so only the snapshot tells the answers apart).
BOOST_AUTO_TEST_CASE(reload_forgets_cached_allow) {
  Rig rig(policy());
  const unsigned sent = until_cached(rig, 5000);
  BOOST_TEST(misses(rig) == sent - 1);
  const std::string moved = policy(kEgress54);
  BOOST_REQUIRE(rig.control().reload(&moved, "p2", {}).has_value());
  BOOST_TEST(rig.send("vm-a", udp(kMacA, kInetMac, kA, 4000, kInet, 53)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(hits(rig) == 1u);
  BOOST_TEST(misses(rig) == sent);
}

BOOST_AUTO_TEST_CASE(reload_forgets_cached_deny) {
  Rig rig(policy());
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacB, kInet, 1000, kB, 54)).empty());
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacB, kInet, 1001, kB, 54)).empty());
  BOOST_TEST(hits(rig) == 1u);
  const std::string opened = policy(), with54 = policy(
      "      - {name: dns, direction: Egress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n",
      kPort54);
  BOOST_REQUIRE(rig.control().reload(&with54, "p2", {}).has_value());
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacB, kInet, 1002, kB, 54), "vm-b"));
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
  // And back: the port closes again for new connections.
  BOOST_REQUIRE(rig.control().reload(&opened, "p3", {}).has_value());
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacB, kInet, 1003, kB, 54)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 3u);
}

// A set-groups (the incremental compile) publishes a new snapshot too: a's cached allow
// is not used once a's group is another.
BOOST_AUTO_TEST_CASE(set_groups_forgets_cached_answers) {
  Rig rig(policy());
  until_cached(rig, 6000);
  BOOST_REQUIRE(rig.control().set_groups("a", {"client54"}, {}).has_value());
  BOOST_TEST(rig.send("vm-a", udp(kMacA, kInetMac, kA, 4000, kInet, 53)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(hits(rig) == 1u);
}
