// How much a policy may hold on one appliance (docs/configuration.md, `limits`).
// Checked when a policy is loaded, reloaded or changed; a policy beyond them is refused
// whole with a message naming the limit. Thread-safety: pure functions on values.
#pragma once

#include <cstdint>

#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::policy {

struct Limits {
  uint32_t local_vms = 4096;   // VMs with a port on this appliance
  uint32_t vms = 262144;       // all VMs, local and hosted elsewhere
  uint32_t groups = 65536;     // security groups, built-ins included
};

// Fixed ceilings on a policy's shape, whatever the daemon configuration: they bound
// what one request may cost the control thread (loading, compiling, replies) and are
// enforced by the loader while it reads (docs/testing.md, "A hostile member of control_group").
inline constexpr uint32_t kMaxRules = 262144;        // all groups together
inline constexpr uint32_t kMaxRulesPerGroup = 4096;
inline constexpr uint32_t kMaxSubnets = 65536;
inline constexpr uint32_t kMaxGroupsPerVm = 256;     // a VM's securityGroups list
inline constexpr uint32_t kMaxIpsPerVm = 256;
inline constexpr uint32_t kMaxAddressPairsPerVm = 16;  // a VM's allowedAddressPairs list

// Ok, or an error such as "policy has 5000 local VMs; limits.local_vms is 4096".
[[nodiscard]] core::Status check_limits(const Policy& policy, const Limits& limits);

}  // namespace sgfw::policy
