#include "acl/pair_table6.hpp"

#include <rte_errno.h>
#include <rte_memory.h>

#include <map>
#include <utility>

namespace sgfw::acl {

namespace {

core::Ipv6 masked(const core::Ipv6& a, uint8_t prefix) {
  core::Ipv6 m;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bits = prefix >= 8 * (i + 1) ? 8u : prefix > 8 * i ? prefix - 8 * i : 0u;
    m.bytes[i] = static_cast<uint8_t>(a.bytes[i] & (0xff00u >> bits));
  }
  return m;
}

}  // namespace

core::Expected<PairTable6> PairTable6::build(const std::vector<PairSpec6>& pairs, const std::string& name,
                                             const PairTable6* previous) {
  PairTable6 t;
  if (pairs.empty()) return t;
  if (previous != nullptr && previous->data_ != nullptr && previous->data_->specs == pairs) return *previous;
  auto d = std::make_shared<Data>();
  d->specs = pairs;
  // Distinct prefixes with their own owners, in a stable order.
  std::map<std::pair<core::Ipv6, uint8_t>, std::vector<PairOwner>> own;
  for (const auto& p : pairs) {
    if (p.prefix > 128) return core::make_error("PairTable6(" + name + "): prefix /" + std::to_string(p.prefix));
    own[{masked(p.addr, p.prefix), p.prefix}].push_back(p.owner);
  }
  rte_rib6_conf cfg{};
  cfg.ext_sz = 0;
  cfg.max_nodes = static_cast<int>(2 * own.size() + 1);  // an insert adds its node and at most one branch
  d->rib.reset(rte_rib6_create(name.c_str(), SOCKET_ID_ANY, &cfg));
  if (d->rib == nullptr) return core::make_error("rte_rib6_create(" + name + "): " + rte_strerror(rte_errno));
  for (const auto& [key, direct] : own) {
    const auto& [addr, prefix] = key;
    Data::Range r{static_cast<uint32_t>(d->owners.size()), 0};
    // Every pair prefix containing this one (its ancestors, itself last) adds its owners.
    for (unsigned len = 0; len <= prefix; ++len) {
      const auto l = static_cast<uint8_t>(len);
      auto it = own.find({masked(addr, l), l});
      if (it == own.end()) continue;
      for (const auto& o : it->second) d->owners.push_back(o);
    }
    r.count = static_cast<uint32_t>(d->owners.size()) - r.begin;
    const uint32_t hop = static_cast<uint32_t>(d->ranges.size());
    d->ranges.push_back(r);
    rte_rib6_node* node = rte_rib6_insert(d->rib.get(), addr.bytes.data(), prefix);  // depth 0..128
    if (node == nullptr || rte_rib6_set_nh(node, hop) != 0)
      return core::make_error("rte_rib6_insert(" + name + "): " + rte_strerror(rte_errno));
  }
  t.data_ = std::move(d);
  return t;
}

uint32_t PairTable6::owners(const uint8_t* addr16, const PairOwner** first) const noexcept {
  if (data_ == nullptr) return 0;
  const rte_rib6_node* node = rte_rib6_lookup(data_->rib.get(), addr16);
  uint64_t hop = 0;
  if (node == nullptr || rte_rib6_get_nh(node, &hop) != 0) return 0;
  const Data::Range& r = data_->ranges[hop];
  *first = data_->owners.data() + r.begin;
  return r.count;
}

uint32_t PairTable6::owner_with_mac(const uint8_t* addr16, uint64_t mac) const noexcept {
  const PairOwner* o = nullptr;
  const uint32_t n = owners(addr16, &o);
  for (uint32_t i = 0; i < n; ++i)
    if (o[i].mac == mac) return o[i].vm;
  return 0xffffffffu;
}

bool PairTable6::may_use(const uint8_t* addr16, uint32_t vm, uint64_t mac) const noexcept {
  const PairOwner* o = nullptr;
  const uint32_t n = owners(addr16, &o);
  for (uint32_t i = 0; i < n; ++i)
    if (o[i].vm == vm && o[i].mac == mac) return true;
  return false;
}

}  // namespace sgfw::acl
