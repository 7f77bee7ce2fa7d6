// The `end` record of a connection leaving its table (docs/logs.md, "End reasons"):
// the tables' end hook (flow::EndHook) that builds it from the entry and pushes it to
// the LogRing. Install with install_end_hook(table, ring). Data path: no allocation,
// never blocks. Thread-safety: runs on the thread that removed the connection.
#pragma once

#include <rte_cycles.h>

#include <cstring>
#include <type_traits>

#include "flow/flow_table.hpp"
#include "logs/log_ring.hpp"

namespace sgfw::logs {

// The addresses of `key`'s two ends into a record, the originator's first.
template <class Key>
void set_ends(Record& r, const flow::BasicFlowEntry<Key>& e, const flow::BasicFlowCold<Key>& c) {
  const bool lo = e.orig_is_lo();
  const auto orig = c.orig_addr_be(lo);
  const auto resp = c.resp_addr_be(lo);
  if constexpr (std::is_same_v<Key, flow::FlowKey6>) {
    r.family = 6;
    std::memcpy(r.src, orig.data(), 16);
    std::memcpy(r.dst, resp.data(), 16);
  } else {
    r.family = 4;
    std::memcpy(r.src, &orig, 4);
    std::memcpy(r.dst, &resp, 4);
  }
  r.sport_be = c.orig_port_be(lo);
  r.dport_be = c.resp_port_be(lo);
}

template <class Key>
void end_hook(void* ctx, const flow::BasicFlowEntry<Key>& e, const flow::BasicFlowCold<Key>& c, flow::EndReason why) {
  Record r{};
  r.kind = Kind::kEnd;
  r.proto = c.key.proto;
  r.reason = static_cast<uint8_t>(why);
  set_ends(r, e, c);
  r.vm[0] = c.vm_id[0];
  r.vm[1] = c.vm_id[1];
  r.rule[0] = c.egress_rule.load(std::memory_order_relaxed);
  r.rule[1] = c.ingress_rule.load(std::memory_order_relaxed);
  r.checks = static_cast<uint8_t>((r.rule[0] != 0 ? 1 : 0) | (r.rule[1] != 0 ? 2 : 0));
  r.generation = e.generation.load(std::memory_order_relaxed);
  r.tsc = rte_rdtsc();
  r.age_tsc = e.age(r.tsc);
  for (int d = 0; d < 2; ++d) {
    r.packets[d] = e.packets[d].load(std::memory_order_relaxed);
    r.bytes[d] = e.bytes[d].load(std::memory_order_relaxed);
  }
  static_cast<LogRing*>(ctx)->push(r);
}

// Control thread, before the workers start: `table` hands an `end` record to `ring`
// for every connection it removes (ring null: none).
template <class Key>
void install_end_hook(flow::BasicFlowTable<Key>& table, LogRing* ring) {
  if (ring) table.set_end_hook(&end_hook<Key>, ring);
  else table.set_end_hook(nullptr, nullptr);
}

}  // namespace sgfw::logs
