// The link-service drops that come before any rule and that `explain` can tell from a
// tuple alone (docs/enforcement.md §7.1). Shared by the reference matcher and the
// compiled path (acl::PolicyTables::judge) so both say what the packet path does.
// Thread-safety: pure.
#pragma once

#include "policy/packet_tuple.hpp"
#include "policy/verdict.hpp"

namespace sgfw::policy {

inline constexpr const char* kDhcpServerFromVm = "dhcp-server-from-vm";

// An IPv4 UDP packet from port 67 (a DHCPv4 server) sent by a local VM.
[[nodiscard]] inline bool dhcp_server_from_vm(const PacketTuple& p, bool sender_is_local_vm) {
  return sender_is_local_vm && p.family() == core::Family::kIpv4 && p.proto == kIpProtoUdp && p.sport == 67;
}

// The verdict of such a packet: denied before any check.
[[nodiscard]] inline Verdict link_service_drop(const char* reason) { return Verdict{false, reason, {}}; }

}  // namespace sgfw::policy
