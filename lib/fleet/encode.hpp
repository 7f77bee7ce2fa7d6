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

// One value each. `appliance` is written into a local VM's value (one with a `port`);
// a VM hosted elsewhere gets none. Compact JSON, one line.
[[nodiscard]] std::string encode_subnet(const policy::Subnet& subnet);
[[nodiscard]] std::string encode_group(const policy::Group& group);
[[nodiscard]] std::string encode_vm(const policy::Vm& vm, std::string_view appliance);

// Every key of `policy` (built-in groups left out). Local VMs are hosted on `appliance`.
// Errors: a bad prefix (check_prefix); a local VM while `appliance` is not a valid name.
[[nodiscard]] core::Expected<KeyValues> encode_policy(const policy::Policy& policy, std::string_view prefix,
                                                      std::string_view appliance);

}  // namespace sgfw::fleet
