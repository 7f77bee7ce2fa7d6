#include "policy/validate.hpp"

#include <algorithm>
#include <unordered_set>

#include "core/escape.hpp"

namespace sgfw::policy {

namespace {

// "source:line:col: ", "source: " or "".
std::string location(const Policy& p, const Vm& vm) {
  if (p.source.empty()) return {};
  std::string s = core::escape_for_log(p.source, 256);
  if (vm.port_at.known()) s += ':' + std::to_string(vm.port_at.line) + ':' + std::to_string(vm.port_at.column);
  return s + ": ";
}

std::string port_list(const std::vector<std::string>& ports) {
  std::string list;
  for (const auto& n : ports) list += (list.empty() ? "" : ", ") + n;
  return list.empty() ? "none" : list;
}

core::Status port_error(const Policy& p, const Vm& vm, const PortNames& names, bool uplink) {
  std::string s = location(p, vm) + "VM '" + core::escape_for_log(vm.name) + "': ";
  const std::string port = core::escape_for_log(*vm.port);
  const bool detailed = !names.config_file.empty();
  if (uplink) {
    s += "port '" + port + "' is the uplink";
    if (detailed)
      s += " of " + names.config_file + "; a VM needs one of its VM ports (" + port_list(names.vm_ports) + ")";
  } else {
    s += "unknown port '" + port + "'";
    if (detailed)
      s += " (VM ports of " + names.config_file + ": " + port_list(names.vm_ports) +
           "; add the port to the daemon configuration or fix the VM's port)";
  }
  return core::make_error(std::move(s));
}

}  // namespace

core::Status check_vm_ports(const Policy& policy, const PortNames& names) {
  for (const auto& vm : policy.vms) {
    if (!vm.port) continue;
    const std::string& port = *vm.port;
    if (!names.uplink.empty() && port == names.uplink) return port_error(policy, vm, names, true);
    if (std::find(names.vm_ports.begin(), names.vm_ports.end(), port) == names.vm_ports.end())
      return port_error(policy, vm, names, false);
  }
  return {};
}

core::Status set_vm_groups(Policy& p, std::string_view vm, std::vector<std::string> groups) {
  Vm* v = p.find_vm(vm);
  if (!v) return core::make_error("unknown VM '" + std::string(vm) + "'");
  for (auto& g : groups) {  // names never have spaces: trim what a shell list left
    size_t b = g.find_first_not_of(" \t"), e = g.find_last_not_of(" \t");
    g = b == std::string::npos ? std::string() : g.substr(b, e - b + 1);
    if (g.empty())
      return core::make_error("empty security group name in the list: give names, or an empty list for none "
                              "(sgfwctl: '-')");
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(groups.size());
  for (const auto& g : groups) {
    if (!p.find_group(g)) return core::make_error("unknown security group '" + g + "'");
    if (!seen.insert(g).second) return core::make_error("security group '" + g + "' listed twice");
  }
  v->groups = std::move(groups);
  return {};
}

}  // namespace sgfw::policy
