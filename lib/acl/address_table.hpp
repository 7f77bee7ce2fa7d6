// Address -> (remote class, local VM) lookup over every VM address of a policy, as an
// rte_hash. Built on the control path; lookups are data-path safe: lock-free reads
// from any number of lcores (the table is never written after build).
#pragma once

#include <rte_hash.h>

#include <cstdint>
#include <string>

#include "compiler/rule_image.hpp"
#include "core/expected.hpp"
#include "core/unique_handle.hpp"

namespace sgfw::acl {

inline constexpr uint32_t kNoVm = 0xffffffffu;

struct AddressInfo {
  compiler::ClassId klass = compiler::kNoClass;  // 0: the address belongs to no VM
  uint32_t local_vm = kNoVm;                     // index into CompiledPolicy::vms, or kNoVm
};

class AddressTable {
 public:
  AddressTable() = default;  // movable, not copyable (owns the hash)

  // `name` must be unique in the process (rte_hash names are global).
  [[nodiscard]] static core::Expected<AddressTable> build(const compiler::CompiledPolicy& policy,
                                                         const std::string& name);

  // Data path. `addr_be`: IPv4 address in network byte order.
  [[nodiscard]] AddressInfo lookup(uint32_t addr_be) const {
    void* data = nullptr;
    if (hash_ == nullptr || rte_hash_lookup_data(hash_.get(), &addr_be, &data) < 0) return {};
    return unpack(reinterpret_cast<uintptr_t>(data));
  }

  // Data path: n <= RTE_HASH_LOOKUP_BULK_MAX lookups at once.
  void lookup_bulk(const uint32_t* const* addrs_be, uint32_t n, AddressInfo* out) const;

 private:
  static AddressInfo unpack(uintptr_t v) {
    return {static_cast<compiler::ClassId>(v & 0xffffffffu), static_cast<uint32_t>(v >> 32)};
  }
  core::UniqueHandle<rte_hash, rte_hash_free> hash_;
};

}  // namespace sgfw::acl
