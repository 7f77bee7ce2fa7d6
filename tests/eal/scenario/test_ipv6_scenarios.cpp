// IPv6 pipeline scenarios (docs/enforcement.md §7, docs/testing.md): crafted IPv6
// frames through the real Pipeline, connection tables, RCU publisher and control plane
// on loopback ring ports, asserting where each frame goes and the exact drop counters:
// the IPv4 stateful cases again over IPv6, then neighbour discovery, the RA guard,
// MLD, DHCPv6 and link-local addresses.
#define BOOST_TEST_MODULE ipv6_scenarios
#include <boost/test/unit_test.hpp>

#include <set>

#include "frames6.hpp"
#include "vms.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {

const std::string kA = "2001:db8::a", kB = "2001:db8::b", kC = "2001:db8::c", kInet = "2001:db8:99::7",
                  kRouter = "2001:db8:98::1";
const Addr6 kRouterLl = ip6("fe80::1"), kAllNodes = ip6("ff02::1"), kUnspecified = ip6("::");

// As the IPv4 scenarios' policy: a, c clients (egress everything, no ingress); b a
// server (ingress TCP 80, UDP 53 and ICMP from anywhere, no egress). Dual stack.
std::string policy(bool client_egress = true) {
  return std::string("securityGroups:\n"
                     "  - name: client\n"
                     "    rules:\n") +
         (client_egress ? "      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
                          "      - {name: out6, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
                        : "      []\n") +
         "  - name: server\n"
         "    rules:\n"
         "      - {name: web, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
         "      - {name: dns, direction: Ingress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
         "      - {name: ping, direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
         "vms:\n"
         "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10, '2001:db8::a'], securityGroups: [client]}\n"
         "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11, '2001:db8::b'], securityGroups: [server]}\n"
         "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: [10.0.0.12, '2001:db8::c'], securityGroups: [client]}\n";
}

std::multiset<std::string> ports_of(const std::vector<Out>& outs) {
  std::multiset<std::string> s;
  for (const auto& o : outs) s.insert(o.port);
  return s;
}
const std::multiset<std::string> kAllButA = {"vm-b", "vm-c", "uplink"};
const std::multiset<std::string> kVmPorts = {"vm-a", "vm-b", "vm-c"};

}  // namespace

BOOST_AUTO_TEST_CASE(tcp_connection_and_its_return_traffic) {
  Rig rig(policy());
  BOOST_TEST(rig.passes("vm-a", tcp6(kMacA, kInetMac, kA, 40000, kInet, 443, kSyn), "uplink"));
  BOOST_TEST(rig.flows6().size() == 1u);
  BOOST_TEST(rig.flows().size() == 0u);
  BOOST_TEST(rig.passes("uplink", tcp6(kInetMac, kMacA, kInet, 443, kA, 40000, kSyn | kAck), "vm-a"));
  BOOST_TEST(rig.passes("vm-a", tcp6(kMacA, kInetMac, kA, 40000, kInet, 443, kAck), "uplink"));
  // A new connection to a (no ingress rule), and a stray ACK: no-rule, no-connection.
  BOOST_TEST(rig.send("uplink", tcp6(kInetMac, kMacA, kInet, 443, kA, 40001, kSyn)).empty());
  BOOST_TEST(rig.send("uplink", tcp6(kInetMac, kMacA, kInet, 443, kA, 40002, kAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 1u);
  // Between VMs: a to b's web port passes both checks; to another port, b's ingress denies.
  BOOST_TEST(rig.passes("vm-a", tcp6(kMacA, kMacB, kA, 40003, kB, 80, kSyn), "vm-b"));
  BOOST_TEST(rig.send("vm-a", tcp6(kMacA, kMacB, kA, 40004, kB, 81, kSyn)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
}

BOOST_AUTO_TEST_CASE(echo_state_is_directional) {
  Rig rig(policy());
  BOOST_TEST(rig.passes("vm-a", icmp6_echo(kMacA, kInetMac, kA, kInet, true, 77), "uplink"));
  BOOST_TEST(rig.send("uplink", icmp6_echo(kInetMac, kMacA, kInet, kA, true, 77)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.passes("uplink", icmp6_echo(kInetMac, kMacA, kInet, kA, false, 77), "vm-a"));
  // An unsolicited reply to a: no state, judged by rules (a has no ingress).
  BOOST_TEST(rig.send("uplink", icmp6_echo(kInetMac, kMacA, kInet, kA, false, 78)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
}

BOOST_AUTO_TEST_CASE(related_errors_come_from_the_path_and_go_to_the_sender) {
  Rig rig(policy());
  Bytes query = udp6(kMacA, kInetMac, kA, 5000, kInet, 53);
  BOOST_TEST(rig.passes("vm-a", query, "uplink"));
  // b (no egress rule) forges "port unreachable" about a's query: not related.
  BOOST_TEST(rig.send("vm-b", icmp6_error(kMacB, kMacA, kB, kA, 1, 4, query)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.passes("uplink", icmp6_error(kInetMac, kMacA, kInet, kA, 1, 4, query), "vm-a"));
  BOOST_TEST(rig.passes("uplink", icmp6_error(kInetMac, kMacA, kRouter, kA, 2, 0, query), "vm-a"));
  // The outer destination must be the quoted sender (c has no ICMP ingress).
  BOOST_TEST(rig.send("uplink", icmp6_error(kInetMac, kMacC, kInet, kC, 1, 4, query)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
  // After the connection is revoked, its errors are no longer related.
  const std::string revoked = policy(false);
  BOOST_REQUIRE(rig.control().reload(&revoked, "p2", {}).has_value());
  BOOST_TEST(rig.send("uplink", icmp6_error(kInetMac, kMacA, kInet, kA, 1, 4, query)).empty());
  BOOST_TEST(rig.drops(DropReason::kRevoked) == 1u);
  BOOST_TEST(rig.flows6().size() == 0u);
}

// A router quoting only 8 bytes of a connection's TCP header (RFC 792's minimum, kept
// by RFC 4443's "as much as fits"): related. One byte less: not a quote sgfw reads, so
// judged by the rules (a has no ingress rule).
BOOST_AUTO_TEST_CASE(an_error_quoting_8_bytes_of_tcp_is_related) {
  Rig rig(policy());
  Bytes syn = tcp6(kMacA, kInetMac, kA, 40010, kInet, 443, kSyn);
  BOOST_TEST(rig.passes("vm-a", syn, "uplink"));
  BOOST_TEST(rig.passes("uplink", icmp6_error(kInetMac, kMacA, kRouter, kA, 2, 0, syn, 8), "vm-a"));
  BOOST_TEST(rig.send("uplink", icmp6_error(kInetMac, kMacA, kRouter, kA, 2, 0, syn, 7)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}

// S26 over IPv6: b's database port admits the members of group `app` by reference. c
// joining `app` (set-groups) admits its IPv6 connection; leaving it revokes that
// connection at its next packet, while a's connection, still admitted, keeps passing.
BOOST_AUTO_TEST_CASE(a_group_reference_follows_membership_changes) {
  const std::string refs =
      "securityGroups:\n"
      "  - {name: client, rules: [{name: out6, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: '::/0'}}}]}\n"
      "  - {name: app, rules: []}\n"
      "  - {name: db, rules: [{name: pg, direction: Ingress, protocol: TCP, port: 5432, remote: {securityGroupRef: {name: app}}}]}\n"
      "vms:\n"
      "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: ['2001:db8::a'], securityGroups: [client, app]}\n"
      "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: ['2001:db8::b'], securityGroups: [db]}\n"
      "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: ['2001:db8::c'], securityGroups: [client]}\n";
  Rig rig(refs);
  BOOST_TEST(rig.passes("vm-a", tcp6(kMacA, kMacB, kA, 40020, kB, 5432, kSyn), "vm-b"));
  BOOST_TEST(rig.send("vm-c", tcp6(kMacC, kMacB, kC, 40021, kB, 5432, kSyn)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_REQUIRE(rig.control().set_groups("c", {"client", "app"}, {}).has_value());
  BOOST_TEST(rig.passes("vm-c", tcp6(kMacC, kMacB, kC, 40021, kB, 5432, kSyn), "vm-b"));
  BOOST_TEST(rig.passes("vm-b", tcp6(kMacB, kMacC, kB, 5432, kC, 40021, kSyn | kAck), "vm-c"));
  BOOST_REQUIRE(rig.control().set_groups("c", {"client"}, {}).has_value());
  BOOST_TEST(rig.send("vm-c", tcp6(kMacC, kMacB, kC, 40021, kB, 5432, kAck)).empty());
  BOOST_TEST(rig.drops(DropReason::kRevoked) == 1u);
  BOOST_TEST(rig.passes("vm-b", tcp6(kMacB, kMacA, kB, 5432, kA, 40020, kSyn | kAck), "vm-a"));
  BOOST_TEST(rig.passes("vm-a", tcp6(kMacA, kMacB, kA, 40020, kB, 5432, kAck), "vm-b"));
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.flows6().size() == 1u);
}

BOOST_AUTO_TEST_CASE(fragments_follow_their_first_fragment) {
  Rig rig(policy());
  auto allowed = udp6_fragments(kInetMac, kMacB, kInet, 6000, kB, 53, 3000, 0x1111);
  BOOST_REQUIRE(allowed.size() == 3u);
  for (const auto& f : allowed) BOOST_TEST(rig.passes("uplink", f, "vm-b"));
  auto denied = udp6_fragments(kInetMac, kMacB, kInet, 6000, kB, 54, 3000, 0x2222);
  for (const auto& f : denied) BOOST_TEST(rig.send("uplink", f).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.drops(DropReason::kFragmentOrphan) == 2u);
  // Later fragments alone; and a later fragment of the allowed train with another id.
  auto orphan = udp6_fragments(kInetMac, kMacB, kInet, 6000, kB, 53, 3000, 0x3333);
  BOOST_TEST(rig.send("uplink", orphan[1]).empty());
  BOOST_TEST(rig.send("uplink", orphan[2]).empty());
  BOOST_TEST(rig.drops(DropReason::kFragmentOrphan) == 4u);
}

BOOST_AUTO_TEST_CASE(later_fragments_follow_revalidation) {
  Rig rig(policy());
  auto frags = udp6_fragments(kMacA, kInetMac, kA, 5000, kInet, 53, 3000, 0x4242);
  BOOST_TEST(rig.passes("vm-a", frags[0], "uplink"));
  BOOST_TEST(rig.passes("vm-a", frags[1], "uplink"));
  const std::string revoked = policy(false);
  BOOST_REQUIRE(rig.control().reload(&revoked, "p2", {}).has_value());
  BOOST_TEST(rig.send("vm-a", frags[2]).empty());
  BOOST_TEST(rig.drops(DropReason::kRevoked) == 1u);
}

BOOST_AUTO_TEST_CASE(sources_are_the_vms_own) {
  Rig rig(policy());
  BOOST_TEST(rig.send("vm-a", tcp6(kMacA, kInetMac, kB, 40000, kInet, 443, kSyn)).empty());
  BOOST_TEST(rig.send("uplink", tcp6(kInetMac, kMacB, kA, 40000, kB, 80, kSyn)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 2u);
  // Link-local addresses serve neighbour discovery, MLD and DHCPv6 only.
  BOOST_TEST(rig.send("vm-a", udp6(kMacA, kInetMac, "fe80::a", 5000, kInet, 53)).empty());
  BOOST_TEST(rig.send("uplink", icmp6_echo(kInetMac, kMacA, "fe80::1", "fe80::a", true, 1)).empty());
  BOOST_TEST(rig.drops(DropReason::kLinkLocal) == 2u);
  // A multicast destination MAC on ordinary traffic.
  BOOST_TEST(rig.send("vm-a", udp6(kMacA, multicast_mac(ip6("ff02::fb")), kA, 5353, "ff02::fb", 5353)).empty());
  BOOST_TEST(rig.drops(DropReason::kBroadcast) == 1u);
}

BOOST_AUTO_TEST_CASE(neighbour_discovery_from_a_vm) {
  Rig rig(policy());
  const Addr6 solicited_b = ip6("ff02::1:ff00:b");
  const Addr6 ll_a = link_local(kMacA);
  // A solicitation goes to every other port, like an ARP request; also for DAD (::).
  BOOST_TEST(ports_of(rig.send("vm-a", nd_solicit(kMacA, multicast_mac(solicited_b), ll_a, solicited_b, ip6(kB),
                                                  kMacA))) == kAllButA);
  BOOST_TEST(ports_of(rig.send("vm-a", nd_solicit(kMacA, multicast_mac(solicited_b), kUnspecified, solicited_b,
                                                  ip6(kA), std::nullopt))) == kAllButA);
  BOOST_TEST(ports_of(rig.send("vm-a", router_solicit(kMacA, ll_a, kMacA))) == kAllButA);
  // An advertisement for its own address: unicast to the asker's port, or to everyone.
  BOOST_TEST(rig.passes("vm-a", nd_advert(kMacA, kMacB, ip6(kA), link_local(kMacB), ip6(kA), kNaSolicited, kMacA),
                        "vm-b"));
  BOOST_TEST(ports_of(rig.send("vm-a", nd_advert(kMacA, multicast_mac(kAllNodes), ll_a, kAllNodes, ll_a,
                                                 kNaOverride, kMacA))) == kAllButA);
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 0u);
  // Spoofing: another VM's address as target; a forged link-layer option; another
  // VM's EUI-64 link-local address as source or target; another VM's global source.
  BOOST_TEST(rig.send("vm-a", nd_advert(kMacA, multicast_mac(kAllNodes), ll_a, kAllNodes, ip6(kB), kNaOverride,
                                        kMacA)).empty());
  BOOST_TEST(rig.send("vm-a", nd_solicit(kMacA, multicast_mac(solicited_b), ll_a, solicited_b, ip6(kB),
                                         kMacC)).empty());
  BOOST_TEST(rig.send("vm-a", nd_advert(kMacA, multicast_mac(kAllNodes), ll_a, kAllNodes, ll_a, kNaOverride,
                                        kMacB)).empty());
  BOOST_TEST(rig.send("vm-a", nd_solicit(kMacA, multicast_mac(solicited_b), link_local(kMacC), solicited_b,
                                         ip6(kB), kMacA)).empty());
  BOOST_TEST(rig.send("vm-a", nd_advert(kMacA, multicast_mac(kAllNodes), ll_a, kAllNodes, link_local(kMacB),
                                        kNaOverride, kMacA)).empty());
  BOOST_TEST(rig.send("vm-a", nd_solicit(kMacA, multicast_mac(solicited_b), ip6(kC), solicited_b, ip6(kB),
                                         kMacA)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 6u);
}

BOOST_AUTO_TEST_CASE(router_advertisements_only_from_the_uplink) {
  Rig rig(policy());
  BOOST_TEST(rig.send("vm-a", router_advert(kMacA, multicast_mac(kAllNodes), link_local(kMacA), kAllNodes)).empty());
  BOOST_TEST(rig.drops(DropReason::kRaFromVm) == 1u);
  BOOST_TEST(rig.port_drops("vm-a", DropReason::kRaFromVm) == 1u);
  // From the uplink: to every VM port (not back to the uplink).
  BOOST_TEST(ports_of(rig.send("uplink", router_advert(kInetMac, multicast_mac(kAllNodes), kRouterLl, kAllNodes))) ==
             kVmPorts);
  // The uplink may not claim a VM's address, nor its EUI-64 link-local address.
  BOOST_TEST(rig.send("uplink", nd_advert(kInetMac, multicast_mac(kAllNodes), kRouterLl, kAllNodes, ip6(kA),
                                          kNaOverride, kInetMac)).empty());
  BOOST_TEST(rig.send("uplink", nd_advert(kInetMac, multicast_mac(kAllNodes), link_local(kMacA), kAllNodes,
                                          link_local(kMacA), kNaOverride, kInetMac)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 2u);
  // A unicast solicitation from the router reaches the VM it is for.
  BOOST_TEST(rig.passes("uplink", nd_solicit(kInetMac, kMacB, kRouterLl, link_local(kMacB), link_local(kMacB),
                                             kInetMac), "vm-b"));
}

BOOST_AUTO_TEST_CASE(mld_reports_go_to_the_uplink) {
  Rig rig(policy());
  const auto outs = rig.send("vm-a", mld2_report(kMacA, link_local(kMacA)));
  BOOST_TEST(ports_of(outs) == std::multiset<std::string>{"uplink"});
  BOOST_TEST(ports_of(rig.send("vm-a", mld2_report(kMacA, kUnspecified))) == std::multiset<std::string>{"uplink"});
}

BOOST_AUTO_TEST_CASE(dhcpv6_client_traffic_passes_without_rules) {
  Rig rig(policy(false));  // a has no egress rule at all
  const Addr6 servers = ip6("ff02::1:2");
  BOOST_TEST(rig.passes("vm-a", dhcp6(kMacA, multicast_mac(servers), link_local(kMacA), 546, servers, 547, 1),
                        "uplink"));
  BOOST_TEST(rig.passes("uplink", dhcp6(kInetMac, kMacA, kRouterLl, 547, link_local(kMacA), 546, 2), "vm-a"));
  // A VM answering as a server; a reply for no VM's MAC; a client message from
  // another VM's link-local address.
  BOOST_TEST(rig.send("vm-b", dhcp6(kMacB, kMacA, link_local(kMacB), 547, link_local(kMacA), 546, 2)).empty());
  BOOST_TEST(rig.drops(DropReason::kDhcpServerFromVm) == 1u);
  BOOST_TEST(rig.send("uplink", dhcp6(kInetMac, mac("02:00:00:00:77:77"), kRouterLl, 547, ip6("fe80::77"), 546,
                                      2)).empty());
  BOOST_TEST(rig.drops(DropReason::kNotLocal) == 1u);
  BOOST_TEST(rig.send("vm-a", dhcp6(kMacA, multicast_mac(servers), link_local(kMacC), 546, servers, 547, 1)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 1u);
}

// Allowed address pairs over IPv6 (docs/enforcement.md §7.2): a keepalived-style VIP
// that a and c share; unsolicited neighbour advertisements announce it, traffic to it
// goes to the holder whose MAC the frame carries.
BOOST_AUTO_TEST_CASE(a_shared_vip_follows_the_mac) {
  const std::string vip_policy =
      "securityGroups:\n"
      "  - name: vip\n"
      "    rules:\n"
      "      - {name: web, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
      "      - {name: out6, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: '::/0'}}}\n"
      "vms:\n"
      "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: ['2001:db8::a'], securityGroups: [vip],\n"
      "     allowedAddressPairs: [{ip: '2001:db8::100'}]}\n"
      "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: ['2001:db8::b'], securityGroups: [vip]}\n"
      "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: ['2001:db8::c'], securityGroups: [vip],\n"
      "     allowedAddressPairs: [{ip: '2001:db8::100'}]}\n";
  Rig rig(vip_policy);
  const std::string kVip = "2001:db8::100";
  // The holder announces the VIP; a VM without the pair may not.
  BOOST_TEST(ports_of(rig.send("vm-a", nd_advert(kMacA, multicast_mac(kAllNodes), ip6(kVip), kAllNodes, ip6(kVip),
                                                 kNaOverride, kMacA))) == kAllButA);
  BOOST_TEST(rig.send("vm-b", nd_advert(kMacB, multicast_mac(kAllNodes), ip6(kB), kAllNodes, ip6(kVip), kNaOverride,
                                        kMacB)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 1u);
  // Traffic to the VIP goes by destination MAC: to a, to c, and to nobody else.
  BOOST_TEST(rig.passes("uplink", tcp6(kInetMac, kMacA, kInet, 40000, kVip, 80, kSyn), "vm-a"));
  BOOST_TEST(rig.passes("uplink", tcp6(kInetMac, kMacC, kInet, 40001, kVip, 80, kSyn), "vm-c"));
  BOOST_TEST(rig.send("uplink", tcp6(kInetMac, kMacB, kInet, 40002, kVip, 80, kSyn)).empty());
  BOOST_TEST(rig.drops(DropReason::kDstMismatch) == 1u);
  // The holders may send from it; b may not; nor may the uplink.
  BOOST_TEST(rig.passes("vm-c", tcp6(kMacC, kInetMac, kVip, 80, kInet, 40001, kSyn | kAck), "uplink"));
  BOOST_TEST(rig.passes("vm-a", udp6(kMacA, kInetMac, kVip, 5000, kInet, 53), "uplink"));
  BOOST_TEST(rig.send("vm-b", udp6(kMacB, kInetMac, kVip, 5000, kInet, 53)).empty());
  BOOST_TEST(rig.send("uplink", udp6(kInetMac, kMacA, kVip, 53, kA, 5000)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 3u);
}

// One burst with both families interleaved: each frame's addresses are looked up in its
// own family's table (a mix-up would make a's IPv4 source unknown: spoofed).
BOOST_AUTO_TEST_CASE(a_burst_of_both_families) {
  Rig rig(policy());
  const std::vector<Bytes> burst = {
      tcp(kMacA, kInetMac, "10.0.0.10", 40000, "203.0.113.7", 443, kSyn),
      tcp6(kMacA, kInetMac, kA, 40000, kInet, 443, kSyn),
      udp(kMacA, kMacB, "10.0.0.10", 5000, "10.0.0.11", 53),  // b's rules allow IPv6 only: no-rule
      udp6(kMacA, kMacB, kA, 5000, kB, 53),
      udp6(kMacA, kMacB, kC, 5000, kB, 53),  // c's address from a: spoofed
      icmp6_echo(kMacA, kInetMac, kA, kInet, true, 9),
  };
  const auto outs = rig.send("vm-a", burst);
  BOOST_TEST(ports_of(outs) == (std::multiset<std::string>{"uplink", "uplink", "vm-b", "uplink"}));
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == 1u);
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.flows().size() == 1u);
  BOOST_TEST(rig.flows6().size() == 3u);
}

// Later fragments follow their first fragment only while its connection lives: a
// flushed connection (same generation) orphans the rest of the train, both families.
BOOST_AUTO_TEST_CASE(flushed_connection_orphans_its_later_fragments) {
  Rig rig(policy());
  auto frags6 = udp6_fragments(kMacA, kInetMac, kA, 5000, kInet, 53, 3000, 0x5151);
  auto frags4 = udp_fragments(kMacA, kInetMac, "10.0.0.10", 5000, "203.0.113.7", 53, 4000, 4244);
  BOOST_TEST(rig.passes("vm-a", frags6[0], "uplink"));
  BOOST_TEST(rig.passes("vm-a", frags4[0], "uplink"));
  BOOST_REQUIRE(rig.control().flush("", {}).has_value());
  BOOST_TEST(rig.send("vm-a", frags6[1]).empty());
  BOOST_TEST(rig.send("vm-a", frags4[1]).empty());
  BOOST_TEST(rig.drops(DropReason::kFragmentOrphan) == 2u);
}
