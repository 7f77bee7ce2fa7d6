#include "acl/pair_table6.hpp"

#include <rte_errno.h>

#include <algorithm>
#include <map>
#include <utility>

namespace sgfw::acl {

namespace {

// rte_lpm6 keeps next hops in 21 bits (struct rte_lpm6_tbl_entry, DPDK 22.11).
constexpr size_t kMaxHops = size_t{1} << 21;
// ... and at most this many tbl8 groups.
constexpr size_t kMaxTbl8s = size_t{1} << 21;

core::Ipv6 masked(const core::Ipv6& a, uint8_t prefix) {
  core::Ipv6 m;
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned bits = prefix >= 8 * (i + 1) ? 8u : prefix > 8 * i ? prefix - 8 * i : 0u;
    m.bytes[i] = static_cast<uint8_t>(a.bytes[i] & (0xff00u >> bits));
  }
  return m;
}

// tbl8 groups a rule of `depth` may need on its own path: one per byte past the first 3.
size_t tbl8s_for(uint8_t depth) { return depth > 24 ? (depth - 24u + 7u) / 8u : 0u; }

}  // namespace

core::Expected<PairTable6> PairTable6::build(const std::vector<PairSpec6>& pairs, const std::string& name) {
  PairTable6 t;
  if (pairs.empty()) return t;
  // Distinct prefixes with their own owners, in a stable order.
  std::map<std::pair<core::Ipv6, uint8_t>, std::vector<PairOwner>> own;
  for (const auto& p : pairs) {
    if (p.prefix > 128) return core::make_error("PairTable6(" + name + "): prefix /" + std::to_string(p.prefix));
    own[{masked(p.addr, p.prefix), p.prefix}].push_back(p.owner);
  }
  if (own.size() > kMaxHops)
    return core::make_error("rte_lpm6(" + name + "): " + std::to_string(own.size()) + " IPv6 pair prefixes, at most " +
                            std::to_string(kMaxHops));
  size_t tbl8s = 0;
  for (const auto& entry : own) tbl8s += tbl8s_for(entry.first.second);
  rte_lpm6_config cfg{};
  cfg.max_rules = static_cast<uint32_t>(std::max<size_t>(16, own.size() + 1));  // +1: ::/0 is two rules
  cfg.number_tbl8s = static_cast<uint32_t>(std::min(kMaxTbl8s, std::max<size_t>(16, tbl8s)));
  t.lpm_.reset(rte_lpm6_create(name.c_str(), SOCKET_ID_ANY, &cfg));
  if (t.lpm_ == nullptr) return core::make_error("rte_lpm6_create(" + name + "): " + rte_strerror(rte_errno));
  for (const auto& [key, direct] : own) {
    const auto& [addr, prefix] = key;
    Range r{static_cast<uint32_t>(t.owners_.size()), 0};
    // Every pair prefix containing this one (its ancestors, itself last) adds its owners.
    for (unsigned len = 0; len <= prefix; ++len) {
      const auto l = static_cast<uint8_t>(len);
      auto it = own.find({masked(addr, l), l});
      if (it == own.end()) continue;
      for (const auto& o : it->second) t.owners_.push_back(o);
    }
    r.count = static_cast<uint32_t>(t.owners_.size()) - r.begin;
    const uint32_t hop = static_cast<uint32_t>(t.ranges_.size());
    t.ranges_.push_back(r);
    // rte_lpm6 takes depths 1..128: a ::/0 pair is its two halves, ::/1 and 8000::/1.
    int rc = rte_lpm6_add(t.lpm_.get(), addr.bytes.data(), prefix != 0 ? prefix : 1, hop);
    if (rc == 0 && prefix == 0) {
      core::Ipv6 upper;
      upper.bytes[0] = 0x80;
      rc = rte_lpm6_add(t.lpm_.get(), upper.bytes.data(), 1, hop);
    }
    if (rc != 0) return core::make_error("rte_lpm6_add(" + name + "): " + rte_strerror(-rc));
  }
  return t;
}

uint32_t PairTable6::owners(const uint8_t* addr16, const PairOwner** first) const noexcept {
  uint32_t hop = 0;
  if (lpm_ == nullptr || rte_lpm6_lookup(lpm_.get(), addr16, &hop) != 0) return 0;
  const Range& r = ranges_[hop];
  *first = owners_.data() + r.begin;
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
