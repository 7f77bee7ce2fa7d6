#include "dataplane/pipeline.hpp"

#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <algorithm>

#include <cstring>

#include "acl/acl_layout.hpp"
#include "packet/icmp_error_inner.hpp"
#include "packet/parser.hpp"

namespace sgfw::dataplane {

namespace {

using core::DropReason;
using flow::ConnState;
using packet::ParsedPacket;

constexpr uint32_t kNoVm = acl::kNoVm;
constexpr uint8_t kIcmpEchoReply = 0, kIcmpEchoRequest = 8;

uint64_t mac_u64(const uint8_t* b) {
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
  return v;
}

bool is_group_mac(const uint8_t* b) { return (b[0] & 1) != 0; }
bool is_icmp_error(uint8_t type) { return type == 3 || type == 11 || type == 12; }

// What happens to a packet that passed the L2/L3 checks.
enum class Path : uint8_t {
  kNew,         // no live connection: rule checks, then a new connection
  kStateless,   // ICMP that creates no state (not echo, not a related error): rule checks only
  kRevalidate,  // live connection admitted under an older generation: re-check originally
  kFast,        // live connection: pass
  kRelated,     // ICMP error about a live connection: pass
  kFragment,    // non-first fragment: follows its first fragment's remembered verdict
};

struct Check {
  uint32_t image;
  uint16_t packet;
  uint8_t slot;  // 0 = egress, 1 = ingress
  acl::AclKey key;
};

struct Pending {
  rte_mbuf* m;
  uint32_t src_vm;       // sending local VM (this packet), or kNoVm
  uint32_t dst_vm;       // receiving local VM (this packet), or kNoVm
  uint32_t check_vm[2];  // VMs of the egress/ingress checks (original direction)
  uint16_t out_port;
  Path path;
  int32_t flow_pos;
  uint32_t result[2];
  bool needs[2];
  flow::FlowKey key;
  uint32_t src_be;
  uint16_t sport_be;  // TCP/UDP source port; ICMP echo: the identifier (as in the key)
  uint8_t proto;
  uint8_t tcp_flags;
  uint8_t icmp_type;
  bool first_fragment;
  uint32_t dst_be;
  compiler::ClassId src_class;  // from the burst's bulk address lookup
  compiler::ClassId dst_class;
  uint16_t ip_id_be;
};

acl::AclKey make_key(uint8_t proto, uint16_t sport_be, uint16_t dport_be, uint32_t remote_be, compiler::ClassId klass) {
  acl::AclKey k;
  std::memset(&k, 0, sizeof(k));
  k.proto = proto;
  k.remote_addr = remote_be;
  k.remote_class = rte_cpu_to_be_32(klass);
  k.sport = sport_be;
  k.dport = dport_be;
  return k;
}

ConnState initial_state(uint8_t proto, uint8_t tcp_flags) {
  switch (proto) {
    case 6: return flow::tcp::is_syn_only(tcp_flags) ? ConnState::kTcpSynSent : ConnState::kTcpEstablished;
    case 17: return ConnState::kUdpOneWay;
    case 1: return ConnState::kIcmpEcho;
    default: return ConnState::kOtherOneWay;
  }
}

// The state after a packet of a live connection.
ConnState advance(ConnState s, const Pending& q, bool from_orig) {
  switch (q.proto) {
    case 6: return flow::tcp::next(s, q.tcp_flags, from_orig);
    case 17: return (!from_orig && s == ConnState::kUdpOneWay) ? ConnState::kUdpTwoWay : s;
    case 1: return (!from_orig && s == ConnState::kIcmpEcho) ? ConnState::kIcmpEchoReplied : s;
    default: return (!from_orig && s == ConnState::kOtherOneWay) ? ConnState::kOtherTwoWay : s;
  }
}

}  // namespace

void Pipeline::drop(rte_mbuf* m, uint16_t in_port, DropReason r, runtime::PolicyCounters* pc, uint32_t vm) {
  runtime::bump(port_counters_[in_port].drops[static_cast<size_t>(r)]);
  if (pc && vm != kNoVm) runtime::bump(pc->vm_drops[vm * core::kDropReasonCount + static_cast<size_t>(r)]);
  rte_pktmbuf_free(m);
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
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const acl::PolicyTables& tables = snap.tables();
  const bool from_uplink = in_port == snap.uplink();
  flow::FlowTable& ft = *flows_.table;
  runtime::bump(port_counters_[in_port].rx, n);

  Pending pend[kBurst];
  uint16_t np = 0;

  // 1. Parse, anti-spoofing, ARP, forwarding target. Survivors become Pending.
  //    Packet data is prefetched for the whole burst, and the MAC and address tables
  //    are looked up in bulk (the hash lookups pipeline their memory accesses).
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
    const uint8_t* data = rte_pktmbuf_mtod(m, const uint8_t*);
    uint32_t len = rte_pktmbuf_data_len(m);
    uint64_t src_mac = src_macs[i];
    uint32_t src_vm = src_vms[i];
    if (!from_uplink && src_vm == kNoVm) {
      drop(m, in_port, DropReason::kSpoofed, nullptr, kNoVm);
      continue;
    }

    if (p.kind == ParsedPacket::Kind::kArp) {
      acl::AddressInfo spa = tables.addresses().lookup(p.arp_spa_be);
      if (from_uplink ? spa.local_vm != kNoVm : (spa.local_vm != src_vm || mac_u64(p.arp_sha) != src_mac)) {
        drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
        continue;
      }
      if (is_group_mac(p.dst_mac)) {  // a request (broadcast): every port but its own
        uint16_t copies = 0;
        for (uint16_t o = 0; o < tx_.nports; ++o) copies += (o != in_port);
        if (copies == 0) {
          rte_pktmbuf_free(m);
          continue;
        }
        rte_mbuf_refcnt_update(m, static_cast<int16_t>(copies - 1));
        for (uint16_t o = 0; o < tx_.nports; ++o)
          if (o != in_port) send(m, o);
      } else {
        uint32_t d = snap.vm_with_mac(mac_u64(p.dst_mac));
        uint16_t out = d != kNoVm ? snap.vm_port(d) : snap.uplink();
        if (out == in_port && from_uplink) {
          drop(m, in_port, DropReason::kNotLocal, pc, src_vm);
          continue;
        }
        send(m, out);
      }
      continue;
    }

    // IPv4.
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
    if (p.is_fragment && !p.first_fragment) {
      // A later fragment follows its first fragment's remembered verdict (no
      // reassembly), looked up in step 4 in packet order: its first fragment may be
      // earlier in this very burst, and is remembered only there.
      Pending& q = pend[np++];
      q.m = m;
      q.src_vm = src_vm;
      q.dst_vm = dst_vm;
      q.out_port = out;
      q.path = Path::kFragment;
      q.src_be = p.src_be;
      q.dst_be = p.dst_be;
      q.proto = p.proto;
      q.ip_id_be = p.ip_id_be;
      q.first_fragment = false;
      continue;
    }
    if (flows_.forward_only) {
      send(m, out);
      continue;
    }
    if (p.proto == 6 && flow::tcp::flags_invalid(p.tcp_flags)) {
      drop(m, in_port, DropReason::kInvalidTcpFlags, pc, owner);
      continue;
    }
    Pending& q = pend[np];
    q.m = m;
    q.src_vm = src_vm;
    q.dst_vm = dst_vm;
    q.out_port = out;
    q.flow_pos = -1;
    q.result[0] = q.result[1] = acl::kNoMatch;
    q.needs[0] = q.needs[1] = false;
    q.src_be = p.src_be;
    q.sport_be = p.sport_be;
    q.proto = p.proto;
    q.tcp_flags = p.tcp_flags;
    q.icmp_type = p.icmp_type;
    q.first_fragment = p.first_fragment;
    q.dst_be = p.dst_be;
    q.ip_id_be = p.ip_id_be;
    q.src_class = src.klass;
    q.dst_class = dst.klass;
    uint16_t sport = p.sport_be, dport = p.dport_be;
    q.path = Path::kNew;
    if (p.proto == 1) {
      if (p.icmp_type == kIcmpEchoRequest || p.icmp_type == kIcmpEchoReply) {
        sport = dport = p.icmp_id_be;
      } else if (is_icmp_error(p.icmp_type)) {
        // Related iff the quoted header is a live connection's and the error goes back
        // to the quoted packet's sender (the outer source may be any router).
        q.path = Path::kStateless;
        packet::IcmpErrorInner in = packet::parse_icmp_error_inner(data, len, p);
        if (in.valid && in.src_be == p.dst_be) {
          uint16_t isp = in.sport_be, idp = in.dport_be;
          if (in.proto == 1) isp = idp = in.icmp_id_be;
          int32_t pos = ft.lookup(flow::make_flow_key(in.proto, in.src_be, isp, in.dst_be, idp));
          if (pos >= 0 && ft.live(ft.at(pos), now)) q.path = Path::kRelated;
        }
      } else {
        q.path = Path::kStateless;
      }
    }
    q.sport_be = sport;
    q.key = flow::make_flow_key(p.proto, p.src_be, sport, p.dst_be, dport);
    q.check_vm[0] = src_vm;
    q.check_vm[1] = dst_vm;
    ++np;
  }

  // 2. Connection lookups for the burst.
  const flow::FlowKey* keys[kBurst];
  int32_t positions[kBurst];
  uint16_t idx[kBurst];
  uint16_t nk = 0;
  for (uint16_t i = 0; i < np; ++i) {
    if (pend[i].path != Path::kNew) continue;
    idx[nk] = i;
    keys[nk++] = &pend[i].key;
  }
  ft.lookup_bulk(keys, nk, positions);
  for (uint16_t k = 0; k < nk; ++k)
    if (positions[k] >= 0) rte_prefetch0(&ft.at(positions[k]));
  const uint64_t gen = snap.generation();

  Check checks[2 * kBurst];
  uint16_t nc = 0;
  for (uint16_t k = 0; k < nk; ++k) {
    Pending& q = pend[idx[k]];
    int32_t pos = positions[k];
    if (pos >= 0) {
      flow::FlowEntry& e = ft.at(pos);
      ConnState s = e.state.load(std::memory_order_relaxed);
      bool live = ft.live(e, now);
      bool reopen = q.proto == 6 && flow::tcp::is_syn_only(q.tcp_flags) && flow::is_tcp_reusable(s);
      if (live && !reopen) {
        q.flow_pos = pos;
        q.path = (!flows_.keep_established && e.generation.load(std::memory_order_relaxed) != gen) ? Path::kRevalidate
                                                                                                   : Path::kFast;
        continue;
      }
      if (s != ConnState::kFree && s != ConnState::kDead) ft.remove(pos);  // expired or being replaced
    }
    // No live connection.
    if (q.proto == 6 && !flow::tcp::is_syn_only(q.tcp_flags) && !flows_.tcp_loose) {
      drop(q.m, in_port, DropReason::kNoConnection, pc, q.src_vm != kNoVm ? q.src_vm : q.dst_vm);
      q.m = nullptr;
    }
  }

  // 3. Rule checks for new, stateless and revalidated packets, grouped per context.
  for (uint16_t i = 0; i < np; ++i) {
    Pending& q = pend[i];
    if (q.m == nullptr || q.path == Path::kFast || q.path == Path::kRelated || q.path == Path::kFragment) continue;
    uint8_t proto = q.proto;
    uint32_t a_be = q.src_be, b_be;
    uint16_t a_port = q.sport_be, b_port;
    compiler::ClassId a_class = q.src_class, b_class = q.dst_class;
    // The packet's own direction, or the connection's original one when revalidating.
    if (q.path == Path::kRevalidate) {
      const flow::FlowEntry& e = ft.at(q.flow_pos);
      a_be = e.orig_src_be;
      a_port = e.orig_sport_be;
      bool lo_is_orig = e.key.addr_lo == a_be && e.key.port_lo == a_port;
      b_be = lo_is_orig ? e.key.addr_hi : e.key.addr_lo;
      b_port = lo_is_orig ? e.key.port_hi : e.key.port_lo;
      acl::AddressInfo a = tables.addresses().lookup(a_be), b = tables.addresses().lookup(b_be);
      q.check_vm[0] = a.local_vm;
      q.check_vm[1] = b.local_vm;
      a_class = a.klass;
      b_class = b.klass;
    } else {
      b_be = q.dst_be;
      b_port = q.key.addr_lo == a_be && q.key.port_lo == a_port ? q.key.port_hi : q.key.port_lo;
    }
    bool ports = proto == 6 || proto == 17;
    uint16_t sp = ports ? a_port : 0, dp = ports ? b_port : 0;
    q.needs[0] = q.check_vm[0] != kNoVm;
    q.needs[1] = q.check_vm[1] != kNoVm;
    if (q.needs[0]) checks[nc++] = {snap.vm(q.check_vm[0]).egress_image, i, 0, make_key(proto, sp, dp, b_be, b_class)};
    if (q.needs[1]) checks[nc++] = {snap.vm(q.check_vm[1]).ingress_image, i, 1, make_key(proto, sp, dp, a_be, a_class)};
  }
  bool done[2 * kBurst] = {};
  const uint8_t* acl_keys[2 * kBurst];
  uint32_t results[2 * kBurst];
  uint16_t cidx[2 * kBurst];
  for (uint16_t c = 0; c < nc; ++c) {
    if (done[c]) continue;
    uint32_t image = checks[c].image;
    uint16_t k = 0;
    for (uint16_t j = c; j < nc; ++j) {
      if (done[j] || checks[j].image != image) continue;
      done[j] = true;
      cidx[k] = j;
      acl_keys[k++] = reinterpret_cast<const uint8_t*>(&checks[j].key);
    }
    const acl::AclContext* ctx = tables.context(image);
    if (ctx == nullptr || ctx->classify(acl_keys, results, k) != 0) {
      for (uint16_t j = 0; j < k; ++j) results[j] = acl::kNoMatch;  // fail closed
    }
    for (uint16_t j = 0; j < k; ++j) pend[checks[cidx[j]].packet].result[checks[cidx[j]].slot] = results[j];
  }

  // 4. Verdicts in packet order; connections created, advanced, revoked.
  for (uint16_t i = 0; i < np; ++i) {
    Pending& q = pend[i];
    if (q.m == nullptr) continue;
    uint32_t owner = q.src_vm != kNoVm ? q.src_vm : q.dst_vm;
    if (q.path == Path::kFragment) {
      // With no remembered verdict (denied, expired, or not seen yet) it fails closed.
      flow::FlowTable& frags = *flows_.fragments;
      int32_t fpos = frags.lookup(flow::make_fragment_key(q.proto, q.src_be, q.dst_be, q.ip_id_be));
      if (fpos < 0 || !frags.live(frags.at(fpos), now)) {
        drop(q.m, in_port, DropReason::kFragmentOrphan, pc, owner);
        continue;
      }
      if (q.src_vm != kNoVm) runtime::bump(pc->vm_allowed[q.src_vm]);
      if (q.dst_vm != kNoVm && q.dst_vm != q.src_vm) runtime::bump(pc->vm_allowed[q.dst_vm]);
      send(q.m, q.out_port);
      continue;
    }
    if (q.path == Path::kNew || q.path == Path::kStateless || q.path == Path::kRevalidate) {
      int failed = (q.needs[0] && q.result[0] == acl::kNoMatch) ? 0 : (q.needs[1] && q.result[1] == acl::kNoMatch) ? 1 : -1;
      if (failed >= 0) {
        if (q.path == Path::kRevalidate) {
          // One `revoked` per connection: later packets of it in this burst find it
          // gone, as the next burst would (TCP: no-connection; others: no-rule).
          DropReason r = ft.remove(q.flow_pos) ? DropReason::kRevoked
                         : q.proto == 6        ? DropReason::kNoConnection
                                               : DropReason::kNoRule;
          drop(q.m, in_port, r, pc, q.check_vm[failed]);
        } else {
          drop(q.m, in_port, DropReason::kNoRule, pc, q.check_vm[failed]);
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
        int32_t pos = -1;
        uint32_t charged = snap.vm_id(owner);
        flow::InsertResult r = ft.insert(q.key, q.src_be, q.sport_be, initial_state(q.proto, q.tcp_flags), charged,
                                         snap.generation(), q.result[0], q.result[1], now, &pos);
        if (r == flow::InsertResult::kTableFull || r == flow::InsertResult::kQuotaExceeded) {
          drop(q.m, in_port,
               r == flow::InsertResult::kTableFull ? DropReason::kTableFull : DropReason::kQuotaExceeded, pc, owner);
          continue;
        }
        if (r == flow::InsertResult::kExists) {
          q.flow_pos = pos;
          q.path = Path::kFast;
        } else {
          for (int s = 0; s < 2; ++s)
            if (q.needs[s]) runtime::bump(pc->rule_hits[q.result[s] - 1]);  // connections admitted
        }
      } else {  // stateless ICMP: judged per packet
        for (int s = 0; s < 2; ++s)
          if (q.needs[s]) runtime::bump(pc->rule_hits[q.result[s] - 1]);
      }
    }
    if (q.path == Path::kFast) {
      flow::FlowEntry& e = ft.at(q.flow_pos);
      bool from_orig = q.src_be == e.orig_src_be && q.sport_be == e.orig_sport_be;
      ConnState s = e.state.load(std::memory_order_relaxed);
      ConnState ns = advance(s, q, from_orig);
      if (ns != s) e.state.compare_exchange_strong(s, ns, std::memory_order_relaxed);
      e.last_seen.store(now, std::memory_order_relaxed);
    }
    if (q.first_fragment) {
      // Remember the verdict for the datagram's later fragments. If the fragment table
      // is full they are dropped as orphans (fail closed).
      int32_t fpos = -1;
      flow::FlowKey fk = flow::make_fragment_key(q.proto, q.src_be, q.dst_be, q.ip_id_be);
      flow::FlowTable& frags = *flows_.fragments;
      if (frags.insert(fk, q.src_be, 0, ConnState::kFragmentTrain, 0, snap.generation(), 0, 0, now, &fpos) ==
          flow::InsertResult::kExists)
        frags.at(fpos).last_seen.store(now, std::memory_order_relaxed);
    }
    if (q.src_vm != kNoVm) runtime::bump(pc->vm_allowed[q.src_vm]);
    if (q.dst_vm != kNoVm && q.dst_vm != q.src_vm) runtime::bump(pc->vm_allowed[q.dst_vm]);
    send(q.m, q.out_port);
  }
}

}  // namespace sgfw::dataplane
