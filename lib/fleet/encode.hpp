// policy::Policy -> the keys of docs/fleet.md: one JSON object per subnet, security
// group and VM, holding the policy file's fields (docs/policy-format.md) plus, for a VM
// enforced by an appliance, that appliance's name. decode_policy reads them back to an
// equal policy. Pure; thread-safe; never throws.
#pragma once

#include <string>
#include <string_view>

#include "core/expected.hpp"
#include "fleet/key_layout.hpp"
#include "policy/model.hpp"

namespace sgfw::fleet {

// One value each. A VM with a `port` gets `"appliance"`: its own (Vm::appliance) if it
// has one, else `appliance`; a VM without `port` gets none, even with Vm::appliance set
// (a value holds `appliance` and `port` together, docs/fleet.md). Compact JSON, one line.
[[nodiscard]] std::string encode_subnet(const policy::Subnet& subnet);
[[nodiscard]] std::string encode_group(const policy::Group& group);
[[nodiscard]] std::string encode_vm(const policy::Vm& vm, std::string_view appliance);

// Every key of `policy` (built-in groups left out). VMs with a `port` and no appliance of
// their own are hosted on `appliance`. Errors: a bad prefix (check_prefix); such a VM
// while `appliance` is not a valid name; a VM whose own appliance is not a valid name.
[[nodiscard]] core::Expected<KeyValues> encode_policy(const policy::Policy& policy, std::string_view prefix,
                                                      std::string_view appliance);

}  // namespace sgfw::fleet
