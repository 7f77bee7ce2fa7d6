// Stable VM ids (docs/design/flow-table.md, "VM ids"): a local VM keeps its id across
// policy generations; connections count against their VMs' quotas by id. Ids are
// bounded (0 .. capacity-1, capacity = 2 x limits.local_vms, room for the VMs of the
// running and the next generation) and recycled: an id is released only after the
// generation that used it is retired (no worker can still hold it) and its connections
// are flushed. Control thread only; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/expected.hpp"

namespace sgfw::control {

class VmIds {
 public:
  explicit VmIds(uint32_t capacity);

  // Ids for `names` (a generation's local VMs, in its order): known names keep theirs,
  // new ones take free ids. `added` receives the names that got a new id. Error (and
  // nothing assigned) when there are not enough free ids.
  [[nodiscard]] core::Expected<std::vector<uint32_t>> assign(const std::vector<std::string>& names,
                                                            std::vector<std::string>* added);
  // Releases the ids of `names` (their generation is retired and their connections
  // flushed). Unknown names are ignored.
  void release(const std::vector<std::string>& names);
  // Names holding an id that are not in `names`.
  [[nodiscard]] std::vector<std::string> others(const std::vector<std::string>& names) const;
  // A bitmap over ids with the ids of `names` set (for FlowTable::flush).
  [[nodiscard]] std::vector<bool> bitmap(const std::vector<std::string>& names) const;
  // The name holding `id`, or nullptr.
  [[nodiscard]] const std::string* name_of(uint32_t id) const;
  [[nodiscard]] const uint32_t* id_of(const std::string& name) const;
  [[nodiscard]] uint32_t capacity() const { return capacity_; }
  [[nodiscard]] size_t used() const { return by_name_.size(); }

 private:
  uint32_t capacity_;
  std::map<std::string, uint32_t> by_name_;
  std::vector<std::string> by_id_;  // "" = free
  std::vector<uint32_t> free_;      // lowest last
};

}  // namespace sgfw::control
