#include "config/vm_port_check.hpp"

#include "policy/validate.hpp"

namespace sgfw::config {

// deprecated: control switches to policy::check_vm_ports
core::Status check_vm_ports_located(const policy::Policy& policy, std::string_view, const std::string&,
                                    const DaemonConfig& cfg) {
  return policy::check_vm_ports(policy, cfg.policy_ports());
}

}  // namespace sgfw::config
