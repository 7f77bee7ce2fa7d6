// The link-service drops that come before any rule and that `explain` can tell from a
// tuple alone (docs/enforcement.md §7.1, §7.3, §7.5). Shared by the reference matcher
// and the compiled path (acl::PolicyTables::judge) so both say what the packet path
// does. Neighbour discovery, MLD and router advertisements are judged on fields a
// tuple does not hold (hop limit, options, the sender's MAC): explain does not model
// them (docs/control.md, "explain"). Thread-safety: pure.
#pragma once

#include "core/ipv6_scope.hpp"
#include "policy/packet_tuple.hpp"
#include "policy/verdict.hpp"

namespace sgfw::policy {

inline constexpr const char* kDhcpServerFromVm = "dhcp-server-from-vm";
inline constexpr const char* kLinkLocal = "link-local";

// A UDP packet from port 67 (a DHCPv4 server) or, IPv6, 547 (DHCPv6) sent by a local VM.
[[nodiscard]] inline bool dhcp_server_from_vm(const PacketTuple& p, bool sender_is_local_vm) {
  const bool v4 = p.src.family == core::Family::kIpv4;
  return sender_is_local_vm && p.proto == kIpProtoUdp && p.sport == (v4 ? 67 : 547);
}

// An IPv6 packet from or to a link-local address that is no link service: neither a
// DHCPv6 client or server message nor ICMPv6 neighbour discovery or MLD (130-137, 143).
[[nodiscard]] inline bool link_local_misuse(const PacketTuple& p) {
  if (p.src.family != core::Family::kIpv6) return false;
  if (!core::is_link_local6(p.src.v6.bytes.data()) && !core::is_link_local6(p.dst.v6.bytes.data())) return false;
  const bool dhcp6 = p.proto == kIpProtoUdp && ((p.sport == 546 && p.dport == 547) || (p.sport == 547 && p.dport == 546));
  const bool link_icmp6 = p.proto == kIpProtoIcmpV6 && ((p.icmp_type >= 130 && p.icmp_type <= 137) || p.icmp_type == 143);
  return !dhcp6 && !link_icmp6;
}

// The link-service drop reason of a packet, or nullptr (it goes on to the checks).
// `sender_is_local_vm`: the source address is a local VM's.
[[nodiscard]] inline const char* link_service_drop_reason(const PacketTuple& p, bool sender_is_local_vm) {
  if (dhcp_server_from_vm(p, sender_is_local_vm)) return kDhcpServerFromVm;
  if (link_local_misuse(p)) return kLinkLocal;
  return nullptr;
}

// The verdict of such a packet: denied before any check.
[[nodiscard]] inline Verdict link_service_drop(const char* reason) { return Verdict{false, reason, {}}; }

}  // namespace sgfw::policy
