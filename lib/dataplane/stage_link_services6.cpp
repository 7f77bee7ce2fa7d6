// IPv6 link services of stage 1 (docs/enforcement.md §7 "Neighbour discovery",
// "DHCP"): neighbour discovery as the IPv6 ARP (anti-spoofing, not rules), the RA
// guard, MLD reports and DHCPv6 client traffic; what a VM needs before its addresses
// work. Link-local addresses are bound to MACs here: the appliance does not learn
// them, but a link-local address whose modified EUI-64 interface id names another
// local VM's MAC is that VM's, and nobody else may claim it.
#include "core/ipv6_scope.hpp"
#include "dataplane/burst.hpp"
#include "packet/wire.hpp"

namespace sgfw::dataplane {

namespace wire = packet::wire;
using core::DropReason;
using packet::ParsedPacket;

namespace {

bool is_nd(uint8_t t) { return t >= wire::kIcmp6RouterSolicit && t <= wire::kIcmp6Redirect; }
bool is_mld(uint8_t t) {
  return t == core::kIcmp6MldQuery || t == core::kIcmp6MldReport || t == core::kIcmp6MldDone ||
         t == core::kIcmp6Mld2Report;
}

// Whether a sender with `mac` may use the link-local address a16: its EUI-64 id (if it
// has one) names `mac` or no local VM's MAC.
bool link_local_mac_ok(const runtime::Snapshot& snap, const uint8_t* a16, uint64_t mac) {
  const uint64_t named = core::eui64_mac(a16);
  return named == 0 || named == mac || snap.vm_with_mac(named) == kNoVm;
}

// Whether local VM `vm` (sending with `mac`) may claim global address a16: one of its
// addresses, or an allowed address pair it may use with that MAC.
bool own_address(const runtime::Snapshot& snap, const uint8_t* a16, uint32_t vm, uint64_t mac) {
  if (snap.tables().addresses6().lookup(a16).local_vm == vm) return true;
  const acl::PairTable6& pairs = snap.pairs6();
  return !pairs.empty() && pairs.may_use(a16, vm, mac);
}

// Whether a16 is a local VM's: one of its addresses, a pair, or the EUI-64 link-local
// address of a local VM's MAC.
bool local_vms_address(const runtime::Snapshot& snap, const uint8_t* a16) {
  if (core::is_link_local6(a16)) return !link_local_mac_ok(snap, a16, 0);
  if (snap.tables().addresses6().lookup(a16).local_vm != kNoVm) return true;
  const acl::PairTable6& pairs = snap.pairs6();
  return !pairs.empty() && pairs.owned(a16);
}

}  // namespace

// ICMPv6 with L4 (unfragmented or a first fragment). Returns true when it was a link
// message this function passed or dropped; false: the ordinary path (rules).
//  - From a VM port: router advertisements and redirects: ra-from-vm. NS, NA, RS and
//    MLD reports: the source is one of the VM's addresses or pairs, a link-local
//    address (not another local VM's EUI-64 one) or :: (NS, RS, MLD: a host without
//    an address yet); a link-layer option carries the VM's MAC; an NA's target is the
//    VM's (address, pair or link-local). Else spoofed. MLD reports go to the uplink;
//    multicast ND to every other port; unicast ND to the port of its destination.
//    An MLD query from a VM takes the ordinary path.
//  - From the uplink: ND and MLD whose source, or NA target, is a local VM's address:
//    spoofed. Multicast: to every VM port; unicast: to the VM it is addressed to (by
//    address, else destination MAC), none: not-local.
bool Pipeline::admit_nd(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i) {
  const ParsedPacket& p = ps.pkt[i];
  const uint8_t t = p.icmp_type;
  if (p.is_fragment || !(is_nd(t) || is_mld(t))) return false;
  rte_mbuf* m = ps.m[i];
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const uint16_t uplink = snap.uplink();
  const uint32_t src_vm = ps.src_vm[i];
  if (in_port != uplink) {
    if (t == wire::kIcmp6RouterAdvert || t == wire::kIcmp6Redirect) {
      drop(m, in_port, DropReason::kRaFromVm, pc, src_vm);
      return true;
    }
    if (t == core::kIcmp6MldQuery) return false;
    const uint64_t mac = ps.src_mac[i];
    const bool unspecified_ok = t != wire::kIcmp6NeighborAdvert;
    const bool src_ok = core::is_link_local6(p.src6)    ? link_local_mac_ok(snap, p.src6, mac)
                        : core::is_unspecified6(p.src6) ? unspecified_ok
                                                        : own_address(snap, p.src6, src_vm, mac);
    const bool option_ok = p.nd_lladdr_option == 0 || mac_u64(p.nd_lladdr) == mac;
    const bool target_ok = t != wire::kIcmp6NeighborAdvert ||
                           (core::is_link_local6(p.nd_target) ? link_local_mac_ok(snap, p.nd_target, mac)
                                                               : own_address(snap, p.nd_target, src_vm, mac));
    if (!src_ok || !option_ok || !target_ok) {
      drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
      return true;
    }
    if (is_mld(t)) {
      send(m, uplink);
      return true;
    }
  } else {
    const bool claims_vm = local_vms_address(snap, p.src6) ||
                           (t == wire::kIcmp6NeighborAdvert && local_vms_address(snap, p.nd_target));
    if (claims_vm) {
      drop(m, in_port, DropReason::kSpoofed, pc, kNoVm);
      return true;
    }
  }
  if (is_group_mac(p.dst_mac)) {
    flood(m, in_port, in_port == uplink, uplink);
    return true;
  }
  uint32_t d = snap.tables().addresses6().lookup(p.dst6).local_vm;
  const acl::PairTable6& pairs = snap.pairs6();
  if (d == kNoVm && !pairs.empty()) d = pairs.owner_with_mac(p.dst6, mac_u64(p.dst_mac));
  if (d == kNoVm) d = snap.vm_with_mac(mac_u64(p.dst_mac));
  if (d == kNoVm && in_port == uplink) {
    drop(m, in_port, DropReason::kNotLocal, pc, kNoVm);
    return true;
  }
  send(m, d != kNoVm ? snap.vm_port(d) : uplink);
  return true;
}

// UDP with L4 from source port 546 or 547. Returns true when it was a DHCPv6 message
// this function passed or dropped; false: the ordinary path (rules).
//  - From a VM port: source port 547 is a DHCPv6 server: dhcp-server-from-vm. A client
//    message (546 -> 547; RFC 8415 clients send from their link-local address) from a
//    link-local address (not another local VM's) or one of the VM's addresses goes to
//    the uplink without rules; another source: spoofed.
//  - From the uplink: a server message (547 -> 546) goes to the VM with its
//    destination MAC (none, or a multicast one: not-local); from a local VM's address:
//    spoofed.
bool Pipeline::admit_dhcp6(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i) {
  const ParsedPacket& p = ps.pkt[i];
  rte_mbuf* m = ps.m[i];
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const uint32_t src_vm = ps.src_vm[i];
  if (in_port != snap.uplink()) {
    if (p.sport_be == kDhcp6ServerPortBe) {
      drop(m, in_port, DropReason::kDhcpServerFromVm, pc, src_vm);
      return true;
    }
    if (p.dport_be != kDhcp6ServerPortBe) return false;
    const uint64_t mac = ps.src_mac[i];
    const bool src_ok = core::is_link_local6(p.src6) ? link_local_mac_ok(snap, p.src6, mac)
                                                     : own_address(snap, p.src6, src_vm, mac);
    if (!src_ok) {
      drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
      return true;
    }
    runtime::bump(pc->vm_allowed[src_vm]);
    send(m, snap.uplink());
    return true;
  }
  if (p.sport_be != kDhcp6ServerPortBe || p.dport_be != kDhcp6ClientPortBe) return false;
  if (local_vms_address(snap, p.src6)) {
    drop(m, in_port, DropReason::kSpoofed, pc, kNoVm);
    return true;
  }
  const uint32_t to = is_group_mac(p.dst_mac) ? kNoVm : snap.vm_with_mac(mac_u64(p.dst_mac));
  if (to == kNoVm) {
    drop(m, in_port, DropReason::kNotLocal, pc, kNoVm);
    return true;
  }
  runtime::bump(pc->vm_allowed[to]);
  send(m, snap.vm_port(to));
  return true;
}

}  // namespace sgfw::dataplane
