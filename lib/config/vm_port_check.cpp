#include "config/vm_port_check.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace sgfw::config {

namespace {

// "file:line:col: " of vms[name].port in the text, or "file: " when it cannot be found.
std::string location(std::string_view text, const std::string& file, const std::string& vm) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    YAML::Node vms = root["vms"];
    if (vms && vms.IsSequence()) {
      for (const auto& v : vms) {
        if (!v.IsMap() || !v["name"] || !v["name"].IsScalar() || v["name"].Scalar() != vm) continue;
        YAML::Node port = v["port"];
        if (!port) break;
        const YAML::Mark m = port.Mark();
        return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": ";
      }
    }
  } catch (const std::exception&) {
  }
  return file + ": ";
}

}  // namespace

core::Status check_vm_ports_located(const policy::Policy& policy, std::string_view policy_text,
                                    const std::string& file, const DaemonConfig& cfg) {
  std::vector<std::string> vm_ports;
  std::string uplink;
  for (const auto& p : cfg.ports) {
    if (p.uplink) uplink = p.name;
    else vm_ports.push_back(p.name);
  }
  std::string list;
  for (const auto& n : vm_ports) list += (list.empty() ? "" : ", ") + n;
  if (list.empty()) list = "none";
  for (const auto& vm : policy.vms) {
    if (!vm.port) continue;
    const std::string& port = *vm.port;
    if (port == uplink)
      return core::make_error(location(policy_text, file, vm.name) + "VM '" + vm.name + "': port '" + port +
                              "' is the uplink of " + cfg.file + "; a VM needs one of its VM ports (" + list + ")");
    if (std::find(vm_ports.begin(), vm_ports.end(), port) == vm_ports.end())
      return core::make_error(location(policy_text, file, vm.name) + "VM '" + vm.name + "': unknown port '" + port +
                              "' (VM ports of " + cfg.file + ": " + list +
                              "; add the port to the daemon configuration or fix the VM's port)");
  }
  return {};
}

}  // namespace sgfw::config
