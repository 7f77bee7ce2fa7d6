#include "acl/address_table6.hpp"

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include <algorithm>
#include <cstring>

namespace sgfw::acl {

namespace {

// rte_hash_crc reads keys 8 bytes at a time: hand it an 8-byte aligned copy (an Ipv6
// inside another struct may sit at any 4-byte offset).
struct alignas(8) Key6 {
  uint8_t bytes[16];
  explicit Key6(const uint8_t* a16) { std::memcpy(bytes, a16, sizeof bytes); }
  explicit Key6(const core::Ipv6& a) : Key6(a.bytes.data()) {}
};

uintptr_t pack(uint32_t vm, compiler::ClassId klass) {
  return static_cast<uintptr_t>((static_cast<uint64_t>(vm) << 32) | klass);
}

}  // namespace

core::Expected<AddressTable6> AddressTable6::build(const compiler::CompiledPolicy& policy, const std::string& name) {
  AddressTable6 t;
  if (policy.address_classes6.empty()) return t;
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = std::max<uint32_t>(64, static_cast<uint32_t>(policy.address_classes6.size() * 2));
  params.key_len = sizeof(core::Ipv6);
  params.hash_func = rte_hash_crc;
  params.socket_id = SOCKET_ID_ANY;
  t.hash_.reset(rte_hash_create(&params));
  if (t.hash_ == nullptr) return core::make_error("rte_hash_create(" + name + "): " + rte_strerror(rte_errno));
  auto add = [&](const core::Ipv6& a, uintptr_t data) -> core::Status {
    const Key6 key(a);
    int rc = rte_hash_add_key_data(t.hash_.get(), key.bytes, reinterpret_cast<void*>(data));
    if (rc != 0) return core::make_error("rte_hash_add_key_data(" + name + "): " + rte_strerror(-rc));
    return {};
  };
  for (const auto& ac : policy.address_classes6)
    if (auto st = add(ac.addr, pack(kNoVm, ac.klass)); !st) return core::make_error(st.error().message);
  for (size_t i = 0; i < policy.vms.size(); ++i) {  // local VMs: with their index
    for (const auto& ip : policy.vms[i].ips6) {
      auto it = std::lower_bound(policy.address_classes6.begin(), policy.address_classes6.end(),
                                 compiler::AddressClass6{ip, 0});
      compiler::ClassId klass = (it != policy.address_classes6.end() && it->addr == ip) ? it->klass : 0;
      if (auto st = add(ip, pack(static_cast<uint32_t>(i), klass)); !st) return core::make_error(st.error().message);
    }
  }
  return t;
}

AddressInfo AddressTable6::lookup(const uint8_t* addr16) const {
  void* data = nullptr;
  if (hash_ == nullptr) return {};
  const Key6 key(addr16);
  if (rte_hash_lookup_data(hash_.get(), key.bytes, &data) < 0) return {};
  auto v = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data));
  return {static_cast<compiler::ClassId>(v & 0xffffffffu), static_cast<uint32_t>(v >> 32)};
}

void AddressTable6::lookup_bulk(const uint8_t* const* addrs16, uint32_t n, AddressInfo* out) const {
  if (hash_ == nullptr || n == 0) {
    for (uint32_t i = 0; i < n; ++i) out[i] = {};
    return;
  }
  // Aligned copies, as lookup() makes (rte_hash_crc reads 8 bytes at a time).
  alignas(8) uint8_t keys[RTE_HASH_LOOKUP_BULK_MAX][16];
  const void* key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
  for (uint32_t i = 0; i < n; ++i) {
    std::memcpy(keys[i], addrs16[i], 16);
    key_ptrs[i] = keys[i];
  }
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  uint64_t hits = 0;
  rte_hash_lookup_bulk_data(hash_.get(), key_ptrs, n, &hits, data);
  for (uint32_t i = 0; i < n; ++i) {
    if (((hits >> i) & 1) == 0) {
      out[i] = {};
      continue;
    }
    auto v = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data[i]));
    out[i] = {static_cast<compiler::ClassId>(v & 0xffffffffu), static_cast<uint32_t>(v >> 32)};
  }
}

}  // namespace sgfw::acl
