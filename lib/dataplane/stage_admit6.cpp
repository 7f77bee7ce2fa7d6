// Stage 1 of the packet pipeline for IPv6 frames (docs/enforcement.md §7,
// docs/design/packet-path.md "Two families"): link services first (neighbour
// discovery, RA guard, MLD, DHCPv6: stage_link_services6.cpp), then link-local,
// anti-spoofing and the forwarding target as for IPv4; survivors take stages 2-4.
#include <cstring>

#include "core/ipv6_scope.hpp"
#include "dataplane/admit_ip.hpp"
#include "dataplane/burst.hpp"
#include "packet/icmp_error_inner.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using packet::ParsedPacket;
using F6 = Ipv6Family;

// The IPv6 frames of a burst (parse_burst left them among the IPv4 ones), all stages.
void Pipeline::process6(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint64_t now) {
  Burst6 b;
  for (uint16_t i = 0; i < ps.n; ++i)
    if (ps.m[i] != nullptr && ps.pkt[i].kind == ParsedPacket::Kind::kIpv6) admit6_one(b, snap, in_port, ps, i, now);
  if (b.np != 0) run_stages(b, snap, in_port, now);
}

// ICMPv6 as classify_icmp does ICMP (stage_admit.cpp): echo state keyed by the
// requester's side; an error is related to a live connection iff it quotes that
// connection's packet, goes back to the quoted packet's sender, and comes from the
// quoted destination or from off this appliance.
void Pipeline::classify_icmp(Pending6& q, const ParsedPacket& p, bool from_uplink, uint64_t now) {
  if (p.icmp_type == wire::kIcmp6EchoRequest) {
    q.sport_be = p.icmp_id_be;
    q.dport_be = 0;
    return;
  }
  if (p.icmp_type == wire::kIcmp6EchoReply) {
    q.sport_be = 0;
    q.dport_be = p.icmp_id_be;
    return;
  }
  q.sport_be = q.dport_be = 0;
  q.path = Path::kStateless;
  if (!core::is_icmp6_error(p.icmp_type)) return;
  packet::IcmpErrorInner in =
      packet::parse_icmp6_error_inner(rte_pktmbuf_mtod(q.m, const uint8_t*), rte_pktmbuf_data_len(q.m), p);
  if (!in.valid || std::memcmp(in.src6, p.dst6, 16) != 0 || !(from_uplink || std::memcmp(in.dst6, p.src6, 16) == 0))
    return;
  uint16_t isp = in.sport_be, idp = in.dport_be;
  if (in.proto == wire::kProtoIcmp6) {
    isp = in.icmp_type == wire::kIcmp6EchoRequest ? in.icmp_id_be : 0;
    idp = in.icmp_type == wire::kIcmp6EchoReply ? in.icmp_id_be : 0;
  }
  flow::FlowTable6& ft = *flows_.table6;
  int32_t pos = ft.lookup(flow::make_flow_key6(in.proto, in.src6, isp, in.dst6, idp));
  if (pos >= 0 && ft.live(ft.at(pos), now)) {
    q.path = Path::kRelated;
    q.flow_pos = pos;
  }
}

// L2/L3 checks of one parsed IPv6 frame; a survivor is queued as Pending6.
void Pipeline::admit6_one(Burst6& b, runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i,
                          uint64_t now) {
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const bool from_uplink = in_port == snap.uplink();
  rte_mbuf* m = ps.m[i];
  const ParsedPacket& p = ps.pkt[i];
  const uint32_t src_vm = ps.src_vm[i];
  if (!from_uplink && src_vm == kNoVm) return drop(m, in_port, DropReason::kSpoofed, nullptr, kNoVm);
  if (p.proto == wire::kProtoIcmp6 && p.has_l4() && admit_nd(snap, in_port, ps, i)) return;
  if (p.proto == wire::kProtoUdp && p.has_l4() &&
      (p.sport_be == kDhcp6ClientPortBe || p.sport_be == kDhcp6ServerPortBe) && admit_dhcp6(snap, in_port, ps, i))
    return;
  // Link-local addresses serve the link services above only.
  if (core::is_link_local6(p.src6) || core::is_link_local6(p.dst6))
    return drop(m, in_port, DropReason::kLinkLocal, pc, src_vm);
  F6::Addr src_addr, dst_addr;
  std::memcpy(src_addr.data(), p.src6, 16);
  std::memcpy(dst_addr.data(), p.dst6, 16);
  admit_ip(b, snap, in_port, ps, i, src_addr, dst_addr, ps.addr[2 * i], ps.addr[2 * i + 1], now);
}

}  // namespace sgfw::dataplane
