// The reference matcher with both families and allowed address pairs (docs/enforcement.md
// §3 and §7): family matching of remotes, ICMP -> ICMPv6 (58), group references over
// IPv6 addresses and pair blocks, local VMs reached through their pairs, and a shared
// pair told apart by MAC (or not).
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "policy/reference_matcher.hpp"
#include "test_policy.hpp"

using namespace sgfw;
using policy::PacketTuple;
using policy::Verdict;

namespace {

using testing::load;

PacketTuple packet(uint8_t proto, std::string_view src, std::string_view dst, uint16_t dport = 0) {
  PacketTuple t;
  t.proto = proto;
  auto s = core::parse_ip(src), d = core::parse_ip(dst);
  BOOST_REQUIRE_MESSAGE(s && d, std::string(src) + " " + std::string(dst));
  t.src = *s;
  t.dst = *d;
  if (policy::has_ports(proto)) {
    t.sport = 40000;
    t.dport = dport;
  }
  return t;
}

// "allow a/x, b/y" style summary: verdict, reason, then each check's rule or "deny".
std::string summary(const Verdict& v) {
  std::string s = v.allow ? "allow" : "deny " + v.reason;
  for (const auto& c : v.checks) s += " [" + c.vm + " " + (c.allow ? c.rule : "deny") + "]";
  for (const auto& n : v.ambiguous_vms) s += " ?" + n;
  return s;
}

std::string judge(const policy::Policy& p, const PacketTuple& t) { return summary(policy::reference_verdict(p, t)); }

core::Mac mac(const char* s) { return *core::parse_mac(s); }

const char* const kPolicy = R"(
subnets:
  - {name: v4net, cidr: 10.1.0.0/16}
  - {name: v6net, cidr: "2001:db8:1::/64"}
securityGroups:
  - name: srv
    rules:
      - {name: ssh-v4, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: ssh-v6, direction: Ingress, protocol: TCP, port: 23, remote: {address: {IPAddressOrCIDR: "::/0"}}}
      - {name: ping, direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: "2001:db8:9::/48"}}}
      - {name: from-v6net, direction: Ingress, protocol: UDP, port: 53, remote: {subnetRef: {name: v6net}}}
      - {name: from-v4net, direction: Ingress, protocol: UDP, port: 54, remote: {subnetRef: {name: v4net}}}
      - {name: peers, direction: Ingress, protocol: All, remote: {securityGroupRef: {name: peer}}}
  - name: peer
vms:
  - {name: srv-1, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1, "2001:db8::1"], securityGroups: [srv]}
  - name: peer-1
    ips: ["2001:db8:5::5"]
    allowedAddressPairs: [{ip: "2001:db8:6::/120"}, {ip: 10.9.9.0/24}]
    securityGroups: [peer]
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(dual_stack)

BOOST_AUTO_TEST_CASE(address_and_subnet_remotes_match_their_family_only) {
  auto p = load(kPolicy);
  BOOST_TEST(judge(p, packet(6, "203.0.113.1", "10.0.0.1", 22)) == "allow [srv-1 srv/ssh-v4]");
  BOOST_TEST(judge(p, packet(6, "2001:db8:7::1", "2001:db8::1", 22)) == "deny no-rule [srv-1 deny]");
  BOOST_TEST(judge(p, packet(6, "2001:db8:7::1", "2001:db8::1", 23)) == "allow [srv-1 srv/ssh-v6]");
  BOOST_TEST(judge(p, packet(6, "203.0.113.1", "10.0.0.1", 23)) == "deny no-rule [srv-1 deny]");
  BOOST_TEST(judge(p, packet(17, "2001:db8:1::77", "2001:db8::1", 53)) == "allow [srv-1 srv/from-v6net]");
  BOOST_TEST(judge(p, packet(17, "2001:db8:2::77", "2001:db8::1", 53)) == "deny no-rule [srv-1 deny]");
  BOOST_TEST(judge(p, packet(17, "10.1.2.3", "2001:db8::1", 53)) == "deny not-local");  // mixed: no VM
  BOOST_TEST(judge(p, packet(17, "10.1.2.3", "10.0.0.1", 54)) == "allow [srv-1 srv/from-v4net]");
  BOOST_TEST(judge(p, packet(17, "::ffff:10.1.2.3", "2001:db8::1", 54)) == "deny no-rule [srv-1 deny]");
}

BOOST_AUTO_TEST_CASE(icmp_means_icmpv6_for_ipv6_and_all_covers_both) {
  auto p = load(kPolicy);
  BOOST_TEST(judge(p, packet(58, "2001:db8:9::1", "2001:db8::1")) == "allow [srv-1 srv/ping]");
  BOOST_TEST(judge(p, packet(1, "2001:db8:9::1", "2001:db8::1")) == "deny no-rule [srv-1 deny]");
  // Outside the rule's IPv6 block, and an IPv4 packet never matches an IPv6 block.
  BOOST_TEST(judge(p, packet(58, "2001:db8:8::1", "2001:db8::1")) == "deny no-rule [srv-1 deny]");
  BOOST_TEST(judge(p, packet(1, "10.9.0.1", "10.0.0.1")) == "deny no-rule [srv-1 deny]");
  // The built-ins, dual stack: IPv4 names first, IPv6 twins.
  auto q = load(R"(
vms:
  - {name: a, port: p1, mac: "02:00:00:00:00:01", ips: [10.0.0.1, "2001:db8::1"]}
  - {name: w, port: p1, mac: "02:00:00:00:00:02", ips: [10.0.0.2, "2001:db8::2"], securityGroups: [default-allow-web-protocols, default-allow-ssh]}
)");
  for (uint8_t proto : {6, 17, 58, 1, 4, 47, 132})
    BOOST_TEST(judge(q, packet(proto, "2001:db8::1", "2001:db8:ff::1", 443)) ==
                   "allow [a default-allow-egress/egress-all-ipv6]",
               int(proto));
  BOOST_TEST(judge(q, packet(6, "10.0.0.1", "198.51.100.1", 443)) == "allow [a default-allow-egress/egress-all]");
  BOOST_TEST(judge(q, packet(6, "2001:db8:ff::1", "2001:db8::2", 80)) == "allow [w default-allow-web-protocols/http-ipv6]");
  BOOST_TEST(judge(q, packet(6, "2001:db8:ff::1", "2001:db8::2", 443)) ==
             "allow [w default-allow-web-protocols/https-ipv6]");
  BOOST_TEST(judge(q, packet(6, "2001:db8:ff::1", "2001:db8::2", 22)) == "allow [w default-allow-ssh/ssh-ipv6]");
  BOOST_TEST(judge(q, packet(6, "198.51.100.1", "10.0.0.2", 22)) == "allow [w default-allow-ssh/ssh]");
  BOOST_TEST(judge(q, packet(6, "198.51.100.1", "10.0.0.2", 443)) == "allow [w default-allow-web-protocols/https]");
}

BOOST_AUTO_TEST_CASE(group_references_cover_ipv6_addresses_and_pair_blocks) {
  auto p = load(kPolicy);
  // peer-1 (hosted elsewhere): its own IPv6 address, inside its IPv6 pair block, inside
  // its IPv4 pair block; any protocol.
  BOOST_TEST(judge(p, packet(132, "2001:db8:5::5", "2001:db8::1")) == "allow [srv-1 srv/peers]");
  BOOST_TEST(judge(p, packet(6, "2001:db8:6::ab", "2001:db8::1", 9999)) == "allow [srv-1 srv/peers]");
  BOOST_TEST(judge(p, packet(6, "10.9.9.200", "10.0.0.1", 9999)) == "allow [srv-1 srv/peers]");
  BOOST_TEST(judge(p, packet(6, "2001:db8:6::1:ab", "2001:db8::1", 9999)) == "deny no-rule [srv-1 deny]");
  BOOST_TEST(judge(p, packet(6, "10.9.10.1", "10.0.0.1", 9999)) == "deny no-rule [srv-1 deny]");
}

BOOST_AUTO_TEST_CASE(a_local_vm_is_reached_and_sends_through_its_pairs) {
  auto p = load(R"(
securityGroups:
  - name: vip
    rules:
      - {name: in, direction: Ingress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: out, direction: Egress, protocol: UDP, remote: {address: {IPAddressOrCIDR: "::/0"}}}
vms:
  - name: lb-1
    port: p1
    mac: "02:00:00:00:00:01"
    ips: [10.0.0.1]
    allowedAddressPairs: [{ip: 10.0.0.100}, {ip: "2001:db8:a::/64"}]
    securityGroups: [vip]
)");
  BOOST_TEST(judge(p, packet(6, "198.51.100.1", "10.0.0.100", 443)) == "allow [lb-1 vip/in]");
  BOOST_TEST(judge(p, packet(6, "198.51.100.1", "10.0.0.101", 443)) == "deny not-local");
  BOOST_TEST(judge(p, packet(17, "2001:db8:a::5", "2001:db8:ff::1", 53)) == "allow [lb-1 vip/out]");
  BOOST_TEST(judge(p, packet(6, "2001:db8:a::5", "2001:db8:ff::1", 53)) == "deny no-rule [lb-1 deny]");
}

BOOST_AUTO_TEST_CASE(a_shared_pair_needs_the_mac_that_tells_its_vms_apart) {
  auto p = load(R"(
securityGroups:
  - name: web
    rules:
      - {name: https, direction: Ingress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: ops
    rules:
      - {name: ssh, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: lb-a, port: p1, mac: "02:00:00:00:00:0a", ips: [10.0.0.1], allowedAddressPairs: [{ip: 10.0.0.100}], securityGroups: [web]}
  - {name: lb-b, port: p2, mac: "02:00:00:00:00:0b", ips: [10.0.0.2], allowedAddressPairs: [{ip: 10.0.0.100, mac: "02:00:00:00:01:00"}], securityGroups: [ops]}
  - {name: far, ips: [10.0.0.3], allowedAddressPairs: [{ip: 10.0.0.100}]}
)");
  PacketTuple t = packet(6, "198.51.100.1", "10.0.0.100", 443);
  // No MAC: the matcher cannot tell lb-a from lb-b (far is not local: not a candidate).
  Verdict v = policy::reference_verdict(p, t);
  BOOST_TEST(!v.allow);
  BOOST_TEST(v.reason == std::string(policy::kReasonAmbiguous));
  BOOST_TEST(v.checks.empty());
  BOOST_TEST(judge(p, t) == "deny ambiguous-address ?lb-a ?lb-b");
  // lb-a's own MAC (its pair has no MAC of its own) picks lb-a; lb-b's pair MAC picks lb-b.
  t.dst_mac = mac("02:00:00:00:00:0a");
  BOOST_TEST(judge(p, t) == "allow [lb-a web/https]");
  t.dst_mac = mac("02:00:00:00:01:00");
  BOOST_TEST(judge(p, t) == "deny no-rule [lb-b deny]");
  t.dport = 22;
  BOOST_TEST(judge(p, t) == "allow [lb-b ops/ssh]");
  // A MAC of neither: still cannot tell.
  t.dst_mac = mac("02:00:00:00:00:99");
  BOOST_TEST(judge(p, t) == "deny ambiguous-address ?lb-a ?lb-b");
  // As a source too: the sender's MAC picks the VM whose egress check applies.
  PacketTuple out = packet(6, "10.0.0.100", "198.51.100.1", 443);
  BOOST_TEST(judge(p, out) == "deny ambiguous-address ?lb-a ?lb-b");
  out.src_mac = mac("02:00:00:00:00:0b");
  BOOST_TEST(judge(p, out) == "deny no-rule [lb-b deny]");  // ops has no egress rule
  // A MAC is only consulted where the address is shared.
  PacketTuple own = packet(6, "198.51.100.1", "10.0.0.1", 443);
  own.dst_mac = mac("02:00:00:00:00:99");
  BOOST_TEST(judge(p, own) == "allow [lb-a web/https]");
}

BOOST_AUTO_TEST_SUITE_END()
