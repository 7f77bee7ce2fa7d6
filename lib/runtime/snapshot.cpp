#include "runtime/snapshot.hpp"

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include <algorithm>
#include <atomic>
#include <chrono>

#include "compiler/compiler.hpp"
#include "policy/validate.hpp"

namespace sgfw::runtime {

namespace {

std::atomic<uint64_t> g_mac_tables{0};
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
  s->policy_ = std::move(policy);
  s->tables_ = std::move(*tables);
  s->ports_ = ports;
  const auto& vms = s->tables_.compiled().vms;

  std::string name = "sgmac" + std::to_string(g_mac_tables.fetch_add(1));
  rte_hash_parameters params{};
  params.name = name.c_str();
  size_t pair_count = 0;
  for (const auto& vm : s->policy_.vms) pair_count += vm.is_local() ? vm.allowed_address_pairs.size() : 0;
  params.entries = std::max<uint32_t>(64, static_cast<uint32_t>((vms.size() + pair_count) * 4));
  params.key_len = sizeof(uint64_t);
  params.hash_func = rte_hash_crc;
  params.socket_id = SOCKET_ID_ANY;
  s->mac_table_.reset(rte_hash_create(&params));
  if (!s->mac_table_) return core::make_error("rte_hash_create(" + name + "): " + rte_strerror(rte_errno));

  for (uint32_t i = 0; i < vms.size(); ++i) {
    auto it = std::find(ports.names.begin(), ports.names.end(), vms[i].port);
    uint16_t port = static_cast<uint16_t>(it - ports.names.begin());
    uint64_t mac = vms[i].mac.as_u64();
    s->vm_port_.push_back(port);
    s->vm_mac_.push_back(mac);
    s->vm_ids_.push_back(i);
    void* data = reinterpret_cast<void*>(static_cast<uintptr_t>(i));
    uint64_t k = key(port, mac);
    int rc = rte_hash_add_key_data(s->mac_table_.get(), &k, data);
    if (rc != 0) return core::make_error(std::string("rte_hash_add_key_data: ") + rte_strerror(-rc));
    uint64_t any = key(kNoPort, mac);
    if (rte_hash_lookup(s->mac_table_.get(), &any) < 0) {
      rc = rte_hash_add_key_data(s->mac_table_.get(), &any, data);
      if (rc != 0) return core::make_error(std::string("rte_hash_add_key_data: ") + rte_strerror(-rc));
    }
  }
  if (auto st = s->add_pairs(); !st) return core::make_error(st.error().message);
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
core::Status Snapshot::add_pairs() {
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
      void* data = reinterpret_cast<void*>(static_cast<uintptr_t>(i));
      uint64_t k = key(vm_port_[i], mac);
      uint32_t holder = lookup(k);
      if (holder != acl::kNoVm && holder != i)
        return core::make_error("VM '" + vms[i].name + "': allowed address pair MAC " + core::to_string(*pair.mac) +
                                " is the MAC of VM '" + vms[holder].name + "' on port '" + vms[i].port +
                                "': a port must tell its VMs apart by MAC");
      int rc = holder == i ? 0 : rte_hash_add_key_data(mac_table_.get(), &k, data);
      uint64_t any = key(kNoPort, mac);
      if (rc == 0 && rte_hash_lookup(mac_table_.get(), &any) < 0) rc = rte_hash_add_key_data(mac_table_.get(), &any, data);
      if (rc != 0) return core::make_error(std::string("rte_hash_add_key_data: ") + rte_strerror(-rc));
    }
  }
  auto table = acl::PairTable::build(specs, "sgpair" + std::to_string(g_pair_tables.fetch_add(1)));
  if (!table) return core::make_error(table.error().message);
  auto table6 = acl::PairTable6::build(specs6, "sgpair6_" + std::to_string(g_pair_tables.fetch_add(1)));
  if (!table6) return core::make_error(table6.error().message);
  pairs_ = std::move(*table);
  pairs6_ = std::move(*table6);
  return {};
}

}  // namespace sgfw::runtime
