// Counter totals: the one place per-worker blocks are summed (ports, VMs, rules), for
// `status`, `stats` and the folding of retired generations. Control thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/drop_reason.hpp"
#include "runtime/counters.hpp"
#include "runtime/snapshot.hpp"

namespace sgfw::control {

struct Totals {
  uint64_t allowed = 0;  // VMs only
  uint64_t rx = 0, tx = 0;  // ports only
  uint64_t drops[core::kDropReasonCount] = {};
  [[nodiscard]] uint64_t dropped() const {
    uint64_t t = 0;
    for (uint64_t d : drops) t += d;
    return t;
  }
  void add(const Totals& o) {
    allowed += o.allowed;
    rx += o.rx;
    tx += o.tx;
    for (size_t r = 0; r < core::kDropReasonCount; ++r) drops[r] += o.drops[r];
  }
};

// Port `port` summed over every worker's block ([worker][port]).
[[nodiscard]] Totals port_totals(const std::vector<std::vector<runtime::PortCounters>>& per_worker, size_t port);
// VM index `vm` of a snapshot, summed over its workers' blocks.
[[nodiscard]] Totals vm_totals(const runtime::Snapshot& snap, size_t vm);
// Rule id `rule` of a snapshot: connections admitted, summed over workers.
[[nodiscard]] uint64_t rule_hits(const runtime::Snapshot& snap, size_t rule);

}  // namespace sgfw::control
