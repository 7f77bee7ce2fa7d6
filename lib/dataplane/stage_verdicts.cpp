// Stage 4 of the packet pipeline (docs/design/packet-path.md, step 10): verdicts in
// packet order; connections created, advanced or revoked; fragment trains followed.
#include <rte_prefetch.h>

#include "dataplane/burst.hpp"
#include "dataplane/rule_checks.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using flow::ConnState;

namespace {

ConnState initial_state(uint8_t proto, uint8_t tcp_flags) {
  switch (proto) {
    case wire::kProtoTcp:
      return flow::tcp::is_syn_only(tcp_flags) ? ConnState::kTcpSynSent : flow::tcp::loose_pickup(tcp_flags);
    case wire::kProtoUdp: return ConnState::kUdpOneWay;
    case wire::kProtoIcmp: return ConnState::kIcmpEcho;
    default: return ConnState::kOtherOneWay;
  }
}

}  // namespace

// A later fragment follows its first fragment's remembered verdict while that
// verdict still holds under the current policy: the train's connection (or, for
// stateless ICMP, its own checks) is re-checked when the generation changed.
bool Pipeline::follow_fragment(Pending& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  uint32_t owner = q.src_vm != kNoVm ? q.src_vm : q.dst_vm;
  flow::FlowTable& frags = *flows_.fragments;
  int32_t fpos = frags.lookup(flow::make_fragment_key(q.proto, q.src_be, q.dst_be, q.ip_id_be));
  if (fpos < 0 || !frags.live(frags.at(fpos), now)) {
    drop(q.m, in_port, DropReason::kFragmentOrphan, pc, owner);
    return false;
  }
  flow::FlowEntry& train = frags.at(fpos);
  const uint64_t gen = snap.generation();
  if (flows_.keep_established || train.generation.load(std::memory_order_relaxed) == gen) return true;
  uint32_t results[2];
  if (train.flags.load(std::memory_order_relaxed) & flow::kStatelessTrain) {
    CheckPlan c = rule_checks(snap, q.proto, q.src_be, train.train_sport_be, q.src_info, q.dst_be,
                               train.train_dport_be, q.dst_info);
    int failed = run_checks(snap, c, results);
    if (failed >= 0) {
      frags.remove(fpos);
      drop(q.m, in_port, DropReason::kNoRule, pc, c.vm[failed]);
      return false;
    }
  } else {
    flow::FlowTable& ft = *flows_.table;
    int32_t cpos = ft.lookup(flow::make_flow_key(q.proto, q.src_be, train.train_sport_be, q.dst_be, train.train_dport_be));
    if (cpos < 0 || !ft.live(ft.at(cpos), now)) {
      frags.remove(fpos);
      drop(q.m, in_port, DropReason::kFragmentOrphan, pc, owner);
      return false;
    }
    flow::FlowEntry& conn = ft.at(cpos);
    if (!flows_.keep_established && conn.generation.load(std::memory_order_relaxed) != gen) {
      CheckPlan c = connection_checks(snap, conn);
      int failed = run_checks(snap, c, results);
      if (failed >= 0) {
        ft.remove(cpos);
        frags.remove(fpos);
        drop(q.m, in_port, DropReason::kRevoked, pc, c.vm[failed]);
        return false;
      }
      conn.egress_rule.store(results[0], std::memory_order_relaxed);
      conn.ingress_rule.store(results[1], std::memory_order_relaxed);
      conn.generation.store(gen, std::memory_order_relaxed);
    }
  }
  train.generation.store(gen, std::memory_order_relaxed);
  return true;
}

// A related error passes only while its connection is valid under the current policy.
bool Pipeline::related_still_valid(Pending& q, runtime::Snapshot& snap, uint16_t in_port) {
  flow::FlowTable& ft = *flows_.table;
  flow::FlowEntry& conn = ft.at(q.flow_pos);
  const uint64_t gen = snap.generation();
  if (flows_.keep_established || conn.generation.load(std::memory_order_relaxed) == gen) return true;
  CheckPlan c = connection_checks(snap, conn);
  uint32_t results[2];
  int failed = run_checks(snap, c, results);
  if (failed >= 0) {
    DropReason r = ft.remove(q.flow_pos) ? DropReason::kRevoked : DropReason::kNoRule;
    drop(q.m, in_port, r, &snap.counters(worker_), c.vm[failed]);
    return false;
  }
  conn.egress_rule.store(results[0], std::memory_order_relaxed);
  conn.ingress_rule.store(results[1], std::memory_order_relaxed);
  conn.generation.store(gen, std::memory_order_relaxed);
  return true;
}

bool Pipeline::create_connection(Pending& q, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  flow::NewConnection c;
  c.key = q.key;
  c.orig_is_lo = q.src_is_lo;
  c.state = initial_state(q.proto, q.tcp_flags);
  c.orig_vm = q.src_vm != kNoVm ? snap.vm_id(q.src_vm) : flow::kNoVmId;
  c.resp_vm = q.dst_vm != kNoVm ? snap.vm_id(q.dst_vm) : flow::kNoVmId;
  c.generation = snap.generation();
  c.egress_rule = q.result[0];
  c.ingress_rule = q.result[1];
  int32_t pos = -1;
  flow::InsertResult r = flows_.table->insert(c, now, &pos);
  if (r == flow::InsertResult::kTableFull || r == flow::InsertResult::kQuotaExceeded) {
    uint32_t owner = q.src_vm != kNoVm ? q.src_vm : q.dst_vm;
    drop(q.m, in_port, r == flow::InsertResult::kTableFull ? DropReason::kTableFull : DropReason::kQuotaExceeded, pc,
         owner);
    return false;
  }
  if (r == flow::InsertResult::kExists) {
    q.flow_pos = pos;
    q.path = Path::kFast;
  } else {
    for (int d = 0; d < 2; ++d)
      if (q.checks.needed[d]) runtime::bump(pc->rule_hits[q.result[d] - 1]);  // connections admitted
  }
  return true;
}

// The state after a packet of a live connection; leaving half-open takes it off the
// half-open lists.
void Pipeline::advance_connection(Pending& q, uint64_t now) {
  flow::FlowEntry& e = flows_.table->at(q.flow_pos);
  bool from_orig = q.src_is_lo == e.orig_is_lo();
  ConnState s = e.state.load(std::memory_order_relaxed);
  ConnState ns = s;
  switch (q.proto) {
    case wire::kProtoTcp: ns = flow::tcp::next(s, q.tcp_flags, from_orig); break;
    case wire::kProtoUdp: ns = (!from_orig && s == ConnState::kUdpOneWay) ? ConnState::kUdpTwoWay : s; break;
    case wire::kProtoIcmp: ns = (!from_orig && s == ConnState::kIcmpEcho) ? ConnState::kIcmpEchoReplied : s; break;
    default: ns = (!from_orig && s == ConnState::kOtherOneWay) ? ConnState::kOtherTwoWay : s; break;
  }
  if (ns != s && e.state.compare_exchange_strong(s, ns, std::memory_order_relaxed)) {
    if (!flow::is_established(s) && flow::is_established(ns)) flows_.table->mark_answered(q.flow_pos);
    else if (flow::is_established(s) && !flow::is_established(ns)) flows_.table->mark_closed(q.flow_pos);
  }
  e.last_seen.store(now, std::memory_order_relaxed);
}

// Remembers a first fragment's verdict for its datagram's later fragments (15 s). If
// the fragment table is full they are dropped as orphans (fail closed).
void Pipeline::remember_train(const Pending& q, runtime::Snapshot& snap, uint64_t now) {
  flow::FlowTable& frags = *flows_.fragments;
  flow::NewConnection t;
  t.key = flow::make_fragment_key(q.proto, q.src_be, q.dst_be, q.ip_id_be);
  t.state = ConnState::kFragmentTrain;
  t.generation = snap.generation();
  t.train_sport_be = q.sport_be;
  t.train_dport_be = q.dport_be;
  t.stateless_train = q.path == Path::kStateless || q.path == Path::kRelated;
  int32_t fpos = -1;
  if (frags.insert(t, now, &fpos) == flow::InsertResult::kExists)
    frags.at(fpos).last_seen.store(now, std::memory_order_relaxed);
}

// Stage 4: verdicts in packet order; connections created, advanced, revoked.
void Pipeline::verdicts(Burst& b, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  flow::FlowTable& ft = *flows_.table;
  for (uint16_t i = 0; i < b.np; ++i) {
    Pending& q = b.pend[i];
    if (q.m == nullptr) continue;
    if (q.path == Path::kFragment) {
      if (follow_fragment(q, snap, in_port, now)) pass(q, pc);
      continue;
    }
    if (q.path == Path::kRelated) {
      if (!related_still_valid(q, snap, in_port)) continue;
    } else if (q.path == Path::kNew || q.path == Path::kStateless || q.path == Path::kRevalidate) {
      int failed = (q.checks.needed[0] && q.result[0] == acl::kNoMatch)   ? 0
                   : (q.checks.needed[1] && q.result[1] == acl::kNoMatch) ? 1
                                                                          : -1;
      if (failed >= 0) {
        if (q.path == Path::kRevalidate) {
          // One `revoked` per connection: later packets of it in this burst find it
          // gone, as the next burst would (TCP: no-connection; others: no-rule).
          DropReason r = ft.remove(q.flow_pos)          ? DropReason::kRevoked
                         : q.proto == wire::kProtoTcp ? DropReason::kNoConnection
                                                      : DropReason::kNoRule;
          drop(q.m, in_port, r, pc, q.checks.vm[failed]);
        } else {
          drop(q.m, in_port, DropReason::kNoRule, pc, q.checks.vm[failed]);
        }
        continue;
      }
      if (q.path == Path::kRevalidate) {
        flow::FlowEntry& e = ft.at(q.flow_pos);
        e.generation.store(snap.generation(), std::memory_order_relaxed);
        e.egress_rule.store(q.result[0], std::memory_order_relaxed);
        e.ingress_rule.store(q.result[1], std::memory_order_relaxed);
        q.path = Path::kFast;
      } else if (q.path == Path::kNew) {
        if (!create_connection(q, snap, in_port, now)) continue;
      } else {  // stateless ICMP: judged per packet
        for (int d = 0; d < 2; ++d)
          if (q.checks.needed[d]) runtime::bump(pc->rule_hits[q.result[d] - 1]);
      }
    }
    if (q.path == Path::kFast) advance_connection(q, now);
    if (q.first_fragment) remember_train(q, snap, now);
    pass(q, pc);
  }
}
}  // namespace sgfw::dataplane
