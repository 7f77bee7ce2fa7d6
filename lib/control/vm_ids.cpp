#include "control/vm_ids.hpp"

#include <algorithm>

namespace sgfw::control {

VmIds::VmIds(uint32_t capacity) : capacity_(capacity), by_id_(capacity) {
  for (uint32_t i = capacity; i > 0; --i) free_.push_back(i - 1);
}

core::Expected<std::vector<uint32_t>> VmIds::assign(const std::vector<std::string>& names,
                                                    std::vector<std::string>* added) {
  size_t fresh = 0;
  for (const auto& n : names) fresh += by_name_.count(n) == 0;
  if (fresh > free_.size())
    return core::make_error("no free VM ids: " + std::to_string(fresh) + " new local VMs, " +
                            std::to_string(free_.size()) + " ids free (limits.local_vms too low for this change)");
  std::vector<uint32_t> ids;
  ids.reserve(names.size());
  for (const auto& n : names) {
    auto it = by_name_.find(n);
    if (it == by_name_.end()) {
      uint32_t id = free_.back();
      free_.pop_back();
      it = by_name_.emplace(n, id).first;
      by_id_[id] = n;
      if (added) added->push_back(n);
    }
    ids.push_back(it->second);
  }
  return ids;
}

void VmIds::release(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    auto it = by_name_.find(n);
    if (it == by_name_.end()) continue;
    by_id_[it->second].clear();
    free_.push_back(it->second);
    by_name_.erase(it);
  }
  std::sort(free_.begin(), free_.end(), std::greater<>());  // lowest ids first
}

std::vector<std::string> VmIds::others(const std::vector<std::string>& names) const {
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> out;
  for (const auto& [n, id] : by_name_)
    if (!std::binary_search(sorted.begin(), sorted.end(), n)) out.push_back(n);
  return out;
}

std::vector<bool> VmIds::bitmap(const std::vector<std::string>& names) const {
  std::vector<bool> b(capacity_);
  for (const auto& n : names)
    if (auto it = by_name_.find(n); it != by_name_.end()) b[it->second] = true;
  return b;
}

const std::string* VmIds::name_of(uint32_t id) const {
  return id < by_id_.size() && !by_id_[id].empty() ? &by_id_[id] : nullptr;
}

const uint32_t* VmIds::id_of(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

}  // namespace sgfw::control
