// The end of stage 1 for an IP packet of either family (docs/design/packet-path.md,
// steps 4-7 and IPv6 step 5): anti-spoofing, broadcast, who is local, destination,
// then the packet is queued for stages 2-4. The family's own admission (ARP, DHCPv4;
// neighbour discovery, DHCPv6, link-local) comes before it in stage_admit.cpp and
// stage_admit6.cpp, which include this header so the code is inlined into each.
// Private to lib/dataplane. Data path: no allocation; thread-safety: one worker.
#pragma once

#include "dataplane/burst.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

// `src`/`dst`: the address table's answers for the packet's addresses.
template <class F>
inline void Pipeline::admit_ip(BurstOf<F>& b, runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps,
                               uint16_t i, const typename F::Addr& src_addr, const typename F::Addr& dst_addr,
                               acl::AddressInfo src, acl::AddressInfo dst, uint64_t now) {
  using core::DropReason;
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const bool from_uplink = in_port == snap.uplink();
  rte_mbuf* m = ps.m[i];
  const packet::ParsedPacket& p = ps.pkt[i];
  const uint32_t src_vm = ps.src_vm[i];
  const auto& pairs = F::pairs(snap);
  bool src_by_pair = false;
  if (from_uplink) {
    if (src.local_vm != kNoVm || (!pairs.empty() && pairs.owned(F::pair_key(src_addr))))
      return drop(m, in_port, DropReason::kSpoofed, pc, kNoVm);
  } else if (src.local_vm != src_vm) {
    // Not one of its own addresses: one of its allowed address pairs, with the pair's MAC?
    if (pairs.empty() || !pairs.may_use(F::pair_key(src_addr), src_vm, ps.src_mac[i]))
      return drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
    src.local_vm = src_vm;
    src_by_pair = true;
  }
  if (is_group_mac(p.dst_mac)) return drop(m, in_port, DropReason::kBroadcast, pc, src_vm);
  // A destination in an allowed address pair (a VIP two VMs may share) goes to the VM
  // whose pair MAC the frame carries; a pair address with no owner's MAC: dst-mismatch.
  bool dst_by_pair = false;
  if (dst.local_vm == kNoVm && !pairs.empty()) {
    const uint32_t o = pairs.owner_with_mac(F::pair_key(dst_addr), mac_u64(p.dst_mac));
    if (o != kNoVm) {
      dst.local_vm = o;
      dst_by_pair = true;
    } else if (pairs.owned(F::pair_key(dst_addr))) {
      return drop(m, in_port, DropReason::kDstMismatch, pc, src_vm);
    }
  }
  const uint32_t dst_vm = dst.local_vm;
  if (src_vm == kNoVm && dst_vm == kNoVm) return drop(m, in_port, DropReason::kNotLocal, pc, kNoVm);
  const uint32_t owner = src_vm != kNoVm ? src_vm : dst_vm;
  uint16_t out = snap.uplink();
  if (dst_vm != kNoVm) {
    if (!dst_by_pair && mac_u64(p.dst_mac) != snap.vm_mac(dst_vm))
      return drop(m, in_port, DropReason::kDstMismatch, pc, owner);
    out = snap.vm_port(dst_vm);
  }
  if (flows_.forward_only) return send(m, out);
  const bool later_fragment = p.is_fragment && !p.first_fragment;
  if (!later_fragment && p.proto == packet::wire::kProtoTcp && flow::tcp::flags_invalid(p.tcp_flags))
    return drop(m, in_port, DropReason::kInvalidTcpFlags, pc, owner);
  PendingOf<F>& q = b.pend[b.np++];
  q.m = m;
  q.checks.needed[0] = q.checks.needed[1] = false;
  q.result[0] = q.result[1] = acl::kNoMatch;
  q.src_is_lo = true;
  q.src_vm = src_vm;
  q.dst_vm = dst_vm;
  q.out_port = out;
  q.path = later_fragment ? Path::kFragment : Path::kNew;
  q.first_fragment = p.first_fragment;
  q.express_ok = !src_by_pair && !dst_by_pair;
  q.flow_pos = -1;
  q.looked_pos = ps.flow_pos[i];
  q.src_be = src_addr;
  q.dst_be = dst_addr;
  q.frag_id_be = F::frag_id(p);
  q.proto = p.proto;
  q.tcp_flags = p.tcp_flags;
  q.icmp_type = p.icmp_type;
  q.src_info = src;
  q.dst_info = dst;
  q.sport_be = p.sport_be;
  q.dport_be = p.dport_be;
  if (later_fragment) return;  // followed in packet order (stage 4)
  if (p.proto == F::kIcmp) {
    classify_icmp(q, p, from_uplink, now);  // the key's "ports": echo identifiers
    q.key = F::flow_key(p.proto, src_addr, q.sport_be, dst_addr, q.dport_be, &q.src_is_lo);
    return;
  }
  // The ports from the parsed packet, not read back from q: one 4-byte load over the
  // two 2-byte stores just made cannot be forwarded from the store buffer (a stall).
  q.key = F::flow_key(p.proto, src_addr, p.sport_be, dst_addr, p.dport_be, &q.src_is_lo);
}

}  // namespace sgfw::dataplane
