// Connection timeouts through the packet path (docs/enforcement.md §4.4; catalogue S06,
// S16, S24): a connection is live until its state's timeout has passed since its last
// packet, and then its next packet is judged as if it had never existed, whether or not
// the control thread has reclaimed it yet. Each case checks a packet just inside the
// timeout and one just past it, with the rig's clock and exact drop counters (the
// default timeouts: tcp_syn 30 s, udp 30 s, udp_stream 180 s, icmp 30 s, other 600 s).
#define BOOST_TEST_MODULE timeouts
#include <boost/test/unit_test.hpp>

#include "one_vm.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using namespace sgfw::scenario::one_vm;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

// a may send anything; nothing may reach it unasked.
const std::string kPolicy = one_vm_policy(
    "{name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}");

Bytes gre(bool from_a) {
  Ip h;
  h.src = ip(from_a ? kA : kInet);
  h.dst = ip(from_a ? kInet : kA);
  h.proto = 47;
  return from_a ? ipv4_frame(kMacA, kInetMac, h, Bytes(8, 0)) : ipv4_frame(kInetMac, kMacA, h, Bytes(8, 0));
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_unanswered_syn_lives_30_seconds) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", tcp(kMacA, kInetMac, kA, 41000, kInet, 80, kSyn), "uplink"));
  BOOST_TEST(rig.passes("vm-a", tcp(kMacA, kInetMac, kA, 41001, kInet, 80, kSyn), "uplink"));
  rig.advance(29);
  BOOST_TEST(rig.passes("uplink", tcp(kInetMac, kMacA, kInet, 80, kA, 41000, kSyn | kAck), "vm-a"));
  rig.advance(2);  // 31 s after the second SYN
  BOOST_TEST(rig.send("uplink", tcp(kInetMac, kMacA, kInet, 80, kA, 41001, kSyn | kAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 1u);
}

BOOST_AUTO_TEST_CASE(one_way_udp_lives_30_seconds_answered_180) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", udp(kMacA, kInetMac, kA, 42000, kInet, 53), "uplink"));
  BOOST_TEST(rig.passes("vm-a", udp(kMacA, kInetMac, kA, 42001, kInet, 53), "uplink"));
  rig.advance(29);
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 42000), "vm-a"));  // now two-way
  rig.advance(2);
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 42001)).empty());  // a first packet
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  // The answered one lives 180 s from its last packet.
  rig.advance(177);
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 42000), "vm-a"));
  rig.advance(181);
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 42000)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
}

BOOST_AUTO_TEST_CASE(an_echo_request_lives_30_seconds) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", icmp_echo(kMacA, kInetMac, kA, kInet, true, 7), "uplink"));
  BOOST_TEST(rig.passes("vm-a", icmp_echo(kMacA, kInetMac, kA, kInet, true, 8), "uplink"));
  rig.advance(29);
  BOOST_TEST(rig.passes("uplink", icmp_echo(kInetMac, kMacA, kInet, kA, false, 7), "vm-a"));
  rig.advance(2);
  BOOST_TEST(rig.send("uplink", icmp_echo(kInetMac, kMacA, kInet, kA, false, 8)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}

// Another protocol (GRE): keyed by addresses and protocol, one-way until answered, and
// 600 s either way.
BOOST_AUTO_TEST_CASE(other_protocols_live_600_seconds) {
  Rig rig(kPolicy);
  BOOST_TEST(rig.passes("vm-a", gre(true), "uplink"));
  rig.advance(599);
  BOOST_TEST(rig.passes("uplink", gre(false), "vm-a"));
  rig.advance(599);
  BOOST_TEST(rig.passes("uplink", gre(false), "vm-a"));
  rig.advance(601);
  BOOST_TEST(rig.send("uplink", gre(false)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.passes("vm-a", gre(true), "uplink"));  // a's own packet opens it again
}
