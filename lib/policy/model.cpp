#include "policy/model.hpp"

#include <algorithm>
#include <utility>

namespace sgfw::policy {

std::string_view to_string(Direction d) {
  return d == Direction::kIngress ? "ingress" : "egress";
}

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::kTcp: return "tcp";
    case Protocol::kUdp: return "udp";
    case Protocol::kIcmp: return "icmp";
    case Protocol::kAll: return "all";
  }
  return "?";
}

namespace {

Rule any_rule(std::string name, Direction dir, Protocol proto, std::optional<PortRange> ports,
             core::Family family = core::Family::kIpv4) {
  Rule r;
  r.name = std::move(name);
  r.direction = dir;
  r.protocol = proto;
  r.ports = ports;
  r.remote.kind = Remote::Kind::kAddress;
  r.remote.cidr = family == core::Family::kIpv4 ? core::IpCidr{core::Ipv4{0}, 0} : core::IpCidr{core::Ipv6{}, 0};
  return r;
}

template <typename T>
const T* find_by_name(const std::vector<T>& v, std::string_view name) {
  auto it = std::lower_bound(v.begin(), v.end(), name,
                             [](const T& x, std::string_view n) { return x.name < n; });
  return (it != v.end() && it->name == name) ? &*it : nullptr;
}

template <typename T>
void sort_by_name(std::vector<T>& v) {
  std::stable_sort(v.begin(), v.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

}  // namespace

std::vector<Group> builtin_groups() {
  std::vector<Group> g(3);
  g[0].name = std::string(kDefaultAllowEgress);
  g[0].description = "Allows all outbound traffic (IPv4 and IPv6); blocks all inbound traffic";
  constexpr auto v6 = core::Family::kIpv6;
  g[0].rules.push_back(any_rule("egress-all", Direction::kEgress, Protocol::kAll, std::nullopt));
  g[0].rules.push_back(any_rule("egress-all-ipv6", Direction::kEgress, Protocol::kAll, std::nullopt, v6));
  g[1].name = std::string(kDefaultAllowWeb);
  g[1].description = "Allows HTTP (TCP 80) and HTTPS (TCP 443) from any address (IPv4 and IPv6)";
  g[1].rules.push_back(any_rule("http", Direction::kIngress, Protocol::kTcp, PortRange{80, 80}));
  g[1].rules.push_back(any_rule("https", Direction::kIngress, Protocol::kTcp, PortRange{443, 443}));
  g[1].rules.push_back(any_rule("http-ipv6", Direction::kIngress, Protocol::kTcp, PortRange{80, 80}, v6));
  g[1].rules.push_back(any_rule("https-ipv6", Direction::kIngress, Protocol::kTcp, PortRange{443, 443}, v6));
  g[2].name = std::string(kDefaultAllowSsh);
  g[2].description = "Allows SSH (TCP 22) from any address (IPv4 and IPv6)";
  g[2].rules.push_back(any_rule("ssh", Direction::kIngress, Protocol::kTcp, PortRange{22, 22}));
  g[2].rules.push_back(any_rule("ssh-ipv6", Direction::kIngress, Protocol::kTcp, PortRange{22, 22}, v6));
  for (auto& grp : g) grp.builtin = true;
  return g;
}

bool is_builtin_group_name(std::string_view name) {
  return name == kDefaultAllowEgress || name == kDefaultAllowWeb || name == kDefaultAllowSsh;
}

void Policy::finalize() {
  for (auto& b : builtin_groups()) {
    bool present = std::any_of(groups.begin(), groups.end(),
                               [&](const Group& g) { return g.name == b.name; });
    if (!present) groups.push_back(std::move(b));
  }
  sort_by_name(groups);
  sort_by_name(subnets);
  sort_by_name(vms);
}

bool Vm::has_address(const core::IpAddress& a) const noexcept {
  if (std::find(ips.begin(), ips.end(), a) != ips.end()) return true;
  return std::any_of(allowed_address_pairs.begin(), allowed_address_pairs.end(),
                     [&](const AddressPair& p) { return p.ip.contains(a); });
}

bool Vm::has_mac(const core::Mac& m) const noexcept {
  if (mac == m) return true;
  return std::any_of(allowed_address_pairs.begin(), allowed_address_pairs.end(),
                     [&](const AddressPair& p) { return p.mac == m; });
}

const Group* Policy::find_group(std::string_view name) const { return find_by_name(groups, name); }
const Subnet* Policy::find_subnet(std::string_view name) const { return find_by_name(subnets, name); }
const Vm* Policy::find_vm(std::string_view name) const { return find_by_name(vms, name); }
Vm* Policy::find_vm(std::string_view name) {
  return const_cast<Vm*>(std::as_const(*this).find_vm(name));
}

std::vector<std::string> effective_groups(const Vm& vm) {
  std::vector<std::string> g = vm.groups;
  if (g.empty()) g.emplace_back(kDefaultAllowEgress);
  std::sort(g.begin(), g.end());
  g.erase(std::unique(g.begin(), g.end()), g.end());
  return g;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name)
    if (!alnum(c) && c != '-') return false;
  return true;
}

}  // namespace sgfw::policy
