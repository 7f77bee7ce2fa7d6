#include "runtime/snapshot.hpp"

#include <rte_errno.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <unordered_map>

#include "compiler/compiler.hpp"
#include "policy/validate.hpp"

namespace sgfw::runtime {

namespace {

std::atomic<uint64_t> g_pair_tables{0};

policy::PortNames port_names(const PortLayout& ports) {
  policy::PortNames names;
  for (size_t i = 0; i < ports.names.size(); ++i) {
    if (i == ports.uplink) names.uplink = ports.names[i];
    else names.vm_ports.push_back(ports.names[i]);
  }
  return names;
}

}  // namespace

core::Expected<std::unique_ptr<Snapshot>> Snapshot::build(policy::Policy policy,
                                                          const PortLayout& ports, uint64_t generation,
                                                          unsigned workers,
                                                          const acl::BuildOptions& options,
                                                          const Snapshot* previous,
                                                          const std::vector<std::string>* membership_changed) {
  // Every caller checked already (with the daemon's file for the message); a snapshot is
  // never built from a policy that fails it.
  if (auto st = policy::check_vm_ports(policy, port_names(ports)); !st) return core::make_error(st.error().message);
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  auto t0 = Clock::now();
  const acl::PolicyTables* prev_tables = previous ? &previous->tables_ : nullptr;
  compiler::CompiledPolicy compiled =
      prev_tables && membership_changed
          ? compiler::compile_membership_change(policy, prev_tables->compiled(), *membership_changed)
          : compiler::compile(policy, prev_tables ? &prev_tables->compiled() : nullptr);
  auto t1 = Clock::now();
  auto tables = acl::PolicyTables::build(std::move(compiled), options, prev_tables);
  if (!tables) return core::make_error(tables.error().message);
  auto t2 = Clock::now();

  std::unique_ptr<Snapshot> s(new Snapshot());
  s->generation_ = generation;
  static std::atomic<uint64_t> next_serial{1};
  s->serial_ = next_serial.fetch_add(1, std::memory_order_relaxed);
  s->policy_ = std::move(policy);
  s->tables_ = std::move(*tables);
  s->ports_ = ports;
  const auto& vms = s->tables_.compiled().vms;

  // (port, MAC) -> VM, and (no port, MAC) -> the first VM with that MAC (by name).
  std::unordered_map<uint64_t, uint32_t> macs;
  macs.reserve(vms.size() * 2);
  for (uint32_t i = 0; i < vms.size(); ++i) {
    auto it = std::find(ports.names.begin(), ports.names.end(), vms[i].port);
    uint16_t port = static_cast<uint16_t>(it - ports.names.begin());
    uint64_t mac = vms[i].mac.as_u64();
    s->vm_port_.push_back(port);
    s->vm_mac_.push_back(mac);
    s->vm_ids_.push_back(i);
    if (!macs.emplace(key(port, mac), i).second)
      return core::make_error("VM '" + vms[i].name + "': its MAC is another VM's on port '" + vms[i].port + "'");
    macs.emplace(key(kNoPort, mac), i);
  }
  if (auto st = s->add_pairs(macs, previous); !st) return core::make_error(st.error().message);
  s->macs_ = core::FrozenHashMap<uint64_t, uint32_t>::build({macs.begin(), macs.end()});
  for (unsigned w = 0; w < workers; ++w)
    s->counters_.push_back(std::make_unique<PolicyCounters>(vms.size(), s->tables_.compiled().rules.size()));
  s->compile_ms_ = ms(t0, t1);
  s->tables_ms_ = ms(t1, t2);
  s->other_ms_ = ms(t2, Clock::now());
  return s;
}

// The local VMs' allowed address pairs (docs/enforcement.md §7 "Allowed address pairs"):
// IPv4 blocks into the pair table, IPv6 blocks into its twin; a pair's own MAC (either
// family) becomes one of its VM's MACs on its port (and for replies by MAC). A pair MAC
// that is another VM's MAC on that port is refused: the port could not tell the two VMs
// apart.
core::Status Snapshot::add_pairs(std::unordered_map<uint64_t, uint32_t>& macs, const Snapshot* previous) {
  const auto& vms = tables_.compiled().vms;
  std::vector<acl::PairSpec> specs;
  std::vector<acl::PairSpec6> specs6;
  for (uint32_t i = 0; i < vms.size(); ++i) {
    const policy::Vm* vm = policy_.find_vm(vms[i].name);
    if (vm == nullptr) continue;
    for (const auto& pair : vm->allowed_address_pairs) {
      const uint64_t mac = pair.mac ? pair.mac->as_u64() : vm_mac_[i];
      if (pair.ip.base.is_v4()) specs.push_back({pair.ip.base.v4.value, pair.ip.prefix, {i, mac}});
      else specs6.push_back({pair.ip.base.v6, pair.ip.prefix, {i, mac}});
      if (mac == vm_mac_[i]) continue;
      const uint64_t k = key(vm_port_[i], mac);
      auto held = macs.find(k);
      if (held != macs.end() && held->second != i)
        return core::make_error("VM '" + vms[i].name + "': allowed address pair MAC " + core::to_string(*pair.mac) +
                                " is the MAC of VM '" + vms[held->second].name + "' on port '" + vms[i].port +
                                "': a port must tell its VMs apart by MAC");
      macs.emplace(k, i);
      macs.emplace(key(kNoPort, mac), i);
    }
  }
  // Pairs as the previous snapshot had them (always, after a set-groups): its tables are
  // shared, not rebuilt.
  auto table = acl::PairTable::build(specs, "sgpair" + std::to_string(g_pair_tables.fetch_add(1)),
                                     previous ? &previous->pairs_ : nullptr);
  if (!table) return core::make_error(table.error().message);
  auto table6 = acl::PairTable6::build(specs6, "sgpair6_" + std::to_string(g_pair_tables.fetch_add(1)),
                                       previous ? &previous->pairs6_ : nullptr);
  if (!table6) return core::make_error(table6.error().message);
  pairs_ = std::move(*table);
  pairs6_ = std::move(*table6);
  return {};
}

}  // namespace sgfw::runtime
