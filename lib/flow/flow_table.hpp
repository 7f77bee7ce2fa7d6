// The connection table (docs/design/flow-table.md). An rte_hash in lock-free
// read/write-concurrency mode maps a canonical FlowKey to a position; each position
// indexes one cache-line FlowEntry. Lookups take no lock (bulk, per burst). Inserts
// from several workers go through rte_hash's multi-writer path. Removed positions are
// recycled only after an RCU grace period (the workers' rte_rcu_qsbr), so a worker
// holding a position from a lookup never sees it reused under its feet.
// Thread-safety: lookup/insert/remove/touch from any worker; reclaim/flush/for_each
// from the single control thread. insert() and reclaim()/flush() must run on a thread
// with an lcore id (an EAL lcore, or a thread that called rte_thread_register()):
// rte_hash's multi-writer free-slot cache is indexed by rte_lcore_id(), and DPDK 22.11
// indexes it with LCORE_ID_ANY unchecked (an unregistered thread's insert crashes).
// Lookups need no lcore id.
#pragma once

#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "flow/conn_state.hpp"
#include "flow/flow_key.hpp"

namespace sgfw::flow {

// One connection, one cache line. Fields written after insertion are atomics (both
// directions of a connection may be handled by different workers).
struct alignas(64) FlowEntry {
  FlowKey key;                          // 16
  uint32_t orig_src_be;                 // 4: the originator (first packet's source)
  uint16_t orig_sport_be;               // 2
  std::atomic<ConnState> state;         // 1
  uint8_t reserved;                     // 1
  std::atomic<uint64_t> last_seen;      // 8: TSC of the last packet
  uint64_t created;                     // 8: TSC of the first packet
  std::atomic<uint64_t> generation;     // 8: policy generation that admitted / re-checked it
  uint32_t vm_id;                       // 4: stable id of the VM charged for it
  std::atomic<uint32_t> egress_rule;    // 4: deciding rule id + 1 (0: no such check)
  std::atomic<uint32_t> ingress_rule;   // 4
};
static_assert(sizeof(FlowEntry) == 64);

struct Timeouts {  // in TSC ticks, per state
  uint64_t by_state[16] = {};
};

struct FlowTableOptions {
  uint32_t capacity = 1u << 20;  // connections, counted exactly
  uint32_t per_vm_limit = 1u << 16;
  uint32_t max_vm_ids = 1u << 16;
  Timeouts timeouts;
};

enum class InsertResult : uint8_t { kInserted, kExists, kTableFull, kQuotaExceeded };

class FlowTable {
 public:
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;
  ~FlowTable();

  // `qs`: the workers' RCU variable (grace periods before a position is reused).
  [[nodiscard]] static core::Expected<std::unique_ptr<FlowTable>> create(const FlowTableOptions& o,
                                                                        const std::string& name,
                                                                        rte_rcu_qsbr* qs);

  // --- data path ---
  // positions[i] = position of keys[i], or negative (-ENOENT) if absent;
  // n <= RTE_HASH_LOOKUP_BULK_MAX.
  void lookup_bulk(const FlowKey** keys, uint32_t n, int32_t* positions) const;
  [[nodiscard]] int32_t lookup(const FlowKey& key) const;
  [[nodiscard]] FlowEntry& at(int32_t pos) { return entries_[static_cast<size_t>(pos)]; }
  [[nodiscard]] const FlowEntry& at(int32_t pos) const { return entries_[static_cast<size_t>(pos)]; }
  // A last_seen after `now` (another worker stored a later TSC since `now` was read)
  // is live, not idle.
  [[nodiscard]] bool live(const FlowEntry& e, uint64_t now) const {
    ConnState s = e.state.load(std::memory_order_relaxed);
    uint64_t seen = e.last_seen.load(std::memory_order_relaxed);
    return s != ConnState::kFree && s != ConnState::kDead &&
           (now <= seen || now - seen <= opts_.timeouts.by_state[static_cast<size_t>(s)]);
  }
  // Creates a connection. On kInserted/kExists *pos is its position. Quota first (a VM
  // at its quota cannot take another VM's room), then capacity: at capacity an expired,
  // then a half-open connection among a few candidates is evicted; established ones never.
  [[nodiscard]] InsertResult insert(const FlowKey& key, uint32_t orig_src_be, uint16_t orig_sport_be,
                                    ConnState state, uint32_t vm_id, uint64_t generation, uint32_t egress_rule,
                                    uint32_t ingress_rule, uint64_t now, int32_t* pos);
  // Removes a connection now (revoked, replaced, flushed, expired). Idempotent.
  bool remove(int32_t pos);

  // --- control thread ---
  // Removes expired connections, then recycles removed positions after a grace period.
  // Returns the number of connections expired.
  size_t reclaim(uint64_t now);
  // Removes every connection (or those charged to vm_id) now.
  size_t flush(const uint32_t* vm_id = nullptr);
  void for_each(const std::function<void(int32_t, const FlowEntry&)>& fn) const;

  [[nodiscard]] uint32_t size() const { return count_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint32_t vm_count(uint32_t vm_id) const { return vm_counts_[vm_id].load(std::memory_order_relaxed); }
  [[nodiscard]] uint32_t capacity() const { return opts_.capacity; }
  [[nodiscard]] const FlowTableOptions& options() const { return opts_; }

 private:
  FlowTable() = default;
  bool evict_one(const FlowKey& near, uint64_t now);
  void recycle();

  FlowTableOptions opts_;
  rte_hash* hash_ = nullptr;
  rte_ring* freed_ = nullptr;  // positions removed, waiting for a grace period
  rte_rcu_qsbr* qs_ = nullptr;
  std::unique_ptr<FlowEntry[]> entries_;
  uint32_t slots_ = 0;
  std::atomic<uint32_t> count_{0};
  std::unique_ptr<std::atomic<uint32_t>[]> vm_counts_;
};

// How long a first fragment's verdict is remembered (semantics.md §5).
inline constexpr uint32_t kFragmentSeconds = 15;

// The fragment table's key: one datagram's fragment train (direction matters).
inline FlowKey make_fragment_key(uint8_t proto, uint32_t src_be, uint32_t dst_be, uint16_t ip_id_be) {
  FlowKey k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  k.addr_lo = src_be;
  k.addr_hi = dst_be;
  k.port_lo = ip_id_be;
  return k;
}

// Timeouts from seconds (config) to TSC ticks per state.
[[nodiscard]] Timeouts make_timeouts(uint64_t tsc_hz, uint32_t tcp_syn, uint32_t tcp_established,
                                     uint32_t tcp_closing, uint32_t udp, uint32_t udp_stream, uint32_t icmp,
                                     uint32_t other);

}  // namespace sgfw::flow
