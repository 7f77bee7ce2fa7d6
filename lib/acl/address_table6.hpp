// IPv6 address -> (remote class, local VM) lookup, the IPv6 twin of AddressTable: every
// IPv6 address of compiler::CompiledPolicy::address_classes6, local VMs' own IPv6
// addresses with their VM index, in a core::FrozenHashMap (docs/design/packet-path.md
// "Lookups"). Built on the control path; lookups are plain reads from any number of
// lcores (never written after build).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "acl/address_table.hpp"
#include "compiler/rule_image.hpp"
#include "core/expected.hpp"
#include "core/frozen_hash_map.hpp"
#include "core/ip_address.hpp"

namespace sgfw::acl {

class AddressTable6 {
 public:
  AddressTable6() = default;

  // `name` names the table in errors. Errors: none today; std::bad_alloc when memory
  // runs out.
  [[nodiscard]] static core::Expected<AddressTable6> build(const compiler::CompiledPolicy& policy,
                                                          const std::string& name);

  // `addr`: 16 bytes, network byte order.
  [[nodiscard]] AddressInfo lookup(const core::Ipv6& addr) const { return lookup(addr.bytes.data()); }
  // Data path: `addr16` points to 16 address bytes (network order, any alignment).
  [[nodiscard]] AddressInfo lookup(const uint8_t* addr16) const { return map_.find(key_of(addr16), AddressInfo{}); }
  // Data path: out[i] = lookup(addrs16[i]) for n <= kBulkMax addresses, their slots
  // prefetched first.
  static constexpr uint32_t kBulkMax = 64;
  void lookup_bulk(const uint8_t* const* addrs16, uint32_t n, AddressInfo* out) const {
    core::Key128 keys[kBulkMax];
    for (uint32_t i = 0; i < n; ++i) keys[i] = key_of(addrs16[i]);
    map_.find_bulk(keys, n, out, AddressInfo{});
  }

 private:
  static core::Key128 key_of(const uint8_t* addr16) {
    core::Key128 k;
    std::memcpy(&k.lo, addr16, 8);
    std::memcpy(&k.hi, addr16 + 8, 8);
    return k;
  }
  core::FrozenHashMap<core::Key128, AddressInfo> map_;
};

}  // namespace sgfw::acl
