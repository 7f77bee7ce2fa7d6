// The slow, obviously-correct reference matcher: a linear scan over the policy model,
// written straight from docs/enforcement.md §3 (with the address rules of §7: both
// families, allowed address pairs) with no DPDK and no cleverness. It is the oracle of
// the differential tests. Control-path only; thread-safe (pure).
#pragma once

#include "policy/model.hpp"
#include "policy/packet_tuple.hpp"
#include "policy/verdict.hpp"

namespace sgfw::policy {

// Preconditions: policy.finalize() was called and the policy is valid; packet.src and
// packet.dst are of one family (a mixed tuple gets "not-local": it matches no VM).
// - An end is a local VM V when its address is one of V's `ips` or inside one of V's
//   allowed address pairs. Where several local VMs share it (a pair), the tuple's MAC
//   of that end picks the one whose own or pair MAC it is; with no MAC, or one that
//   picks none or several, the verdict is kReasonAmbiguous (verdict.hpp).
// - A rule's ICMP is protocol 1 for IPv4 packets and 58 for IPv6 packets; All is every
//   protocol; address and subnet remotes match only their family; securityGroupRef G
//   matches an address (`ips` or inside a pair) of any VM whose effective groups hold G.
[[nodiscard]] Verdict reference_verdict(const Policy& policy, const PacketTuple& packet);

}  // namespace sgfw::policy
