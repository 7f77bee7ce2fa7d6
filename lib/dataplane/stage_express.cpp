// The express stage of the packet pipeline (docs/design/packet-path.md "Express
// path"), between the parse and stage 1's MAC and address lookups: a packet of an
// established connection (either family) passes after one bulk connection lookup. The connection's
// express word (express.hpp) names the local VMs at its ends under the current
// generation; the packet passes only if stage 1 would take the same decisions for it
// (the same source VM by port and MAC, the destination VM's MAC, no broadcast, valid
// TCP flags) and stage 2 would find it live and current. Anything else goes on to
// stage 1 with the lookup's answer, so a miss costs no second lookup.
#include <type_traits>

#include "core/ipv6_scope.hpp"
#include "dataplane/burst.hpp"
#include "dataplane/express.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using packet::ParsedPacket;

namespace {

// Whether stage 1 would queue the frame as an ordinary packet of family F (not a
// fragment, a link service, an ICMP error or a broadcast), and its key's ports if so.
template <class F>
bool express_candidate(const ParsedPacket& p, uint16_t* sport_be, uint16_t* dport_be) {
  constexpr bool v6 = std::is_same_v<F, Ipv6Family>;
  constexpr ParsedPacket::Kind kind = v6 ? ParsedPacket::Kind::kIpv6 : ParsedPacket::Kind::kIpv4;
  if (p.kind != kind || p.is_fragment || !p.has_l4() || is_group_mac(p.dst_mac)) return false;
  if constexpr (v6)
    if (core::is_link_local6(p.src6) || core::is_link_local6(p.dst6)) return false;
  if (p.proto == wire::kProtoTcp) {
    if (flow::tcp::flags_invalid(p.tcp_flags)) return false;
  } else if (p.proto == wire::kProtoUdp) {
    if (v6 ? p.sport_be == kDhcp6ClientPortBe || p.sport_be == kDhcp6ServerPortBe : is_dhcp_source_port(p.sport_be))
      return false;
  } else if (p.proto == F::kIcmp) {
    constexpr uint8_t kRequest = v6 ? wire::kIcmp6EchoRequest : wire::kIcmpEchoRequest;
    if (p.icmp_type == kRequest) {
      *sport_be = p.icmp_id_be;
      *dport_be = 0;
      return true;
    }
    if (p.icmp_type != F::kEchoReply) return false;
    *sport_be = 0;
    *dport_be = p.icmp_id_be;
    return true;
  } else {
    return false;
  }
  *sport_be = p.sport_be;
  *dport_be = p.dport_be;
  return true;
}

template <class F>
typename F::Key express_key(const ParsedPacket& p, uint16_t sport_be, uint16_t dport_be, bool* src_is_lo) {
  if constexpr (std::is_same_v<F, Ipv6Family>)
    return flow::make_flow_key6(p.proto, p.src6, sport_be, p.dst6, dport_be, src_is_lo);
  else
    return flow::make_flow_key(p.proto, p.src_be, sport_be, p.dst_be, dport_be, src_is_lo);
}

}  // namespace

template <class F>
void Pipeline::express(Parsed& ps, runtime::Snapshot& snap, uint16_t in_port, uint64_t now) {
  typename F::Table& ft = F::table(flows_);
  typename F::Key keys[kBurst];
  const typename F::Key* key_ptrs[kBurst];
  bool src_is_lo[kBurst];
  uint16_t at[kBurst];
  uint16_t nk = 0;
  for (uint16_t i = 0; i < ps.n; ++i) {
    const ParsedPacket& p = ps.pkt[i];
    uint16_t sport_be, dport_be;
    if (!express_candidate<F>(p, &sport_be, &dport_be)) continue;
    keys[nk] = express_key<F>(p, sport_be, dport_be, &src_is_lo[nk]);
    key_ptrs[nk] = &keys[nk];
    at[nk++] = i;
  }
  if (nk == 0) return;
  int32_t positions[kBurst];
  ft.lookup_bulk(key_ptrs, nk, positions);  // prefetches the entries' first lines (flow_entry.hpp)
  const uint64_t gen = snap.generation();
  const uint16_t uplink = snap.uplink();
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  for (uint16_t k = 0; k < nk; ++k) {
    const uint16_t i = at[k];
    const int32_t pos = positions[k];
    ps.flow_pos[i] = pos;
    if (pos < 0) continue;
    typename F::Entry& e = ft.at(pos);
    const uint64_t w = e.express.load(std::memory_order_relaxed);
    const flow::ConnState state = e.state.load(std::memory_order_relaxed);
    if (!express_current(w, gen) || e.generation.load(std::memory_order_relaxed) != gen || !ft.live(e, state, now))
      continue;
    const ParsedPacket& p = ps.pkt[i];
    if (p.proto == wire::kProtoTcp && flow::tcp::is_syn_only(p.tcp_flags) && flow::is_tcp_reusable(state))
      continue;  // a new connection replaces a closed one: stage 2
    const uint32_t src_vm = express_vm(w, src_is_lo[k]), dst_vm = express_vm(w, !src_is_lo[k]);
    if (src_vm == kNoVm ? in_port != uplink : in_port != snap.vm_port(src_vm) || ps.src_mac[i] != snap.vm_mac(src_vm))
      continue;  // not from where the connection's source end is: stage 1 decides
    uint16_t out = uplink;
    if (dst_vm != kNoVm) {
      if (mac_u64(p.dst_mac) != snap.vm_mac(dst_vm)) continue;
      out = snap.vm_port(dst_vm);
    }
    const uint32_t len = rte_pktmbuf_pkt_len(ps.m[i]);
    const bool from_orig = src_is_lo[k] == e.orig_is_lo();
    if (flow::keeps_state(state, p.tcp_flags, from_orig)) [[likely]] {
      e.count(from_orig ? 0 : 1, len);  // all advance_entry would do
      e.last_seen.store(now, std::memory_order_relaxed);
    } else {
      advance_entry<F>(pos, src_is_lo[k], p.proto, p.tcp_flags, len, now);
    }
    if (src_vm != kNoVm) runtime::bump(pc->vm_allowed[src_vm]);
    if (dst_vm != kNoVm && dst_vm != src_vm) runtime::bump(pc->vm_allowed[dst_vm]);
    send(ps.m[i], out);
    ps.m[i] = nullptr;
  }
}

template void Pipeline::express<Ipv4Family>(Parsed&, runtime::Snapshot&, uint16_t, uint64_t);
template void Pipeline::express<Ipv6Family>(Parsed&, runtime::Snapshot&, uint16_t, uint64_t);

}  // namespace sgfw::dataplane
