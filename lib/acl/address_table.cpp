#include "acl/address_table.hpp"

#include <rte_byteorder.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace sgfw::acl {

core::Expected<AddressTable> AddressTable::build(const compiler::CompiledPolicy& policy,
                                                 const std::string& /*name*/) {
  std::vector<std::pair<uint32_t, AddressInfo>> items;
  items.reserve(policy.address_classes.size());
  for (const auto& ac : policy.address_classes)
    items.push_back({rte_cpu_to_be_32(ac.addr.value), AddressInfo{ac.klass, kNoVm}});
  // Local VMs: the same address again with the VM index (a later item replaces).
  for (size_t i = 0; i < policy.vms.size(); ++i) {
    for (auto ip : policy.vms[i].ips) {
      auto it = std::lower_bound(policy.address_classes.begin(), policy.address_classes.end(),
                                 compiler::AddressClass{ip, 0});
      compiler::ClassId klass = (it != policy.address_classes.end() && it->addr == ip) ? it->klass : 0;
      items.push_back({rte_cpu_to_be_32(ip.value), AddressInfo{klass, static_cast<uint32_t>(i)}});
    }
  }
  AddressTable t;
  t.map_ = core::FrozenHashMap<uint32_t, AddressInfo>::build(items);
  return t;
}

}  // namespace sgfw::acl
