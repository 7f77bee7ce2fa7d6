// The reference matcher (docs/enforcement.md §2-3), the oracle of the differential tests: the
// seed's cases, one test each, on policies loaded through the real loader.
#define BOOST_TEST_MODULE reference_matcher
#include <boost/test/unit_test.hpp>

#include <string>
#include <string_view>

#include "config/policy_loader.hpp"
#include "test_policy.hpp"
#include "policy/reference_matcher.hpp"

using namespace sgfw;
using policy::Check;
using policy::Direction;
using policy::PacketTuple;
using policy::Verdict;

namespace {

using testing::load;

core::Ipv4 ip(std::string_view s) {
  auto a = core::parse_ipv4(s);
  BOOST_REQUIRE_MESSAGE(a.has_value(), s);
  return *a;
}

PacketTuple packet(uint8_t proto, std::string_view src, std::string_view dst, uint16_t dport = 0,
                   uint16_t sport = 40000) {
  PacketTuple t;
  t.proto = proto;
  t.src = ip(src);
  t.dst = ip(dst);
  if (policy::has_ports(proto)) {
    t.sport = sport;
    t.dport = dport;
  }
  return t;
}
PacketTuple tcp(std::string_view src, std::string_view dst, uint16_t dport) {
  return packet(6, src, dst, dport);
}
PacketTuple udp(std::string_view src, std::string_view dst, uint16_t dport) {
  return packet(17, src, dst, dport);
}
PacketTuple icmp(std::string_view src, std::string_view dst, uint8_t type, uint8_t code) {
  PacketTuple t = packet(1, src, dst);
  t.icmp_type = type;
  t.icmp_code = code;
  return t;
}

// The single check's deciding rule ("" when it denied); requires exactly one check.
std::string only_rule(const Verdict& v) {
  BOOST_REQUIRE_EQUAL(v.checks.size(), 1u);
  BOOST_TEST(v.allow == v.checks[0].allow);
  BOOST_TEST(v.reason == (v.allow ? "" : "no-rule"));
  return v.checks[0].allow ? v.checks[0].rule : std::string();
}

std::string judge(const policy::Policy& p, const PacketTuple& t) {
  return only_rule(policy::reference_verdict(p, t));
}

// Internet hosts in these tests: 8.8.8.8 and 1.1.1.1 belong to no VM.
constexpr const char* kOutside = "8.8.8.8";

}  // namespace

BOOST_AUTO_TEST_CASE(union_of_groups_and_default_deny) {
  auto p = load(R"(
securityGroups:
  - name: web
    rules:
      - {name: http, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: dns
    rules:
      - {name: dns, direction: Ingress, protocol: UDP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: empty
vms:
  - {name: both, port: p1, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [web, dns]}
  - {name: none, port: p1, mac: 02:00:00:00:00:02, ips: [10.0.0.2], securityGroups: [empty]}
)");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 80)) == "web/http");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 53)) == "dns/dns");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 81)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 53)) == "");
  // Egress: neither group has an egress rule, so egress is denied.
  BOOST_TEST(judge(p, tcp("10.0.0.1", kOutside, 80)) == "");
  // A VM whose only group has no rules: both directions deny everything.
  for (uint8_t proto : {1, 4, 6, 17, 47, 132}) {
    BOOST_TEST(judge(p, packet(proto, kOutside, "10.0.0.2", 80)) == "", int(proto));
    BOOST_TEST(judge(p, packet(proto, "10.0.0.2", kOutside, 80)) == "", int(proto));
  }
}

BOOST_AUTO_TEST_CASE(same_group_traffic_needs_a_self_reference) {
  auto p = load(R"(
securityGroups:
  - name: plain
    rules:
      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: mesh
    rules:
      - {name: in, direction: Ingress, protocol: All, remote: {securityGroupRef: {name: mesh}}}
      - {name: out, direction: Egress, protocol: All, remote: {securityGroupRef: {name: mesh}}}
vms:
  - {name: p1, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [plain]}
  - {name: p2, port: x, mac: 02:00:00:00:00:02, ips: [10.0.0.2], securityGroups: [plain]}
  - {name: m1, port: x, mac: 02:00:00:00:00:03, ips: [10.0.1.1], securityGroups: [mesh]}
  - {name: m2, port: x, mac: 02:00:00:00:00:04, ips: [10.0.1.2], securityGroups: [mesh]}
)");
  // Same group, no self-reference: the sender may send, the receiver does not admit.
  Verdict v = policy::reference_verdict(p, tcp("10.0.0.1", "10.0.0.2", 22));
  BOOST_TEST(!v.allow);
  BOOST_TEST(v.reason == "no-rule");
  BOOST_REQUIRE_EQUAL(v.checks.size(), 2u);
  BOOST_TEST((v.checks[0] == Check{"p1", Direction::kEgress, true, "plain/out"}));
  BOOST_TEST((v.checks[1] == Check{"p2", Direction::kIngress, false, ""}));
  // With a self-reference members talk, on any protocol.
  for (uint8_t proto : {1, 6, 17, 132}) {
    v = policy::reference_verdict(p, packet(proto, "10.0.1.1", "10.0.1.2", 5000));
    BOOST_TEST(v.allow, int(proto));
    BOOST_REQUIRE_EQUAL(v.checks.size(), 2u);
    BOOST_TEST(v.checks[0].rule == "mesh/out");
    BOOST_TEST(v.checks[1].rule == "mesh/in");
  }
  // ...but not with non-members.
  BOOST_TEST(judge(p, tcp("10.0.1.1", kOutside, 80)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.1.1", 80)) == "");
  BOOST_TEST(!policy::reference_verdict(p, tcp("10.0.0.1", "10.0.1.1", 80)).allow);
}

BOOST_AUTO_TEST_CASE(default_allow_egress_only_without_groups) {
  auto p = load(R"(
vms:
  - {name: bare, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}
  - {name: listed-empty, port: x, mac: 02:00:00:00:00:02, ips: [10.0.0.2], securityGroups: []}
  - {name: ssh-only, port: x, mac: 02:00:00:00:00:03, ips: [10.0.0.3], securityGroups: [default-allow-ssh]}
  - {name: explicit, port: x, mac: 02:00:00:00:00:04, ips: [10.0.0.4],
     securityGroups: [default-allow-ssh, default-allow-egress]}
)");
  for (const char* vm : {"10.0.0.1", "10.0.0.2"}) {
    for (uint8_t proto : {1, 4, 6, 17, 47, 132})
      BOOST_TEST(judge(p, packet(proto, vm, kOutside, 443)) == "default-allow-egress/egress-all",
                 vm << " proto " << int(proto));
    // It blocks all inbound traffic, also ssh.
    BOOST_TEST(judge(p, tcp(kOutside, vm, 22)) == "", vm);
  }
  // Once a VM has a group, default-allow-egress no longer applies...
  BOOST_TEST(judge(p, tcp("10.0.0.3", kOutside, 443)) == "");
  BOOST_TEST(judge(p, packet(1, "10.0.0.3", kOutside)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.3", 22)) == "default-allow-ssh/ssh");
  // ...unless listed.
  BOOST_TEST(judge(p, tcp("10.0.0.4", kOutside, 443)) == "default-allow-egress/egress-all");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.4", 22)) == "default-allow-ssh/ssh");
  // Two group-less VMs cannot talk: egress allows, ingress denies.
  Verdict v = policy::reference_verdict(p, tcp("10.0.0.1", "10.0.0.2", 80));
  BOOST_TEST(!v.allow);
  BOOST_REQUIRE_EQUAL(v.checks.size(), 2u);
  BOOST_TEST(v.checks[0].allow);
  BOOST_TEST(!v.checks[1].allow);
}

BOOST_AUTO_TEST_CASE(web_and_ssh_builtins) {
  auto p = load(R"(
vms:
  - {name: www, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1],
     securityGroups: [default-allow-web-protocols, default-allow-ssh]}
  - {name: web-only, port: x, mac: 02:00:00:00:00:02, ips: [10.0.0.2],
     securityGroups: [default-allow-web-protocols]}
)");
  for (const char* from : {"8.8.8.8", "1.1.1.1", "10.200.0.1", "0.0.0.0", "255.255.255.255"}) {
    BOOST_TEST(judge(p, tcp(from, "10.0.0.1", 80)) == "default-allow-web-protocols/http", from);
    BOOST_TEST(judge(p, tcp(from, "10.0.0.1", 443)) == "default-allow-web-protocols/https", from);
    BOOST_TEST(judge(p, tcp(from, "10.0.0.1", 22)) == "default-allow-ssh/ssh", from);
    BOOST_TEST(judge(p, tcp(from, "10.0.0.1", 8080)) == "", from);
  }
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 80)) == "");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 443)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 79)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 81)) == "");
  BOOST_TEST(judge(p, icmp(kOutside, "10.0.0.1", 8, 0)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.2", 22)) == "");
  // No egress rule in either: the web server cannot open connections.
  BOOST_TEST(judge(p, tcp("10.0.0.1", kOutside, 80)) == "");
}

BOOST_AUTO_TEST_CASE(protocol_all_matches_every_ip_protocol_tcp_udp_do_not) {
  auto p = load(R"(
securityGroups:
  - name: overlay
    rules:
      - {name: any, direction: Ingress, protocol: All, remote: {address: {IPAddressOrCIDR: 10.0.0.0/8}}}
  - name: tcpudp
    rules:
      - {name: t, direction: Ingress, protocol: TCP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: u, direction: Ingress, protocol: UDP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: calico, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [overlay]}
  - {name: classic, port: x, mac: 02:00:00:00:00:02, ips: [192.168.0.1], securityGroups: [tcpudp]}
)");
  for (uint8_t proto : {0, 1, 4, 6, 17, 41, 47, 50, 132, 255})
    BOOST_TEST(judge(p, packet(proto, "10.9.9.9", "10.0.0.1", 1234)) == "overlay/any", int(proto));
  BOOST_TEST(judge(p, packet(4, "11.0.0.1", "10.0.0.1")) == "");  // remote still applies
  for (uint8_t proto : {1, 4, 47, 132})
    BOOST_TEST(judge(p, packet(proto, kOutside, "192.168.0.1", 80)) == "", int(proto));
  // A TCP/UDP rule without port matches every port.
  for (uint16_t port : {1, 80, 65535}) {
    BOOST_TEST(judge(p, tcp(kOutside, "192.168.0.1", port)) == "tcpudp/t");
    BOOST_TEST(judge(p, udp(kOutside, "192.168.0.1", port)) == "tcpudp/u");
  }
}

BOOST_AUTO_TEST_CASE(ports_apply_to_their_protocol_and_destination_port_only) {
  auto p = load(R"(
securityGroups:
  - name: g
    rules:
      - {name: dns-tcp, direction: Ingress, protocol: TCP, port: 53, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: range, direction: Ingress, protocol: UDP, portRange: 1000-1100, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: out, direction: Egress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [g]}
)");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 53)) == "g/dns-tcp");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 53)) == "");  // a TCP port rule is not UDP
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 54)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 52)) == "");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 999)) == "");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 1000)) == "g/range");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 1050)) == "g/range");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 1100)) == "g/range");
  BOOST_TEST(judge(p, udp(kOutside, "10.0.0.1", 1101)) == "");
  BOOST_TEST(judge(p, tcp(kOutside, "10.0.0.1", 1050)) == "");
  // The port is the destination port, never the source port.
  BOOST_TEST(judge(p, packet(6, kOutside, "10.0.0.1", 9999, 53)) == "");
  BOOST_TEST(judge(p, packet(6, "10.0.0.1", kOutside, 443, 1)) == "g/out");
  BOOST_TEST(judge(p, packet(6, "10.0.0.1", kOutside, 1, 443)) == "");
}

BOOST_AUTO_TEST_CASE(icmp_rules_match_any_type_and_code) {
  auto p = load(R"(
securityGroups:
  - name: ping
    rules:
      - {name: icmp-in, direction: Ingress, protocol: ICMP, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [ping]}
)");
  for (auto [type, code] : {std::pair<int, int>{8, 0}, {0, 0}, {3, 4}, {11, 0}, {255, 255}})
    BOOST_TEST(judge(p, icmp(kOutside, "10.0.0.1", type, code)) == "ping/icmp-in",
               type << "/" << code);
  for (uint8_t proto : {4, 6, 17, 58})
    BOOST_TEST(judge(p, packet(proto, kOutside, "10.0.0.1", 7)) == "", int(proto));
  BOOST_TEST(judge(p, icmp("10.0.0.1", kOutside, 8, 0)) == "");  // ingress only
}

BOOST_AUTO_TEST_CASE(subnet_and_cidr_remotes) {
  auto p = load(R"(
subnets:
  - {name: branch, cidr: 10.1.0.0/16}
securityGroups:
  - name: g
    rules:
      - {name: from-branch, direction: Ingress, protocol: TCP, port: 22, remote: {subnetRef: {name: branch}}}
      - {name: from-office, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: 192.168.1.0/24}}}
      - {name: to-host, direction: Egress, protocol: UDP, remote: {address: {IPAddressOrCIDR: 172.16.0.5}}}
      - {name: to-branch, direction: Egress, protocol: All, remote: {subnetRef: {name: branch}}}
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [g]}
)");
  BOOST_TEST(judge(p, tcp("10.1.0.0", "10.0.0.1", 22)) == "g/from-branch");
  BOOST_TEST(judge(p, tcp("10.1.255.255", "10.0.0.1", 22)) == "g/from-branch");
  BOOST_TEST(judge(p, tcp("10.2.0.0", "10.0.0.1", 22)) == "");
  BOOST_TEST(judge(p, tcp("10.0.255.255", "10.0.0.1", 22)) == "");
  BOOST_TEST(judge(p, tcp("192.168.1.0", "10.0.0.1", 22)) == "g/from-office");
  BOOST_TEST(judge(p, tcp("192.168.1.255", "10.0.0.1", 22)) == "g/from-office");
  BOOST_TEST(judge(p, tcp("192.168.2.0", "10.0.0.1", 22)) == "");
  BOOST_TEST(judge(p, tcp("192.168.0.255", "10.0.0.1", 22)) == "");
  // Egress matches the destination; a bare address is /32.
  BOOST_TEST(judge(p, udp("10.0.0.1", "172.16.0.5", 53)) == "g/to-host");
  BOOST_TEST(judge(p, udp("10.0.0.1", "172.16.0.4", 53)) == "");
  BOOST_TEST(judge(p, udp("10.0.0.1", "172.16.0.6", 53)) == "");
  BOOST_TEST(judge(p, packet(47, "10.0.0.1", "10.1.3.4")) == "g/to-branch");
  // Ingress matches the source, not the destination.
  BOOST_TEST(judge(p, udp("172.16.0.5", "10.0.0.1", 53)) == "");
}

BOOST_AUTO_TEST_CASE(references_to_groups_with_members_hosted_elsewhere) {
  auto p = load(R"(
securityGroups:
  - name: db
  - name: app
    rules:
      - {name: to-db, direction: Egress, protocol: TCP, port: 5432, remote: {securityGroupRef: {name: db}}}
      - {name: from-db, direction: Ingress, protocol: ICMP, remote: {securityGroupRef: {name: db}}}
      - {name: from-plain, direction: Ingress, protocol: TCP, port: 9000,
         remote: {securityGroupRef: {name: default-allow-egress}}}
vms:
  - {name: app-1, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [app]}
  - {name: db-far, ips: [10.5.0.1, 10.5.0.2], securityGroups: [db]}
  - {name: plain-far, ips: [10.6.0.1]}
)");
  // Only app-1 is local: one check each.
  BOOST_TEST(judge(p, tcp("10.0.0.1", "10.5.0.1", 5432)) == "app/to-db");
  BOOST_TEST(judge(p, tcp("10.0.0.1", "10.5.0.2", 5432)) == "app/to-db");
  BOOST_TEST(judge(p, tcp("10.0.0.1", "10.5.0.3", 5432)) == "");
  BOOST_TEST(judge(p, tcp("10.0.0.1", "10.6.0.1", 5432)) == "");
  BOOST_TEST(judge(p, icmp("10.5.0.2", "10.0.0.1", 3, 1)) == "app/from-db");
  BOOST_TEST(judge(p, icmp("10.6.0.1", "10.0.0.1", 3, 1)) == "");
  // default-allow-egress as a reference: members are the VMs without groups.
  BOOST_TEST(judge(p, tcp("10.6.0.1", "10.0.0.1", 9000)) == "app/from-plain");
  BOOST_TEST(judge(p, tcp("10.5.0.1", "10.0.0.1", 9000)) == "");
  // Between two VMs hosted elsewhere, nothing applies here.
  Verdict v = policy::reference_verdict(p, tcp("10.6.0.1", "10.5.0.1", 5432));
  BOOST_TEST(!v.allow);
  BOOST_TEST(v.reason == "not-local");
  BOOST_TEST(v.checks.empty());
}

BOOST_AUTO_TEST_CASE(deciding_rule_is_first_by_group_name_then_rule_index) {
  // Byte order: "g10" < "g9" and "web-2" < "web2" ('-' < '2').
  auto p = load(R"(
securityGroups:
  - name: g9
    rules:
      - {name: a, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: g10
    rules:
      - {name: narrow, direction: Ingress, protocol: TCP, port: 81, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: wide, direction: Ingress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
      - {name: http, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: web2
    rules:
      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: web-2
    rules:
      - {name: out, direction: Egress, protocol: TCP, remote: {address: {IPAddressOrCIDR: 8.0.0.0/8}}}
vms:
  - {name: a, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [g9, g10, web2, web-2]}
  - {name: b, port: x, mac: 02:00:00:00:00:02, ips: [10.0.0.2], securityGroups: [web-2, web2, g10, g9]}
)");
  for (const char* vm : {"10.0.0.1", "10.0.0.2"}) {
    BOOST_TEST(judge(p, tcp(kOutside, vm, 80)) == "g10/wide", vm);  // not g10/http, not g9/a
    BOOST_TEST(judge(p, tcp(kOutside, vm, 81)) == "g10/narrow", vm);
    BOOST_TEST(judge(p, tcp(vm, kOutside, 80)) == "web-2/out", vm);
    BOOST_TEST(judge(p, udp(vm, kOutside, 80)) == "web2/out", vm);
    BOOST_TEST(judge(p, tcp(vm, "9.0.0.1", 80)) == "web2/out", vm);
  }
}

BOOST_AUTO_TEST_CASE(not_local_when_neither_end_is_a_local_vm) {
  auto p = load(R"(
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}
  - {name: far, ips: [10.0.0.9]}
)");
  for (const auto& t : {tcp(kOutside, "1.1.1.1", 80), tcp("10.0.0.9", kOutside, 80),
                        tcp(kOutside, "10.0.0.9", 80), packet(4, "10.0.0.2", "10.0.0.3")}) {
    Verdict v = policy::reference_verdict(p, t);
    BOOST_TEST(!v.allow);
    BOOST_TEST(v.reason == "not-local");
    BOOST_TEST(v.checks.empty());
  }
  // One local end is enough.
  BOOST_TEST(judge(p, tcp("10.0.0.1", "10.0.0.9", 80)) == "default-allow-egress/egress-all");
  BOOST_TEST(judge(p, tcp("10.0.0.9", "10.0.0.1", 80)) == "");
}

BOOST_AUTO_TEST_CASE(between_two_local_vms_egress_then_ingress) {
  auto p = load(R"(
securityGroups:
  - name: client
    rules:
      - {name: to-server, direction: Egress, protocol: TCP, port: 8080, remote: {securityGroupRef: {name: server}}}
  - name: server
    rules:
      - {name: from-client, direction: Ingress, protocol: TCP, port: 8080, remote: {securityGroupRef: {name: client}}}
      - {name: from-any, direction: Ingress, protocol: TCP, port: 9090, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: c, port: p1, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [client]}
  - {name: s, port: p2, mac: 02:00:00:00:00:02, ips: [10.0.0.2, 10.0.0.3], securityGroups: [server]}
)");
  Verdict v = policy::reference_verdict(p, tcp("10.0.0.1", "10.0.0.3", 8080));
  BOOST_TEST(v.allow);
  BOOST_TEST(v.reason == "");
  BOOST_REQUIRE_EQUAL(v.checks.size(), 2u);
  BOOST_TEST((v.checks[0] == Check{"c", Direction::kEgress, true, "client/to-server"}));
  BOOST_TEST((v.checks[1] == Check{"s", Direction::kIngress, true, "server/from-client"}));
  // The ingress side allows, the egress side does not: denied, both checks listed.
  v = policy::reference_verdict(p, tcp("10.0.0.1", "10.0.0.2", 9090));
  BOOST_TEST(!v.allow);
  BOOST_TEST(v.reason == "no-rule");
  BOOST_REQUIRE_EQUAL(v.checks.size(), 2u);
  BOOST_TEST((v.checks[0] == Check{"c", Direction::kEgress, false, ""}));
  BOOST_TEST((v.checks[1] == Check{"s", Direction::kIngress, true, "server/from-any"}));
  // The reverse direction: the server has no egress rule, the client no ingress rule.
  v = policy::reference_verdict(p, tcp("10.0.0.2", "10.0.0.1", 8080));
  BOOST_TEST(!v.allow);
  BOOST_REQUIRE_EQUAL(v.checks.size(), 2u);
  BOOST_TEST((v.checks[0] == Check{"s", Direction::kEgress, false, ""}));
  BOOST_TEST((v.checks[1] == Check{"c", Direction::kIngress, false, ""}));
}

BOOST_AUTO_TEST_CASE(udp_from_port_67_of_a_local_vm_is_a_dhcp_server_before_any_rule) {
  auto p = load(R"(
securityGroups:
  - name: open
    rules:
      - {direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: v, port: x, mac: 02:00:00:00:00:01, ips: [10.0.0.1], securityGroups: [open]}
  - {name: far, ips: [10.0.0.9]}
)");
  for (const auto& t : {packet(17, "10.0.0.1", "10.0.0.9", 68, 67), packet(17, "10.0.0.1", kOutside, 67, 67)}) {
    Verdict v = policy::reference_verdict(p, t);
    BOOST_TEST(!v.allow);
    BOOST_TEST(v.reason == "dhcp-server-from-vm");
    BOOST_TEST(v.checks.empty());
  }
  // Port 67 as destination, TCP from 67, or UDP from 67 off this appliance: rules decide.
  BOOST_TEST(judge(p, packet(17, "10.0.0.1", kOutside, 67, 68)) == "open/rule-0");
  BOOST_TEST(judge(p, packet(6, "10.0.0.1", kOutside, 80, 67)) == "open/rule-0");
  BOOST_TEST(policy::reference_verdict(p, packet(17, kOutside, "10.0.0.9", 68, 67)).reason == "not-local");
}
