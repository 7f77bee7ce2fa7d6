#!/usr/bin/env python3
"""IPv6 anti-spoofing and link rules (semantics §5, §7; docs/enforcement.md §7):
- real stacks: a and b (IPv6 on) ping each other and the internet over IPv6; neighbour
  discovery passes without rules, nothing is dropped on their ports;
- crafted frames from s (IPv6 off in its namespace: it sends only what the test says,
  counts are exact) and from the uplink:
  - another VM's source address, an address the VM does not have: `spoofed`;
  - a neighbour advertisement for another VM's address (unicast to the victim's peer
    and to all-nodes): `spoofed`, and b's neighbour cache still holds a's real MAC;
  - an NA for s's own address with a forged target link-layer option, an NS with a
    forged source link-layer option or Ethernet source, an NS from another VM's
    address or from the EUI-64 link-local address of another VM's MAC: `spoofed`; s's
    own NS (link-local source, its MAC in the option) and a DAD NS (source ::) pass to
    every other port (not counted as `allowed`, like ARP);
  - an NA from ::: `spoofed`; an NS with hop limit 64: `malformed-l4`;
  - MLD reports (v2 from a link-local source or ::, v1 report and done) go to the
    uplink only; an MLD query from a
    VM is an ordinary packet (`link-local`);
  - ordinary traffic (UDP, echo) from a link-local source, from a VM and from the
    uplink, and to a link-local destination: `link-local`;
  - RA and redirect from a VM: `ra-from-vm`;
  - UDP to a multicast group: `broadcast`;
  - from the uplink with a local VM's IPv6 source, an NA for a VM's address, an NS
    from a VM's link-local address: `spoofed`; to a VM's IPv6 address with another
    MAC: `dst-mismatch`; for no local VM: `not-local`."""
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip6, marker
import ipv6_e2e as v6
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6MLDMultAddrRec, ICMPv6MLDone, ICMPv6MLReport, ICMPv6MLQuery2, ICMPv6MLReport2,
                                ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_Redirect, ICMPv6NDOptPrefixInfo,
                                ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrHopByHop, RouterAlert)
from scapy.layers.l2 import Ether

K = 4
FOREIGN_MAC = "02:e2:e0:00:99:99"
OPEN = group("open", rule("Ingress", "All", cidr="::/0"), rule("Egress", "All", cidr="::/0"),
             rule("Ingress", "All", cidr="0.0.0.0/0"), rule("Egress", "All", cidr="0.0.0.0/0"))


def scenario():
    with e2e.Topology("v6-spoofing", ipv6=True) as t:
        a = t.vm("a", ["10.0.1.10", "2001:db8:1::10"], groups=["open"], ipv6=True)
        b = t.vm("b", ["10.0.1.11", "2001:db8:1::11"], groups=["open"], ipv6=True)
        s = t.vm("s", ["10.0.1.12", "2001:db8:1::12"], groups=["open"])  # IPv6 off: crafted frames only
        q = t.vm("q", ["10.0.1.13", "2001:db8:1::13"], groups=["open"])  # IPv6 off: a silent receiver
        inet = t.inet
        t.start(security_groups=[OPEN])
        time.sleep(0.5)  # the hosts' last MLD reports (10 ms apart) are behind us
        sniffers = {h.name: h.sniffer() for h in (a, b, q, s, inet)}
        s_ll = s.link_local
        udp = lambda m: UDP(sport=4000, dport=4001) / m  # noqa: E731

        with t.case("real stacks: ping -6 a -> b, b -> a, a -> internet; ND passes, no drop on their ports"):
            before = t.stats()
            check(a.ping(b.ip6, count=3) == 3, "a -> b lost replies")
            check(b.ping(a.ip6, count=3) == 3, "b -> a lost replies")
            check(a.ping(e2e.INET6_IP, count=3) == 3, "a -> internet lost replies")
            check(v6.neigh_mac(b, a.ip6) == a.mac, f"b's neighbour entry for a: {v6.neigh_mac(b, a.ip6)}")
            t.expect(before, {("rule", "open/rule-1"): 3, ("rule", "open/rule-0"): 2}, quiet=[("port", "vm-a"), ("port", "vm-b"),
                                                                   ("port", "uplink"), ("vm", "a"), ("vm", "b")])

        def case(title, sender, frame_fn, expected, quiet, seen_ok=(), count=K):
            with t.case(title):
                m = marker("v6spoof")
                frames = frame_fn(m)
                frames = frames if isinstance(frames, list) else [frames] * count
                before = t.stats()
                sender.send_frames(frames)
                t.expect(before, expected, quiet=quiet)
                seen = {n: sn.count(m) for n, sn in sniffers.items() if n != sender.name and n not in seen_ok}
                check(not any(seen.values()), f"frames seen behind sgfwd: {seen}")

        qs = [("port", "vm-s"), ("vm", "s"), ("vm", "a"), ("vm", "b")]
        case(f"UDP from VM a's IPv6 address out of s: spoofed x{K}", s,
             lambda m: bytes(eth_ip6(s, inet, src_ip=a.ip6, dst_ip=e2e.INET6_IP) / udp(m)),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): K, ("vm", "a", "spoofed"): 0}, qs)
        case(f"UDP from an IPv6 address s does not have (2001:db8:1::99): spoofed x{K}", s,
             lambda m: bytes(eth_ip6(s, inet, src_ip="2001:db8:1::99", dst_ip=e2e.INET6_IP) / udp(m)),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): K}, qs)
        case(f"ICMPv6 echo to b from a's IPv6 address and MAC on s's port: spoofed x{K}", s,
             lambda m: bytes(eth_ip6(a, b) / ICMPv6EchoRequest(id=7, data=m)),
             {("port", "vm-s", "spoofed"): K, ("vm", "a", "spoofed"): 0}, qs)

        # --- neighbour discovery
        with t.case(f"NA from s claiming a's address (unicast to b, and to all-nodes): spoofed x{2 * K}; "
                    "b's neighbour cache still has a's MAC"):
            check(v6.neigh_mac(b, a.ip6) == a.mac, "b has no entry for a")
            m = marker("na-poison")
            before = t.stats()
            frames = [v6.na_frame(s.mac, s_ll, a.ip6, tll=s.mac, dst_ip=b.ip6, dst_mac=b.mac, solicited=1,
                                  payload=m) for _ in range(K)]
            frames += [v6.na_frame(s.mac, s_ll, a.ip6, tll=s.mac, payload=m) for _ in range(K)]
            s.send_frames(frames)
            t.expect(before, {("port", "vm-s", "spoofed"): 2 * K, ("vm", "s", "spoofed"): 2 * K}, quiet=qs)
            seen = {n: sn.count(m) for n, sn in sniffers.items()}
            check(not any(seen.values()), f"poisoning NAs seen behind sgfwd: {seen}")
            got = v6.neigh_mac(b, a.ip6)
            check(got == a.mac, f"b's neighbour cache for {a.ip6} says {got}, not {a.mac}")
            check(b.ping(a.ip6, count=2) == 2, "b cannot reach a after the attack")

        case(f"NA for s's own address with a forged target link-layer option (a's MAC): spoofed x{K}", s,
             lambda m: v6.na_frame(s.mac, s.ip6, s.ip6, tll=a.mac, payload=m),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): K}, qs)
        case(f"NS from s with a forged source link-layer option (a's MAC): spoofed x{K}", s,
             lambda m: v6.ns_frame(s.mac, s_ll, b.ip6, sll=a.mac, payload=m),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): K}, qs)
        case(f"NS from s with a foreign Ethernet source (and option): spoofed x{K} on the port", s,
             lambda m: v6.ns_frame(FOREIGN_MAC, s_ll, b.ip6, sll=FOREIGN_MAC, payload=m),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): 0}, qs)
        case(f"NS from s with a's link-local address (the EUI-64 of a's MAC) as source: spoofed x{K}", s,
             lambda m: v6.ns_frame(s.mac, a.link_local, b.ip6, sll=s.mac, payload=m),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): K}, qs)
        case(f"NS from s with a's IPv6 address as source: spoofed x{K}", s,
             lambda m: v6.ns_frame(s.mac, a.ip6, b.ip6, sll=s.mac, payload=m),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): K}, qs)

        with t.case(f"s's own NS for b (link-local source, its MAC in the option) x{K} and DAD NS (::) x{K} "
                    "pass to every other port, without rules"):
            m, m2 = marker("ns-own"), marker("ns-dad")
            before = t.stats()
            s.send_frames([v6.ns_frame(s.mac, s_ll, b.ip6, sll=s.mac, payload=m)] * K +
                          [v6.ns_frame(s.mac, "::", s.ip6, payload=m2)] * K)
            for n in ("a", "b", "inet"):
                check(sniffers[n].wait_count(m, K) == K, f"{n} saw {sniffers[n].count(m)} of {K} NS")
                check(sniffers[n].wait_count(m2, K) == K, f"{n} saw {sniffers[n].count(m2)} of {K} DAD NS")
            time.sleep(0.3)
            nas = len(sniffers["s"].matching(v6.is_icmp6(136, src=b.ip6)))
            check(nas >= 1, "b's answers (NA) did not reach s")
            # Neighbour discovery, like ARP, is not counted as `allowed` (only packets
            # judged by rules and DHCP are; docs/design/packet-path.md step 10).
            t.expect(before, {("vm", "s", "allowed"): 0}, quiet=qs)

        case(f"NA from :: (only solicitations may come from ::) for s's own address: spoofed x{K}", s,
             lambda m: v6.na_frame(s.mac, "::", s.ip6, tll=s.mac, payload=m),
             {("port", "vm-s", "spoofed"): K, ("vm", "s", "spoofed"): K}, qs)
        case(f"NS with hop limit 64 (RFC 4861 asks 255): malformed-l4 x{K}", s,
             lambda m: bytes(Ether(src=s.mac, dst=v6.solicited_node(b.ip6)[1]) /
                             IPv6(src=s_ll, dst=v6.solicited_node(b.ip6)[0], hlim=64) /
                             ICMPv6ND_NS(tgt=b.ip6) / ICMPv6NDOptSrcLLAddr(lladdr=s.mac)) + m,
             {("port", "vm-s", "malformed-l4"): K}, [("port", "vm-s"), ("vm", "a"), ("vm", "b")])

        # --- MLD
        def mld_report(src_ip, m):
            return bytes(Ether(src=s.mac, dst="33:33:00:00:00:16") / IPv6(src=src_ip, dst="ff02::16", hlim=1) /
                         IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
                         ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst=v6.solicited_node(s.ip6)[0])])) + m

        with t.case(f"MLDv2 reports from s (link-local source x{K}, :: x{K}) go to the uplink only"):
            m, m2 = marker("mld"), marker("mld-unspec")
            before = t.stats()
            s.send_frames([mld_report(s_ll, m)] * K + [mld_report("::", m2)] * K)
            check(sniffers["inet"].wait_count(m, K) == K, f"the uplink saw {sniffers['inet'].count(m)} of {K}")
            check(sniffers["inet"].wait_count(m2, K) == K, f"the uplink saw {sniffers['inet'].count(m2)} of {K} (::)")
            t.expect(before, {}, quiet=qs)
            seen = {n: sniffers[n].count(m) + sniffers[n].count(m2) for n in ("a", "b", "q")}
            check(not any(seen.values()), f"MLD reports reached VMs: {seen}")
        with t.case(f"MLDv1 report (131) and done (132) from s go to the uplink only (x{K} each)"):
            m = marker("mldv1")
            before = t.stats()
            frames = []
            for mld in (ICMPv6MLReport(mladdr="ff02::1:ff00:12"), ICMPv6MLDone(mladdr="ff02::1:ff00:12")):
                dst = "ff02::1:ff00:12" if isinstance(mld, ICMPv6MLReport) else "ff02::2"
                frames += [bytes(Ether(src=s.mac, dst=v6.ALL_ROUTERS_MAC if dst == "ff02::2" else "33:33:ff:00:00:12") /
                                 IPv6(src=s_ll, dst=dst, hlim=1) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
                                 mld) + m] * K
            s.send_frames(frames)
            check(sniffers["inet"].wait_count(m, 2 * K) == 2 * K, f"the uplink saw {sniffers['inet'].count(m)} of {2 * K}")
            t.expect(before, {}, quiet=qs)
            seen = {n: sniffers[n].count(m) for n in ("a", "b", "q")}
            check(not any(seen.values()), f"MLDv1 messages reached VMs: {seen}")
        case(f"an MLD query from s (link-local source): an ordinary packet, link-local x{K}", s,
             lambda m: bytes(Ether(src=s.mac, dst=v6.ALL_NODES_MAC) / IPv6(src=s_ll, dst=v6.ALL_NODES, hlim=1) /
                             IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLQuery2()) + m,
             {("port", "vm-s", "link-local"): K, ("vm", "s", "link-local"): K}, qs)

        # --- link-local
        case(f"UDP from s's global address to b's link-local address: link-local x{K}", s,
             lambda m: bytes(eth_ip6(s, b, dst_ip=b.link_local) / udp(m)),
             {("port", "vm-s", "link-local"): K, ("vm", "s", "link-local"): K}, qs)
        case(f"UDP from s's link-local address to b's link-local address: link-local x{K}", s,
             lambda m: bytes(eth_ip6(s, b, src_ip=s_ll, dst_ip=b.link_local) / udp(m)),
             {("port", "vm-s", "link-local"): K, ("vm", "s", "link-local"): K}, qs)
        case(f"ICMPv6 echo from s's link-local address to the internet's: link-local x{K}", s,
             lambda m: bytes(eth_ip6(s, inet, src_ip=s_ll, dst_ip=inet.link_local) /
                             ICMPv6EchoRequest(id=9, data=m)),
             {("port", "vm-s", "link-local"): K, ("vm", "s", "link-local"): K}, qs)
        case(f"UDP from s's link-local address to b's global address: link-local x{K}", s,
             lambda m: bytes(eth_ip6(s, b, src_ip=s_ll) / udp(m)),
             {("port", "vm-s", "link-local"): K, ("vm", "s", "link-local"): K}, qs)
        qu = [("port", "uplink"), ("vm", "a"), ("vm", "b"), ("vm", "s")]
        case(f"UDP from the uplink's link-local address to b's link-local address: link-local x{K}", inet,
             lambda m: bytes(eth_ip6(inet, b, src_ip=inet.link_local, dst_ip=b.link_local) / udp(m)),
             {("port", "uplink", "link-local"): K}, qu)
        case(f"ICMPv6 echo from the uplink's link-local address to b's global address: link-local x{K}", inet,
             lambda m: bytes(eth_ip6(inet, b, src_ip=inet.link_local) / ICMPv6EchoRequest(id=11, data=m)),
             {("port", "uplink", "link-local"): K}, qu)

        # --- router advertisements and redirects from a VM
        case(f"RA from s (its link-local address and MAC, a prefix) to all-nodes: ra-from-vm x{K}", s,
             lambda m: bytes(Ether(src=s.mac, dst=v6.ALL_NODES_MAC) / IPv6(src=s_ll, dst=v6.ALL_NODES, hlim=255) /
                             ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=s.mac) /
                             ICMPv6NDOptPrefixInfo(prefix="2001:db8:bad::", prefixlen=64)) + m,
             {("port", "vm-s", "ra-from-vm"): K, ("vm", "s", "ra-from-vm"): K}, qs)
        case(f"redirect from s to b (a's address via s): ra-from-vm x{K}", s,
             lambda m: bytes(Ether(src=s.mac, dst=b.mac) / IPv6(src=s_ll, dst=b.link_local, hlim=255) /
                             ICMPv6ND_Redirect(tgt=s_ll, dst=e2e.INET6_IP)) + m,
             {("port", "vm-s", "ra-from-vm"): K, ("vm", "s", "ra-from-vm"): K}, qs)

        # --- multicast, uplink spoofing, destination MAC
        case(f"UDP from s to all-nodes (ff02::1, 33:33:00:00:00:01): broadcast x{K}", s,
             lambda m: bytes(eth_ip6(s, b, dst_ip=v6.ALL_NODES, dst_mac=v6.ALL_NODES_MAC) / udp(m)),
             {("port", "vm-s", "broadcast"): K, ("vm", "s", "broadcast"): K}, qs)
        case(f"UDP from s to a global multicast group (ff0e::1:3): broadcast x{K}", s,
             lambda m: bytes(eth_ip6(s, b, dst_ip="ff0e::1:3", dst_mac="33:33:00:01:00:03") / udp(m)),
             {("port", "vm-s", "broadcast"): K, ("vm", "s", "broadcast"): K}, qs)
        case(f"uplink packet with local VM a's IPv6 source: spoofed x{K}", inet,
             lambda m: bytes(eth_ip6(inet, b, src_ip=a.ip6) / udp(m)),
             {("port", "uplink", "spoofed"): K, ("vm", "a", "spoofed"): 0}, qu)
        case(f"uplink NA for local VM a's address (target a, the uplink's MAC): spoofed x{K}", inet,
             lambda m: v6.na_frame(inet.mac, inet.link_local, a.ip6, tll=inet.mac, payload=m),
             {("port", "uplink", "spoofed"): K}, qu)
        case(f"uplink NS from a's link-local address (EUI-64 of a's MAC): spoofed x{K}", inet,
             lambda m: v6.ns_frame(inet.mac, a.link_local, b.ip6, sll=inet.mac, payload=m),
             {("port", "uplink", "spoofed"): K}, qu)
        case(f"uplink packet to a's IPv6 address with b's MAC: dst-mismatch x{K}", inet,
             lambda m: bytes(eth_ip6(inet, a, src_ip=e2e.INET6_IP, dst_mac=b.mac) / udp(m)),
             {("port", "uplink", "dst-mismatch"): K, ("vm", "a", "dst-mismatch"): K}, qu)
        case(f"uplink packet for an IPv6 address no local VM has: not-local x{K}", inet,
             lambda m: bytes(eth_ip6(inet, a, src_ip=e2e.INET6_IP, dst_ip="2001:db8:1::77") / udp(m)),
             {("port", "uplink", "not-local"): K}, qu)
        case(f"UDP from s to q (both with IPv6 off: silent) with their IPv6 addresses: allowed x{K}, q sees them",
             s, lambda m: bytes(eth_ip6(s, q) / udp(m)),
             {("vm", "s", "allowed"): K, ("vm", "q", "allowed"): K}, qs + [("vm", "q")], seen_ok=("q",))

        with t.case("legitimate IPv6 traffic still flows: ping -6 a <-> b, a -> internet"):
            before = t.stats()
            check(a.ping(b.ip6, count=3) == 3, "a -> b lost replies")
            check(a.ping(e2e.INET6_IP, count=3) == 3, "a -> internet lost replies")
            t.expect(before, {}, quiet=[("port", "vm-a"), ("port", "vm-b"), ("vm", "a"), ("vm", "b")])
        for sn in sniffers.values():
            sn.close()
        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
