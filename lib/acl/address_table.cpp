#include "acl/address_table.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>

#include <algorithm>

namespace sgfw::acl {

core::Expected<AddressTable> AddressTable::build(const compiler::CompiledPolicy& policy,
                                                 const std::string& name) {
  AddressTable t;
  if (policy.address_classes.empty()) return t;
  rte_hash_parameters params{};
  params.name = name.c_str();
  // rte_hash needs at least 8 entries; leave room so buckets do not overflow.
  params.entries = std::max<uint32_t>(64, static_cast<uint32_t>(policy.address_classes.size() * 2));
  params.key_len = sizeof(uint32_t);
  params.hash_func = rte_hash_crc;
  params.socket_id = SOCKET_ID_ANY;
  t.hash_.reset(rte_hash_create(&params));
  if (t.hash_ == nullptr)
    return core::make_error("rte_hash_create(" + name + "): " + rte_strerror(rte_errno));

  for (const auto& ac : policy.address_classes) {
    uint64_t vm = kNoVm;  // local VMs get their index in the second pass
    uint32_t key = rte_cpu_to_be_32(ac.addr.value);
    uint64_t packed = (static_cast<uint64_t>(vm) << 32) | ac.klass;
    int rc = rte_hash_add_key_data(t.hash_.get(), &key, reinterpret_cast<void*>(static_cast<uintptr_t>(packed)));
    if (rc != 0) return core::make_error("rte_hash_add_key_data(" + name + "): " + rte_strerror(-rc));
  }
  // Local VMs: overwrite with the VM index.
  for (size_t i = 0; i < policy.vms.size(); ++i) {
    for (auto ip : policy.vms[i].ips) {
      uint32_t key = rte_cpu_to_be_32(ip.value);
      auto it = std::lower_bound(policy.address_classes.begin(), policy.address_classes.end(),
                                 compiler::AddressClass{ip, 0});
      compiler::ClassId klass = (it != policy.address_classes.end() && it->addr == ip) ? it->klass : 0;
      uint64_t packed = (static_cast<uint64_t>(i) << 32) | klass;
      int rc = rte_hash_add_key_data(t.hash_.get(), &key, reinterpret_cast<void*>(static_cast<uintptr_t>(packed)));
      if (rc != 0) return core::make_error("rte_hash_add_key_data(" + name + "): " + rte_strerror(-rc));
    }
  }
  return t;
}

void AddressTable::lookup_bulk(const uint32_t* const* addrs_be, uint32_t n, AddressInfo* out) const {
  void* data[RTE_HASH_LOOKUP_BULK_MAX];
  uint64_t hits = 0;
  if (hash_ == nullptr || n == 0) {
    for (uint32_t i = 0; i < n; ++i) out[i] = {};
    return;
  }
  rte_hash_lookup_bulk_data(hash_.get(), const_cast<const void**>(reinterpret_cast<const void* const*>(addrs_be)), n,
                            &hits, data);
  for (uint32_t i = 0; i < n; ++i)
    out[i] = (hits >> i) & 1 ? unpack(reinterpret_cast<uintptr_t>(data[i])) : AddressInfo{};
}

}  // namespace sgfw::acl
