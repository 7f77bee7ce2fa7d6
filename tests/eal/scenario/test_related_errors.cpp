// Related ICMP errors about the responder's packets (docs/enforcement.md §4.3), through
// the real pipeline on the scenario rig: an error quoting a reply goes back to the
// responder that sent it, from the originator or a router on the path, and passes as
// related where no rule would admit it; from a local VM not part of the connection, or
// to anyone but the responder, it is a first packet judged by the rules. The errors
// about an originator's packet are in pipeline_scenarios ("local_vm_cannot_forge...").
#define BOOST_TEST_MODULE related_errors
#include <boost/test/unit_test.hpp>

#include <string>

#include "vms.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using namespace sgfw::scenario::ipv4;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {


// a, c: DNS clients (egress UDP 53 only); b: a DNS server (ingress UDP 53 only). No
// rule admits any ICMP, so an error passes only as related.
const std::string kPolicy =
    "securityGroups:\n"
    "  - name: client\n"
    "    rules:\n"
    "      - {name: dns, direction: Egress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
    "  - name: server\n"
    "    rules:\n"
    "      - {name: dns, direction: Ingress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
    "vms:\n"
    "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [client]}\n"
    "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [server]}\n"
    "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: [10.0.0.12], securityGroups: [client]}\n";

}  // namespace

// The responder is a local VM (b serves the internet): errors about b's reply reach b.
BOOST_AUTO_TEST_CASE(errors_about_a_local_responders_reply_reach_it) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacB, kInet, 6000, kB, 53), "vm-b"));
  Bytes reply = udp(kMacB, kInetMac, kB, 53, kInet, 6000);
  BOOST_TEST(rig.passes("vm-b", reply, "uplink"));
  // From the originator (the quoted destination) and from a router on the path.
  BOOST_TEST(rig.passes("uplink", icmp_error(kInetMac, kMacB, kInet, kB, 3, 3, reply), "vm-b"));
  BOOST_TEST(rig.passes("uplink", icmp_error(kInetMac, kMacB, kRouter, kB, 11, 0, reply), "vm-b"));
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 0u);
  // Quoting a reply with another source port: no connection, judged by rules.
  Bytes other = udp(kMacB, kInetMac, kB, 54, kInet, 6000);
  BOOST_TEST(rig.send("uplink", icmp_error(kInetMac, kMacB, kInet, kB, 3, 3, other)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}

// The responder is on the internet (a queries it): a's error about the reply goes back
// to the responder; c, not part of the connection, may not send one, and a may not
// send it to anyone else.
BOOST_AUTO_TEST_CASE(errors_about_a_remote_responders_reply_from_the_originator_only) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", udp(kMacA, kInetMac, kA, 5000, kInet, 53), "uplink"));
  Bytes reply = udp(kInetMac, kMacA, kInet, 53, kA, 5000);
  BOOST_TEST(rig.passes("uplink", reply, "vm-a"));
  BOOST_TEST(rig.passes("vm-a", icmp_error(kMacA, kInetMac, kA, kInet, 3, 3, reply), "uplink"));
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 0u);
  BOOST_TEST(rig.send("vm-c", icmp_error(kMacC, kInetMac, kC, kInet, 3, 3, reply)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.send("vm-a", icmp_error(kMacA, kInetMac, kA, kRouter, 3, 3, reply)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
}

// A reply never sent still names the connection (the quoted 5-tuple is the reverse of
// a live one): an error about it passes, as an error about a lost reply would.
BOOST_AUTO_TEST_CASE(an_error_quoting_the_reverse_of_a_one_way_connection_passes) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", udp(kMacA, kInetMac, kA, 5001, kInet, 53), "uplink"));
  Bytes reply = udp(kInetMac, kMacA, kInet, 53, kA, 5001);
  BOOST_TEST(rig.passes("vm-a", icmp_error(kMacA, kInetMac, kA, kInet, 3, 3, reply), "uplink"));
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 0u);
}
