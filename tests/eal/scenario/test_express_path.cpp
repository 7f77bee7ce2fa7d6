// The express path (docs/design/packet-path.md "Express path"): an established IPv4
// packet passes after one connection lookup, and only where stage 1 would have passed
// it with the same decisions. Each case establishes a connection (so its express word
// is current, which the case asserts), then sends frames with the connection's 5-tuple
// that stage 1 must refuse, and checks the exact drop counters and that the legitimate
// packets still pass.
#define BOOST_TEST_MODULE express_path
#include <boost/test/unit_test.hpp>

#include "frames6.hpp"
#include "vms.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

const Mac kMacA2 = mac("02:00:00:00:00:aa");
const std::string kA = "10.0.0.10", kB = "10.0.0.11", kC = "10.0.0.12", kInet = "203.0.113.7";
constexpr uint8_t kTcpSyn = 0x02, kTcpAck = 0x10, kTcpSynAck = 0x12, kTcpSynFin = 0x03;

// a and c: clients (egress everything). b: a server (TCP 80 in). `a_line`/`c_line`
// replace the VMs' lines (a reload that moves an address or a MAC).
std::string policy(const std::string& a_line = "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [client]}\n",
                   const std::string& c_line = "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: [10.0.0.12], securityGroups: [client]}\n") {
  return "securityGroups:\n"
         "  - name: client\n"
         "    rules:\n"
         "      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
         "  - name: server\n"
         "    rules:\n"
         "      - {name: web, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
         "vms:\n" +
         a_line + "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [server]}\n" +
         c_line;
}

// The express word of the only connection in the table.
uint64_t express_word(Rig& rig) {
  uint64_t w = 0;
  size_t n = 0;
  rig.flows().for_each([&](int32_t, const sgfw::flow::FlowEntry& e, const sgfw::flow::FlowCold&) {
    w = e.express.load();
    ++n;
  });
  BOOST_REQUIRE(n == 1u);
  return w;
}

// a -> the internet over UDP, answered: the connection is established and its
// express word current.
void establish_udp(Rig& rig) {
  BOOST_REQUIRE(rig.passes("vm-a", udp(kMacA, kInetMac, kA, 5000, kInet, 53), "uplink"));
  BOOST_REQUIRE(rig.passes("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 5000), "vm-a"));
  BOOST_REQUIRE(express_word(rig) != 0u);
}

// How many of the frames that left are `frame` on `port`.
size_t copies(const std::vector<Out>& out, const std::string& port, const Bytes& frame) {
  size_t n = 0;
  for (const Out& o : out) n += o.port == port && o.frame == frame;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(established_tuple_from_the_wrong_place_is_judged_by_stage1) {
  Rig rig(policy());
  establish_udp(rig);
  // c (its own port and MAC) sends with a's address: spoofed.
  BOOST_TEST(rig.send("vm-c", udp(kMacC, kInetMac, kA, 5000, kInet, 53)).empty());
  // a's port, a MAC no VM has there: spoofed.
  BOOST_TEST(rig.send("vm-a", udp(kMacC, kInetMac, kA, 5000, kInet, 53)).empty());
  // a's port and MAC with a's MAC moved to another port: the uplink claiming a's address.
  BOOST_TEST(rig.send("uplink", udp(kMacA, kInetMac, kA, 5000, kInet, 53)).empty());
  // The reply direction sent by a VM (the internet's address from vm-a): spoofed.
  BOOST_TEST(rig.send("vm-a", udp(kMacA, kMacA, kInet, 53, kA, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 4u);
  // The reply to another VM's MAC: dst-mismatch; to the broadcast MAC: broadcast.
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacC, kInet, 53, kA, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kDstMismatch) == 1u);
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kBroadcast, kInet, 53, kA, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kBroadcast) == 1u);
  // The connection itself still passes both ways, and nothing else was dropped.
  BOOST_TEST(rig.passes("vm-a", udp(kMacA, kInetMac, kA, 5000, kInet, 53), "uplink"));
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 5000), "vm-a"));
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 4u);
  BOOST_TEST(rig.flows().size() == 1u);
}

BOOST_AUTO_TEST_CASE(established_tcp_keeps_flag_checks_and_vm_to_vm_macs) {
  Rig rig(policy());
  BOOST_REQUIRE(rig.passes("vm-a", tcp(kMacA, kMacB, kA, 40000, kB, 80, kTcpSyn), "vm-b"));
  BOOST_REQUIRE(rig.passes("vm-b", tcp(kMacB, kMacA, kB, 80, kA, 40000, kTcpSynAck), "vm-a"));
  BOOST_REQUIRE(rig.passes("vm-a", tcp(kMacA, kMacB, kA, 40000, kB, 80, kTcpAck), "vm-b"));
  BOOST_REQUIRE(express_word(rig) != 0u);
  BOOST_TEST(rig.send("vm-a", tcp(kMacA, kMacB, kA, 40000, kB, 80, kTcpSynFin)).empty());
  BOOST_TEST(rig.drops(DropReason::kInvalidTcpFlags) == 1u);
  // From a to b's address with c's MAC as destination: dst-mismatch.
  BOOST_TEST(rig.send("vm-a", tcp(kMacA, kMacC, kA, 40000, kB, 80, kTcpAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kDstMismatch) == 1u);
  // b's answer sent from c's port with b's MAC: no VM with that MAC there: spoofed.
  BOOST_TEST(rig.send("vm-c", tcp(kMacB, kMacA, kB, 80, kA, 40000, kTcpAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 1u);
  BOOST_TEST(rig.passes("vm-b", tcp(kMacB, kMacA, kB, 80, kA, 40000, kTcpAck), "vm-a"));
}

BOOST_AUTO_TEST_CASE(a_reload_moving_an_address_or_a_mac_ends_the_express_path) {
  Rig rig(policy());
  establish_udp(rig);
  // a's address moves to c (a gets another): a's frames with it are spoofed from now on.
  const std::string moved =
      policy("  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.20], securityGroups: [client]}\n",
             "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: [10.0.0.12, 10.0.0.10], securityGroups: [client]}\n");
  BOOST_REQUIRE(rig.control().reload(&moved, "moved", {}).has_value());
  BOOST_TEST(rig.send("vm-a", udp(kMacA, kInetMac, kA, 5000, kInet, 53)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 1u);
  // The answer now goes to c, the address's owner, with c's MAC only.
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kDstMismatch) == 1u);
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacC, kInet, 53, kA, 5000), "vm-c"));
  // a's MAC changes: frames with the old MAC are spoofed, the new MAC's pass.
  const std::string new_mac =
      policy("  - {name: a, port: vm-a, mac: '02:00:00:00:00:aa', ips: [10.0.0.10], securityGroups: [client]}\n");
  BOOST_REQUIRE(rig.control().reload(&new_mac, "new-mac", {}).has_value());
  BOOST_TEST(rig.passes("vm-a", udp(kMacA2, kInetMac, kA, 5000, kInet, 53), "uplink"));
  BOOST_TEST(express_word(rig) != 0u);
  BOOST_TEST(rig.send("vm-a", udp(kMacA, kInetMac, kA, 5000, kInet, 53)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 2u);
  BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacA, kInet, 53, kA, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kDstMismatch) == 2u);
  BOOST_TEST(rig.passes("uplink", udp(kInetMac, kMacA2, kInet, 53, kA, 5000), "vm-a"));
}

// An allowed address pair's end is decided per frame by the pair's MAC: its
// connections never get an express word, and the pair's rules keep applying.
BOOST_AUTO_TEST_CASE(connections_of_an_allowed_address_pair_stay_on_stage1) {
  const Mac kPairMac = mac("02:00:00:00:0d:01"), kMacD = mac("02:00:00:00:00:0d");
  Rig rig(policy() + "  - {name: d, port: vm-c, mac: '02:00:00:00:00:0d', ips: [10.0.0.13], securityGroups: [client],"
                     " allowedAddressPairs: [{ip: 10.0.0.100, mac: '02:00:00:00:0d:01'}]}\n");
  BOOST_REQUIRE(rig.passes("vm-c", udp(kPairMac, kInetMac, "10.0.0.100", 7000, kInet, 53), "uplink"));
  BOOST_REQUIRE(rig.passes("uplink", udp(kInetMac, kPairMac, kInet, 53, "10.0.0.100", 7000), "vm-c"));
  BOOST_TEST(express_word(rig) == 0u);
  // The answer to d's own MAC is no answer to the pair: dst-mismatch, every time.
  for (int i = 0; i < 2; ++i) BOOST_TEST(rig.send("uplink", udp(kInetMac, kMacD, kInet, 53, "10.0.0.100", 7000)).empty());
  BOOST_TEST(rig.drops(DropReason::kDstMismatch) == 2u);
  BOOST_TEST(rig.passes("vm-c", udp(kPairMac, kInetMac, "10.0.0.100", 7000, kInet, 53), "uplink"));
  BOOST_TEST(express_word(rig) == 0u);
}

// The same over IPv6: a's established connection's 5-tuple from the wrong port, MAC,
// direction, to a wrong MAC or to a multicast MAC.
BOOST_AUTO_TEST_CASE(ipv6_established_tuple_from_the_wrong_place_is_judged_by_stage1) {
  Rig rig(
      "securityGroups:\n"
      "  - name: client\n"
      "    rules:\n"
      "      - {name: out6, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
      "vms:\n"
      "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: ['2001:db8::a'], securityGroups: [client]}\n"
      "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: ['2001:db8::c'], securityGroups: [client]}\n");
  const std::string a6 = "2001:db8::a", inet6 = "2001:db8:ffff::7";
  BOOST_REQUIRE(rig.passes("vm-a", udp6(kMacA, kInetMac, a6, 5000, inet6, 53), "uplink"));
  BOOST_REQUIRE(rig.passes("uplink", udp6(kInetMac, kMacA, inet6, 53, a6, 5000), "vm-a"));
  uint64_t w = 0;
  rig.flows6().for_each([&](int32_t, const sgfw::flow::FlowEntry6& e, const sgfw::flow::FlowCold6&) { w = e.express.load(); });
  BOOST_REQUIRE(w != 0u);
  BOOST_TEST(rig.send("vm-c", udp6(kMacC, kInetMac, a6, 5000, inet6, 53)).empty());
  BOOST_TEST(rig.send("vm-a", udp6(kMacC, kInetMac, a6, 5000, inet6, 53)).empty());
  BOOST_TEST(rig.send("uplink", udp6(kMacA, kInetMac, a6, 5000, inet6, 53)).empty());
  BOOST_TEST(rig.send("vm-a", udp6(kMacA, kMacA, inet6, 53, a6, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 4u);
  BOOST_TEST(rig.send("uplink", udp6(kInetMac, kMacC, inet6, 53, a6, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kDstMismatch) == 1u);
  BOOST_TEST(rig.send("uplink", udp6(kInetMac, mac("33:33:00:00:00:01"), inet6, 53, a6, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kBroadcast) == 1u);
  BOOST_TEST(rig.passes("vm-a", udp6(kMacA, kInetMac, a6, 5000, inet6, 53), "uplink"));
  BOOST_TEST(rig.passes("uplink", udp6(kInetMac, kMacA, inet6, 53, a6, 5000), "vm-a"));
  BOOST_TEST(rig.flows6().size() == 1u);
}

// One burst of which the express stage passes some frames: the others are judged by
// stage 1 with their own addresses (lookup_links looks up only the frames left, and
// puts each answer back at its frame). Frames alternate between express and stage 1.
BOOST_AUTO_TEST_CASE(a_burst_mixing_express_and_stage1_frames_judges_each_by_its_own_addresses) {
  Rig rig(policy());
  establish_udp(rig);
  const Bytes reply = udp(kInetMac, kMacA, kInet, 53, kA, 5000);          // express, to vm-a
  const Bytes web = tcp(kInetMac, kMacB, kInet, 40001, kB, 80, kTcpSyn);   // new, allowed, to vm-b
  const Bytes ssh = tcp(kInetMac, kMacB, kInet, 40002, kB, 22, kTcpSyn);   // new, no rule
  const Bytes spoof = udp(kInetMac, kMacC, kC, 53, kB, 5000);              // a VM's address from the uplink
  const Bytes stray = udp(kInetMac, kMacC, kInet, 53, "10.9.9.9", 5000);   // to no local VM
  std::vector<Out> out = rig.send("uplink", {reply, web, reply, ssh, reply, spoof, reply, stray, reply});
  BOOST_TEST(out.size() == 6u);
  BOOST_TEST(copies(out, "vm-a", reply) == 5u);
  BOOST_TEST(copies(out, "vm-b", web) == 1u);
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 1u);
  BOOST_TEST(rig.drops(DropReason::kNotLocal) == 1u);
  // From a VM: its established frames take the express path, a new one to b and a
  // spoofed one (c's address) stage 1.
  const Bytes out_a = udp(kMacA, kInetMac, kA, 5000, kInet, 53);
  const Bytes to_web = tcp(kMacA, kMacB, kA, 40003, kB, 80, kTcpSyn);
  const Bytes forged = udp(kMacA, kInetMac, kC, 5000, kInet, 53);
  out = rig.send("vm-a", {out_a, to_web, out_a, forged, out_a});
  BOOST_TEST(out.size() == 4u);
  BOOST_TEST(copies(out, "uplink", out_a) == 3u);
  BOOST_TEST(copies(out, "vm-b", to_web) == 1u);
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 2u);
  BOOST_TEST(rig.flows().size() == 3u);  // a's UDP, the web connections from the internet and from a
}
