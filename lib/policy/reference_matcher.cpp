#include "policy/reference_matcher.hpp"

#include <algorithm>

#include "policy/link_services.hpp"

namespace sgfw::policy {

namespace {

const Vm* vm_with_address(const Policy& p, core::Ipv4 a, bool local_only) {
  for (const auto& vm : p.vms) {
    if (local_only && !vm.is_local()) continue;
    if (std::find(vm.ips.begin(), vm.ips.end(), a) != vm.ips.end()) return &vm;
  }
  return nullptr;
}

bool protocol_matches(Protocol rule, uint8_t proto) {
  switch (rule) {
    case Protocol::kTcp: return proto == kIpProtoTcp;
    case Protocol::kUdp: return proto == kIpProtoUdp;
    case Protocol::kIcmp: return proto == kIpProtoIcmp;
    case Protocol::kAll: return true;
  }
  return false;
}

bool remote_matches(const Policy& p, const Remote& remote, core::Ipv4 other) {
  switch (remote.kind) {
    case Remote::Kind::kAddress:
      return remote.cidr.contains(other);
    case Remote::Kind::kSubnet:
      return p.find_subnet(remote.name)->cidr.contains(other);
    case Remote::Kind::kGroup:
      for (const auto& vm : p.vms) {
        if (std::find(vm.ips.begin(), vm.ips.end(), other) == vm.ips.end()) continue;
        auto eff = effective_groups(vm);
        if (std::find(eff.begin(), eff.end(), remote.name) != eff.end()) return true;
      }
      return false;
  }
  return false;
}

Check check(const Policy& p, const Vm& vm, Direction dir, const PacketTuple& pkt) {
  Check c{vm.name, dir, false, {}};
  core::Ipv4 other = dir == Direction::kEgress ? pkt.dst : pkt.src;
  // Groups are sorted by name (byte order) in a finalized policy; effective_groups is
  // sorted the same way, so the first match below is the deciding rule.
  for (const auto& gname : effective_groups(vm)) {
    const Group* g = p.find_group(gname);
    for (const auto& r : g->rules) {
      if (r.direction != dir) continue;
      if (!protocol_matches(r.protocol, pkt.proto)) continue;
      if (r.ports && (pkt.dport < r.ports->lo || pkt.dport > r.ports->hi)) continue;
      if (!remote_matches(p, r.remote, other)) continue;
      c.allow = true;
      c.rule = g->name + "/" + r.name;
      return c;
    }
  }
  return c;
}

}  // namespace

Verdict reference_verdict(const Policy& policy, const PacketTuple& packet) {
  std::vector<Check> checks;
  const Vm* s = vm_with_address(policy, packet.src, true);
  if (dhcp_server_from_vm(packet, s != nullptr)) return link_service_drop(kDhcpServerFromVm);
  if (s) checks.push_back(check(policy, *s, Direction::kEgress, packet));
  if (const Vm* d = vm_with_address(policy, packet.dst, true))
    checks.push_back(check(policy, *d, Direction::kIngress, packet));
  return combine_checks(std::move(checks));
}

}  // namespace sgfw::policy
