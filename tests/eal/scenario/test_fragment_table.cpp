// The fragment-train table at its capacity (docs/enforcement.md §4.7): a new
// datagram's first fragment makes room by ending the oldest train, whose later
// fragments are then orphans (`fragment-orphan`, fail closed); every other train
// still carries its datagram. And a train is no way around the rules: a first fragment
// reusing a live train's datagram id is judged by its own ports. Crafted frames through
// the real pipeline on loopback ring ports, exact counters.
#define BOOST_TEST_MODULE fragment_table
#include <boost/test/unit_test.hpp>

#include <vector>

#include "daemon/flow_options.hpp"
#include "one_vm.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using namespace sgfw::scenario::one_vm;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

// a may send UDP to port 53 only.
const std::string kPolicy = one_vm_policy(
    "{name: dns, direction: Egress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}");

// The two fragments of datagram `id` (one UDP connection, a's DNS queries).
std::vector<sgfw::scenario::Bytes> datagram(uint16_t id) {
  return udp_fragments(kMacA, kInetMac, kA, 5000, kInet, 53, 2000, id);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_full_table_ends_the_oldest_train) {
  Rig rig(kPolicy);
  const uint32_t capacity = sgfw::daemon::kFragmentTrains;
  // Datagram ids 1 .. capacity: every first fragment passes and starts a train.
  uint64_t passed = 0;
  for (uint32_t id = 1; id <= capacity;) {
    std::vector<Bytes> burst;
    for (; id <= capacity && burst.size() < 32; ++id) {
      auto frags = datagram(static_cast<uint16_t>(id));
      BOOST_REQUIRE(frags.size() == 2u);
      burst.push_back(frags[0]);
    }
    passed += rig.send("vm-a", burst).size();
  }
  BOOST_TEST(passed == capacity);
  BOOST_TEST(rig.fragments().size() == capacity);
  BOOST_TEST(rig.flows().size() == 1u);  // one UDP connection carried them all
  // One more datagram: its first fragment passes; the table stays at its capacity.
  const auto newest = datagram(static_cast<uint16_t>(capacity + 1));
  BOOST_TEST(rig.passes("vm-a", newest[0], "uplink"));
  BOOST_TEST(rig.fragments().size() == capacity);
  // The oldest train (id 1) was ended for it: its second fragment is an orphan.
  BOOST_TEST(rig.send("vm-a", datagram(1)[1]).empty());
  BOOST_TEST(rig.drops(DropReason::kFragmentOrphan) == 1u);
  // The next oldest, a middle one, the last of the full table and the newest still follow.
  for (uint32_t id : {2u, capacity / 2, capacity, capacity + 1})
    BOOST_TEST(rig.passes("vm-a", datagram(static_cast<uint16_t>(id))[1], "uplink"), id);
  BOOST_TEST(rig.drops(DropReason::kFragmentOrphan) == 1u);
  uint64_t other_drops = 0;
  for (size_t r = 0; r < sgfw::core::kDropReasonCount; ++r)
    if (static_cast<DropReason>(r) != DropReason::kFragmentOrphan) other_drops += rig.drops(static_cast<DropReason>(r));
  BOOST_TEST(other_drops == 0u);
}

// A first fragment with a live train's (source, destination, protocol, id) but a denied
// port is a first packet like any other: `no-rule`. The train it shares an id with
// still carries its own datagram's later fragments, and the denied datagram's never
// reach a receiver with their first fragment.
BOOST_AUTO_TEST_CASE(a_first_fragment_reusing_a_trains_id_is_judged_by_its_ports) {
  Rig rig(kPolicy);
  const auto dns = datagram(777);
  BOOST_TEST(rig.passes("vm-a", dns[0], "uplink"));
  const auto denied = udp_fragments(kMacA, kInetMac, kA, 5000, kInet, 7001, 2000, 777);
  BOOST_REQUIRE(denied.size() == 2u);
  BOOST_TEST(rig.send("vm-a", denied[0]).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.passes("vm-a", dns[1], "uplink"));
  BOOST_TEST(rig.fragments().size() == 1u);  // no train for the denied datagram
  BOOST_TEST(rig.flows().size() == 1u);
}
