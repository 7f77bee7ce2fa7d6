#include "flow/flow_table.hpp"

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include <algorithm>

namespace sgfw::flow {

Timeouts make_timeouts(uint64_t hz, uint32_t tcp_syn, uint32_t tcp_est, uint32_t tcp_closing, uint32_t udp,
                       uint32_t udp_stream, uint32_t icmp, uint32_t other) {
  Timeouts t;
  auto set = [&](ConnState s, uint32_t secs) { t.by_state[static_cast<size_t>(s)] = hz * secs; };
  set(ConnState::kTcpSynSent, tcp_syn);
  set(ConnState::kTcpSynRecv, tcp_syn);
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

FlowTable::~FlowTable() {
  if (hash_) rte_hash_free(hash_);
  if (freed_) rte_ring_free(freed_);
}

core::Expected<std::unique_ptr<FlowTable>> FlowTable::create(const FlowTableOptions& o, const std::string& name,
                                                              rte_rcu_qsbr* qs) {
  std::unique_ptr<FlowTable> t(new FlowTable());
  t->opts_ = o;
  t->qs_ = qs;
  rte_hash_parameters p{};
  p.name = name.c_str();
  // Room for the capacity plus positions removed but not yet recycled; the extendable
  // bucket table keeps inserts from failing on a crowded bucket.
  p.entries = std::max<uint32_t>(64, o.capacity + o.capacity / 4 + 1024);
  p.key_len = sizeof(FlowKey);
  p.hash_func = rte_hash_crc;
  p.socket_id = SOCKET_ID_ANY;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD |
                 RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  t->hash_ = rte_hash_create(&p);
  if (!t->hash_) return core::make_error("rte_hash_create(" + name + "): " + rte_strerror(rte_errno));
  t->slots_ = static_cast<uint32_t>(rte_hash_max_key_id(t->hash_)) + 1;
  t->entries_.reset(new FlowEntry[t->slots_]);
  for (uint32_t i = 0; i < t->slots_; ++i) t->entries_[i].state.store(ConnState::kFree, std::memory_order_relaxed);
  t->vm_counts_.reset(new std::atomic<uint32_t>[o.max_vm_ids]);
  for (uint32_t i = 0; i < o.max_vm_ids; ++i) t->vm_counts_[i].store(0, std::memory_order_relaxed);
  std::string rname = name + "-free";
  // Producers are the workers (and the control thread): relaxed tail sync (RTS), so a
  // producer preempted mid-enqueue never leaves the others spinning on the ring's tail
  // (the classic MP ring convoys when lcores share CPUs).
  t->freed_ = rte_ring_create(rname.c_str(), rte_align32pow2(t->slots_ + 1), SOCKET_ID_ANY,
                              RING_F_MP_RTS_ENQ | RING_F_SC_DEQ);
  if (!t->freed_) return core::make_error("rte_ring_create(" + rname + "): " + rte_strerror(rte_errno));
  return t;
}

void FlowTable::lookup_bulk(const FlowKey** keys, uint32_t n, int32_t* positions) const {
  if (n == 0) return;
  rte_hash_lookup_bulk(hash_, reinterpret_cast<const void**>(keys), n, positions);
}

int32_t FlowTable::lookup(const FlowKey& key) const {
  int32_t r = rte_hash_lookup(hash_, &key);
  return r < 0 ? -1 : r;
}

bool FlowTable::remove(int32_t pos) {
  FlowEntry& e = at(pos);
  ConnState s = e.state.load(std::memory_order_relaxed);
  do {
    if (s == ConnState::kFree || s == ConnState::kDead) return false;
  } while (!e.state.compare_exchange_weak(s, ConnState::kDead, std::memory_order_acq_rel));
  rte_hash_del_key(hash_, &e.key);
  count_.fetch_sub(1, std::memory_order_relaxed);
  vm_counts_[e.vm_id].fetch_sub(1, std::memory_order_relaxed);
  void* obj = reinterpret_cast<void*>(static_cast<uintptr_t>(pos) + 1);
  rte_ring_enqueue(freed_, obj);  // MP RTS (the ring's mode); sized for every slot: cannot fail
  return true;
}

bool FlowTable::evict_one(const FlowKey& near, uint64_t now) {
  // Like Linux early_drop: look at a few candidates, expired first, then half-open.
  // Candidates are the first kCandidates *connections* from a point picked by the key:
  // free and dead slots are skipped without counting, since the slot array is larger
  // than the capacity (spare slots + rte_hash's per-lcore cache reserve) and a small
  // table would otherwise have no candidate at all in the window.
  constexpr uint32_t kCandidates = 64;
  uint32_t start = rte_hash_crc(&near, sizeof(near), 0) % slots_;
  for (int pass = 0; pass < 2; ++pass) {
    uint32_t seen = 0;
    for (uint32_t i = 0; i < slots_ && seen < kCandidates; ++i) {
      int32_t pos = static_cast<int32_t>((start + i) % slots_);
      FlowEntry& e = at(pos);
      ConnState s = e.state.load(std::memory_order_relaxed);
      if (s == ConnState::kFree || s == ConnState::kDead) continue;
      ++seen;
      bool expired = !live(e, now);
      if ((pass == 0 && expired) || (pass == 1 && !is_established(s))) {
        if (remove(pos)) return true;
      }
    }
  }
  return false;
}

InsertResult FlowTable::insert(const FlowKey& key, uint32_t orig_src_be, uint16_t orig_sport_be, ConnState state,
                               uint32_t vm_id, uint64_t generation, uint32_t egress_rule, uint32_t ingress_rule,
                               uint64_t now, int32_t* pos) {
  // At the quota or the capacity, the connection may already exist (its other packet
  // in the same burst, or on another worker): that is kExists, not a refusal, and no
  // reason to evict anything. Checked only on these slow paths.
  auto exists = [&] {
    int32_t p = lookup(key);
    if (p >= 0) *pos = p;
    return p >= 0;
  };
  if (vm_counts_[vm_id].fetch_add(1, std::memory_order_relaxed) >= opts_.per_vm_limit) {
    vm_counts_[vm_id].fetch_sub(1, std::memory_order_relaxed);
    return exists() ? InsertResult::kExists : InsertResult::kQuotaExceeded;
  }
  bool reserved = false;
  for (int attempt = 0; attempt < 2 && !reserved; ++attempt) {
    if (count_.fetch_add(1, std::memory_order_relaxed) < opts_.capacity) {
      reserved = true;
    } else {
      count_.fetch_sub(1, std::memory_order_relaxed);
      if (exists()) {
        vm_counts_[vm_id].fetch_sub(1, std::memory_order_relaxed);
        return InsertResult::kExists;
      }
      if (!evict_one(key, now)) break;
    }
  }
  if (!reserved) {
    vm_counts_[vm_id].fetch_sub(1, std::memory_order_relaxed);
    return InsertResult::kTableFull;
  }
  int32_t p = rte_hash_add_key(hash_, &key);
  if (p < 0) {
    count_.fetch_sub(1, std::memory_order_relaxed);
    vm_counts_[vm_id].fetch_sub(1, std::memory_order_relaxed);
    return InsertResult::kTableFull;
  }
  FlowEntry& e = at(p);
  ConnState expected = ConnState::kFree;
  if (!e.state.compare_exchange_strong(expected, ConnState::kDead, std::memory_order_acq_rel)) {
    // Another worker created the same connection first: use it.
    count_.fetch_sub(1, std::memory_order_relaxed);
    vm_counts_[vm_id].fetch_sub(1, std::memory_order_relaxed);
    *pos = p;
    return InsertResult::kExists;
  }
  e.key = key;
  e.orig_src_be = orig_src_be;
  e.orig_sport_be = orig_sport_be;
  e.created = now;
  e.last_seen.store(now, std::memory_order_relaxed);
  e.generation.store(generation, std::memory_order_relaxed);
  e.vm_id = vm_id;
  e.egress_rule.store(egress_rule, std::memory_order_relaxed);
  e.ingress_rule.store(ingress_rule, std::memory_order_relaxed);
  e.state.store(state, std::memory_order_release);
  *pos = p;
  return InsertResult::kInserted;
}

void FlowTable::recycle() {
  std::vector<uint32_t> positions;
  void* obj = nullptr;
  while (rte_ring_sc_dequeue(freed_, &obj) == 0)
    positions.push_back(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(obj) - 1));
  if (positions.empty()) return;
  // Every worker that may still hold one of these positions from a lookup finishes
  // its burst before reporting quiescent.
  if (qs_) rte_rcu_qsbr_check(qs_, rte_rcu_qsbr_start(qs_), true);
  for (uint32_t p : positions) {
    entries_[p].state.store(ConnState::kFree, std::memory_order_release);
    rte_hash_free_key_with_position(hash_, static_cast<int32_t>(p));
  }
}

size_t FlowTable::reclaim(uint64_t now) {
  size_t expired = 0;
  for (uint32_t i = 0; i < slots_; ++i) {
    FlowEntry& e = entries_[i];
    ConnState s = e.state.load(std::memory_order_relaxed);
    if (s == ConnState::kFree || s == ConnState::kDead) continue;
    if (!live(e, now) && remove(static_cast<int32_t>(i))) ++expired;
  }
  recycle();
  return expired;
}

size_t FlowTable::flush(const uint32_t* vm_id) {
  size_t removed = 0;
  for (uint32_t i = 0; i < slots_; ++i) {
    FlowEntry& e = entries_[i];
    ConnState s = e.state.load(std::memory_order_relaxed);
    if (s == ConnState::kFree || s == ConnState::kDead) continue;
    if (vm_id && e.vm_id != *vm_id) continue;
    if (remove(static_cast<int32_t>(i))) ++removed;
  }
  recycle();
  return removed;
}

void FlowTable::for_each(const std::function<void(int32_t, const FlowEntry&)>& fn) const {
  for (uint32_t i = 0; i < slots_; ++i) {
    ConnState s = entries_[i].state.load(std::memory_order_acquire);
    if (s != ConnState::kFree && s != ConnState::kDead) fn(static_cast<int32_t>(i), entries_[i]);
  }
}

}  // namespace sgfw::flow
