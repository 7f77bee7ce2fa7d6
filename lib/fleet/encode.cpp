#include "fleet/encode.hpp"

#include <nlohmann/json.hpp>

namespace sgfw::fleet {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string cidr_text(const core::IpCidr& c) {
  return c.is_host() ? core::to_string(c.base) : core::to_string(c);
}

std::string_view keyword(policy::Direction d) { return d == policy::Direction::kIngress ? "Ingress" : "Egress"; }

std::string_view keyword(policy::Protocol p) {
  switch (p) {
    case policy::Protocol::kTcp: return "TCP";
    case policy::Protocol::kUdp: return "UDP";
    case policy::Protocol::kIcmp: return "ICMP";
    case policy::Protocol::kAll: return "All";
  }
  return "All";
}

json remote(const policy::Remote& r) {
  switch (r.kind) {
    case policy::Remote::Kind::kAddress: return {{"address", {{"IPAddressOrCIDR", core::to_string(r.cidr)}}}};
    case policy::Remote::Kind::kSubnet: return {{"subnetRef", {{"name", r.name}}}};
    case policy::Remote::Kind::kGroup: return {{"securityGroupRef", {{"name", r.name}}}};
  }
  return json::object();
}

}  // namespace

std::string encode_subnet(const policy::Subnet& subnet) {
  json j = json::object();
  j["name"] = subnet.name;
  j["cidr"] = core::to_string(subnet.cidr);
  return dump(j);
}

std::string encode_group(const policy::Group& group) {
  json j = json::object();
  j["name"] = group.name;
  if (!group.description.empty()) j["description"] = group.description;
  json rules = json::array();
  for (size_t i = 0; i < group.rules.size(); ++i) {
    const auto& r = group.rules[i];
    json rule = json::object();
    if (r.name != "rule-" + std::to_string(i)) rule["name"] = r.name;
    if (!r.description.empty()) rule["description"] = r.description;
    rule["direction"] = keyword(r.direction);
    rule["protocol"] = keyword(r.protocol);
    if (r.ports) {
      if (r.ports->lo == r.ports->hi)
        rule["port"] = r.ports->lo;
      else
        rule["portRange"] = std::to_string(r.ports->lo) + "-" + std::to_string(r.ports->hi);
    }
    rule["remote"] = remote(r.remote);
    rules.push_back(std::move(rule));
  }
  j["rules"] = std::move(rules);
  return dump(j);
}

std::string encode_vm(const policy::Vm& vm, std::string_view appliance) {
  json j = json::object();
  j["name"] = vm.name;
  if (vm.port) {  // `appliance` and `port` come together (docs/fleet.md); the VM's own wins
    j["appliance"] = vm.appliance ? std::string_view(*vm.appliance) : appliance;
    j["port"] = *vm.port;
  }
  if (vm.mac) j["mac"] = core::to_string(*vm.mac);
  json ips = json::array();
  for (const auto& ip : vm.ips) ips.push_back(core::to_string(ip));
  j["ips"] = std::move(ips);
  if (!vm.allowed_address_pairs.empty()) {
    json pairs = json::array();
    for (const auto& p : vm.allowed_address_pairs) {
      json pj = {{"ip", cidr_text(p.ip)}};
      if (p.mac) pj["mac"] = core::to_string(*p.mac);
      pairs.push_back(std::move(pj));
    }
    j["allowedAddressPairs"] = std::move(pairs);
  }
  j["securityGroups"] = vm.groups;
  return dump(j);
}

core::Expected<KeyValues> encode_policy(const policy::Policy& policy, std::string_view prefix,
                                        std::string_view appliance) {
  if (auto st = check_prefix(prefix); !st) return core::make_error(st.error().message);
  KeyValues out;
  for (const auto& s : policy.subnets) out.emplace(key_for(prefix, Kind::kSubnet, s.name), encode_subnet(s));
  for (const auto& g : policy.groups) {
    if (g.builtin) continue;
    out.emplace(key_for(prefix, Kind::kGroup, g.name), encode_group(g));
  }
  for (const auto& vm : policy.vms) {
    if (vm.appliance && !policy::is_valid_name(*vm.appliance))
      return core::make_error("VM '" + vm.name + "': the appliance name '" + *vm.appliance +
                              "' must be 1-63 of [a-z0-9-]");
    if (vm.port && !vm.appliance && !policy::is_valid_name(appliance))
      return core::make_error("VM '" + vm.name + "' is local: the appliance name '" + std::string(appliance) +
                              "' must be 1-63 of [a-z0-9-]");
    out.emplace(key_for(prefix, Kind::kVm, vm.name), encode_vm(vm, appliance));
  }
  return out;
}

}  // namespace sgfw::fleet
