// Stage 2 of the packet pipeline (docs/design/packet-path.md, step 8): bulk connection
// lookups; packets of live connections take the fast path or are re-checked. One code
// for both families (family.hpp).

#include "dataplane/burst.hpp"
#include "dataplane/rule_checks.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using flow::ConnState;

// Stage 2: connection lookups for the burst.
template <class F>
void Pipeline::lookup_connections(BurstOf<F>& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  typename F::Table& ft = F::table(flows_);
  const typename F::Key* keys[kBurst];
  int32_t positions[kBurst];
  uint16_t idx[kBurst];
  uint16_t nk = 0;
  // The express stage has looked up most keys already (its misses and the hits it
  // could not pass): only the others are looked up here.
  const typename F::Key* ask[kBurst];
  int32_t answers[kBurst];
  uint16_t at[kBurst];
  uint16_t na = 0;
  for (uint16_t i = 0; i < b.np; ++i) {
    if (b.pend[i].path != Path::kNew) continue;
    idx[nk] = i;
    keys[nk] = &b.pend[i].key;
    positions[nk] = b.pend[i].looked_pos;
    if (positions[nk] == kNotLooked) {
      at[na] = nk;
      ask[na++] = keys[nk];
    }
    ++nk;
  }
  if (na != 0) {
    ft.lookup_bulk(ask, na, answers);  // prefetches the entries' first lines, as the express stage's did
    for (uint16_t a = 0; a < na; ++a) positions[at[a]] = answers[a];
  }
  const uint64_t gen = snap.generation();
  for (uint16_t k = 0; k < nk; ++k) {
    PendingOf<F>& q = b.pend[idx[k]];
    int32_t pos = positions[k];
    if (pos >= 0) {
      typename F::Entry& e = ft.at(pos);
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
    if (q.proto == F::kIcmp && q.icmp_type == F::kEchoReply) {
      q.path = Path::kStateless;  // a reply without its request creates no state
    } else if (q.proto == wire::kProtoTcp && !flow::tcp::is_syn_only(q.tcp_flags) &&
               (!flows_.tcp_loose || flow::tcp::loose_pickup(q.tcp_flags) == ConnState::kFree)) {
      drop(q.m, in_port, DropReason::kNoConnection, pc, q.owner());
      q.m = nullptr;
    }
  }
}

template void Pipeline::lookup_connections(BurstOf<Ipv4Family>&, runtime::Snapshot&, uint16_t, uint64_t);
template void Pipeline::lookup_connections(BurstOf<Ipv6Family>&, runtime::Snapshot&, uint16_t, uint64_t);

}  // namespace sgfw::dataplane
