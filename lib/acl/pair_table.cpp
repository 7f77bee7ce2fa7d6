#include "acl/pair_table.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <algorithm>
#include <map>
#include <utility>

namespace sgfw::acl {

namespace {

uint32_t prefix_mask(uint8_t prefix) { return prefix == 0 ? 0u : ~uint32_t{0} << (32 - prefix); }

}  // namespace

core::Expected<PairTable> PairTable::build(const std::vector<PairSpec>& pairs, const std::string& name,
                                             const PairTable* previous) {
  PairTable t;
  if (pairs.empty()) return t;
  if (previous != nullptr && previous->data_ != nullptr && previous->data_->specs == pairs) return *previous;
  for (const auto& p : pairs)
    if (p.prefix > 32) return core::make_error("PairTable(" + name + "): prefix /" + std::to_string(p.prefix));
  auto d = std::make_shared<Data>();
  d->specs = pairs;
  // Distinct prefixes with their own owners, in a stable order.
  std::map<std::pair<uint32_t, uint8_t>, std::vector<PairOwner>> own;
  for (const auto& p : pairs) own[{p.addr & prefix_mask(p.prefix), p.prefix}].push_back(p.owner);
  rte_rib_conf cfg{};
  cfg.ext_sz = 0;
  cfg.max_nodes = static_cast<int>(2 * own.size() + 1);  // an insert adds its node and at most one branch
  d->rib.reset(rte_rib_create(name.c_str(), SOCKET_ID_ANY, &cfg));
  if (d->rib == nullptr) return core::make_error("rte_rib_create(" + name + "): " + rte_strerror(rte_errno));
  for (const auto& [key, direct] : own) {
    auto [addr, prefix] = key;
    Data::Range r{static_cast<uint32_t>(d->owners.size()), 0};
    // Every pair prefix containing this one (its ancestors, itself last) adds its owners.
    for (int len = 0; len <= prefix; ++len) {
      auto it = own.find({addr & prefix_mask(static_cast<uint8_t>(len)), static_cast<uint8_t>(len)});
      if (it == own.end()) continue;
      for (const auto& o : it->second) d->owners.push_back(o);
    }
    r.count = static_cast<uint32_t>(d->owners.size()) - r.begin;
    const uint32_t hop = static_cast<uint32_t>(d->ranges.size());
    d->ranges.push_back(r);
    rte_rib_node* node = rte_rib_insert(d->rib.get(), addr, prefix);  // depth 0..32: a /0 pair too
    if (node == nullptr || rte_rib_set_nh(node, hop) != 0)
      return core::make_error("rte_rib_insert(" + name + "): " + rte_strerror(rte_errno));
  }
  t.data_ = std::move(d);
  return t;
}

uint32_t PairTable::owners(uint32_t addr_be, const PairOwner** first) const noexcept {
  if (data_ == nullptr) return 0;
  const rte_rib_node* node = rte_rib_lookup(data_->rib.get(), rte_be_to_cpu_32(addr_be));
  uint64_t hop = 0;
  if (node == nullptr || rte_rib_get_nh(node, &hop) != 0) return 0;
  const Data::Range& r = data_->ranges[hop];
  *first = data_->owners.data() + r.begin;
  return r.count;
}

uint32_t PairTable::owner_with_mac(uint32_t addr_be, uint64_t mac) const noexcept {
  const PairOwner* o = nullptr;
  const uint32_t n = owners(addr_be, &o);
  for (uint32_t i = 0; i < n; ++i)
    if (o[i].mac == mac) return o[i].vm;
  return 0xffffffffu;
}

bool PairTable::may_use(uint32_t addr_be, uint32_t vm, uint64_t mac) const noexcept {
  const PairOwner* o = nullptr;
  const uint32_t n = owners(addr_be, &o);
  for (uint32_t i = 0; i < n; ++i)
    if (o[i].vm == vm && o[i].mac == mac) return true;
  return false;
}

}  // namespace sgfw::acl
