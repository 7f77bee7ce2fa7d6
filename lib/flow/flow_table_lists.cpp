// The connection table's half-open lists (flow_table.hpp; docs/design/flow-table.md):
// linking a connection (one at a time, or a burst's under one lock), unlinking it when
// it is answered or removed, and reclaiming the oldest one. Data path: any worker,
// each list under its own spinlock.
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "flow/flow_table.hpp"

namespace sgfw::flow {

// Caller holds l.lock. Links `pos` at the tail unless it was answered or removed
// before it was listed (another worker saw the reply first: nothing to do on a
// half-open list) or is on the list already: a connection that closed before its
// deferred listing (mark_closed listed it), or one that another worker closed before
// its answerer took it off (linking it twice would tie the list into a loop). True if
// linked; the caller counts it.
template <class Key>
bool BasicFlowTable<Key>::link_tail(List& l, Link* links, uint32_t pos, uint8_t bit) {
  FlowEntry& e = at(static_cast<int32_t>(pos));
  ConnState s = e.state.load(std::memory_order_acquire);
  if (s == ConnState::kDead || s == ConnState::kFree || is_established(s)) return false;
  std::atomic<uint8_t>& mark = list_mark(e, bit);
  const uint8_t was = mark.load(std::memory_order_relaxed);
  if (was & bit) return false;
  links[pos] = Link{l.tail, kNil};
  if (l.tail != kNil) links[l.tail].next = pos;
  else l.head = pos;
  l.tail = pos;
  mark.store(static_cast<uint8_t>(was | bit), std::memory_order_relaxed);
  return true;
}

// `counted`: the list's count includes the connection already (an inbound budget
// held by insert_begin), given back if it is not linked after all.
template <class Key>
void BasicFlowTable<Key>::push(List& l, Link* links, uint32_t pos, bool counted) {
  const uint8_t bit = links == half_open_links_.get() ? kInHalfOpen : kInInbound;
  rte_spinlock_lock(&l.lock);
  const bool linked = link_tail(l, links, pos, bit);
  if (linked && !counted) l.count.fetch_add(1, std::memory_order_relaxed);
  if (!linked && counted) l.count.fetch_sub(1, std::memory_order_relaxed);
  rte_spinlock_unlock(&l.lock);
}

// A burst's new connections join the table's half-open list in creation order: their
// links prefetched first (random positions: a cache miss each), then one lock.
template <class Key>
void BasicFlowTable<Key>::link_half_open(LinkLater& later) {
  if (later.n == 0) return;
  Link* links = half_open_links_.get();
  for (uint32_t i = 0; i < later.n; ++i) rte_prefetch0(&links[later.pos[i]]);
  uint32_t linked = 0;
  rte_spinlock_lock(&half_open_.lock);
  for (uint32_t i = 0; i < later.n; ++i) linked += link_tail(half_open_, links, later.pos[i], kInHalfOpen);
  if (linked != 0) half_open_.count.fetch_add(linked, std::memory_order_relaxed);
  rte_spinlock_unlock(&half_open_.lock);
  later.n = 0;
}

// Caller holds l.lock and has checked the entry's bit for this list.
template <class Key>
void BasicFlowTable<Key>::unlink(List& l, Link* links, uint32_t pos) {
  Link& k = links[pos];
  if (k.prev != kNil) links[k.prev].next = k.next;
  else l.head = k.next;
  if (k.next != kNil) links[k.next].prev = k.prev;
  else l.tail = k.prev;
  k = Link{};
  const uint8_t bit = links == half_open_links_.get() ? kInHalfOpen : kInInbound;
  std::atomic<uint8_t>& mark = list_mark(at(static_cast<int32_t>(pos)), bit);
  mark.store(static_cast<uint8_t>(mark.load(std::memory_order_relaxed) & ~bit), std::memory_order_relaxed);
  l.count.fetch_sub(1, std::memory_order_relaxed);
}

template <class Key>
void BasicFlowTable<Key>::leave_lists(int32_t pos) {
  FlowEntry& e = at(pos);
  uint32_t p = static_cast<uint32_t>(pos);
  if (e.flags.load(std::memory_order_relaxed) & kInHalfOpen) {
    rte_spinlock_lock(&half_open_.lock);
    if (e.flags.load(std::memory_order_relaxed) & kInHalfOpen) unlink(half_open_, half_open_links_.get(), p);
    rte_spinlock_unlock(&half_open_.lock);
  }
  uint32_t vm = cold(pos).vm_id[1];
  if (vm != kNoVmId && (e.inbound.load(std::memory_order_relaxed) & kInInbound)) {
    List& l = vm_lists_[vm];
    rte_spinlock_lock(&l.lock);
    if (e.inbound.load(std::memory_order_relaxed) & kInInbound) unlink(l, inbound_links_.get(), p);
    rte_spinlock_unlock(&l.lock);
  }
}

template <class Key>
void BasicFlowTable<Key>::mark_answered(int32_t pos) { leave_lists(pos); }

template <class Key>
void BasicFlowTable<Key>::mark_closed(int32_t pos) {
  push(half_open_, half_open_links_.get(), static_cast<uint32_t>(pos), false);
}

// Takes the oldest connection off list `l` and removes it if it is still half-open
// (a connection answered at the same moment stays). True if one was removed.
template <class Key>
bool BasicFlowTable<Key>::reclaim_oldest(List& l, bool inbound, const uint64_t* expired_at) {
  Link* links = inbound ? inbound_links_.get() : half_open_links_.get();
  for (int tries = 0; tries < 4; ++tries) {
    rte_spinlock_lock(&l.lock);
    uint32_t pos = l.head;
    if (pos != kNil && expired_at && live(at(static_cast<int32_t>(pos)), *expired_at)) pos = kNil;
    if (pos != kNil) unlink(l, links, pos);
    rte_spinlock_unlock(&l.lock);
    if (pos == kNil) return false;
    FlowEntry& e = at(static_cast<int32_t>(pos));
    ConnState s = e.state.load(std::memory_order_relaxed);
    bool removed = false;
    while (s != ConnState::kFree && s != ConnState::kDead && !is_established(s)) {
      if (e.state.compare_exchange_weak(s, ConnState::kDead, std::memory_order_acq_rel)) {
        removed = true;
        break;
      }
    }
    if (!removed) continue;  // answered or removed meanwhile: try the next oldest
    const FlowCold& c = cold(static_cast<int32_t>(pos));
    if (end_hook_) end_hook_(end_ctx_, e, c, closing_reason(s, EndReason::kEvicted));
    leave_lists(static_cast<int32_t>(pos));
    release(static_cast<int32_t>(pos), true);
    return true;
  }
  return false;
}

#define SGFW_LIST_MEMBERS(K)                                                                  \
  template bool BasicFlowTable<K>::link_tail(List&, Link*, uint32_t, uint8_t);                \
  template void BasicFlowTable<K>::push(List&, Link*, uint32_t, bool);                        \
  template void BasicFlowTable<K>::link_half_open(LinkLater&);                                \
  template void BasicFlowTable<K>::unlink(List&, Link*, uint32_t);                            \
  template void BasicFlowTable<K>::leave_lists(int32_t);                                      \
  template void BasicFlowTable<K>::mark_answered(int32_t);                                    \
  template void BasicFlowTable<K>::mark_closed(int32_t);                                      \
  template bool BasicFlowTable<K>::reclaim_oldest(List&, bool, const uint64_t*);
SGFW_LIST_MEMBERS(FlowKey)
SGFW_LIST_MEMBERS(FlowKey6)
#undef SGFW_LIST_MEMBERS

}  // namespace sgfw::flow
