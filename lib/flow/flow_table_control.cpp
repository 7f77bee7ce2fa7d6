// The connection table's control-thread operations (flow_table.hpp: the timeouts and
// VM quotas it is created with, reclaim, flush, for_each, and the grace-period
// recycling of removed positions); the data-path half is flow_table.cpp.
// docs/design/flow-table.md.
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>

#include "flow/flow_table.hpp"

namespace sgfw::flow {

// Configuration (the control thread, before the tables exist): timeouts in TSC ticks,
// and the per-VM counts shared by the tables.
Timeouts make_timeouts(uint64_t hz, uint32_t tcp_syn, uint32_t tcp_est, uint32_t tcp_closing, uint32_t udp,
                       uint32_t udp_stream, uint32_t icmp, uint32_t other) {
  Timeouts t;
  auto set = [&](ConnState s, uint32_t secs) { t.by_state[static_cast<size_t>(s)] = hz * secs; };
  set(ConnState::kTcpSynSent, tcp_syn);
  set(ConnState::kTcpSynRecv, tcp_syn);
  set(ConnState::kTcpLooseOpen, tcp_syn);
  set(ConnState::kTcpLooseClosing, tcp_closing);
  set(ConnState::kTcpEstablished, tcp_est);
  set(ConnState::kTcpFinWait, tcp_closing);
  set(ConnState::kTcpClosing, tcp_closing);
  set(ConnState::kTcpTimeWait, tcp_closing);
  set(ConnState::kTcpClosed, tcp_closing);
  set(ConnState::kUdpOneWay, udp);
  set(ConnState::kUdpTwoWay, udp_stream);
  set(ConnState::kIcmpEcho, icmp);
  set(ConnState::kIcmpEchoReplied, icmp);
  set(ConnState::kOtherOneWay, other);
  set(ConnState::kOtherTwoWay, other);
  set(ConnState::kFragmentTrain, kFragmentSeconds);
  return t;
}

std::shared_ptr<VmQuota> VmQuota::create(uint32_t max_vm_ids, uint32_t per_vm_limit) {
  std::shared_ptr<VmQuota> q(new VmQuota());
  q->max_vm_ids_ = std::max<uint32_t>(1, max_vm_ids);
  q->per_vm_limit_ = per_vm_limit;
  q->counts_.reset(new std::atomic<uint32_t>[q->max_vm_ids_]);
  for (uint32_t i = 0; i < q->max_vm_ids_; ++i) q->counts_[i].store(0, std::memory_order_relaxed);
  return q;
}


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
  for (uint32_t p : positions) entries_[p].state.store(ConnState::kFree, std::memory_order_release);
  // The writer lock in short holds: a worker's burst of inserts waits at most for one.
  constexpr size_t kPerHold = 64;
  for (size_t i = 0; i < positions.size(); i += kPerHold) {
    rte_spinlock_lock(&writer_.lock);
    for (size_t j = i; j < std::min(positions.size(), i + kPerHold); ++j)
      free_[nfree_++] = positions[j];
    rte_spinlock_unlock(&writer_.lock);
  }
}

// Unmark first, then read the states (mark_occupied says why this order is safe); a
// block with anything not free (live, or dead and waiting for recycling) is marked
// again. visit(pos) sees each position that is in use (neither free nor dead).
template <class Key>
template <class Visit>
void BasicFlowTable<Key>::sweep_block(uint32_t block, Visit&& visit) {
  std::atomic<uint64_t>& word = occupied_[block >> 6];
  const uint64_t bit = uint64_t{1} << (block & 63);
  if (!(word.load(std::memory_order_relaxed) & bit)) return;
  word.fetch_and(~bit, std::memory_order_seq_cst);
  const uint32_t first = block << kBlockShift;
  const uint32_t end = std::min(slots_, first + (1u << kBlockShift));
  for (uint32_t i = first; i < end; ++i) {
    ConnState s = entries_[i].state.load(std::memory_order_seq_cst);
    if (s != ConnState::kFree && s != ConnState::kDead) visit(static_cast<int32_t>(i));
  }
  for (uint32_t i = first; i < end; ++i) {
    if (entries_[i].state.load(std::memory_order_seq_cst) != ConnState::kFree) {
      word.fetch_or(bit, std::memory_order_seq_cst);
      return;
    }
  }
}

template <class Key>
size_t BasicFlowTable<Key>::reclaim(uint64_t now, uint32_t slices) {
  const uint32_t total = blocks();
  const uint32_t budget = slices <= 1 ? total : (total + slices - 1) / slices;
  if (sweep_cursor_ >= total || slices <= 1) sweep_cursor_ = 0;
  size_t expired = 0;
  auto expire = [&](int32_t pos) {
    if (!live(entries_[static_cast<size_t>(pos)], now) && remove(pos, EndReason::kTimeout)) ++expired;
  };
  for (uint32_t n = 0; n < budget && sweep_cursor_ < total; ++n) sweep_block(sweep_cursor_++, expire);
  recycle();
  return expired;
}

template <class Key>
size_t BasicFlowTable<Key>::flush(const std::vector<bool>* vm_ids) {
  auto listed = [&](uint32_t id) { return id != kNoVmId && id < vm_ids->size() && (*vm_ids)[id]; };
  size_t removed = 0;
  auto drop = [&](int32_t pos) {
    const FlowCold& c = colds_[static_cast<size_t>(pos)];
    if (vm_ids && !listed(c.vm_id[0]) && !listed(c.vm_id[1])) return;
    if (remove(pos, EndReason::kFlushed)) ++removed;
  };
  for (uint32_t b = 0; b < blocks(); ++b) sweep_block(b, drop);
  recycle();
  return removed;
}

template <class Key>
void BasicFlowTable<Key>::for_each(const std::function<void(int32_t, const FlowEntry&, const FlowCold&)>& fn) const {
  for (uint32_t b = 0; b < blocks(); ++b) {
    if (!block_marked(b)) continue;
    const uint32_t end = std::min(slots_, (b + 1) << kBlockShift);
    for (uint32_t i = b << kBlockShift; i < end; ++i) {
      ConnState s = entries_[i].state.load(std::memory_order_acquire);
      if (s != ConnState::kFree && s != ConnState::kDead) fn(static_cast<int32_t>(i), entries_[i], colds_[i]);
    }
  }
}

template <class Key>
uint32_t BasicFlowTable<Key>::occupied_blocks() const {
  uint32_t n = 0;
  for (uint32_t w = 0; w < (blocks() + 63) / 64; ++w)
    n += static_cast<uint32_t>(__builtin_popcountll(occupied_[w].load(std::memory_order_relaxed)));
  return n;
}

template void BasicFlowTable<FlowKey>::recycle();
template size_t BasicFlowTable<FlowKey>::reclaim(uint64_t, uint32_t);
template uint32_t BasicFlowTable<FlowKey>::occupied_blocks() const;
template size_t BasicFlowTable<FlowKey>::flush(const std::vector<bool>*);
template void BasicFlowTable<FlowKey>::for_each(const std::function<void(int32_t, const FlowEntry&, const FlowCold&)>&) const;
template void BasicFlowTable<FlowKey6>::recycle();
template size_t BasicFlowTable<FlowKey6>::reclaim(uint64_t, uint32_t);
template uint32_t BasicFlowTable<FlowKey6>::occupied_blocks() const;
template size_t BasicFlowTable<FlowKey6>::flush(const std::vector<bool>*);
template void BasicFlowTable<FlowKey6>::for_each(const std::function<void(int32_t, const FlowEntry&, const FlowCold&)>&) const;

}  // namespace sgfw::flow
