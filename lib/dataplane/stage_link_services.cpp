// Link services of stage 1 (docs/enforcement.md §7 "DHCP", docs/design/packet-path.md):
// what a VM needs on the wire before its addresses work, passed without rules but
// subject to anti-spoofing.
#include "dataplane/burst.hpp"
#include "packet/bootp.hpp"

namespace sgfw::dataplane {

using core::DropReason;
using packet::ParsedPacket;

// A UDP packet with source port 67 or 68 (has_l4). Returns true when it was a DHCPv4
// message this function passed or dropped; false sends it down the ordinary path
// (rules), e.g. a VM's UDP from port 68 to a port other than 67.
//  - From a VM port: source port 67 is a DHCP server: dhcp-server-from-vm. A client
//    message (68 -> 67, a BOOTREQUEST whose chaddr is the sender's MAC, from 0.0.0.0
//    or one of the VM's addresses) goes to the uplink, broadcast or not; chaddr or
//    address not the VM's: spoofed (no leases asked for other MACs).
//  - From the uplink: a BOOTREPLY 67 -> 68 goes to the VM it is addressed to: by
//    destination MAC, or for a broadcast reply the VM whose MAC is chaddr; none:
//    not-local. A local VM's address as its source: spoofed.
bool Pipeline::admit_dhcp(runtime::Snapshot& snap, uint16_t in_port, const Parsed& ps, uint16_t i) {
  const ParsedPacket& p = ps.pkt[i];
  rte_mbuf* m = ps.m[i];
  runtime::PolicyCounters* pc = &snap.counters(worker_);
  const uint32_t src_vm = ps.src_vm[i];
  const acl::AddressInfo& src = ps.addr[2 * i];
  if (in_port != snap.uplink()) {
    if (p.sport_be == kDhcpServerPortBe) {
      drop(m, in_port, DropReason::kDhcpServerFromVm, pc, src_vm);
      return true;
    }
    if (p.dport_be != kDhcpServerPortBe) return false;
    const packet::BootpMessage b = packet::read_bootp(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), p);
    if (!b.valid || b.op != packet::kBootRequest) return false;
    if ((p.src_be != 0 && src.local_vm != src_vm) || mac_u64(b.chaddr) != ps.src_mac[i]) {
      drop(m, in_port, DropReason::kSpoofed, pc, src_vm);
      return true;
    }
    runtime::bump(pc->vm_allowed[src_vm]);
    send(m, snap.uplink());
    return true;
  }
  if (p.sport_be != kDhcpServerPortBe || p.dport_be != kDhcpClientPortBe) return false;
  const packet::BootpMessage b = packet::read_bootp(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), p);
  if (!b.valid || b.op != packet::kBootReply) return false;
  if (src.local_vm != kNoVm) {
    drop(m, in_port, DropReason::kSpoofed, pc, kNoVm);
    return true;
  }
  const uint32_t to = snap.vm_with_mac(is_group_mac(p.dst_mac) ? mac_u64(b.chaddr) : mac_u64(p.dst_mac));
  if (to == kNoVm) {
    drop(m, in_port, DropReason::kNotLocal, pc, kNoVm);
    return true;
  }
  runtime::bump(pc->vm_allowed[to]);
  send(m, snap.vm_port(to));
  return true;
}

}  // namespace sgfw::dataplane
