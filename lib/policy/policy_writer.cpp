#include "policy/policy_writer.hpp"

#include <cstdio>

namespace sgfw::policy {

namespace {

using Protocol = policy::Protocol;
using Remote = policy::Remote;

// A YAML double-quoted scalar. Every name is written this way: plain YAML reads valid
// names such as null, true, no, off, 0x1 or 1e3 as other types.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// IPv6 text is double-quoted: in a flow collection a plain scalar such as 2001:db8::
// (a ':' before ']' or ',') or ::/0 would not read back as one string.
std::string address_text(const core::IpAddress& a) {
  return a.is_v4() ? core::to_string(a) : "\"" + core::to_string(a) + "\"";
}

std::string cidr_text(const core::IpCidr& c) {
  return c.base.is_v4() ? core::to_string(c) : "\"" + core::to_string(c) + "\"";
}

std::string_view keyword(policy::Direction d) {
  return d == policy::Direction::kIngress ? "Ingress" : "Egress";
}

std::string_view keyword(Protocol p) {
  switch (p) {
    case Protocol::kTcp: return "TCP";
    case Protocol::kUdp: return "UDP";
    case Protocol::kIcmp: return "ICMP";
    case Protocol::kAll: return "All";
  }
  return "All";
}

void write_remote(const Remote& r, std::string& out) {
  switch (r.kind) {
    case Remote::Kind::kAddress:
      out += "{address: {IPAddressOrCIDR: ";
      out += cidr_text(r.cidr);
      out += "}}";
      break;
    case Remote::Kind::kSubnet:
      out += "{subnetRef: {name: " + quoted(r.name) + "}}";
      break;
    case Remote::Kind::kGroup:
      out += "{securityGroupRef: {name: " + quoted(r.name) + "}}";
      break;
  }
}

void write_rule(const policy::Rule& r, size_t index, std::string& out) {
  out += "      - {";
  if (r.name != "rule-" + std::to_string(index)) out += "name: " + quoted(r.name) + ", ";
  out += "direction: ";
  out += keyword(r.direction);
  out += ", protocol: ";
  out += keyword(r.protocol);
  if (r.ports) {
    if (r.ports->lo == r.ports->hi)
      out += ", port: " + std::to_string(r.ports->lo);
    else
      out += ", portRange: " + std::to_string(r.ports->lo) + "-" + std::to_string(r.ports->hi);
  }
  if (!r.description.empty()) out += ", description: " + quoted(r.description);
  out += ", remote: ";
  write_remote(r.remote, out);
  out += "}\n";
}

void write_vm(const policy::Vm& vm, std::string& out) {
  out += "  - {name: " + quoted(vm.name);
  if (vm.appliance) out += ", appliance: " + quoted(*vm.appliance);
  if (vm.port) out += ", port: " + quoted(*vm.port);
  if (vm.mac) out += ", mac: " + quoted(core::to_string(*vm.mac));
  out += ", ips: [";
  for (size_t i = 0; i < vm.ips.size(); ++i) {
    if (i) out += ", ";
    out += address_text(vm.ips[i]);
  }
  out += "]";
  if (!vm.allowed_address_pairs.empty()) {
    out += ", allowedAddressPairs: [";
    for (size_t i = 0; i < vm.allowed_address_pairs.size(); ++i) {
      const auto& pair = vm.allowed_address_pairs[i];
      if (i) out += ", ";
      out += "{ip: " + (pair.ip.is_host() ? address_text(pair.ip.base) : cidr_text(pair.ip));
      if (pair.mac) out += ", mac: " + quoted(core::to_string(*pair.mac));
      out += "}";
    }
    out += "]";
  }
  out += ", securityGroups: [";
  for (size_t i = 0; i < vm.groups.size(); ++i) {
    if (i) out += ", ";
    out += quoted(vm.groups[i]);
  }
  out += "]}\n";
}

}  // namespace

std::string write_policy_yaml(const policy::Policy& policy, std::string_view header) {
  std::string out;
  size_t rules = 0;
  for (const auto& g : policy.groups) rules += g.rules.size();
  out.reserve(4096 + 100 * rules + 120 * policy.vms.size());

  while (!header.empty()) {
    size_t nl = header.find('\n');
    std::string_view line = header.substr(0, nl);
    out += "# ";
    out += line;
    out += '\n';
    header = nl == std::string_view::npos ? std::string_view{} : header.substr(nl + 1);
  }

  out += "subnets:";
  out += policy.subnets.empty() ? " []\n" : "\n";
  for (const auto& s : policy.subnets)
    out += "  - {name: " + quoted(s.name) + ", cidr: " + cidr_text(s.cidr) + "}\n";

  out += "\nsecurityGroups:\n";
  bool any_group = false;
  for (const auto& g : policy.groups) {
    if (g.builtin || policy::is_builtin_group_name(g.name)) continue;
    any_group = true;
    out += "  - name: " + quoted(g.name) + "\n";
    if (!g.description.empty()) out += "    description: " + quoted(g.description) + "\n";
    if (g.rules.empty()) continue;
    out += "    rules:\n";
    for (size_t i = 0; i < g.rules.size(); ++i) write_rule(g.rules[i], i, out);
  }
  if (!any_group) out += "  []\n";

  out += "\nvms:";
  out += policy.vms.empty() ? " []\n" : "\n";
  for (const auto& vm : policy.vms) write_vm(vm, out);
  return out;
}

}  // namespace sgfw::policy
