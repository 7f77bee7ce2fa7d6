// Checks a policy's local VMs against the daemon's ports, with the location of the
// offending `port` token and the list of ports that could be used, e.g.
//   policy.yaml:40:11: VM 'api-1': unknown port 'vm-api' (VM ports of sgfwd.yaml:
//   vm-web1, vm-app1; add the port to the daemon configuration or fix the VM's port)
// Used by `sgfwctl check --config`, `sgfwd --check` and sgfwd's start
// (docs/configuration.md). Control path; thread-safe; never throws.
#pragma once

#include <string>
#include <string_view>

#include "config/daemon_config.hpp"
#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::config {

// `policy_text`/`file`: the file the policy was loaded from (for the location; without
// a readable location the message starts with "file: "). Errors: a local VM whose port
// is not configured, or is the uplink.
[[nodiscard]] core::Status check_vm_ports_located(const policy::Policy& policy, std::string_view policy_text,
                                                  const std::string& file, const DaemonConfig& cfg);

}  // namespace sgfw::config
