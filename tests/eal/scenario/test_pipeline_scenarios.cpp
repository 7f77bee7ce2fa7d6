// Pipeline scenarios (docs/testing.md): crafted frames through the real Pipeline,
// connection table, RCU publisher and control plane on loopback ring ports, asserting
// where each frame goes and the exact drop counters. Each case is a defect that was
// reproduced against an earlier version (the issue it came from is named in the case).
#define BOOST_TEST_MODULE pipeline_scenarios
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "vms.hpp"
#include "rig.hpp"

using namespace sgfw::scenario;
using namespace sgfw::scenario::ipv4;
using sgfw::core::DropReason;

BOOST_TEST_GLOBAL_FIXTURE(RigEal);

namespace {


// a, c: clients (egress everything, no ingress). b: a server (ingress TCP 80 and
// UDP 53 from anywhere, ICMP in, no egress at all).
std::string policy(const std::string& client_rules =
                       "      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n",
                   const std::string& server_extra = "") {
  return "securityGroups:\n"
         "  - name: client\n"
         "    rules:\n" +
         client_rules +
         "  - name: server\n"
         "    rules:\n"
         "      - {name: web, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
         "      - {name: dns, direction: Ingress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
         "      - {name: ping, direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n" +
         server_extra +
         "vms:\n"
         "  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [client]}\n"
         "  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [server]}\n"
         "  - {name: c, port: vm-c, mac: '02:00:00:00:00:0c', ips: [10.0.0.12], securityGroups: [client]}\n";
}
const std::string kNoClientRules = "      []\n";

}  // namespace

// Issue 9 #1: an echo request creates state for replies from its destination only.
BOOST_AUTO_TEST_CASE(echo_state_is_directional) {
  Rig rig(policy());
  BOOST_TEST(rig.passes("vm-a", icmp_echo(kMacA, kInetMac, kA, kInet, true, 77), "uplink"));
  // A request from the remote end with the same identifier is a first packet: a has
  // no ICMP ingress rule.
  BOOST_TEST(rig.send("uplink", icmp_echo(kInetMac, kMacA, kInet, kA, true, 77)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  BOOST_TEST(rig.passes("uplink", icmp_echo(kInetMac, kMacA, kInet, kA, false, 77), "vm-a"));
  // An echo reply in the original direction is no part of that state either.
  BOOST_TEST(rig.send("vm-c", icmp_echo(kMacC, kMacA, kC, kA, false, 77)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 2u);
}

BOOST_AUTO_TEST_CASE(unsolicited_echo_reply_creates_no_state) {
  Rig rig(policy());
  // b admits ICMP in by rule: the unsolicited reply is delivered...
  BOOST_TEST(rig.passes("uplink", icmp_echo(kInetMac, kMacB, kInet, kB, false, 99), "vm-b"));
  BOOST_TEST(rig.flows().size() == 0u);
  // ...but remembered as nothing: b's own request (b has no egress) is judged by rules.
  BOOST_TEST(rig.send("vm-b", icmp_echo(kMacB, kInetMac, kB, kInet, true, 99)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
}

// Issue 9 #2: a local VM may not forge errors about a connection it is not part of.
BOOST_AUTO_TEST_CASE(local_vm_cannot_forge_related_errors) {
  Rig rig(policy());
  Bytes query = udp(kMacA, kInetMac, kA, 5000, kInet, 53);
  BOOST_TEST(rig.passes("vm-a", query, "uplink"));
  // b (no egress rule) sends "port unreachable" to a about a's query: not related.
  BOOST_TEST(rig.send("vm-b", icmp_error(kMacB, kMacA, kB, kA, 3, 3, query)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) == 1u);
  // The destination itself, and a router on the path, may.
  BOOST_TEST(rig.passes("uplink", icmp_error(kInetMac, kMacA, kInet, kA, 3, 3, query), "vm-a"));
  BOOST_TEST(rig.passes("uplink", icmp_error(kInetMac, kMacA, kRouter, kA, 3, 4, query), "vm-a"));
  // The outer destination must be the quoted sender.
  BOOST_TEST(rig.send("uplink", icmp_error(kInetMac, kMacC, kInet, kC, 3, 3, query)).empty());
}

// Issue 9 #3: a change rejected after publication still uses up its generation.
BOOST_AUTO_TEST_CASE(generations_are_never_reused) {
  Rig rig(policy());
  sgfw::control::Peer root{};
  const std::string dir = std::filesystem::path(rig.policy_path()).parent_path();
  std::filesystem::remove_all(dir);  // persistence fails: the change is reverted
  auto failed = rig.control().set_groups("c", {"server"}, root);
  BOOST_TEST(!failed.has_value());
  BOOST_TEST(rig.publisher().current()->generation() == 1u);
  std::filesystem::create_directories(dir);
  auto ok = rig.control().set_groups("c", {"server"}, root);
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST((*ok)["generation"].get<uint64_t>() == 3u);
  BOOST_TEST(rig.publisher().current()->generation() == 3u);
}

// Issue 9 #4: related errors and later fragments follow revalidation.
BOOST_AUTO_TEST_CASE(related_error_about_revoked_connection_is_dropped) {
  Rig rig(policy());
  Bytes query = udp(kMacA, kInetMac, kA, 5000, kInet, 53);
  BOOST_TEST(rig.passes("vm-a", query, "uplink"));
  const std::string revoked = policy(kNoClientRules);
  BOOST_REQUIRE(rig.control().reload(&revoked, "p2", {}).has_value());
  BOOST_TEST(rig.send("uplink", icmp_error(kInetMac, kMacA, kInet, kA, 3, 3, query)).empty());
  BOOST_TEST(rig.drops(DropReason::kRevoked) == 1u);
  BOOST_TEST(rig.flows().size() == 0u);
}

BOOST_AUTO_TEST_CASE(later_fragments_follow_revalidation) {
  Rig rig(policy());
  auto frags = udp_fragments(kMacA, kInetMac, kA, 5000, kInet, 53, 4000, 4242);
  BOOST_REQUIRE(frags.size() == 3u);
  BOOST_TEST(rig.passes("vm-a", frags[0], "uplink"));
  const std::string revoked = policy(kNoClientRules);
  BOOST_REQUIRE(rig.control().reload(&revoked, "p2", {}).has_value());
  BOOST_TEST(rig.send("vm-a", frags[1]).empty());
  BOOST_TEST(rig.send("vm-a", frags[2]).empty());
  BOOST_TEST(rig.drops(DropReason::kNoRule) + rig.drops(DropReason::kRevoked) +
                 rig.drops(DropReason::kFragmentOrphan) == 2u);
}

BOOST_AUTO_TEST_CASE(later_fragments_pass_while_connection_valid) {
  Rig rig(policy());
  auto frags = udp_fragments(kMacA, kInetMac, kA, 5000, kInet, 53, 4000, 4243);
  BOOST_TEST(rig.passes("vm-a", frags[0], "uplink"));
  // A change that keeps a's rule: the train still follows.
  BOOST_REQUIRE(rig.control().set_groups("c", {"server"}, {}).has_value());
  BOOST_TEST(rig.passes("vm-a", frags[1], "uplink"));
  BOOST_TEST(rig.passes("vm-a", frags[2], "uplink"));
  // An orphan (unknown IP id) is dropped.
  auto other = udp_fragments(kMacA, kInetMac, kA, 5001, kInet, 53, 4000, 999);
  BOOST_TEST(rig.send("vm-a", other[1]).empty());
  BOOST_TEST(rig.drops(DropReason::kFragmentOrphan) == 1u);
}

// Issue 9 #5: flush --vm X removes connections with X at either end.
BOOST_AUTO_TEST_CASE(flush_vm_removes_connections_at_either_end) {
  Rig rig(policy());
  BOOST_TEST(rig.passes("vm-a", tcp(kMacA, kMacB, kA, 40000, kB, 80, kSyn), "vm-b"));
  BOOST_TEST(rig.flows().size() == 1u);
  auto r = rig.control().flush("b", {});
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((*r)["removed"].get<uint64_t>() == 1u);
  BOOST_TEST(rig.flows().size() == 0u);
  // An unknown VM is an error for flows as for flush and stats, not an empty list.
  std::string reply = rig.control().handle_now(R"({"cmd":"flows","args":{"vm":"nope"}})", {});
  BOOST_TEST(reply.find("\"ok\":false") != std::string::npos);
  BOOST_TEST(reply.find("unknown VM 'nope'") != std::string::npos);
  BOOST_TEST(!rig.control().flush("nope", {}).has_value());
}

// Issue 9 #6: an ARP reply goes to the owner of its target address, even when two VMs
// on different ports share a MAC.
BOOST_AUTO_TEST_CASE(arp_reply_routed_by_target_address) {
  std::string p = policy();
  p += "  - {name: d, port: vm-c, mac: '02:00:00:00:00:0a', ips: [10.0.0.20]}\n";
  Rig rig(p);
  Bytes reply = arp(kInetMac, kMacA, 2, kInetMac, kInet, kMacA, "10.0.0.20");
  BOOST_TEST(rig.passes("uplink", reply, "vm-c"));
  Bytes to_a = arp(kInetMac, kMacA, 2, kInetMac, kInet, kMacA, kA);
  BOOST_TEST(rig.passes("uplink", to_a, "vm-a"));
}

// Issue 9 #7: source-routed IPv4 is dropped.
BOOST_AUTO_TEST_CASE(source_route_options_are_dropped) {
  Rig rig(policy());
  for (uint8_t type : {uint8_t{0x83}, uint8_t{0x89}}) {  // LSRR, SSRR
    Ip h{ip(kA), ip(kInet), 17};
    h.options = {type, 7, 4, 198, 51, 100, 1, 1 /* NOP */};
    BOOST_TEST(rig.send("vm-a", ipv4_frame(kMacA, kInetMac, h, udp_datagram(5000, 53, 8))).empty());
  }
  BOOST_TEST(rig.drops(DropReason::kIpSourceRoute) == 2u);
  // Harmless options still pass (record route, NOPs).
  Ip rr{ip(kA), ip(kInet), 17};
  rr.options = {1, 7, 7, 4, 0, 0, 0, 0};
  BOOST_TEST(rig.send("vm-a", ipv4_frame(kMacA, kInetMac, rr, udp_datagram(5000, 53, 8))).size() == 1u);
  // An option whose length runs past the header is malformed.
  Ip bad{ip(kA), ip(kInet), 17};
  bad.options = {0x44, 40, 5, 0};
  BOOST_TEST(rig.send("vm-a", ipv4_frame(kMacA, kInetMac, bad, udp_datagram(5000, 53, 8))).empty());
  BOOST_TEST(rig.drops(DropReason::kMalformedIpv4) == 1u);
}

namespace {
// 200,000-style flood sources: 100.64.0.0/10 (never a VM), one per index.
std::string flood_source(uint32_t i) {
  uint32_t a = 0x64400000u + i + 1;
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
         "." + std::to_string(a & 255);
}
const std::string kServerEgress =
    "      - {name: out, direction: Egress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n";
}  // namespace

// Issue 9 #8: a SYN flood at an open port recycles inbound half-open entries only; the
// VM keeps opening its own connections, other VMs are unaffected.
BOOST_AUTO_TEST_CASE(syn_flood_recycles_inbound_half_open_only) {
  RigOptions o;
  o.flows.per_vm_limit = 1000;  // inbound half-open budget: 250
  Rig rig(policy(), o);
  (void)rig;
  Rig* r = &rig;
  std::string p = policy(
      "      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n",
      kServerEgress);
  BOOST_REQUIRE(r->control().reload(&p, "p", {}).has_value());
  std::vector<Bytes> flood;
  for (uint32_t i = 0; i < 5000; ++i) flood.push_back(tcp(kInetMac, kMacB, flood_source(i), 1024, kB, 80, kSyn));
  size_t delivered = r->send("uplink", flood).size();
  BOOST_TEST(delivered == 5000u);  // every SYN is admitted by the rule and recycles the oldest
  BOOST_TEST(r->flows().size() == 250u);
  // b keeps opening outbound connections: all of them pass.
  size_t out = 0;
  for (uint16_t i = 0; i < 700; ++i) {
    auto sent = r->send("vm-b", tcp(kMacB, kInetMac, kB, static_cast<uint16_t>(20000 + i), kInet, 443, kSyn));
    out += sent.size();
    // More flood in between.
    r->send("uplink", tcp(kInetMac, kMacB, flood_source(10000 + i), 1024, kB, 80, kSyn));
  }
  BOOST_TEST(out == 700u);
  BOOST_TEST(r->drops(DropReason::kQuotaExceeded) == 0u);
  BOOST_TEST(r->drops(DropReason::kTableFull) == 0u);
  // a is unaffected.
  BOOST_TEST(r->passes("vm-a", tcp(kMacA, kInetMac, kA, 30000, kInet, 443, kSyn), "uplink"));
  BOOST_TEST(r->flows().inbound_half_open_recycled() == 5000u - 250u + 700u);
}

// Issue 9 #9: at capacity, the one reclaimable (half-open) connection is found.
BOOST_AUTO_TEST_CASE(full_table_finds_the_half_open_connection) {
  RigOptions o;
  o.flows.capacity = 2000;
  o.flows.per_vm_limit = 100000;
  Rig rig(policy(), o);
  // 1999 answered (established) UDP connections, then one unanswered.
  for (uint16_t i = 0; i < 1999; ++i) {
    Bytes q = udp(kMacA, kInetMac, kA, static_cast<uint16_t>(10000 + i), kInet, 53);
    Bytes a = udp(kInetMac, kMacA, kInet, 53, kA, static_cast<uint16_t>(10000 + i));
    BOOST_REQUIRE(rig.send("vm-a", q).size() == 1u);
    BOOST_REQUIRE(rig.send("uplink", a).size() == 1u);
  }
  BOOST_REQUIRE(rig.send("vm-a", udp(kMacA, kInetMac, kA, 9999, kInet, 53)).size() == 1u);
  BOOST_REQUIRE(rig.flows().size() == 2000u);
  // 300 new connections: each recycles the half-open one before it.
  size_t passed = 0;
  for (uint16_t i = 0; i < 300; ++i)
    passed += rig.send("vm-a", udp(kMacA, kInetMac, kA, static_cast<uint16_t>(40000 + i), kInet, 53)).size();
  BOOST_TEST(passed == 300u);
  BOOST_TEST(rig.drops(DropReason::kTableFull) == 0u);
  // No answered connection was evicted.
  size_t established = 0;
  rig.flows().for_each([&](int32_t, const sgfw::flow::FlowEntry& e, const sgfw::flow::FlowCold&) {
    established += sgfw::flow::is_established(e.state.load());
  });
  BOOST_TEST(established == 1999u);
}

// Issue 9 #10: with tcp_loose, picked-up connections stay half-open until answered;
// a lone RST never creates one.
BOOST_AUTO_TEST_CASE(tcp_loose_pickup_is_half_open) {
  RigOptions o;
  o.flows.tcp_loose = true;
  Rig rig(policy(), o);
  BOOST_TEST(rig.send("uplink", tcp(kInetMac, kMacB, kInet, 5555, kB, 80, kRst)).empty());
  BOOST_TEST(rig.drops(DropReason::kNoConnection) == 1u);
  BOOST_TEST(rig.flows().size() == 0u);
  BOOST_TEST(rig.passes("uplink", tcp(kInetMac, kMacB, kInet, 5556, kB, 80, kAck), "vm-b"));
  BOOST_TEST(rig.passes("uplink", tcp(kInetMac, kMacB, kInet, 5557, kB, 80, kFin | kAck), "vm-b"));
  BOOST_REQUIRE(rig.flows().size() == 2u);
  rig.flows().for_each([&](int32_t, const sgfw::flow::FlowEntry& e, const sgfw::flow::FlowCold&) {
    BOOST_TEST(!sgfw::flow::is_established(e.state.load()));
  });
  // Unanswered, they expire like half-open connections (tcp_syn / tcp_closing), not
  // after the 5-day established timeout.
  rig.advance(121);
  BOOST_TEST(rig.flows().reclaim(rig.now()) == 2u);
  // Answered, an ACK pickup becomes established.
  BOOST_TEST(rig.passes("uplink", tcp(kInetMac, kMacB, kInet, 5558, kB, 80, kAck), "vm-b"));
  BOOST_TEST(rig.passes("vm-b", tcp(kMacB, kInetMac, kB, 80, kInet, 5558, kAck), "uplink"));
  size_t established = 0;
  rig.flows().for_each([&](int32_t, const sgfw::flow::FlowEntry& e, const sgfw::flow::FlowCold&) {
    established += sgfw::flow::is_established(e.state.load());
  });
  BOOST_TEST(established == 1u);
}

// Issue 9 #11: VM ids are bounded by limits.local_vms and recycled.
BOOST_AUTO_TEST_CASE(vm_ids_recycled_within_limits) {
  RigOptions o;
  o.limits.local_vms = 4;
  Rig rig(policy(), o);
  for (int round = 0; round < 50; ++round) {
    std::string p = policy();
    p += "  - {name: churn" + std::to_string(round) + ", port: vm-c, mac: '02:00:00:00:01:01', ips: [10.0.9.9]}\n";
    BOOST_REQUIRE(rig.control().reload(&p, "p", {}).has_value());
    BOOST_TEST(rig.passes("vm-c", udp(mac("02:00:00:00:01:01"), kInetMac, "10.0.9.9", 7000, kInet, 53), "uplink"));
    const auto& ids = rig.publisher().current()->vm_ids();
    for (uint32_t id : ids) BOOST_TEST(id < 2 * o.limits.local_vms);
  }
  // Too many local VMs: refused with a clear message, nothing applied.
  std::string p = policy();
  p += "  - {name: e1, port: vm-c, mac: '02:00:00:00:01:01', ips: [10.0.9.9]}\n"
       "  - {name: e2, port: vm-c, mac: '02:00:00:00:01:02', ips: [10.0.9.10]}\n";
  uint64_t gen = rig.publisher().current()->generation();
  auto r = rig.control().reload(&p, "p", {});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("limits.local_vms") != std::string::npos);
  BOOST_TEST(rig.publisher().current()->generation() == gen);
}

namespace {
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
}  // namespace

// Issue 9 #11: VM churn over the daemon's lifetime (add, set-groups, remove) under
// traffic keeps ids within limits and memory bounded. SGFW_CHURN_CYCLES sets the
// number of cycles (default 1,000; the 100,000-cycle ASan run is in docs/testing.md).
BOOST_AUTO_TEST_CASE(vm_churn_under_traffic) {
  const char* env = std::getenv("SGFW_CHURN_CYCLES");
  const int cycles = env ? std::atoi(env) : 1000;
  RigOptions o;
  o.limits.local_vms = 8;
  o.flows.capacity = 4096;  // each removal flushes by scanning the table
  Rig rig(policy(), o);
  long rss_warm = 0;
  const Mac churn_mac = mac("02:00:00:00:02:02");
  for (int i = 0; i < cycles; ++i) {
    std::string name = "churn" + std::to_string(i % 100000);
    std::string with = policy() + "  - {name: " + name + ", port: vm-c, mac: '02:00:00:00:02:02', ips: [10.0.8.8]}\n";
    BOOST_REQUIRE(rig.control().reload(&with, "churn", {}).has_value());
    // Traffic: a long-lived connection of a, and the churning VM's own.
    BOOST_REQUIRE(rig.send("vm-a", udp(kMacA, kInetMac, kA, 6000, kInet, 53)).size() == 1u);
    BOOST_REQUIRE(rig.send("vm-c", udp(churn_mac, kInetMac, "10.0.8.8", static_cast<uint16_t>(7000 + i % 1000),
                                       kInet, 53)).size() == 1u);
    BOOST_REQUIRE(rig.control().set_groups(name, {"server"}, {}).has_value());
    BOOST_REQUIRE(rig.send("vm-c", udp(churn_mac, kInetMac, "10.0.8.8", 7999, kInet, 53)).empty());  // no egress now
    std::string without = policy();
    BOOST_REQUIRE(rig.control().reload(&without, "churn", {}).has_value());
    for (uint32_t id : rig.publisher().current()->vm_ids()) BOOST_REQUIRE(id < 2 * o.limits.local_vms);
    rig.sync_clock();
    rig.control().reclaim();
    if (i == std::min(cycles - 1, 200)) rss_warm = rss_kib();
  }
  // The churning VMs' connections went with them; a's stayed.
  BOOST_TEST(rig.flows().size() == 1u);
  long rss_end = rss_kib();
  BOOST_TEST_MESSAGE("churn: " << cycles << " cycles, RSS " << rss_warm << " KiB after warm-up, " << rss_end
                               << " KiB at the end");
  BOOST_TEST(rss_end - rss_warm < 16 * 1024, "RSS grew by " << rss_end - rss_warm << " KiB");
}

// Issue 12, allowed address pairs: a pair's own MAC becomes one of its VM's MACs on its
// port (traffic from the pair with it passes); a pair MAC that is another VM's MAC on
// that port is refused with a message naming both VMs, and nothing is applied.
BOOST_AUTO_TEST_CASE(pair_mac_is_the_vms_and_may_not_be_another_vms_on_its_port) {
  Rig rig(policy());
  const Mac kPairMac = mac("02:00:00:00:0d:01");
  std::string ok = policy() +
                   "  - {name: d, port: vm-c, mac: '02:00:00:00:00:0d', ips: [10.0.0.13], securityGroups: [client],"
                   " allowedAddressPairs: [{ip: 10.0.0.100, mac: '02:00:00:00:0d:01'}]}\n";
  BOOST_REQUIRE(rig.control().reload(&ok, "p", {}).has_value());
  BOOST_TEST(rig.passes("vm-c", udp(kPairMac, kInetMac, "10.0.0.100", 7000, kInet, 53), "uplink"));
  uint64_t spoofed = rig.drops(DropReason::kSpoofed);
  BOOST_TEST(rig.send("vm-c", udp(mac("02:00:00:00:00:0d"), kInetMac, "10.0.0.100", 7001, kInet, 53)).empty());
  BOOST_TEST(rig.drops(DropReason::kSpoofed) == spoofed + 1);  // the pair with d's own MAC
  std::string clash = policy() +
                      "  - {name: d, port: vm-c, mac: '02:00:00:00:00:0d', ips: [10.0.0.13],"
                      " allowedAddressPairs: [{ip: 10.0.0.100, mac: '02:00:00:00:00:0c'}]}\n";
  auto r = rig.control().reload(&clash, "p", {});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("VM 'd'") != std::string::npos);
  BOOST_TEST(r.error().message.find("MAC of VM 'c'") != std::string::npos);
  // Still the previous policy: d's pair MAC works, c's MAC is c's.
  BOOST_TEST(rig.passes("vm-c", udp(kPairMac, kInetMac, "10.0.0.100", 7002, kInet, 53), "uplink"));
  BOOST_TEST(rig.passes("vm-c", udp(kMacC, kInetMac, kC, 7003, kInet, 53), "uplink"));
}
