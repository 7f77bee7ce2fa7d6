// Checks of a policy against things outside it, and validated edits of a policy: one
// place for what the loader, `sgfwctl check --config`, `sgfwd --check`/start, the
// control plane and runtime::Snapshot::build each need (docs/configuration.md).
// Control path; thread-safe (no shared state); never throws beyond std::bad_alloc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/expected.hpp"
#include "policy/model.hpp"

namespace sgfw::policy {

// The daemon's ports as a policy sees them.
struct PortNames {
  std::vector<std::string> vm_ports;  // in configuration order (listed in messages)
  std::string uplink;                 // empty: none
  std::string config_file;            // the daemon configuration's name; empty: unknown
};

// Every local VM's port must be one of `names.vm_ports` (and not the uplink). The first
// offending VM (in policy order) is reported, prefixed "source:line:col: " with
// Policy::source and Vm::port_at ("source: " without a known location; nothing without
// a source). With a config_file the message lists the VM ports, e.g.
//   policy.yaml:40:11: VM 'api-1': unknown port 'vm-api' (VM ports of sgfwd.yaml:
//   vm-web1, vm-app1; add the port to the daemon configuration or fix the VM's port)
//   policy.yaml:40:11: VM 'api-1': port 'uplink' is the uplink of sgfwd.yaml; a VM needs
//   one of its VM ports (vm-web1, vm-app1)
// without one it stops after the port: "VM 'api-1': unknown port 'vm-api'",
// "VM 'api-1': port 'uplink' is the uplink".
[[nodiscard]] core::Status check_vm_ports(const Policy& policy, const PortNames& names);

// The allowed address pairs of every VM (docs/policy-format.md, "Validation"): a pair
// may not equal or contain an address in another VM's `ips` (pairs of different VMs
// may overlap: a shared VIP), may not be the VM's own address (redundant), and a VM may
// not list the same pair block twice. Linear-logarithmic in the number of addresses.
// The first offending pair (VMs and pairs in policy order) is reported, prefixed
// "source:line:col: " with Policy::source and AddressPair::at (as check_vm_ports), e.g.
//   policy.yaml:12:14: VM 'web-1': allowed address pair 10.0.0.0/24 contains 10.0.0.7, an address of VM 'db-1'
//   policy.yaml:12:14: VM 'web-1': allowed address pair 10.0.0.7 is an address of VM 'db-1'
//   policy.yaml:12:14: VM 'web-1': allowed address pair 10.0.0.5 is its own address (redundant)
//   policy.yaml:13:14: VM 'web-1': allowed address pair 10.0.0.100 listed twice
// (addresses in canonical text).
[[nodiscard]] core::Status check_address_pairs(const Policy& policy);

// Sets `vm`'s security groups to `groups` (each name trimmed of spaces and tabs; an
// empty list: none, i.e. default-allow-egress). Errors, and `p` unchanged: unknown VM,
// an empty name, an unknown security group, a group listed twice. Linear in the list.
[[nodiscard]] core::Status set_vm_groups(Policy& p, std::string_view vm, std::vector<std::string> groups);

}  // namespace sgfw::policy
