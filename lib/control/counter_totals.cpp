#include "control/counter_totals.hpp"

namespace sgfw::control {

Totals port_totals(const std::vector<std::vector<runtime::PortCounters>>& per_worker, size_t port) {
  Totals t;
  for (const auto& w : per_worker) {
    t.rx += runtime::read(w[port].rx);
    t.tx += runtime::read(w[port].tx);
    for (size_t r = 0; r < core::kDropReasonCount; ++r) t.drops[r] += runtime::read(w[port].drops[r]);
  }
  return t;
}

Totals vm_totals(const runtime::Snapshot& snap, size_t vm) {
  Totals t;
  for (const auto& b : snap.all_counters()) {
    t.allowed += runtime::read(b->vm_allowed[vm]);
    for (size_t r = 0; r < core::kDropReasonCount; ++r)
      t.drops[r] += runtime::read(b->vm_drops[vm * core::kDropReasonCount + r]);
  }
  return t;
}

uint64_t rule_hits(const runtime::Snapshot& snap, size_t rule) {
  uint64_t hits = 0;
  for (const auto& b : snap.all_counters()) hits += runtime::read(b->rule_hits[rule]);
  return hits;
}

}  // namespace sgfw::control
