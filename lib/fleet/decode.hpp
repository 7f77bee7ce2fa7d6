// The keys of docs/fleet.md -> a finalized policy::Policy, through the same loader and
// validation as a policy file (config::load_policy_text), so a value means exactly what
// the same object means in a file. Pure; thread-safe; never throws.
#pragma once

#include <string_view>

#include "core/expected.hpp"
#include "fleet/key_layout.hpp"
#include "policy/model.hpp"

namespace sgfw::fleet {

// `kvs`: every key under `prefix` (one revision); keys under PREFIX "meta/" (the push
// protocol's, docs/fleet.md) are skipped. `appliance`: the name of the appliance
// decoding; VMs whose `appliance` is this one keep their `port` (local VMs), the others
// are hosted elsewhere. Every error names the key it is about, as "KEY: message", e.g.
//   /sgfw/vms/app-1: unknown security group 'nope'
//   /sgfw/subnets/net: invalid subnet cidr '10.0.0.0/33'
//   /sgfw/groups/web: the value is not JSON: ...
// (docs/fleet.md, "Validation"); an error about the policy as a whole names the prefix.
// The policy's `source` is "etcd:PREFIX"; locations in it are unknown (0). Every VM
// keeps its `appliance` (Vm::appliance); only the local ones keep their `port`.
[[nodiscard]] core::Expected<policy::Policy> decode_policy(const KeyValues& kvs, std::string_view prefix,
                                                           std::string_view appliance);

// The fleet view (`sgfwctl policy pull`, docs/fleet.md, "policy push and pull"): the
// same keys and checks, but every VM keeps its `appliance` and its `port`, so the
// policy holds the whole fleet and encode_policy gives back the same keys. MACs are
// unique per (appliance, port); ports are checked against no daemon's ports. Errors
// as decode_policy's.
[[nodiscard]] core::Expected<policy::Policy> decode_fleet_policy(const KeyValues& kvs, std::string_view prefix);

}  // namespace sgfw::fleet
