#include "acl/address_table6.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace sgfw::acl {

core::Expected<AddressTable6> AddressTable6::build(const compiler::CompiledPolicy& policy,
                                                   const std::string& /*name*/) {
  std::vector<std::pair<core::Key128, AddressInfo>> items;
  items.reserve(policy.address_classes6.size());
  for (const auto& ac : policy.address_classes6) items.push_back({key_of(ac.addr.bytes.data()), {ac.klass, kNoVm}});
  for (size_t i = 0; i < policy.vms.size(); ++i) {  // local VMs: with their index (a later item replaces)
    for (const auto& ip : policy.vms[i].ips6) {
      auto it = std::lower_bound(policy.address_classes6.begin(), policy.address_classes6.end(),
                                 compiler::AddressClass6{ip, 0});
      compiler::ClassId klass = (it != policy.address_classes6.end() && it->addr == ip) ? it->klass : 0;
      items.push_back({key_of(ip.bytes.data()), {klass, static_cast<uint32_t>(i)}});
    }
  }
  AddressTable6 t;
  t.map_ = core::FrozenHashMap<core::Key128, AddressInfo>::build(items);
  return t;
}

}  // namespace sgfw::acl
