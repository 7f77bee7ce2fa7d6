#include "policy/reference_matcher.hpp"

#include <algorithm>

#include "policy/link_services.hpp"

namespace sgfw::policy {

namespace {

// Which local VM an end of the packet is: none, exactly one, or "cannot tell".
struct EndVm {
  const Vm* vm = nullptr;
  std::vector<std::string> ambiguous;  // non-empty: the local VMs sharing the address
};

EndVm local_vm_at(const Policy& p, const core::IpAddress& a, const std::optional<core::Mac>& mac) {
  std::vector<const Vm*> owners;
  for (const auto& vm : p.vms)
    if (vm.is_local() && vm.has_address(a)) owners.push_back(&vm);
  if (owners.size() <= 1) return {owners.empty() ? nullptr : owners.front(), {}};
  if (mac) {
    const Vm* picked = nullptr;
    size_t n = 0;
    for (const Vm* vm : owners)
      if (vm->has_mac(*mac)) picked = vm, ++n;
    if (n == 1) return {picked, {}};
  }
  EndVm e;
  for (const Vm* vm : owners) e.ambiguous.push_back(vm->name);  // p.vms is sorted by name
  return e;
}

bool protocol_matches(Protocol rule, uint8_t proto, core::Family family) {
  switch (rule) {
    case Protocol::kTcp: return proto == kIpProtoTcp;
    case Protocol::kUdp: return proto == kIpProtoUdp;
    case Protocol::kIcmp: return proto == icmp_protocol(family);
    case Protocol::kAll: return true;
  }
  return false;
}

bool remote_matches(const Policy& p, const Remote& remote, const core::IpAddress& other) {
  switch (remote.kind) {
    case Remote::Kind::kAddress:
      return remote.cidr.contains(other);
    case Remote::Kind::kSubnet:
      return p.find_subnet(remote.name)->cidr.contains(other);
    case Remote::Kind::kGroup:
      for (const auto& vm : p.vms) {
        if (!vm.has_address(other)) continue;
        auto eff = effective_groups(vm);
        if (std::find(eff.begin(), eff.end(), remote.name) != eff.end()) return true;
      }
      return false;
  }
  return false;
}

Check check(const Policy& p, const Vm& vm, Direction dir, const PacketTuple& pkt) {
  Check c{vm.name, dir, false, {}};
  const core::IpAddress& other = dir == Direction::kEgress ? pkt.dst : pkt.src;
  // Groups are sorted by name (byte order) in a finalized policy; effective_groups is
  // sorted the same way, so the first match below is the deciding rule.
  for (const auto& gname : effective_groups(vm)) {
    const Group* g = p.find_group(gname);
    for (const auto& r : g->rules) {
      if (r.direction != dir) continue;
      if (!protocol_matches(r.protocol, pkt.proto, pkt.family())) continue;
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
  if (packet.src.family != packet.dst.family) return combine_checks({});
  EndVm s = local_vm_at(policy, packet.src, packet.src_mac);
  EndVm d = local_vm_at(policy, packet.dst, packet.dst_mac);
  if (!s.ambiguous.empty() || !d.ambiguous.empty()) {
    Verdict v;
    v.reason = std::string(kReasonAmbiguous);
    v.ambiguous_vms = !s.ambiguous.empty() ? s.ambiguous : d.ambiguous;
    if (!s.ambiguous.empty() && !d.ambiguous.empty()) {
      v.ambiguous_vms.insert(v.ambiguous_vms.end(), d.ambiguous.begin(), d.ambiguous.end());
      std::sort(v.ambiguous_vms.begin(), v.ambiguous_vms.end());
      v.ambiguous_vms.erase(std::unique(v.ambiguous_vms.begin(), v.ambiguous_vms.end()), v.ambiguous_vms.end());
    }
    return v;
  }
  std::vector<Check> checks;
  if (const char* r = link_service_drop_reason(packet, s.vm != nullptr)) return link_service_drop(r);
  if (s.vm) checks.push_back(check(policy, *s.vm, Direction::kEgress, packet));
  if (d.vm) checks.push_back(check(policy, *d.vm, Direction::kIngress, packet));
  return combine_checks(std::move(checks));
}

}  // namespace sgfw::policy
