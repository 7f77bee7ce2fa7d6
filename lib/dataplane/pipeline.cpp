#include "dataplane/pipeline.hpp"

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>

#include "acl/acl_layout.hpp"
#include "dataplane/rule_checks.hpp"
#include "packet/icmp_error_inner.hpp"
#include "packet/parser.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using flow::ConnState;
using packet::ParsedPacket;

namespace {

constexpr uint32_t kNoVm = acl::kNoVm;

uint64_t mac_u64(const uint8_t* b) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
  return v;
}

bool is_group_mac(const uint8_t* b) { return (b[0] & 1) != 0; }
bool is_icmp_error(uint8_t type) {
  return type == wire::kIcmpDestUnreachable || type == wire::kIcmpTimeExceeded ||
         type == wire::kIcmpParameterProblem;
}

// What happens to a packet that passed the L2/L3 checks.
enum class Path : uint8_t {
  kNew,         // no live connection: rule checks, then a new connection
  kStateless,   // ICMP that creates no state (an echo reply without its request, non-echo): rule checks only
  kRevalidate,  // live connection admitted under an older generation: re-check originally
  kFast,        // live connection: pass
  kRelated,     // ICMP error about a live connection: pass (re-checked if the policy changed)
  kFragment,    // non-first fragment: follows its first fragment's remembered verdict
};

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

// One admitted packet between the stages.
struct Pending {
  rte_mbuf* m;
  uint32_t src_vm;  // sending local VM (snapshot index), or kNoVm
  uint32_t dst_vm;  // receiving local VM, or kNoVm
  uint16_t out_port;
  Path path;
  bool src_is_lo;       // the packet's source is the key's lo endpoint
  bool first_fragment;
  int32_t flow_pos;     // live connection (kFast, kRevalidate, kRelated), else -1
  flow::FlowKey key;    // connection key (kNew, kStateless, kRevalidate, kFast)
  uint32_t src_be, dst_be;
  uint16_t sport_be, dport_be;  // as in the key (ICMP echo: identifier on the requester's side, 0 on the other)
  uint16_t ip_id_be;
  uint8_t proto, tcp_flags, icmp_type;
  acl::AddressInfo src_info, dst_info;  // from the burst's bulk address lookup
  RuleChecks checks;
  uint32_t result[2];  // deciding rule id + 1 per check, or kNoMatch
};

struct Pipeline::Burst {
  Pending pend[kBurst];
  uint16_t np = 0;
};

void Pipeline::drop(rte_mbuf* m, uint16_t in_port, DropReason r, runtime::PolicyCounters* pc, uint32_t vm) {
  runtime::bump(port_counters_[in_port].drops[static_cast<size_t>(r)]);
  if (pc && vm != kNoVm) runtime::bump(pc->vm_drops[vm * core::kDropReasonCount + static_cast<size_t>(r)]);
  rte_pktmbuf_free(m);
}

void Pipeline::pass(const Pending& q, runtime::PolicyCounters* pc) {
  if (q.src_vm != kNoVm) runtime::bump(pc->vm_allowed[q.src_vm]);
  if (q.dst_vm != kNoVm && q.dst_vm != q.src_vm) runtime::bump(pc->vm_allowed[q.dst_vm]);
  send(q.m, q.out_port);
}

void Pipeline::send(rte_mbuf* m, uint16_t out_port) {
  if (tx_len_[out_port] == kTxBuffer) flush_port(out_port);
  tx_buf_[out_port][tx_len_[out_port]++] = m;
}

void Pipeline::flush_port(uint16_t port) {
  uint16_t n = tx_len_[port];
  if (n == 0) return;
  uint16_t sent = rte_eth_tx_burst(tx_.dpdk_port[port], tx_.txq, tx_buf_[port], n);
  runtime::bump(port_counters_[port].tx, sent);
  if (sent < n) {
    runtime::bump(port_counters_[port].drops[static_cast<size_t>(DropReason::kTxFailed)], n - sent);
    for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(tx_buf_[port][i]);
  }
  tx_len_[port] = 0;
}

void Pipeline::flush() {
  for (uint16_t p = 0; p < tx_.nports; ++p) flush_port(p);
}

void Pipeline::process(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n, uint64_t now) {
  runtime::bump(port_counters_[in_port].rx, n);
  Burst b;
  admit(b, snap, in_port, pkts, n, now);
  if (b.np == 0) return;
  lookup_connections(b, snap, in_port, now);
  classify(b, snap);
  verdicts(b, snap, in_port, now);
}

// ARP passes subject to anti-spoofing, not to rules: requests (broadcast) to every port
// but their own; replies to the owner of their target address, else by destination MAC.
void Pipeline::forward_arp(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf* m, uint32_t src_vm,
                           uint64_t src_mac, const void* parsed) {
  const ParsedPacket& p = *static_cast<const ParsedPacket*>(parsed);
  const acl::AddressTable& addrs = snap.tables().addresses();
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const bool from_uplink = in_port == snap.uplink();
  acl::AddressInfo spa = addrs.lookup(p.arp_spa_be);
  if (from_uplink ? spa.local_vm != kNoVm : (spa.local_vm != src_vm || mac_u64(p.arp_sha) != src_mac)) {
    drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
    return;
  }
  if (is_group_mac(p.dst_mac)) {
    uint16_t copies = 0;
    for (uint16_t o = 0; o < tx_.nports; ++o) copies += (o != in_port);
    if (copies == 0) {
      rte_pktmbuf_free(m);
      return;
    }
    rte_mbuf_refcnt_update(m, static_cast<int16_t>(copies - 1));
    for (uint16_t o = 0; o < tx_.nports; ++o)
      if (o != in_port) send(m, o);
    return;
  }
  uint32_t d = addrs.lookup(p.arp_tpa_be).local_vm;
  if (d == kNoVm) d = snap.vm_with_mac(mac_u64(p.dst_mac));
  uint16_t out = d != kNoVm ? snap.vm_port(d) : snap.uplink();
  if (out == in_port && from_uplink) {
    drop(m, in_port, DropReason::kNotLocal, pc, src_vm);
    return;
  }
  send(m, out);
}

// Stage 1: parse, anti-spoofing, ARP, forwarding target. Packet data is prefetched for
// the whole burst, and the MAC and address tables are looked up in bulk.
uint16_t Pipeline::admit(Burst& b, runtime::Snapshot& snap, uint16_t in_port, rte_mbuf** pkts, uint16_t n,
                         uint64_t now) {
  (void)now;
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const acl::PolicyTables& tables = snap.tables();
  const bool from_uplink = in_port == snap.uplink();
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const void*));
  ParsedPacket parsed[kBurst];
  rte_mbuf* live[kBurst];
  uint64_t src_macs[kBurst];
  uint16_t nl = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    // A chained mbuf is judged on its first segment, which the parser bounds.
    parsed[nl] = packet::parse(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
    if (parsed[nl].kind == ParsedPacket::Kind::kDrop) {
      drop(m, in_port, parsed[nl].drop, nullptr, kNoVm);
      continue;
    }
    src_macs[nl] = mac_u64(parsed[nl].src_mac);
    live[nl++] = m;
  }
  uint32_t src_vms[kBurst];
  if (from_uplink) {
    for (uint16_t i = 0; i < nl; ++i) src_vms[i] = kNoVm;
  } else {
    snap.vms_on_port_bulk(in_port, src_macs, nl, src_vms);
  }
  uint32_t addr_keys[2 * kBurst];
  const uint32_t* addr_ptrs[2 * kBurst];
  acl::AddressInfo infos[2 * kBurst];
  for (uint16_t i = 0; i < nl; ++i) {
    addr_keys[2 * i] = parsed[i].src_be;
    addr_keys[2 * i + 1] = parsed[i].dst_be;
    addr_ptrs[2 * i] = &addr_keys[2 * i];
    addr_ptrs[2 * i + 1] = &addr_keys[2 * i + 1];
  }
  for (uint32_t off = 0; off < 2u * nl; off += RTE_HASH_LOOKUP_BULK_MAX)
    tables.addresses().lookup_bulk(addr_ptrs + off, std::min<uint32_t>(RTE_HASH_LOOKUP_BULK_MAX, 2u * nl - off),
                                   infos + off);

  for (uint16_t i = 0; i < nl; ++i) {
    rte_mbuf* m = live[i];
    const ParsedPacket& p = parsed[i];
    uint32_t src_vm = src_vms[i];
    if (!from_uplink && src_vm == kNoVm) {
      drop(m, in_port, DropReason::kSpoofed, nullptr, kNoVm);
      continue;
    }
    if (p.kind == ParsedPacket::Kind::kArp) {
      forward_arp(snap, in_port, m, src_vm, src_macs[i], &p);
      continue;
    }
    const acl::AddressInfo& src = infos[2 * i];
    if (from_uplink ? src.local_vm != kNoVm : src.local_vm != src_vm) {
      drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
      continue;
    }
    if (is_group_mac(p.dst_mac)) {
      drop(m, in_port, DropReason::kBroadcast, pc, src_vm);
      continue;
    }
    const acl::AddressInfo& dst = infos[2 * i + 1];
    uint32_t dst_vm = dst.local_vm;
    if (src_vm == kNoVm && dst_vm == kNoVm) {
      drop(m, in_port, DropReason::kNotLocal, pc, kNoVm);
      continue;
    }
    uint32_t owner = src_vm != kNoVm ? src_vm : dst_vm;
    uint16_t out = snap.uplink();
    if (dst_vm != kNoVm) {
      if (mac_u64(p.dst_mac) != snap.vm_mac(dst_vm)) {
        drop(m, in_port, DropReason::kDstMismatch, pc, owner);
        continue;
      }
      out = snap.vm_port(dst_vm);
    }
    if (flows_.forward_only) {
      send(m, out);
      continue;
    }
    bool later_fragment = p.is_fragment && !p.first_fragment;
    if (!later_fragment && p.proto == wire::kProtoTcp && flow::tcp::flags_invalid(p.tcp_flags)) {
      drop(m, in_port, DropReason::kInvalidTcpFlags, pc, owner);
      continue;
    }
    Pending& q = b.pend[b.np++];
    q.m = m;
    q.src_vm = src_vm;
    q.dst_vm = dst_vm;
    q.out_port = out;
    q.path = later_fragment ? Path::kFragment : Path::kNew;
    q.first_fragment = p.first_fragment;
    q.flow_pos = -1;
    q.src_be = p.src_be;
    q.dst_be = p.dst_be;
    q.ip_id_be = p.ip_id_be;
    q.proto = p.proto;
    q.tcp_flags = p.tcp_flags;
    q.icmp_type = p.icmp_type;
    q.src_info = src;
    q.dst_info = dst;
    q.result[0] = q.result[1] = acl::kNoMatch;
    q.checks = RuleChecks{};
    q.sport_be = p.sport_be;
    q.dport_be = p.dport_be;
    if (later_fragment) continue;  // followed in packet order (stage 4)
    if (p.proto == wire::kProtoIcmp) {
      if (p.icmp_type == wire::kIcmpEchoRequest) {  // state keyed by the requester's side
        q.sport_be = p.icmp_id_be;
        q.dport_be = 0;
      } else if (p.icmp_type == wire::kIcmpEchoReply) {
        q.sport_be = 0;
        q.dport_be = p.icmp_id_be;
      } else {
        q.sport_be = q.dport_be = 0;
        q.path = Path::kStateless;
        if (is_icmp_error(p.icmp_type)) {
          // Related iff the quoted header is a live connection's, the error goes back to
          // the quoted packet's sender, and it comes from the quoted destination or
          // from off this appliance (a local VM may not forge errors about others).
          packet::IcmpErrorInner in =
              packet::parse_icmp_error_inner(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), p);
          if (in.valid && in.src_be == p.dst_be && (from_uplink || in.dst_be == p.src_be)) {
            uint16_t isp = in.sport_be, idp = in.dport_be;
            if (in.proto == wire::kProtoIcmp) {
              isp = in.icmp_type == wire::kIcmpEchoRequest ? in.icmp_id_be : 0;
              idp = in.icmp_type == wire::kIcmpEchoReply ? in.icmp_id_be : 0;
            }
            int32_t pos = flows_.table->lookup(flow::make_flow_key(in.proto, in.src_be, isp, in.dst_be, idp));
            if (pos >= 0 && flows_.table->live(flows_.table->at(pos), now)) {
              q.path = Path::kRelated;
              q.flow_pos = pos;
            }
          }
        }
      }
    }
    q.key = flow::make_flow_key(p.proto, p.src_be, q.sport_be, p.dst_be, q.dport_be, &q.src_is_lo);
  }
  return b.np;
}

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

// Stage 3: rule checks for new, stateless and revalidated packets, grouped per context
// (rte_acl classifies many keys of one context per call), results in packet order.
void Pipeline::classify(Burst& b, runtime::Snapshot& snap) {
  const acl::PolicyTables& tables = snap.tables();
  flow::FlowTable& ft = *flows_.table;
  struct Check {
    uint32_t context;
    uint16_t packet;
    uint8_t direction;
  };
  Check checks[2 * kBurst];
  uint16_t nc = 0;
  for (uint16_t i = 0; i < b.np; ++i) {
    Pending& q = b.pend[i];
    if (q.m == nullptr) continue;
    if (q.path == Path::kRevalidate) {
      q.checks = connection_checks(snap, ft.at(q.flow_pos));  // the connection's original direction
    } else if (q.path == Path::kNew || q.path == Path::kStateless) {
      q.checks = rule_checks(snap, q.proto, q.src_be, q.sport_be, q.src_info, q.dst_be, q.dport_be, q.dst_info);
    } else {
      continue;
    }
    for (uint8_t d = 0; d < 2; ++d)
      if (q.checks.needed[d]) checks[nc++] = {q.checks.context[d], i, d};
  }
  bool done[2 * kBurst] = {};
  const uint8_t* acl_keys[2 * kBurst];
  uint32_t results[2 * kBurst];
  uint16_t cidx[2 * kBurst];
  for (uint16_t c = 0; c < nc; ++c) {
    if (done[c]) continue;
    uint32_t context = checks[c].context;
    uint16_t k = 0;
    for (uint16_t j = c; j < nc; ++j) {
      if (done[j] || checks[j].context != context) continue;
      done[j] = true;
      cidx[k] = j;
      const Check& ch = checks[j];
      acl_keys[k++] = reinterpret_cast<const uint8_t*>(&b.pend[ch.packet].checks.key[ch.direction]);
    }
    const acl::AclContext* ctx = tables.context(context);
    if (ctx == nullptr || ctx->classify(acl_keys, results, k) != 0) {
      for (uint16_t j = 0; j < k; ++j) results[j] = acl::kNoMatch;  // fail closed
    }
    for (uint16_t j = 0; j < k; ++j) b.pend[checks[cidx[j]].packet].result[checks[cidx[j]].direction] = results[j];
  }
}

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
    const auto& addrs = snap.tables().addresses();
    RuleChecks c = rule_checks(snap, q.proto, q.src_be, train.train_sport_be, addrs.lookup(q.src_be), q.dst_be,
                               train.train_dport_be, addrs.lookup(q.dst_be));
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
      RuleChecks c = connection_checks(snap, conn);
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
  RuleChecks c = connection_checks(snap, conn);
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
