// Allowed address pairs of local VMs, IPv6 (docs/enforcement.md §7.2): the twin of
// PairTable. IPv6 prefix -> the local VMs that may use it and with which MAC, as an
// rte_rib6 (a path-compressed binary trie: memory by the number of prefixes) whose
// next hop indexes a list of owners. Overlapping pairs are resolved at
// build: the owners listed for a prefix include the owners of every pair prefix that
// contains it, so the longest match answers for all of them. Built on the control path;
// lookups are data-path safe from any number of lcores (never written after build).
// Errors: build() fails on rte_rib6 errors (memory, a name already in use) and on a
// prefix above 128 (validated policies have none); nothing is built then.
#pragma once

#include <rte_rib6.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acl/pair_table.hpp"
#include "core/expected.hpp"
#include "core/ip_address.hpp"
#include "core/unique_handle.hpp"

namespace sgfw::acl {

// One IPv6 pair of one local VM. addr: network byte order (core::Ipv6); host bits
// beyond `prefix` are ignored.
struct PairSpec6 {
  core::Ipv6 addr;
  uint8_t prefix = 128;
  PairOwner owner;
  bool operator==(const PairSpec6&) const = default;
};

class PairTable6 {
 public:
  PairTable6() = default;  // copies share the built table (immutable; the last copy frees it)

  // `name` must be unique in the process (rte_rib6 names are global) and at most 20
  // characters (rte_rib6 names its node pool "MP_" + name, a mempool name).
  // With `previous` built from the same specs, the result shares its table.
  [[nodiscard]] static core::Expected<PairTable6> build(const std::vector<PairSpec6>& pairs, const std::string& name,
                                                        const PairTable6* previous = nullptr);

  // Whether this table and `other` share one built table (a build with `previous`).
  [[nodiscard]] bool shares_with(const PairTable6& other) const noexcept { return data_ != nullptr && data_ == other.data_; }

  // True when no local VM has an IPv6 pair: the packet path then skips every pair check.
  [[nodiscard]] bool empty() const noexcept { return data_ == nullptr; }

  // Data path. addr16: 16 bytes, network byte order, any alignment. The owners of the
  // pairs containing it: [*first, *first + count). count == 0: no local VM has a pair
  // with this address (*first untouched).
  [[nodiscard]] uint32_t owners(const uint8_t* addr16, const PairOwner** first) const noexcept;

  // Data path: the local VM that may use addr16 with `mac` (the pair's MAC), or
  // 0xffffffff. Where several VMs share the pair with the same MAC, the first listed.
  [[nodiscard]] uint32_t owner_with_mac(const uint8_t* addr16, uint64_t mac) const noexcept;

  // Data path: whether local VM `vm` may use addr16 with `mac`.
  [[nodiscard]] bool may_use(const uint8_t* addr16, uint32_t vm, uint64_t mac) const noexcept;

  // Data path: whether some local VM has a pair containing addr16.
  [[nodiscard]] bool owned(const uint8_t* addr16) const noexcept {
    const PairOwner* o = nullptr;
    return owners(addr16, &o) != 0;
  }

 private:
  using Data = PairTableData<rte_rib6, rte_rib6_free, PairSpec6>;
  std::shared_ptr<const Data> data_;  // nullptr: no pairs
};

}  // namespace sgfw::acl
