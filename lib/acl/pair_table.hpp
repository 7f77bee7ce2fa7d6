// Allowed address pairs of local VMs (docs/enforcement.md §7 "Allowed address pairs"):
// IPv4 prefix -> the local VMs that may use it and with which MAC, as an rte_rib (a
// path-compressed binary trie: memory by the number of prefixes, a few nodes visited
// per lookup) whose next hop indexes a list of owners. Overlapping pairs are resolved
// at build: the owners listed for a prefix include the owners of every pair prefix that
// contains it, so the longest match answers for all of them. Built on the control path; lookups
// are data-path safe from any number of lcores (never written after build).
// Errors: build() fails on rte_rib errors (memory, a name already in use) and on a
// prefix above 32 (validated policies have none); nothing is built then.
#pragma once

#include <rte_rib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/unique_handle.hpp"

namespace sgfw::acl {

struct PairOwner {
  uint32_t vm = 0;   // local VM index (snapshot order)
  uint64_t mac = 0;  // the MAC it may use the pair with (core::Mac::as_u64 order)
  bool operator==(const PairOwner&) const = default;
};

// One pair of one local VM, host byte order.
struct PairSpec {
  uint32_t addr = 0;
  uint8_t prefix = 32;
  PairOwner owner;
  bool operator==(const PairSpec&) const = default;
};

// What a built pair table holds, shared by its copies (both families). Immutable.
template <class Rib, auto Free, class Spec>
struct PairTableData {
  struct Range {
    uint32_t begin = 0;
    uint32_t count = 0;
  };
  core::UniqueHandle<Rib, Free> rib;
  std::vector<Range> ranges;      // next hop -> owners slice
  std::vector<PairOwner> owners;
  std::vector<Spec> specs;        // what it was built from
};

class PairTable {
 public:
  PairTable() = default;  // copies share the built table (immutable; the last copy frees it)

  // `name` must be unique in the process (rte_rib names are global) and at most 20
  // characters (rte_rib names its node pool "MP_" + name, a mempool name).
  // With `previous` built from the same specs, the result shares its table.
  [[nodiscard]] static core::Expected<PairTable> build(const std::vector<PairSpec>& pairs, const std::string& name,
                                                        const PairTable* previous = nullptr);

  // Whether this table and `other` share one built table (a build with `previous`).
  [[nodiscard]] bool shares_with(const PairTable& other) const noexcept { return data_ != nullptr && data_ == other.data_; }

  // True when no local VM has a pair: the packet path then skips every pair check.
  [[nodiscard]] bool empty() const noexcept { return data_ == nullptr; }

  // Data path. The owners of the pairs containing addr_be (network order): [*first,
  // *first + count). count == 0: no local VM has a pair with this address.
  [[nodiscard]] uint32_t owners(uint32_t addr_be, const PairOwner** first) const noexcept;

  // Data path: the local VM that may use addr_be with `mac` (the pair's MAC), or
  // 0xffffffff. Where several VMs share the pair with the same MAC, the first listed.
  [[nodiscard]] uint32_t owner_with_mac(uint32_t addr_be, uint64_t mac) const noexcept;

  // Data path: whether local VM `vm` may use addr_be with `mac`.
  [[nodiscard]] bool may_use(uint32_t addr_be, uint32_t vm, uint64_t mac) const noexcept;

  // Data path: whether some local VM has a pair containing addr_be.
  [[nodiscard]] bool owned(uint32_t addr_be) const noexcept {
    const PairOwner* o = nullptr;
    return owners(addr_be, &o) != 0;
  }

 private:
  using Data = PairTableData<rte_rib, rte_rib_free, PairSpec>;
  std::shared_ptr<const Data> data_;  // nullptr: no pairs
};

}  // namespace sgfw::acl
