// Synthetic policies for benchmarks: a deterministic function of GeneratorOptions (same
// options and seed, same policy, on every platform) that config::load_policy_file
// accepts. Control path; pure and thread-safe. Never throws except std::bad_alloc.
//
// Shape (docs/performance.md):
//  - VMs get one address each from 10.0.0.0/8, spread over `subnets` subnets (with
//    `family`: 6, its IPv6 twin instead, fd00::/96 + the 32 bits, subnets and address
//    remotes likewise, outside blocks in 2001:db8::/96; dual: both addresses, IPv4
//    subnets, and the address remotes of every other rule IPv6); the first
//    `local_vms` VMs are local, on ports `port-NN` (round robin over `ports`), each with
//    a MAC unique in the whole policy.
//  - A role is one set of `groups_per_vm` groups (a tier); VM i has role i % roles, so
//    every role has members and local VMs cover min(local_vms, roles) roles. Roles draw
//    groups from a shuffled deck, so groups are used about evenly; sets are distinct.
//  - Each group has `rules_per_group` rules. Exactly round(group_ref_share * rules) of
//    all rules have a securityGroupRef remote (to a group some role uses); the others an
//    address CIDR or a subnetRef. Protocols TCP/UDP (port, portRange or none), ICMP, All.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::bench {

// Address families of the VMs (`--family 4|6|dual`).
enum class Families : uint8_t { kIpv4, kIpv6, kDual };
[[nodiscard]] const char* to_string(Families f);
[[nodiscard]] std::optional<Families> parse_families(std::string_view text);

struct GeneratorOptions {
  uint32_t vms = 10000;
  uint32_t local_vms = 1000;
  uint32_t groups = 1000;
  uint32_t rules_per_group = 60;
  uint32_t groups_per_vm = 5;
  uint32_t roles = 200;
  double group_ref_share = 0.2;
  uint64_t seed = 1;
  uint32_t ports = 32;
  uint32_t subnets = 16;
  Families family = Families::kIpv4;  // the default keeps every IPv4-only policy unchanged
};

// The IPv6 twin of an IPv4 block, as the generator (and sgfw-bench traffic --family 6)
// maps them: blocks of 10/8 go to fd00::/96 + the 32 bits, other blocks to
// 2001:db8::/96 + the 32 bits (prefix + 96), 0/0 to ::/0. Pure.
[[nodiscard]] core::IpCidr ipv6_twin(const core::Cidr& block);

// Checks the options can be satisfied (e.g. roles <= vms, enough distinct group sets,
// enough addresses). Error: a message naming the flag.
[[nodiscard]] core::Status validate(const GeneratorOptions& options);

// The policy as a value (not finalized: no built-in groups, in generation order).
[[nodiscard]] core::Expected<policy::Policy> generate_policy(const GeneratorOptions& options);

// The policy as YAML text, headed by a comment naming the options.
[[nodiscard]] core::Expected<std::string> generate_policy_yaml(const GeneratorOptions& options);

// "--vms 10000 --local-vms 1000 ...": the flags that reproduce `options`.
[[nodiscard]] std::string describe(const GeneratorOptions& options);

}  // namespace sgfw::bench
