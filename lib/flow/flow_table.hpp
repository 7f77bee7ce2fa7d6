// The connection table (docs/design/flow-table.md), generic over its key: FlowTable
// (IPv4) and FlowTable6 (IPv6), instantiated in flow_table*.cpp only. A FlowIndex
// (flow_index.hpp: lock-free readers, one writer) maps a canonical key to a position;
// each position indexes one FlowEntry (the hot part, one cache line) and one FlowCold
// (which holds the key). Lookups take no lock (bulk, per burst). Every change to the
// index and to the free positions is made under the table's own writer lock, which a worker takes once
// for a whole burst of new connections (docs/design/flow-table.md, "Burst inserts").
// Removed positions are recycled only after an RCU grace period (the workers'
// rte_rcu_qsbr), so a worker holding a position from a lookup never sees it reused
// under its feet.
//
// Half-open connections (not yet answered) are kept, oldest first, on intrusive FIFO
// lists beside the entries: one for the whole table (what a full table reclaims; closed
// connections join it too) and one per local VM for the connections opened *to* it
// (its inbound half-open budget).
// A list is changed only when a connection is created, answered or removed, under a
// short spinlock of that list; never on the established path.
//
// Per-VM connection counts (quotas) live in a VmQuota, which the IPv4 and the IPv6
// table share so that a VM's quota counts its connections of both families together;
// a table created without one owns its own. Capacity, the half-open lists and the
// inbound half-open budget are per table (so per family).
//
// Thread-safety: lookup/insert/remove/mark_answered from any worker; reclaim/flush/
// for_each from the single control thread. No call needs an lcore id.
#pragma once

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/unique_handle.hpp"
#include "flow/conn_state.hpp"
#include "flow/end_reason.hpp"
#include "flow/flow_entry.hpp"
#include "flow/flow_index.hpp"
#include "flow/flow_key.hpp"

namespace sgfw::flow {


// Called once per connection removed from a table that has one (set_end_hook), on the
// thread that removed it (a worker: revoked, evicted, replaced; the control thread:
// expired, flushed), once it is marked dead (only the remover gets here) and before
// its position can be reused.
// Must not block. docs/logs.md.
template <class Key>
using EndHook = void (*)(void* ctx, const BasicFlowEntry<Key>& e, const BasicFlowCold<Key>& c, EndReason why);

struct Timeouts {  // in TSC ticks, per state
  uint64_t by_state[32] = {};
};

// One table's options. The IPv4 and the IPv6 table each have their own capacity and
// inbound half-open budget; with a shared VmQuota, per_vm_limit is the quota's (checked
// by create()) and counts both tables' connections.
struct FlowTableOptions {
  uint32_t capacity = 1u << 20;   // this table's connections, counted exactly
  uint32_t per_vm_limit = 1u << 16;
  uint32_t per_vm_inbound_half_open = 1u << 14;  // inside per_vm_limit; per table (per family)
  uint32_t max_vm_ids = 1u << 13;  // VM ids are 0 .. max_vm_ids-1
  Timeouts timeouts;
};

enum class InsertResult : uint8_t { kInserted, kExists, kTableFull, kQuotaExceeded };

// A worker's new connections of one burst, not yet on the table's half-open list
// (insert() with a LinkLater, then link_half_open). A value on the worker's stack.
struct LinkLater {
  static constexpr uint32_t kMax = 64;  // more in one burst are linked at once
  uint32_t n = 0;
  uint32_t pos[kMax];
};

// The per-VM connection counts and their limit: what a table checks and charges in
// insert() step 2. One VmQuota may be shared by several tables (the IPv4 and the IPv6
// one) so that a VM's limit counts its connections of every family together
// (docs/enforcement.md §4.6). Created on the control thread; count() from any thread
// (relaxed). Counts change only through the tables that share it.
class VmQuota {
 public:
  VmQuota(const VmQuota&) = delete;
  VmQuota& operator=(const VmQuota&) = delete;
  ~VmQuota() = default;

  // VM ids 0 .. max_vm_ids-1 (at least 1), each limited to `per_vm_limit` connections.
  [[nodiscard]] static std::shared_ptr<VmQuota> create(uint32_t max_vm_ids, uint32_t per_vm_limit);

  [[nodiscard]] uint32_t count(uint32_t vm_id) const { return counts_[vm_id].load(std::memory_order_relaxed); }
  [[nodiscard]] uint32_t max_vm_ids() const { return max_vm_ids_; }
  [[nodiscard]] uint32_t per_vm_limit() const { return per_vm_limit_; }

 private:
  template <class Key>
  friend class BasicFlowTable;
  VmQuota() = default;
  std::unique_ptr<std::atomic<uint32_t>[]> counts_;
  uint32_t max_vm_ids_ = 0;
  uint32_t per_vm_limit_ = 0;
};

// What insert() creates.
template <class Key>
struct BasicNewConnection {
  Key key;
  bool orig_is_lo = true;             // the first packet's source is key's lo endpoint
  ConnState state = ConnState::kFree;
  uint32_t orig_vm = kNoVmId;         // local VM that sent the first packet
  uint32_t resp_vm = kNoVmId;         // local VM it was sent to (an inbound connection)
  uint64_t generation = 0;
  uint32_t egress_rule = 0;           // deciding rule id + 1, 0: no such check
  uint32_t ingress_rule = 0;
  uint8_t train_proto = 0;            // fragment trains only
  uint16_t train_sport_be = 0;        // fragment trains only
  uint16_t train_dport_be = 0;
  bool stateless_train = false;       // fragment trains only
  uint64_t express = 0;               // connections only: the packet path's express word
  uint32_t first_len = 0;             // connections only: the first packet's length (counted from the originator)
};
using NewConnection = BasicNewConnection<FlowKey>;
using NewConnection6 = BasicNewConnection<FlowKey6>;

// One new connection of a burst (insert_begin / insert_finish): the caller fills `c`;
// the table writes the rest. A value on the worker's stack.
template <class Key>
struct BasicPendingInsert {
  BasicNewConnection<Key> c;
  int32_t pos = -1;  // the key's position: held for insert_finish (kInserted), or kExists'
  InsertResult result = InsertResult::kTableFull;  // insert_begin's answer, final
  std::array<uint32_t, 2> charged = {kNoVmId, kNoVmId};  // the local VMs charged for it
  // A later connection of the burst to the same VM, at its inbound half-open budget,
  // recycles this one (the VM's oldest): insert_finish makes it live and removes it.
  bool recycled = false;
};

template <class Key>
class BasicFlowTable {
 public:
  using key_type = Key;
  using FlowEntry = BasicFlowEntry<Key>;
  using FlowCold = BasicFlowCold<Key>;
  using NewConnection = BasicNewConnection<Key>;
  using PendingInsert = BasicPendingInsert<Key>;

  BasicFlowTable(const BasicFlowTable&) = delete;
  BasicFlowTable& operator=(const BasicFlowTable&) = delete;
  ~BasicFlowTable() = default;

  // Control thread. `qs`: the workers' RCU variable (grace periods before a position
  // is reused). `quota`: per-VM counts shared with other tables (the other address
  // family's); null: the table makes its own from o.max_vm_ids and o.per_vm_limit.
  // Errors: no memory for the index; rte_ring creation failed (a name in use, no
  // memory); a shared quota with fewer VM ids than o.max_vm_ids or another per_vm_limit.
  [[nodiscard]] static core::Expected<std::unique_ptr<BasicFlowTable>> create(
      const FlowTableOptions& o, const std::string& name, rte_rcu_qsbr* qs,
      std::shared_ptr<VmQuota> quota = nullptr);

  // --- data path ---
  // positions[i] = position of keys[i], or negative (-ENOENT) if absent;
  // n <= FlowIndex<Key>::kBulkMax (64). The found entries' first lines are prefetched.
  void lookup_bulk(const Key** keys, uint32_t n, int32_t* positions) const;
  [[nodiscard]] int32_t lookup(const Key& key) const;
  [[nodiscard]] FlowEntry& at(int32_t pos) { return entries_[static_cast<size_t>(pos)]; }
  [[nodiscard]] const FlowEntry& at(int32_t pos) const { return entries_[static_cast<size_t>(pos)]; }
  // The cold part (rules, VM ids, key) of the connection at `pos`.
  [[nodiscard]] FlowCold& cold(int32_t pos) { return colds_[static_cast<size_t>(pos)]; }
  [[nodiscard]] const FlowCold& cold(int32_t pos) const { return colds_[static_cast<size_t>(pos)]; }
  // A last_seen after `now` (another worker stored a later TSC since `now` was read)
  // is live, not idle.
  [[nodiscard]] bool live(const FlowEntry& e, uint64_t now) const {
    return live(e, e.state.load(std::memory_order_relaxed), now);
  }
  // The same with the entry's state `s` already loaded.
  [[nodiscard]] bool live(const FlowEntry& e, ConnState s, uint64_t now) const {
    uint64_t seen = e.last_seen.load(std::memory_order_relaxed);
    return s != ConnState::kFree && s != ConnState::kDead &&
           (now <= seen || now - seen <= opts_.timeouts.by_state[static_cast<size_t>(s)]);
  }
  // Creates a connection; on kInserted/kExists *pos is its position. In order:
  //  1. opened to a local VM at its inbound half-open budget: that VM's oldest inbound
  //     half-open connection is reclaimed (counted in inbound_half_open_recycled());
  //  2. quota: each local VM at either end must be below per_vm_limit (else
  //     kQuotaExceeded: a VM cannot take another VM's room);
  //  3. capacity: at capacity the oldest half-open connection is reclaimed (else an
  //     expired one near the key); established connections never (else kTableFull).
  [[nodiscard]] InsertResult insert(const NewConnection& c, uint64_t now, int32_t* pos);
  // The same, but the connection joins the half-open list (what step 3 reclaims) at
  // link_half_open(later), with the burst's others under one lock; until then it is
  // live but not reclaimable. Call it before the worker next reports quiescent.
  [[nodiscard]] InsertResult insert(const NewConnection& c, uint64_t now, int32_t* pos, LinkLater& later);
  void link_half_open(LinkLater& later);
  // The same insert for a burst's new connections, in two halves so that the burst
  // takes the writer lock once (docs/design/flow-table.md, "Burst inserts").
  // insert_begin() holds the lock for the whole burst and, for each of the `n`
  // connections in order, takes steps 1-3, adds the key and claims its position: each
  // result is then final (kExists with its pos, kQuotaExceeded, kTableFull) or kInserted
  // (position held, not yet live: a lookup finds it dead). insert_finish() then fills a
  // kInserted one and makes it live; it cannot fail. Finish every kInserted insert, in
  // order, before the worker next reports quiescent.
  void insert_begin(PendingInsert* const* inserts, uint32_t n, uint64_t now);
  void insert_finish(PendingInsert& p, uint64_t now, LinkLater& later);
  // The connection at `pos` has just moved from a half-open to an established state
  // (the caller's compare-exchange did it): it leaves the half-open lists.
  void mark_answered(int32_t pos);
  // The connection at `pos` has just moved from an established to a closed state
  // (time-wait, closed): it joins the table's reclaimable list (not the inbound one).
  void mark_closed(int32_t pos);
  // Removes a connection now (revoked, replaced, flushed, expired), `why` for the end
  // hook (closing_reason() applied to kTimeout and kEvicted). Idempotent: true (and
  // the hook called) only for the call that removed it.
  bool remove(int32_t pos, EndReason why = EndReason::kTimeout);
  // Control thread, before any worker runs: every removal calls `hook(ctx, ...)` from
  // then on (null: none).
  void set_end_hook(EndHook<Key> hook, void* ctx) {
    end_hook_ = hook;
    end_ctx_ = ctx;
  }

  // --- control thread ---
  // Removes expired connections, then recycles removed positions after a grace period.
  // Returns the number of connections expired. `slices` > 1 sweeps only the next
  // 1/slices of the table (resuming where the last call stopped), so that a large
  // table's sweep is spread over several calls instead of stalling the control thread
  // (docs/design/flow-table.md, "Sweeping"). Blocks of 64 positions that hold no
  // connection are skipped without touching their entries.
  size_t reclaim(uint64_t now, uint32_t slices = 1);
  // Removes every connection (vm_ids == nullptr), or those with a VM in `vm_ids` (a
  // bitmap indexed by VM id) at either end, now.
  size_t flush(const std::vector<bool>* vm_ids = nullptr);
  void for_each(const std::function<void(int32_t, const FlowEntry&, const FlowCold&)>& fn) const;

  // Connections counted against the capacity (live, and held by an insert under way).
  [[nodiscard]] uint32_t size() const {
    const uint32_t removed = removed_.load(std::memory_order_relaxed);
    const uint32_t added = added_.load(std::memory_order_relaxed);
    return added - removed < (1u << 31) ? added - removed : 0;  // never a transient underflow
  }
  // Blocks of 64 positions marked as possibly holding a connection (a sweep unmarks a
  // block it finds wholly free). For tests and statistics.
  [[nodiscard]] uint32_t occupied_blocks() const;
  // The VM's connections counted by this table's quota: of every table sharing it.
  [[nodiscard]] uint32_t vm_count(uint32_t vm_id) const { return vm_counts_[vm_id].load(std::memory_order_relaxed); }
  [[nodiscard]] const std::shared_ptr<VmQuota>& quota() const { return quota_; }
  [[nodiscard]] uint32_t inbound_half_open(uint32_t vm_id) const {
    return vm_lists_[vm_id].count.load(std::memory_order_relaxed);
  }
  [[nodiscard]] uint64_t inbound_half_open_recycled() const { return inbound_recycled_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint64_t half_open_reclaimed() const { return half_open_reclaimed_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint32_t capacity() const { return opts_.capacity; }
  [[nodiscard]] const FlowTableOptions& options() const { return opts_; }

 private:
  static constexpr uint32_t kNil = 0xffffffffu;
  struct Link {
    uint32_t prev = kNil, next = kNil;
  };
  // A FIFO list threaded through Link arrays indexed by position.
  struct alignas(64) List {
    rte_spinlock_t lock = RTE_SPINLOCK_INITIALIZER;
    uint32_t head = kNil, tail = kNil;
    std::atomic<uint32_t> count{0};
  };

  BasicFlowTable() = default;
  void push(List& l, Link* links, uint32_t pos, bool counted);
  // The byte of the entry that holds a list's bit: kInHalfOpen in flags, kInInbound in
  // inbound. Each is changed only under its own list's lock, so with a load and a
  // store, never a locked read-modify-write (two list locks never guard one byte).
  [[nodiscard]] static std::atomic<uint8_t>& list_mark(FlowEntry& e, uint8_t bit) {
    return bit == kInHalfOpen ? e.flags : e.inbound;
  }
  [[nodiscard]] bool link_tail(List& l, Link* links, uint32_t pos, uint8_t bit);
  void unlink(List& l, Link* links, uint32_t pos);
  void leave_lists(int32_t pos);
  // With `expired_at`, only if the oldest one has expired by then.
  bool reclaim_oldest(List& l, bool inbound, const uint64_t* expired_at = nullptr);
  bool evict_expired_near(const Key& near, uint64_t now);
  // insert()'s steps (flow_table.cpp says what each does).
  using VmPair = std::array<uint32_t, 2>;  // the local VMs charged: orig, resp (kNoVmId: none)
  [[nodiscard]] bool existing(const Key& key, int32_t* pos) const;
  [[nodiscard]] bool make_inbound_room(const NewConnection& c, int32_t* pos, PendingInsert* const* earlier,
                                       uint32_t n_earlier);
  [[nodiscard]] bool take_quota(const VmPair& vms);
  [[nodiscard]] InsertResult reserve_capacity(const Key& key, uint64_t now, int32_t* pos);
  [[nodiscard]] InsertResult reserve(PendingInsert& p, uint64_t now, PendingInsert* const* earlier,
                                     uint32_t n_earlier);
  void give_back(const PendingInsert& p, bool counted);
  void add_and_claim(PendingInsert& p, uint64_t hash);  // caller holds writer_.lock
  void finish(PendingInsert& p, uint64_t now, LinkLater* later);
  [[nodiscard]] InsertResult insert_one(const NewConnection& c, uint64_t now, int32_t* pos, LinkLater* later);
  void initialise(int32_t pos, const NewConnection& c, uint64_t now, LinkLater* later, bool inbound_list);
  // A connection just marked dead, off its lists: its key deleted, its counts given
  // back, its position queued for recycling.
  void release(int32_t pos, bool key_in_hash);
  // remove(), for a connection whose key is (true) or is no longer (false) in the hash.
  bool remove_keyed(int32_t pos, EndReason why, bool key_in_hash);
  void charge(uint32_t vm, int delta) {
    if (vm != kNoVmId) vm_counts_[vm].fetch_add(static_cast<uint32_t>(delta), std::memory_order_relaxed);
  }
  void recycle();
  // The occupancy bitmap: one bit per block of kBlock positions (docs/design/flow-table.md,
  // "Sweeping"). mark_occupied: a worker, after its store and fence took a free
  // position. sweep_block: the control thread; unmarks the block, calls visit(pos) for
  // each non-free position, and marks it again if anything in it is not free.
  static constexpr uint32_t kBlockShift = 6;
  void mark_occupied(int32_t pos);
  template <class Visit>
  void sweep_block(uint32_t block, Visit&& visit);
  [[nodiscard]] bool block_marked(uint32_t block) const {
    return (occupied_[block >> 6].load(std::memory_order_seq_cst) >> (block & 63)) & 1;
  }
  [[nodiscard]] uint32_t blocks() const { return (slots_ + (1u << kBlockShift) - 1) >> kBlockShift; }

  FlowTableOptions opts_;
  using Index = FlowIndex<Key>;
  Index index_;
  // Free positions, a stack (the last freed is the next taken); changed under writer_.
  std::unique_ptr<uint32_t[]> free_;
  uint32_t nfree_ = 0;
  // Serialises every change to index_ and free_: adds, deletes, positions freed.
  // A line of its own: the workers' reads of the members around it do not bounce.
  struct alignas(64) WriterLock {
    rte_spinlock_t lock = RTE_SPINLOCK_INITIALIZER;
  } writer_;
  core::UniqueHandle<rte_ring, rte_ring_free> freed_;  // positions removed, waiting for a grace period
  rte_rcu_qsbr* qs_ = nullptr;
  std::unique_ptr<FlowEntry[]> entries_;
  std::unique_ptr<FlowCold[]> colds_;  // [slot]: the cold parts, beside entries_
  uint32_t slots_ = 0;
  std::unique_ptr<std::atomic<uint64_t>[]> occupied_;  // [block / 64]: bit block % 64
  uint32_t sweep_cursor_ = 0;                           // control thread: reclaim's next block
  // The connection count is added_ - removed_ (size()): added_ changes under writer_
  // only (a load and a store, no locked instruction on the insert path), removed_ by
  // any remover (fetch_add).
  std::atomic<uint32_t> added_{0};
  std::atomic<uint32_t> removed_{0};
  void count_added(int delta) {  // caller holds writer_.lock
    added_.store(added_.load(std::memory_order_relaxed) + static_cast<uint32_t>(delta), std::memory_order_relaxed);
  }
  std::shared_ptr<VmQuota> quota_;
  std::atomic<uint32_t>* vm_counts_ = nullptr;  // quota_->counts_ (no indirection on insert)
  std::unique_ptr<Link[]> half_open_links_;  // [slot]: the table's half-open FIFO
  std::unique_ptr<Link[]> inbound_links_;    // [slot]: per-VM inbound half-open FIFOs
  List half_open_;
  std::unique_ptr<List[]> vm_lists_;         // [vm id]
  std::atomic<uint64_t> inbound_recycled_{0};
  std::atomic<uint64_t> half_open_reclaimed_{0};
  EndHook<Key> end_hook_ = nullptr;
  void* end_ctx_ = nullptr;
};

// The two instantiations (flow_table.cpp); no other is compiled.
extern template class BasicFlowTable<FlowKey>;
extern template class BasicFlowTable<FlowKey6>;
using FlowTable = BasicFlowTable<FlowKey>;
using FlowTable6 = BasicFlowTable<FlowKey6>;

// Timeouts from seconds (config) to TSC ticks per state.
[[nodiscard]] Timeouts make_timeouts(uint64_t tsc_hz, uint32_t tcp_syn, uint32_t tcp_established,
                                     uint32_t tcp_closing, uint32_t udp, uint32_t udp_stream, uint32_t icmp,
                                     uint32_t other);

}  // namespace sgfw::flow
