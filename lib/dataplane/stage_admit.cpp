// Stage 1 of the packet pipeline (docs/design/packet-path.md, steps 1-7): parse,
// anti-spoofing, ARP, forwarding target; survivors become Pending for the next stages.
// IPv4 here; IPv6 in stage_admit6.cpp (parse_burst parses both).
#include <rte_prefetch.h>

#include <algorithm>
#include <new>

#include "dataplane/admit_ip.hpp"
#include "dataplane/burst.hpp"
#include "packet/icmp_error_inner.hpp"
#include "packet/parser.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using packet::ParsedPacket;

namespace {

// A burst with IPv6 frames: each family's addresses in its own bulk lookups, the
// answers put back at addr[2i] (source) and addr[2i+1] (destination) of their frame.
void lookup_addresses_mixed(Parsed& out, const runtime::Snapshot& snap, const uint16_t* rest, uint16_t nrest) {
  uint32_t keys4[2 * kBurst];
  const uint8_t* ptrs6[2 * kBurst];
  uint16_t at4[2 * kBurst], at6[2 * kBurst];
  uint32_t n4 = 0, n6 = 0;
  for (uint16_t r = 0; r < nrest; ++r) {
    const uint16_t i = rest[r];
    const ParsedPacket& p = out.pkt[i];
    if (p.kind == ParsedPacket::Kind::kIpv6) {
      ptrs6[n6] = p.src6;
      at6[n6++] = static_cast<uint16_t>(2 * i);
      ptrs6[n6] = p.dst6;
      at6[n6++] = static_cast<uint16_t>(2 * i + 1);
    } else {
      keys4[n4] = p.src_be;
      at4[n4++] = static_cast<uint16_t>(2 * i);
      keys4[n4] = p.dst_be;
      at4[n4++] = static_cast<uint16_t>(2 * i + 1);
    }
  }
  acl::AddressInfo found[2 * kBurst];
  snap.tables().addresses().lookup_bulk(keys4, n4, found);
  for (uint32_t k = 0; k < n4; ++k) out.addr[at4[k]] = found[k];
  for (uint32_t off = 0; off < n6; off += acl::AddressTable6::kBulkMax)
    snap.tables().addresses6().lookup_bulk(ptrs6 + off, std::min<uint32_t>(acl::AddressTable6::kBulkMax, n6 - off),
                                           found + off);
  for (uint32_t k = 0; k < n6; ++k) out.addr[at6[k]] = found[k];
}

}  // namespace

// Parses the burst (packet data prefetched first). Frames that fail to parse are
// dropped with their reason; the others are kept in arrival order.
void Pipeline::parse_burst(Parsed& out, rte_mbuf** pkts, uint16_t n, uint16_t in_port) {
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const void*));
  out.n = out.n6 = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    // A chained mbuf is judged on its first segment, which the parser bounds.
    ParsedPacket& p =
        *::new (&out.pkt[out.n]) ParsedPacket(packet::parse(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m)));
    if (p.kind == ParsedPacket::Kind::kDrop) {
      drop(m, in_port, p.drop, nullptr, kNoVm);
      continue;
    }
    out.n6 += p.kind == ParsedPacket::Kind::kIpv6;
    out.src_mac[out.n] = mac_u64(p.src_mac);
    out.flow_pos[out.n] = kNotLooked;
    out.m[out.n++] = m;
  }
}

// The frames the express stage left: source VMs by (port, MAC) and both addresses of
// every frame, in bulk per family (the hash lookups pipeline their memory accesses).
void Pipeline::lookup_links(Parsed& out, runtime::Snapshot& snap, uint16_t in_port) {
  uint16_t rest[kBurst];
  uint16_t nrest = 0;
  for (uint16_t i = 0; i < out.n; ++i)
    if (out.m[i] != nullptr) rest[nrest++] = i;
  if (nrest == 0) return;
  if (in_port == snap.uplink()) {
    for (uint16_t r = 0; r < nrest; ++r) out.src_vm[rest[r]] = kNoVm;
  } else if (nrest == out.n) {
    snap.vms_on_port_bulk(in_port, out.src_mac, out.n, out.src_vm);
  } else {
    uint64_t macs[kBurst];
    uint32_t vms[kBurst];
    for (uint16_t r = 0; r < nrest; ++r) macs[r] = out.src_mac[rest[r]];
    snap.vms_on_port_bulk(in_port, macs, nrest, vms);
    for (uint16_t r = 0; r < nrest; ++r) out.src_vm[rest[r]] = vms[r];
  }
  if (out.n6 != 0) return lookup_addresses_mixed(out, snap, rest, nrest);
  uint32_t keys[2 * kBurst];
  for (uint16_t r = 0; r < nrest; ++r) {
    keys[2 * r] = out.pkt[rest[r]].src_be;
    keys[2 * r + 1] = out.pkt[rest[r]].dst_be;
  }
  snap.tables().addresses().lookup_bulk(keys, 2u * nrest, out.addr);
  // The answers of rest[r] are at 2r and 2r+1; move them to their frame's place, last
  // first: rest is increasing, so rest[r] >= r and no answer is overwritten unread.
  if (nrest != out.n)
    for (uint16_t r = nrest; r-- > 0;) {
      out.addr[2 * rest[r] + 1] = out.addr[2 * r + 1];
      out.addr[2 * rest[r]] = out.addr[2 * r];
    }
}

// ARP passes subject to anti-spoofing, not to rules: requests (broadcast) to every port
// but their own; replies to the owner of their target address, else by destination MAC.
void Pipeline::forward_arp(runtime::Snapshot& snap, uint16_t in_port, rte_mbuf* m, uint32_t src_vm,
                           uint64_t src_mac, const ParsedPacket& p) {
  const acl::AddressTable& addrs = snap.tables().addresses();
  const acl::PairTable& pairs = snap.pairs();
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const bool from_uplink = in_port == snap.uplink();
  acl::AddressInfo spa = addrs.lookup(p.arp_spa_be);
  // An address probe (RFC 5227: request with sender address 0.0.0.0, what a VM sends
  // before it uses an address DHCP gave it) claims no address: only the MAC counts.
  const bool probe = p.arp_spa_be == 0 && p.arp_op == wire::kArpOpRequest;
  // A gratuitous ARP for an allowed address pair (a VIP taken over) is the VM's own.
  const uint64_t sha = mac_u64(p.arp_sha);
  const bool own = spa.local_vm == src_vm || probe || (!pairs.empty() && pairs.may_use(p.arp_spa_be, src_vm, sha));
  if (from_uplink ? (spa.local_vm != kNoVm || (!pairs.empty() && pairs.owned(p.arp_spa_be)))
                  : (!own || sha != src_mac)) {
    drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
    return;
  }
  if (is_group_mac(p.dst_mac)) return flood(m, in_port, false, snap.uplink());
  uint32_t d = addrs.lookup(p.arp_tpa_be).local_vm;
  if (d == kNoVm && !pairs.empty()) d = pairs.owner_with_mac(p.arp_tpa_be, mac_u64(p.dst_mac));
  if (d == kNoVm) d = snap.vm_with_mac(mac_u64(p.dst_mac));
  uint16_t out = d != kNoVm ? snap.vm_port(d) : snap.uplink();
  if (out == in_port && from_uplink) {
    drop(m, in_port, DropReason::kNotLocal, pc, src_vm);
    return;
  }
  send(m, out);
}

// ICMP: echo state is keyed by the requester's side (directional); an error may be
// related to a live connection: iff the quoted header is that connection's, the error
// goes back to the quoted packet's sender, and it comes from the quoted destination or
// from off this appliance (a local VM may not forge errors about others).
void Pipeline::classify_icmp(Pending& q, const ParsedPacket& p, bool from_uplink, uint64_t now) {
  if (p.icmp_type == wire::kIcmpEchoRequest) {
    q.sport_be = p.icmp_id_be;
    q.dport_be = 0;
    return;
  }
  if (p.icmp_type == wire::kIcmpEchoReply) {
    q.sport_be = 0;
    q.dport_be = p.icmp_id_be;
    return;
  }
  q.sport_be = q.dport_be = 0;
  q.path = Path::kStateless;
  if (!core::is_icmp_error(p.icmp_type)) return;
  packet::IcmpErrorInner in =
      packet::parse_icmp_error_inner(rte_pktmbuf_mtod(q.m, const uint8_t*), rte_pktmbuf_data_len(q.m), p);
  if (!in.valid || in.src_be != p.dst_be || !(from_uplink || in.dst_be == p.src_be)) return;
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

void Pipeline::admit_burst(Burst& b, runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint64_t now) {
  for (uint16_t i = 0; i < ps.n; ++i)
    if (ps.m[i] != nullptr && ps.pkt[i].kind != ParsedPacket::Kind::kIpv6) admit_one(b, snap, in_port, ps, i, now);
}

// L2/L3 checks of one parsed frame; a survivor is queued as Pending.
[[gnu::always_inline]] inline void Pipeline::admit_one(Burst& b, runtime::Snapshot& snap, uint16_t in_port,
                                                       const Parsed& ps, uint16_t i, uint64_t now) {
  const bool from_uplink = in_port == snap.uplink();
  rte_mbuf* m = ps.m[i];
  const ParsedPacket& p = ps.pkt[i];
  const uint32_t src_vm = ps.src_vm[i];
  if (!from_uplink && src_vm == kNoVm) return drop(m, in_port, DropReason::kSpoofed, nullptr, kNoVm);
  if (p.kind == ParsedPacket::Kind::kArp) return forward_arp(snap, in_port, m, src_vm, ps.src_mac[i], p);
  if (p.proto == wire::kProtoUdp && is_dhcp_source_port(p.sport_be) && p.has_l4() &&
      admit_dhcp(snap, in_port, ps, i))
    return;
  admit_ip(b, snap, in_port, ps, i, p.src_be, p.dst_be, ps.addr[2 * i], ps.addr[2 * i + 1], now);
}

}  // namespace sgfw::dataplane
