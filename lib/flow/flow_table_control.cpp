// The connection table's control-thread operations (flow_table.hpp: reclaim, flush,
// for_each, and the grace-period recycling of removed positions); the data-path half
// is flow_table.cpp. docs/design/flow-table.md.
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "flow/flow_table.hpp"

namespace sgfw::flow {

template <class Key>
void BasicFlowTable<Key>::recycle() {
  std::vector<uint32_t> positions;
  void* obj = nullptr;
  while (rte_ring_sc_dequeue(freed_.get(), &obj) == 0)
    positions.push_back(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(obj) - 1));
  if (positions.empty()) return;
  // Every worker that may still hold one of these positions from a lookup finishes
  // its burst before reporting quiescent.
  if (qs_) rte_rcu_qsbr_check(qs_, rte_rcu_qsbr_start(qs_), true);
  for (uint32_t p : positions) {
    entries_[p].state.store(ConnState::kFree, std::memory_order_release);
    rte_hash_free_key_with_position(hash_.get(), static_cast<int32_t>(p));
  }
}

template <class Key>
size_t BasicFlowTable<Key>::reclaim(uint64_t now) {
  size_t expired = 0;
  for (uint32_t i = 0; i < slots_; ++i) {
    FlowEntry& e = entries_[i];
    ConnState s = e.state.load(std::memory_order_relaxed);
    if (s == ConnState::kFree || s == ConnState::kDead) continue;
    if (!live(e, now) && remove(static_cast<int32_t>(i), EndReason::kTimeout)) ++expired;
  }
  recycle();
  return expired;
}

template <class Key>
size_t BasicFlowTable<Key>::flush(const std::vector<bool>* vm_ids) {
  auto listed = [&](uint32_t id) { return id != kNoVmId && id < vm_ids->size() && (*vm_ids)[id]; };
  size_t removed = 0;
  for (uint32_t i = 0; i < slots_; ++i) {
    FlowEntry& e = entries_[i];
    ConnState s = e.state.load(std::memory_order_relaxed);
    if (s == ConnState::kFree || s == ConnState::kDead) continue;
    if (vm_ids && !listed(colds_[i].vm_id[0]) && !listed(colds_[i].vm_id[1])) continue;
    if (remove(static_cast<int32_t>(i), EndReason::kFlushed)) ++removed;
  }
  recycle();
  return removed;
}

template <class Key>
void BasicFlowTable<Key>::for_each(const std::function<void(int32_t, const FlowEntry&, const FlowCold&)>& fn) const {
  for (uint32_t i = 0; i < slots_; ++i) {
    ConnState s = entries_[i].state.load(std::memory_order_acquire);
    if (s != ConnState::kFree && s != ConnState::kDead) fn(static_cast<int32_t>(i), entries_[i], colds_[i]);
  }
}

template void BasicFlowTable<FlowKey>::recycle();
template size_t BasicFlowTable<FlowKey>::reclaim(uint64_t);
template size_t BasicFlowTable<FlowKey>::flush(const std::vector<bool>*);
template void BasicFlowTable<FlowKey>::for_each(const std::function<void(int32_t, const FlowEntry&, const FlowCold&)>&) const;
template void BasicFlowTable<FlowKey6>::recycle();
template size_t BasicFlowTable<FlowKey6>::reclaim(uint64_t);
template size_t BasicFlowTable<FlowKey6>::flush(const std::vector<bool>*);
template void BasicFlowTable<FlowKey6>::for_each(const std::function<void(int32_t, const FlowEntry&, const FlowCold&)>&) const;

}  // namespace sgfw::flow
