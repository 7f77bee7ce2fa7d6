// Stage 4 of the packet pipeline (docs/design/packet-path.md, step 10): verdicts in
// packet order; connections created, advanced or revoked; fragment trains followed.
// One code for both families (family.hpp).
#include <rte_prefetch.h>

#include <cstring>
#include <new>
#include <type_traits>

#include "dataplane/burst.hpp"
#include "dataplane/express.hpp"
#include "dataplane/rule_checks.hpp"
#include "logs/log_ring.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using flow::ConnState;

namespace {

template <class F>
ConnState initial_state(uint8_t proto, uint8_t tcp_flags) {
  if (proto == wire::kProtoTcp)
    return flow::tcp::is_syn_only(tcp_flags) ? ConnState::kTcpSynSent : flow::tcp::loose_pickup(tcp_flags);
  if (proto == wire::kProtoUdp) return ConnState::kUdpOneWay;
  if (proto == F::kIcmp) return ConnState::kIcmpEcho;
  return ConnState::kOtherOneWay;
}

// A log record (docs/logs.md) of a first packet: its tuple, VMs (stable ids), the
// rule of each check that applies, the generation. Only when logs are on.
template <class F>
logs::Record first_packet_record(const PendingOf<F>& q, const runtime::Snapshot& snap, logs::Kind kind,
                                 uint64_t now) {
  logs::Record r{};
  r.kind = kind;
  r.proto = q.proto;
  r.denied_check = logs::kNoCheck;
  if constexpr (std::is_same_v<F, Ipv6Family>) {
    r.family = 6;
    std::memcpy(r.src, q.src_be.data(), 16);
    std::memcpy(r.dst, q.dst_be.data(), 16);
  } else {
    r.family = 4;
    std::memcpy(r.src, &q.src_be, 4);
    std::memcpy(r.dst, &q.dst_be, 4);
  }
  r.sport_be = q.sport_be;
  r.dport_be = q.dport_be;
  r.vm[0] = q.src_vm != kNoVm ? snap.vm_id(q.src_vm) : flow::kNoVmId;
  r.vm[1] = q.dst_vm != kNoVm ? snap.vm_id(q.dst_vm) : flow::kNoVmId;
  for (int d = 0; d < 2; ++d) {
    if (!q.checks.needed[d]) continue;
    r.checks |= static_cast<uint8_t>(1u << d);
    r.rule[d] = q.result[d];
  }
  r.generation = snap.generation();
  r.tsc = now;
  return r;
}

}  // namespace

// A first packet dropped (no-rule, table-full, quota-exceeded): a `drop` record when
// the drops log is on (docs/logs.md).
template <class F>
void Pipeline::log_drop(const PendingOf<F>& q, const runtime::Snapshot& snap, DropReason why, int denied,
                        uint64_t now) {
  if (flows_.log == nullptr || !flows_.log_drops) return;
  logs::Record r = first_packet_record(q, snap, logs::Kind::kDrop, now);
  r.reason = static_cast<uint8_t>(why);
  if (denied >= 0) {
    r.denied_check = static_cast<uint8_t>(denied);
    r.rule[denied] = 0;
  }
  flows_.log->push(r);
}

// A later fragment follows its first fragment's remembered verdict while that
// verdict still holds: the train's connection must be live (it is looked up for every
// later fragment) and is re-checked when the generation changed; a stateless ICMP
// train's own checks are re-run when the generation changed.
template <class F>
bool Pipeline::follow_fragment(PendingOf<F>& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  uint32_t owner = q.owner();
  typename F::Table& frags = F::fragments(flows_);
  int32_t fpos = frags.lookup(F::fragment_key(q.proto, q.src_be, q.dst_be, q.frag_id_be));
  if (fpos < 0 || !frags.live(frags.at(fpos), now)) {
    drop(q.m, in_port, DropReason::kFragmentOrphan, pc, owner);
    return false;
  }
  typename F::Entry& train = frags.at(fpos);
  const uint8_t proto = train.train_proto;  // the first fragment's (IPv6: q.proto may be an extension header)
  const uint64_t gen = snap.generation();
  const bool same_generation = flows_.keep_established || train.generation.load(std::memory_order_relaxed) == gen;
  uint32_t results[2];
  if (train.flags.load(std::memory_order_relaxed) & flow::kStatelessTrain) {
    if (same_generation) return true;
    typename F::Plan c = rule_checks<F>(snap, proto, q.src_be, train.train_sport_be(), q.src_info, q.dst_be,
                                        train.train_dport_be(), q.dst_info);
    int failed = run_checks<F>(snap, c, results);
    if (failed >= 0) {
      frags.remove(fpos);
      drop(q.m, in_port, DropReason::kNoRule, pc, c.vm[failed]);
      return false;
    }
  } else {
    // The train's connection must still live, whatever the generation: a flush, an
    // eviction or an expiry ends the train with it.
    typename F::Table& ft = F::table(flows_);
    int32_t cpos = ft.lookup(F::flow_key(proto, q.src_be, train.train_sport_be(), q.dst_be, train.train_dport_be()));
    if (cpos < 0 || !ft.live(ft.at(cpos), now)) {
      frags.remove(fpos);
      drop(q.m, in_port, DropReason::kFragmentOrphan, pc, owner);
      return false;
    }
    typename F::Entry& conn = ft.at(cpos);
    if (!flows_.keep_established && conn.generation.load(std::memory_order_relaxed) != gen) {
      typename F::Plan c = connection_checks<F>(snap, conn, ft.cold(cpos));
      int failed = run_checks<F>(snap, c, results);
      if (failed >= 0) {
        ft.remove(cpos, flow::EndReason::kRevoked);
        frags.remove(fpos);
        drop(q.m, in_port, DropReason::kRevoked, pc, c.vm[failed]);
        return false;
      }
      ft.cold(cpos).egress_rule.store(results[0], std::memory_order_relaxed);
      ft.cold(cpos).ingress_rule.store(results[1], std::memory_order_relaxed);
      conn.generation.store(gen, std::memory_order_relaxed);
    }
  }
  train.generation.store(gen, std::memory_order_relaxed);
  return true;
}

// A related error passes only while its connection is valid under the current policy.
template <class F>
bool Pipeline::related_still_valid(PendingOf<F>& q, runtime::Snapshot& snap, uint16_t in_port) {
  typename F::Table& ft = F::table(flows_);
  typename F::Entry& conn = ft.at(q.flow_pos);
  const uint64_t gen = snap.generation();
  if (flows_.keep_established || conn.generation.load(std::memory_order_relaxed) == gen) return true;
  typename F::Plan c = connection_checks<F>(snap, conn, ft.cold(q.flow_pos));
  uint32_t results[2];
  int failed = run_checks<F>(snap, c, results);
  if (failed >= 0) {
    DropReason r = ft.remove(q.flow_pos, flow::EndReason::kRevoked) ? DropReason::kRevoked : DropReason::kNoRule;
    drop(q.m, in_port, r, &snap.counters(worker_), c.vm[failed]);
    return false;
  }
  ft.cold(q.flow_pos).egress_rule.store(results[0], std::memory_order_relaxed);
  ft.cold(q.flow_pos).ingress_rule.store(results[1], std::memory_order_relaxed);
  conn.generation.store(gen, std::memory_order_relaxed);
  return true;
}

// The check that denied a checked packet (0: egress, 1: ingress), or -1.
template <class F>
int failed_check(const PendingOf<F>& q) {
  return (q.checks.needed[0] && q.result[0] == acl::kNoMatch)   ? 0
         : (q.checks.needed[1] && q.result[1] == acl::kNoMatch) ? 1
                                                                : -1;
}

// The burst's new connections whose checks passed begin their inserts together, in
// packet order, under one hold of the table's writer lock (docs/design/flow-table.md,
// "Burst inserts"); each kInserted one is finished in create_connection, in packet
// order.
template <class F>
void Pipeline::begin_connections(BurstOf<F>& b, runtime::Snapshot& snap, uint64_t now,
                                 typename F::PendingInsert* begun) {
  typename F::PendingInsert* inserts[kBurst];
  uint32_t n = 0;
  for (uint16_t i = 0; i < b.np; ++i) {
    const PendingOf<F>& q = b.pend[i];
    if (q.m == nullptr || q.path != Path::kNew || failed_check(q) >= 0) continue;
    typename F::NewConnection& c = (::new (&begun[i]) typename F::PendingInsert)->c;  // default-initialised: not zeroed first
    c.key = q.key;
    c.orig_is_lo = q.src_is_lo;
    c.state = initial_state<F>(q.proto, q.tcp_flags);
    c.orig_vm = q.src_vm != kNoVm ? snap.vm_id(q.src_vm) : flow::kNoVmId;
    c.resp_vm = q.dst_vm != kNoVm ? snap.vm_id(q.dst_vm) : flow::kNoVmId;
    c.generation = snap.generation();
    c.egress_rule = q.result[0];
    c.ingress_rule = q.result[1];
    c.express = express_word_of(q, c.generation);
    c.first_len = rte_pktmbuf_pkt_len(q.m);
    inserts[n++] = &begun[i];
  }
  if (n != 0) F::table(flows_).insert_begin(inserts, n, now);
}

template <class F>
bool Pipeline::create_connection(PendingOf<F>& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now,
                                 typename F::PendingInsert& begun, flow::LinkLater& later) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const flow::InsertResult r = begun.result;
  if (r == flow::InsertResult::kTableFull || r == flow::InsertResult::kQuotaExceeded) {
    const DropReason why = r == flow::InsertResult::kTableFull ? DropReason::kTableFull : DropReason::kQuotaExceeded;
    log_drop(q, snap, why, -1, now);
    drop(q.m, in_port, why, pc, q.owner());
    return false;
  }
  if (r == flow::InsertResult::kExists) {
    q.flow_pos = begun.pos;
    q.path = Path::kFast;
    return true;
  }
  for (int d = 0; d < 2; ++d)
    if (q.checks.needed[d]) runtime::bump(pc->rule_hits[q.result[d] - 1]);  // connections admitted
  if (flows_.log != nullptr && flows_.log_connections)
    flows_.log->push(first_packet_record(q, snap, logs::Kind::kAdmit, now));
  // After the admit record: a connection recycled by a later one of the burst ends here.
  F::table(flows_).insert_finish(begun, now, later);
  return true;
}

// The state after a packet of a live connection; leaving half-open takes it off the
// half-open lists.
template <class F>
void Pipeline::advance_entry(int32_t pos, bool src_is_lo, uint8_t proto, uint8_t tcp_flags, uint32_t len,
                             uint64_t now) {
  typename F::Table& ft = F::table(flows_);
  typename F::Entry& e = ft.at(pos);
  bool from_orig = src_is_lo == e.orig_is_lo();
  e.count(from_orig ? 0 : 1, len);
  ConnState s = e.state.load(std::memory_order_relaxed);
  ConnState ns = s;
  if (proto == wire::kProtoTcp) {
    ns = flow::tcp::next(s, tcp_flags, from_orig);
  } else if (proto == wire::kProtoUdp) {
    ns = (!from_orig && s == ConnState::kUdpOneWay) ? ConnState::kUdpTwoWay : s;
  } else if (proto == F::kIcmp) {
    ns = (!from_orig && s == ConnState::kIcmpEcho) ? ConnState::kIcmpEchoReplied : s;
  } else {
    ns = (!from_orig && s == ConnState::kOtherOneWay) ? ConnState::kOtherTwoWay : s;
  }
  if (ns != s && e.state.compare_exchange_strong(s, ns, std::memory_order_relaxed)) {
    if (!flow::is_established(s) && flow::is_established(ns)) ft.mark_answered(pos);
    else if (flow::is_established(s) && !flow::is_established(ns)) ft.mark_closed(pos);
  }
  e.last_seen.store(now, std::memory_order_relaxed);
}
template void Pipeline::advance_entry<Ipv4Family>(int32_t, bool, uint8_t, uint8_t, uint32_t, uint64_t);
template void Pipeline::advance_entry<Ipv6Family>(int32_t, bool, uint8_t, uint8_t, uint32_t, uint64_t);

// A packet of a live, current connection through the stages: its state advances, and
// the connection's express word is brought up to date (the next packet may take the
// express path).
template <class F>
void Pipeline::advance_connection(PendingOf<F>& q, uint64_t gen, uint64_t now) {
  typename F::Entry& e = F::table(flows_).at(q.flow_pos);
  if (e.generation.load(std::memory_order_relaxed) == gen) {
    const uint64_t w = express_word_of(q, gen);
    if (e.express.load(std::memory_order_relaxed) != w) e.express.store(w, std::memory_order_relaxed);
  }
  advance_entry<F>(q.flow_pos, q.src_is_lo, q.proto, q.tcp_flags, rte_pktmbuf_pkt_len(q.m), now);
}

// Remembers a first fragment's verdict for its datagram's later fragments (15 s). If
// the fragment table is full they are dropped as orphans (fail closed).
template <class F>
void Pipeline::remember_train(const PendingOf<F>& q, runtime::Snapshot& snap, uint64_t now) {
  typename F::Table& frags = F::fragments(flows_);
  typename F::NewConnection t;
  t.key = F::fragment_key(q.proto, q.src_be, q.dst_be, q.frag_id_be);
  t.state = ConnState::kFragmentTrain;
  t.generation = snap.generation();
  t.train_proto = q.proto;
  t.train_sport_be = q.sport_be;
  t.train_dport_be = q.dport_be;
  t.stateless_train = q.path == Path::kStateless || q.path == Path::kRelated;
  int32_t fpos = -1;
  if (frags.insert(t, now, &fpos) == flow::InsertResult::kExists)
    frags.at(fpos).last_seen.store(now, std::memory_order_relaxed);
}

// Stage 4: verdicts in packet order; connections created, advanced, revoked.
template <class F>
void Pipeline::verdicts(BurstOf<F>& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  typename F::Table& ft = F::table(flows_);
  flow::LinkLater later;  // the burst's new connections join the half-open list at the end
  // [packet]: only the new connections' are constructed (by begin_connections) and used;
  // left unconstructed otherwise (32 of them cost a burst of established or denied
  // packets a few percent).
  union Begun {
    Begun() {}  // NOLINT: unconstructed on purpose
    typename F::PendingInsert at[kBurst];
  } begun;
  if (b.nnew != 0) begin_connections(b, snap, now, begun.at);  // a burst of only denied or established packets skips it
  for (uint16_t i = 0; i < b.np; ++i) {
    PendingOf<F>& q = b.pend[i];
    if (q.m == nullptr) continue;
    if (q.path == Path::kFragment) {
      if (follow_fragment(q, snap, in_port, now)) pass(q, pc);
      continue;
    }
    if (q.path == Path::kRelated) {
      if (!related_still_valid(q, snap, in_port)) continue;
    } else if (q.path == Path::kNew || q.path == Path::kStateless || q.path == Path::kRevalidate) {
      const int failed = failed_check(q);
      if (failed >= 0) {
        if (q.path == Path::kRevalidate) {
          // One `revoked` per connection: later packets of it in this burst find it
          // gone, as the next burst would (TCP: no-connection; others: no-rule).
          DropReason r = ft.remove(q.flow_pos, flow::EndReason::kRevoked) ? DropReason::kRevoked
                         : q.proto == wire::kProtoTcp ? DropReason::kNoConnection
                                                      : DropReason::kNoRule;
          drop(q.m, in_port, r, pc, q.checks.vm[failed]);
        } else {
          log_drop(q, snap, DropReason::kNoRule, failed, now);
          drop(q.m, in_port, DropReason::kNoRule, pc, q.checks.vm[failed]);
        }
        continue;
      }
      if (q.path == Path::kRevalidate) {
        typename F::Entry& e = ft.at(q.flow_pos);
        e.generation.store(snap.generation(), std::memory_order_relaxed);
        ft.cold(q.flow_pos).egress_rule.store(q.result[0], std::memory_order_relaxed);
        ft.cold(q.flow_pos).ingress_rule.store(q.result[1], std::memory_order_relaxed);
        q.path = Path::kFast;
      } else if (q.path == Path::kNew) {
        if (!create_connection(q, snap, in_port, now, begun.at[i], later)) continue;
      } else {  // stateless ICMP: judged per packet
        for (int d = 0; d < 2; ++d)
          if (q.checks.needed[d]) runtime::bump(pc->rule_hits[q.result[d] - 1]);
      }
    }
    if (q.path == Path::kFast) advance_connection(q, snap.generation(), now);
    if (q.first_fragment) remember_train(q, snap, now);
    pass(q, pc);
  }
  ft.link_half_open(later);
}
template void Pipeline::verdicts(BurstOf<Ipv4Family>&, runtime::Snapshot&, uint16_t, uint64_t);
template void Pipeline::verdicts(BurstOf<Ipv6Family>&, runtime::Snapshot&, uint16_t, uint64_t);

}  // namespace sgfw::dataplane
