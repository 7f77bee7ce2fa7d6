// Stage 2 of the packet pipeline (docs/design/packet-path.md, step 8): bulk connection
// lookups; packets of live connections take the fast path or are re-checked.
#include <rte_prefetch.h>

#include "dataplane/burst.hpp"
#include "dataplane/rule_checks.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using flow::ConnState;

// Stage 2: connection lookups for the burst.
void Pipeline::lookup_connections(Burst& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  flow::FlowTable& ft = *flows_.table;
  const flow::FlowKey* keys[kBurst];
  int32_t positions[kBurst];
  uint16_t idx[kBurst];
  uint16_t nk = 0;
  for (uint16_t i = 0; i < b.np; ++i) {
    if (b.pend[i].path != Path::kNew) continue;
    idx[nk] = i;
    keys[nk++] = &b.pend[i].key;
  }
  ft.lookup_bulk(keys, nk, positions);
  for (uint16_t k = 0; k < nk; ++k)
    if (positions[k] >= 0) rte_prefetch0(&ft.at(positions[k]));
  const uint64_t gen = snap.generation();
  for (uint16_t k = 0; k < nk; ++k) {
    Pending& q = b.pend[idx[k]];
    int32_t pos = positions[k];
    if (pos >= 0) {
      flow::FlowEntry& e = ft.at(pos);
      ConnState s = e.state.load(std::memory_order_relaxed);
      bool live = ft.live(e, now);
      bool reopen = q.proto == wire::kProtoTcp && flow::tcp::is_syn_only(q.tcp_flags) && flow::is_tcp_reusable(s);
      if (live && !reopen) {
        q.flow_pos = pos;
        q.path = (!flows_.keep_established && e.generation.load(std::memory_order_relaxed) != gen) ? Path::kRevalidate
                                                                                                   : Path::kFast;
        continue;
      }
      if (s != ConnState::kFree && s != ConnState::kDead) ft.remove(pos);  // expired or being replaced
    }
    // No live connection.
    if (q.proto == wire::kProtoIcmp && q.icmp_type == wire::kIcmpEchoReply) {
      q.path = Path::kStateless;  // a reply without its request creates no state
    } else if (q.proto == wire::kProtoTcp && !flow::tcp::is_syn_only(q.tcp_flags) &&
               (!flows_.tcp_loose || flow::tcp::loose_pickup(q.tcp_flags) == ConnState::kFree)) {
      drop(q.m, in_port, DropReason::kNoConnection, pc, q.src_vm != kNoVm ? q.src_vm : q.dst_vm);
      q.m = nullptr;
    }
  }
}
}  // namespace sgfw::dataplane
