// Address -> (remote class, local VM) lookup over every IPv4 VM address of a policy,
// as a core::FrozenHashMap (docs/design/packet-path.md "Lookups"). Built on the
// control path; lookups are data-path safe: plain reads from any number of lcores (the
// table is never written after build).
#pragma once

#include <cstdint>
#include <string>

#include "compiler/rule_image.hpp"
#include "core/expected.hpp"
#include "core/frozen_hash_map.hpp"

namespace sgfw::acl {

inline constexpr uint32_t kNoVm = 0xffffffffu;

struct AddressInfo {
  compiler::ClassId klass = compiler::kNoClass;  // 0: the address belongs to no VM
  uint32_t local_vm = kNoVm;                     // index into CompiledPolicy::vms, or kNoVm
};

class AddressTable {
 public:
  AddressTable() = default;

  // `name` names the table in errors. Errors: none today (kept for the table kinds
  // that allocate DPDK memory); std::bad_alloc when memory runs out.
  [[nodiscard]] static core::Expected<AddressTable> build(const compiler::CompiledPolicy& policy,
                                                         const std::string& name);

  // Data path. `addr_be`: IPv4 address in network byte order.
  [[nodiscard]] AddressInfo lookup(uint32_t addr_be) const { return map_.find(addr_be, AddressInfo{}); }
  // Data path: n lookups at once (their slots prefetched first).
  void lookup_bulk(const uint32_t* addrs_be, uint32_t n, AddressInfo* out) const {
    map_.find_bulk(addrs_be, n, out, AddressInfo{});
  }

 private:
  core::FrozenHashMap<uint32_t, AddressInfo> map_;
};

}  // namespace sgfw::acl
