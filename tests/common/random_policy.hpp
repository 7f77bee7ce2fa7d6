// Random valid policies and packets for the differential tests. Addresses come from a
// small pool so that rules, subnets, group members and allowed address pairs overlap
// often.
#pragma once

#include <random>
#include <vector>

#include "policy/model.hpp"
#include "policy/packet_tuple.hpp"

namespace sgfw::testing {

struct RandomPolicyOptions {
  // IPv6 VM addresses, IPv6 address and subnet remotes, IPv6 allowed address pairs.
  bool ipv6 = true;
  // IPv4 allowed address pairs (single addresses, blocks, shared ones). The packet path
  // finds a pair address's owner by the frame's MAC, which the reference matcher and
  // explain do not model (docs/design/rule-compilation.md), so a test comparing them on
  // IPv4 packets turns pairs off.
  bool ipv4_pairs = true;
  // IPv6 allowed address pairs (with ipv6): off for the same reason in a test comparing
  // the IPv6 tables with the reference matcher.
  bool ipv6_pairs = true;
  // Security groups (besides the built-ins): 0 draws 1..6; n makes exactly n.
  uint32_t groups = 0;
  // Rules per group: 0 draws 0..6; n makes exactly n (at most policy::kMaxRulesPerGroup).
  uint32_t rules_per_group = 0;
  // Narrow rules only: TCP, UDP (ranges of at most 64 ports anywhere in 1..65535) or
  // ICMP, to a /24 .. /32 of the address pool, so that in a large group most rules
  // decide some packet instead of a few broad ones deciding all.
  bool narrow_rules = false;
  // The chance that a VM lists a given group (built-ins included).
  double member_chance = 0.3;
};

// A finalized policy that config::load_policy_text would accept (written and read back).
[[nodiscard]] policy::Policy random_policy(std::mt19937_64& rng, const RandomPolicyOptions& options = {});

// A packet of `family` whose addresses are drawn mostly from the policy's VM addresses
// (own and pair) of that family. IPv6 packets use ICMPv6 (58) where IPv4 ones use ICMP.
// No MACs are set.
[[nodiscard]] policy::PacketTuple random_packet(std::mt19937_64& rng, const policy::Policy& p,
                                                core::Family family = core::Family::kIpv4);

// An IPv4 packet on the edge of a random rule of `p`: its protocol, a port at or next
// to its range's ends, the remote at or next to its block's first or last address (a
// subnet's or a listed address's; a group remote: one of the group's VM addresses), the
// other end one of the addresses of a VM that lists the rule's group. Where one of
// those is missing (no rule, no VM in the group), random_packet's packet.
[[nodiscard]] policy::PacketTuple edge_packet(std::mt19937_64& rng, const policy::Policy& p);

}  // namespace sgfw::testing
