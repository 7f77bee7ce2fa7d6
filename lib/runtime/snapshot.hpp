// An immutable policy snapshot as the workers see it: compiled rte_acl contexts, the
// address table, the port/MAC -> VM map, and the generation's counters. Built whole on
// the control path; published with one atomic pointer store; never modified after
// publication except for the per-worker counter blocks (each written by one worker).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "acl/pair_table.hpp"
#include "acl/pair_table6.hpp"
#include "acl/policy_tables.hpp"
#include "core/expected.hpp"
#include "core/frozen_hash_map.hpp"
#include "core/unique_handle.hpp"
#include "policy/model.hpp"
#include "runtime/counters.hpp"

namespace sgfw::runtime {

inline constexpr uint16_t kNoPort = 0xffff;

struct PortLayout {
  std::vector<std::string> names;  // index = sgfw port index (also its DPDK port order)
  uint16_t uplink = 0;
};

class Snapshot {
 public:
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() = default;

  // Compiles `policy` for `ports` (every local VM's port must exist and must not be the
  // uplink) with `workers` counter blocks. Errors: bad ports, rte_acl/rte_hash errors (the pair and rule tables).
  // With `previous` (the snapshot this one will replace), class ids stay stable and
  // contexts with unchanged content (and pair tables built from the same pairs) are
  // shared rather than rebuilt. With `previous` and
  // `membership_changed` (a set-groups: `policy` differs from previous->policy() only
  // in those VMs' groups), the compile is incremental
  // (compiler::compile_membership_change; the same output).
  [[nodiscard]] static core::Expected<std::unique_ptr<Snapshot>> build(
      policy::Policy policy, const PortLayout& ports, uint64_t generation,
      unsigned workers, const acl::BuildOptions& options, const Snapshot* previous = nullptr,
      const std::vector<std::string>* membership_changed = nullptr);

  uint64_t generation() const { return generation_; }
  // This snapshot's number, unique in the process (never reused, unlike generations in
  // tests): what caches of its tables' answers are keyed on. Starts at 1.
  uint64_t serial() const { return serial_; }
  // How long build() took, by phase (milliseconds): compile, rte_acl + address table,
  // the rest (policy copy, MAC table, counters).
  double compile_ms() const { return compile_ms_; }
  double tables_ms() const { return tables_ms_; }
  double other_ms() const { return other_ms_; }
  const acl::PolicyTables& tables() const { return tables_; }
  // Data path: the allowed address pairs of the local VMs, IPv4 and IPv6.
  const acl::PairTable& pairs() const { return pairs_; }
  const acl::PairTable6& pairs6() const { return pairs6_; }
  const policy::Policy& policy() const { return policy_; }

  // Data path: the local VM with `mac` (u64, see core::Mac::as_u64) on `port`, or kNoVm.
  [[nodiscard]] uint32_t vm_on_port(uint16_t port, uint64_t mac) const { return lookup(key(port, mac)); }
  // Data path: vm_on_port for n <= 64 MACs on one port.
  void vms_on_port_bulk(uint16_t port, const uint64_t* macs, uint32_t n, uint32_t* out) const {
    uint64_t keys[64];
    for (uint32_t i = 0; i < n; ++i) keys[i] = key(port, macs[i]);
    macs_.find_bulk(keys, n, out, acl::kNoVm);
  }
  // Data path: a local VM with `mac` on any port (the first by name), or kNoVm.
  [[nodiscard]] uint32_t vm_with_mac(uint64_t mac) const { return lookup(key(kNoPort, mac)); }
  [[nodiscard]] uint16_t vm_port(uint32_t vm) const { return vm_port_[vm]; }
  [[nodiscard]] uint64_t vm_mac(uint32_t vm) const { return vm_mac_[vm]; }
  [[nodiscard]] const compiler::VmEntry& vm(uint32_t i) const { return tables_.compiled().vms[i]; }
  [[nodiscard]] uint16_t uplink() const { return ports_.uplink; }
  [[nodiscard]] const PortLayout& ports() const { return ports_; }

  // Stable VM ids (the same VM keeps its id across generations): connection quotas
  // and connections' owners use them. Set by the control plane before publication;
  // defaults to the VM index.
  void set_vm_ids(std::vector<uint32_t> ids) { vm_ids_ = std::move(ids); }
  [[nodiscard]] uint32_t vm_id(uint32_t vm) const { return vm_ids_[vm]; }
  [[nodiscard]] const std::vector<uint32_t>& vm_ids() const { return vm_ids_; }

  // Switches every rte_acl context's classify method (-ENOTSUP where the CPU does not
  // have it). Control path, while no worker classifies with this snapshot's contexts
  // (tests and benchmarks; the daemon keeps DPDK's default choice).
  [[nodiscard]] int set_classify_algorithm(acl::ClassifyAlg alg) { return tables_.set_algorithm(alg); }

  [[nodiscard]] PolicyCounters& counters(unsigned worker) { return *counters_[worker]; }
  [[nodiscard]] const std::vector<std::unique_ptr<PolicyCounters>>& all_counters() const { return counters_; }

 private:
  Snapshot() = default;
  [[nodiscard]] core::Status add_pairs(std::unordered_map<uint64_t, uint32_t>& macs, const Snapshot* previous);
  static uint64_t key(uint16_t port, uint64_t mac) { return (static_cast<uint64_t>(port) << 48) | mac; }
  uint32_t lookup(uint64_t k) const { return macs_.find(k, acl::kNoVm); }

  uint64_t generation_ = 0;
  uint64_t serial_ = 0;
  double compile_ms_ = 0, tables_ms_ = 0, other_ms_ = 0;
  policy::Policy policy_;
  acl::PolicyTables tables_;
  acl::PairTable pairs_;
  acl::PairTable6 pairs6_;
  PortLayout ports_;
  // (port, MAC) and (kNoPort, MAC) -> local VM: the VMs' MACs and their pairs' MACs.
  core::FrozenHashMap<uint64_t, uint32_t> macs_;
  std::vector<uint16_t> vm_port_;
  std::vector<uint64_t> vm_mac_;
  std::vector<uint32_t> vm_ids_;
  std::vector<std::unique_ptr<PolicyCounters>> counters_;
};

}  // namespace sgfw::runtime
