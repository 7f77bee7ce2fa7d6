// IPv6 address -> (remote class, local VM) lookup, the IPv6 twin of AddressTable: every
// IPv6 address of compiler::CompiledPolicy::address_classes6, local VMs' own IPv6
// addresses with their VM index. Built on the control path; lookups are lock-free reads
// from any number of lcores (never written after build).
#pragma once

#include <rte_hash.h>

#include <cstdint>
#include <string>

#include "acl/address_table.hpp"
#include "compiler/rule_image.hpp"
#include "core/expected.hpp"
#include "core/ip_address.hpp"
#include "core/unique_handle.hpp"

namespace sgfw::acl {

class AddressTable6 {
 public:
  AddressTable6() = default;  // movable, not copyable (owns the hash)

  // `name` must be unique in the process (rte_hash names are global). Errors: rte_hash
  // failures, as text.
  [[nodiscard]] static core::Expected<AddressTable6> build(const compiler::CompiledPolicy& policy,
                                                          const std::string& name);

  // `addr`: 16 bytes, network byte order.
  [[nodiscard]] AddressInfo lookup(const core::Ipv6& addr) const { return lookup(addr.bytes.data()); }
  // Data path: `addr16` points to 16 address bytes (network order, any alignment).
  [[nodiscard]] AddressInfo lookup(const uint8_t* addr16) const;
  // Data path: out[i] = lookup(addrs16[i]) for n <= RTE_HASH_LOOKUP_BULK_MAX addresses,
  // in one bulk hash lookup (the memory accesses of the n lookups overlap).
  void lookup_bulk(const uint8_t* const* addrs16, uint32_t n, AddressInfo* out) const;

 private:
  core::UniqueHandle<rte_hash, rte_hash_free> hash_;
};

}  // namespace sgfw::acl
