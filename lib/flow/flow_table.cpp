#include "flow/flow_table.hpp"

#include <rte_errno.h>
#include <rte_prefetch.h>

#include <algorithm>

namespace sgfw::flow {

template <class Key>
core::Expected<std::unique_ptr<BasicFlowTable<Key>>> BasicFlowTable<Key>::create(const FlowTableOptions& o,
                                                                                const std::string& name,
                                                                                rte_rcu_qsbr* qs,
                                                                                std::shared_ptr<VmQuota> quota) {
  std::unique_ptr<BasicFlowTable> t(new BasicFlowTable());
  t->opts_ = o;
  t->opts_.max_vm_ids = std::max<uint32_t>(1, o.max_vm_ids);
  t->qs_ = qs;
  if (!quota) {
    quota = VmQuota::create(t->opts_.max_vm_ids, o.per_vm_limit);
  } else if (quota->max_vm_ids() < t->opts_.max_vm_ids || quota->per_vm_limit() != o.per_vm_limit) {
    return core::make_error("flow table " + name + ": the shared VM quota has " +
                            std::to_string(quota->max_vm_ids()) + " VM ids and a limit of " +
                            std::to_string(quota->per_vm_limit()) + ", the table " +
                            std::to_string(t->opts_.max_vm_ids) + " and " + std::to_string(o.per_vm_limit));
  }
  t->quota_ = std::move(quota);
  t->vm_counts_ = t->quota_->counts_.get();
  // Positions for the capacity plus those removed but not yet recycled (a grace period).
  t->slots_ = std::max<uint32_t>(64, o.capacity + o.capacity / 4 + 1024);
  t->entries_.reset(new FlowEntry[t->slots_]);
  t->colds_.reset(new FlowCold[t->slots_]);
  for (uint32_t i = 0; i < t->slots_; ++i) {
    t->entries_[i].state.store(ConnState::kFree, std::memory_order_relaxed);
    t->entries_[i].flags.store(0, std::memory_order_relaxed);
    t->entries_[i].inbound.store(0, std::memory_order_relaxed);
  }
  // The free positions, a stack: the lowest are taken first, and a position freed is
  // the next one taken (its lines are the likeliest to be in cache).
  t->free_.reset(new uint32_t[t->slots_]);
  t->nfree_ = t->slots_;
  for (uint32_t i = 0; i < t->slots_; ++i) t->free_[i] = t->slots_ - 1 - i;
  const auto* keys = reinterpret_cast<const std::byte*>(&t->colds_[0].key);
  if (!t->index_.init(t->slots_, keys, sizeof(FlowCold), Index::random_secret()))
    return core::make_error("flow table " + name + ": no memory for the index of " + std::to_string(t->slots_) +
                            " positions");
  const uint32_t words = (t->blocks() + 63) / 64;
  t->occupied_.reset(new std::atomic<uint64_t>[words]);
  for (uint32_t i = 0; i < words; ++i) t->occupied_[i].store(0, std::memory_order_relaxed);
  t->half_open_links_.reset(new Link[t->slots_]);
  t->inbound_links_.reset(new Link[t->slots_]);
  t->vm_lists_.reset(new List[t->opts_.max_vm_ids]);
  std::string rname = name + "-free";
  // Producers are the workers (and the control thread): relaxed tail sync (RTS), so a
  // producer preempted mid-enqueue never leaves the others spinning on the ring's tail
  // (the classic MP ring convoys when lcores share CPUs).
  t->freed_.reset(rte_ring_create(rname.c_str(), rte_align32pow2(t->slots_ + 1), SOCKET_ID_ANY,
                                  RING_F_MP_RTS_ENQ | RING_F_SC_DEQ));
  if (!t->freed_) return core::make_error("rte_ring_create(" + rname + "): " + rte_strerror(rte_errno));
  return t;
}

template <class Key>
void BasicFlowTable<Key>::lookup_bulk(const Key** keys, uint32_t n, int32_t* positions) const {
  // The first line of each candidate's entry is what every caller reads next: fetched
  // while the keys are (one wait for both, not one after the other).
  index_.find_bulk(keys, n, positions, [this](uint32_t pos) { rte_prefetch0(&entries_[pos]); });
}

template <class Key>
int32_t BasicFlowTable<Key>::lookup(const Key& key) const {
  return index_.find(key);
}

// --- insert / remove ----------------------------------------------------------------

template <class Key>
bool BasicFlowTable<Key>::remove(int32_t pos, EndReason why) {
  return remove_keyed(pos, why, true);
}

template <class Key>
bool BasicFlowTable<Key>::remove_keyed(int32_t pos, EndReason why, bool key_in_hash) {
  FlowEntry& e = at(pos);
  ConnState s = e.state.load(std::memory_order_relaxed);
  do {
    if (s == ConnState::kFree || s == ConnState::kDead) return false;
  } while (!e.state.compare_exchange_weak(s, ConnState::kDead, std::memory_order_acq_rel));
  const FlowCold& c = cold(pos);
  if (end_hook_) end_hook_(end_ctx_, e, c, closing_reason(s, why));
  leave_lists(pos);
  release(pos, key_in_hash);
  return true;
}

namespace {
// This thread holds a table's writer lock in insert_begin(): a removal it makes on the
// way (steps 1 and 3 reclaim room) deletes the key under that hold.
thread_local bool t_holds_writer_lock = false;
}  // namespace

template <class Key>
void BasicFlowTable<Key>::release(int32_t pos, bool key_in_hash) {
  const FlowCold& c = cold(pos);
  if (!key_in_hash) {
    // deleted already (a recycled insert of a burst)
  } else if (t_holds_writer_lock) {
    index_.erase(index_.hash(c.key), static_cast<uint32_t>(pos));
  } else {
    rte_spinlock_lock(&writer_.lock);
    index_.erase(index_.hash(c.key), static_cast<uint32_t>(pos));
    rte_spinlock_unlock(&writer_.lock);
  }
  removed_.fetch_add(1, std::memory_order_relaxed);
  charge(c.vm_id[0], -1);
  if (c.vm_id[1] != c.vm_id[0]) charge(c.vm_id[1], -1);
  void* obj = reinterpret_cast<void*>(static_cast<uintptr_t>(pos) + 1);
  rte_ring_enqueue(freed_.get(), obj);  // MP RTS (the ring's mode); sized for every slot: cannot fail
}

// Fallback when no half-open connection exists: an expired one among a few candidates
// near the key (expired established connections are otherwise removed by reclaim()).
template <class Key>
bool BasicFlowTable<Key>::evict_expired_near(const Key& near, uint64_t now) {
  constexpr uint32_t kCandidates = 64;
  uint32_t start = static_cast<uint32_t>(index_.hash(near)) % slots_;
  uint32_t seen = 0;
  for (uint32_t i = 0; i < slots_ && seen < kCandidates; ++i) {
    int32_t pos = static_cast<int32_t>((start + i) % slots_);
    FlowEntry& e = at(pos);
    ConnState s = e.state.load(std::memory_order_relaxed);
    if (s == ConnState::kFree || s == ConnState::kDead) continue;
    ++seen;
    if (!live(e, now) && remove(pos, EndReason::kTimeout)) return true;
  }
  return false;
}

// At a limit, the connection may already exist (its other packet in the same burst, or
// on another worker): that is kExists, not a refusal, and no reason to evict anything.
// Checked only on these slow paths.
template <class Key>
bool BasicFlowTable<Key>::existing(const Key& key, int32_t* pos) const {
  int32_t p = lookup(key);
  if (p >= 0) *pos = p;
  return p >= 0;
}

// Step 1: a connection opened to a local VM at its inbound half-open budget recycles
// that VM's oldest one: a flood from outside only ever replaces itself. The oldest are
// on the VM's list, then those begun earlier in this burst (`earlier`, not listed
// yet): the first of those not yet recycled is marked to be removed once created,
// as inserting one by one would have done. False: the connection exists already
// (*pos set).
template <class Key>
bool BasicFlowTable<Key>::make_inbound_room(const NewConnection& c, int32_t* pos, PendingInsert* const* earlier,
                                            uint32_t n_earlier) {
  const uint32_t resp = c.resp_vm;
  if (resp == kNoVmId || vm_lists_[resp].count.load(std::memory_order_relaxed) < opts_.per_vm_inbound_half_open)
    return true;
  if (existing(c.key, pos)) return false;
  if (reclaim_oldest(vm_lists_[resp], true)) {
    inbound_recycled_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  for (uint32_t j = 0; j < n_earlier; ++j) {
    PendingInsert& q = *earlier[j];
    if (q.result != InsertResult::kInserted || q.c.resp_vm != resp || q.recycled) continue;
    give_back(q, true);  // its budget, charges and count go now, as its removal would give them back
    // Its key leaves the hash now too (this thread holds the writer lock): a later
    // packet of that connection in the burst creates it again. Its position stays held.
    index_.erase(index_.hash(q.c.key), static_cast<uint32_t>(q.pos));
    q.recycled = true;
    inbound_recycled_.fetch_add(1, std::memory_order_relaxed);
    break;
  }
  return true;
}

// Step 2: charges every local VM at either end, or none if one is at its quota.
template <class Key>
bool BasicFlowTable<Key>::take_quota(const VmPair& vms) {
  for (int i = 0; i < 2; ++i) {
    uint32_t vm = vms[i];
    if (vm == kNoVmId) continue;
    if (vm_counts_[vm].fetch_add(1, std::memory_order_relaxed) >= opts_.per_vm_limit) {
      for (int j = 0; j <= i; ++j) charge(vms[j], -1);
      return false;
    }
  }
  return true;
}

// Step 3: counts the connection in added_ (kInserted), reclaiming room at capacity:
// expired first (the oldest half-open one, else one near the key), then the oldest
// half-open one; established connections never.
template <class Key>
InsertResult BasicFlowTable<Key>::reserve_capacity(const Key& key, uint64_t now, int32_t* pos) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (size() < opts_.capacity) {
      count_added(1);
      return InsertResult::kInserted;
    }
    if (existing(key, pos)) return InsertResult::kExists;
    if (reclaim_oldest(half_open_, false, &now) || evict_expired_near(key, now)) continue;
    if (!reclaim_oldest(half_open_, false)) break;
    half_open_reclaimed_.fetch_add(1, std::memory_order_relaxed);
  }
  return InsertResult::kTableFull;
}

// Steps 1-3 (kInserted: charged and counted, ready for its key), else the final
// result with the charges undone.
template <class Key>
InsertResult BasicFlowTable<Key>::reserve(PendingInsert& p, uint64_t now, PendingInsert* const* earlier,
                                          uint32_t n_earlier) {
  const NewConnection& c = p.c;
  p.recycled = false;
  if (!make_inbound_room(c, &p.pos, earlier, n_earlier)) return InsertResult::kExists;
  // The responder VM's inbound half-open budget is counted now, not when the
  // connection joins its list, so that a burst's later inserts see its earlier ones.
  if (c.resp_vm != kNoVmId) vm_lists_[c.resp_vm].count.fetch_add(1, std::memory_order_relaxed);
  p.charged = {c.orig_vm, c.resp_vm != c.orig_vm ? c.resp_vm : kNoVmId};
  if (!take_quota(p.charged)) {
    p.charged = {kNoVmId, kNoVmId};
    give_back(p, false);
    return existing(c.key, &p.pos) ? InsertResult::kExists : InsertResult::kQuotaExceeded;
  }
  InsertResult r = reserve_capacity(c.key, now, &p.pos);
  if (r != InsertResult::kInserted) give_back(p, false);
  return r;
}

// Undoes reserve(): the VMs' charges, the inbound budget, and (`counted`) added_.
// A recycled insert gave them back when it was marked.
template <class Key>
void BasicFlowTable<Key>::give_back(const PendingInsert& p, bool counted) {
  if (p.recycled) return;
  charge(p.charged[0], -1);
  charge(p.charged[1], -1);
  if (p.c.resp_vm != kNoVmId) vm_lists_[p.c.resp_vm].count.fetch_sub(1, std::memory_order_relaxed);
  if (counted) count_added(-1);
}

// Caller holds the writer lock. Takes a free position, writes the key there, claims
// it (kFree -> kDead) and publishes it in the index: result stays kInserted; else
// kTableFull (no free position), or kExists (pos set) when the key is in the index
// already (its connection, or an earlier insert of this burst, or another worker's),
// with the reservation given back at once.
template <class Key>
void BasicFlowTable<Key>::add_and_claim(PendingInsert& p, uint64_t h) {
  const int32_t found = index_.find(p.c.key, h);
  if (found >= 0 || nfree_ == 0) {
    give_back(p, true);
    p.pos = found;
    p.result = found >= 0 ? InsertResult::kExists : InsertResult::kTableFull;
    return;
  }
  const uint32_t pos = free_[--nfree_];
  p.pos = static_cast<int32_t>(pos);
  // A free position is kFree (recycle() stored it before returning the position). Its
  // block is marked occupied by insert_begin, after a fence, for the whole burst.
  at(p.pos).state.store(ConnState::kDead, std::memory_order_relaxed);
  cold(p.pos).key = p.c.key;  // read by the index's readers from now on: never changed while live
  index_.insert(h, pos);
}

// Fills the held position and makes it live. A recycled one (a later connection of
// the burst took its place) is then removed as if it had been recycled then: its
// count and charges, given back when it was marked, are taken again first for the
// removal to give back.
template <class Key>
void BasicFlowTable<Key>::finish(PendingInsert& p, uint64_t now, LinkLater* later) {
  if (p.recycled) {
    removed_.fetch_sub(1, std::memory_order_relaxed);  // counted again, for the removal to give back
    charge(p.charged[0], 1);
    charge(p.charged[1], 1);
  }
  initialise(p.pos, p.c, now, later, !p.recycled);
  if (p.recycled) remove_keyed(p.pos, EndReason::kEvicted, false);
}

// The position has just left kFree (add_and_claim's store, then insert_begin's seq_cst
// fence: one per burst instead of a locked instruction per connection). Either the
// control thread's sweep, which unmarks the block before it reads the block's states,
// reads this one as not free and marks the block again, or its unmarking comes first
// in the single total order of seq_cst operations and this load sees the bit clear and
// sets it: the block of a connection is never left unmarked. Already marked (the usual
// case): one load, no write to the shared line.
template <class Key>
void BasicFlowTable<Key>::mark_occupied(int32_t pos) {
  const uint32_t block = static_cast<uint32_t>(pos) >> kBlockShift;
  std::atomic<uint64_t>& word = occupied_[block >> 6];
  const uint64_t bit = uint64_t{1} << (block & 63);
  if (!(word.load(std::memory_order_seq_cst) & bit)) word.fetch_or(bit, std::memory_order_seq_cst);
}

// Last: fills the held entry, publishes its state, and links it into the half-open
// lists (the table's later, at link_half_open, when `later` has room).
template <class Key>
void BasicFlowTable<Key>::initialise(int32_t pos, const NewConnection& c, uint64_t now, LinkLater* later,
                                     bool inbound_list) {
  FlowEntry& e = at(pos);
  FlowCold& cd = cold(pos);  // cd.key: written by add_and_claim
  e.flags.store(static_cast<uint8_t>((c.orig_is_lo ? kOrigIsLo : 0) | (c.stateless_train ? kStatelessTrain : 0)),
                std::memory_order_relaxed);
  cd.vm_id[0] = c.orig_vm;
  cd.vm_id[1] = c.resp_vm;
  e.train_proto = c.train_proto;
  e.created_coarse = static_cast<uint32_t>(now >> kCreatedShift);
  e.express.store(c.express | (uint64_t{c.train_sport_be} << 16) | c.train_dport_be, std::memory_order_relaxed);
  e.last_seen.store(now, std::memory_order_relaxed);
  e.generation.store(c.generation, std::memory_order_relaxed);
  cd.egress_rule.store(c.egress_rule, std::memory_order_relaxed);
  cd.ingress_rule.store(c.ingress_rule, std::memory_order_relaxed);
  e.packets[0].store(c.first_len != 0 ? 1 : 0, std::memory_order_relaxed);
  e.bytes[0].store(c.first_len, std::memory_order_relaxed);
  e.packets[1].store(0, std::memory_order_relaxed);
  e.bytes[1].store(0, std::memory_order_relaxed);
  e.state.store(c.state, std::memory_order_release);
  if (later != nullptr && later->n < LinkLater::kMax) later->pos[later->n++] = static_cast<uint32_t>(pos);
  else push(half_open_, half_open_links_.get(), static_cast<uint32_t>(pos), false);
  // Counted in the budget by reserve() already.
  if (c.resp_vm != kNoVmId && inbound_list)
    push(vm_lists_[c.resp_vm], inbound_links_.get(), static_cast<uint32_t>(pos), true);
}

template <class Key>
InsertResult BasicFlowTable<Key>::insert(const NewConnection& c, uint64_t now, int32_t* pos) {
  return insert_one(c, now, pos, nullptr);
}

template <class Key>
InsertResult BasicFlowTable<Key>::insert(const NewConnection& c, uint64_t now, int32_t* pos, LinkLater& later) {
  return insert_one(c, now, pos, &later);
}

template <class Key>
InsertResult BasicFlowTable<Key>::insert_one(const NewConnection& c, uint64_t now, int32_t* pos, LinkLater* later) {
  PendingInsert p;
  p.c = c;
  PendingInsert* one = &p;
  insert_begin(&one, 1, now);
  if (p.result == InsertResult::kInserted) finish(p, now, later);
  *pos = p.pos;
  return p.result;
}

// One hold of the writer lock for the burst: each connection's steps 1-3 (removals on
// the way delete their keys under this hold), then its key and position, in order, so
// that each sees the ones before it as one-at-a-time inserts would.
template <class Key>
void BasicFlowTable<Key>::insert_begin(PendingInsert* const* inserts, uint32_t n, uint64_t now) {
  // Before the lock: the keys' hashes, and their home buckets fetched (a lookup's tag
  // may have ruled a new key out without reading its bucket).
  uint64_t hashes[Index::kBulkMax];
  const uint32_t nh = std::min(n, Index::kBulkMax);
  for (uint32_t i = 0; i < nh; ++i) {
    hashes[i] = index_.hash(inserts[i]->c.key);
    index_.prefetch_for_insert(hashes[i]);
  }
  rte_spinlock_lock(&writer_.lock);
  t_holds_writer_lock = true;
  for (uint32_t i = 0; i < n; ++i) {
    PendingInsert& p = *inserts[i];
    p.result = reserve(p, now, inserts, i);
    if (p.result == InsertResult::kInserted) add_and_claim(p, i < nh ? hashes[i] : index_.hash(p.c.key));
  }
  t_holds_writer_lock = false;
  rte_spinlock_unlock(&writer_.lock);
  // The claimed positions' stores of kDead, ordered before the loads of their blocks'
  // bits (mark_occupied says why).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (uint32_t i = 0; i < n; ++i)
    if (inserts[i]->result == InsertResult::kInserted) mark_occupied(inserts[i]->pos);
}

template <class Key>
void BasicFlowTable<Key>::insert_finish(PendingInsert& p, uint64_t now, LinkLater& later) {
  finish(p, now, &later);
}

template class BasicFlowTable<FlowKey>;
template class BasicFlowTable<FlowKey6>;

}  // namespace sgfw::flow
