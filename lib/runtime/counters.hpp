// Per-worker counters. Each worker writes only its own block (single writer, relaxed
// stores), the control thread reads all blocks (relaxed loads) and sums them. No lock,
// no atomic read-modify-write on the packet path.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/drop_reason.hpp"

namespace sgfw::runtime {

// Single-writer counter increment readable by other threads without tearing.
inline void bump(uint64_t& c, uint64_t n = 1) {
  std::atomic_ref<uint64_t>(c).store(c + n, std::memory_order_relaxed);
}
// Single-writer store of a total the writer keeps elsewhere.
inline void set(uint64_t& c, uint64_t v) { std::atomic_ref<uint64_t>(c).store(v, std::memory_order_relaxed); }
inline uint64_t read(const uint64_t& c) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(c)).load(std::memory_order_relaxed);
}

struct alignas(64) PortCounters {
  uint64_t rx = 0;
  uint64_t tx = 0;
  uint64_t drops[core::kDropReasonCount] = {};
};

// Counters that depend on a policy generation (VM and rule indices), one block per
// worker, owned by the snapshot they index.
struct alignas(64) PolicyCounters {
  std::vector<uint64_t> vm_allowed;  // [vm]
  std::vector<uint64_t> vm_drops;    // [vm * kDropReasonCount + reason]
  std::vector<uint64_t> rule_hits;   // [rule_id]

  PolicyCounters(size_t vms, size_t rules)
      : vm_allowed(vms), vm_drops(vms * core::kDropReasonCount), rule_hits(rules) {}
};

}  // namespace sgfw::runtime
