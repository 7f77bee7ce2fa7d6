// deprecated: control switches to policy::check_vm_ports (policy/validate.hpp) with
// DaemonConfig::policy_ports(); this header goes once it has.
#pragma once

#include <string>
#include <string_view>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::config {

// deprecated: control switches to policy::check_vm_ports
// policy::check_vm_ports(policy, cfg.policy_ports()): the location comes from the
// policy (Policy::source, Vm::port_at); `policy_text` and `file` are not used.
[[nodiscard]] core::Status check_vm_ports_located(const policy::Policy& policy, std::string_view policy_text,
                                                  const std::string& file, const DaemonConfig& cfg);

}  // namespace sgfw::config
