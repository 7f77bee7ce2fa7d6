#include "policy/validate.hpp"

#include <algorithm>
#include <set>
#include <unordered_set>
#include <utility>

#include "core/escape.hpp"

namespace sgfw::policy {

namespace {

// "source:line:col: ", "source: " or "".
std::string location(const Policy& p, const SourceLocation& at) {
  if (p.source.empty()) return {};
  std::string s = core::escape_for_log(p.source, 256);
  if (at.known()) s += ':' + std::to_string(at.line) + ':' + std::to_string(at.column);
  return s + ": ";
}

std::string location(const Policy& p, const Vm& vm) { return location(p, vm.port_at); }

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

core::Status check_address_pairs(const Policy& policy) {
  // Every VM's own address with its owner, sorted: a CIDR's addresses are one run.
  std::vector<std::pair<core::IpAddress, const Vm*>> owners;
  for (const auto& vm : policy.vms)
    for (const auto& a : vm.ips) owners.emplace_back(a, &vm);
  auto by_address = [](const auto& x, const auto& y) { return x.first < y.first; };
  std::stable_sort(owners.begin(), owners.end(), by_address);
  for (const auto& vm : policy.vms) {
    std::set<core::IpCidr> seen;
    for (const auto& pair : vm.allowed_address_pairs) {
      auto fail = [&](const std::string& what) {
        return core::make_error(location(policy, pair.at) + "VM '" + core::escape_for_log(vm.name) +
                                "': allowed address pair " + core::to_string(pair.ip.base) +
                                (pair.ip.is_host() ? "" : "/" + std::to_string(pair.ip.prefix)) + " " + what);
      };
      if (!seen.insert(pair.ip).second) return fail("listed twice");
      auto it = std::lower_bound(owners.begin(), owners.end(), std::make_pair(pair.ip.base, &vm), by_address);
      for (; it != owners.end() && pair.ip.contains(it->first); ++it) {
        if (it->second == &vm) {
          if (pair.ip.is_host()) return fail("is its own address (redundant)");
          continue;  // a block around its own address is legal
        }
        const std::string other = "VM '" + core::escape_for_log(it->second->name) + "'";
        if (pair.ip.is_host()) return fail("is an address of " + other);
        return fail("contains " + core::to_string(it->first) + ", an address of " + other);
      }
    }
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
