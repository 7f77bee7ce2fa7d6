#!/usr/bin/env python3
"""IPv6 allowed address pairs (semantics §7 "Allowed address pairs", docs/enforcement.md
§7.2-§7.4): two VMs share a keepalived-style IPv6 VIP. The holder (the address on its
interface, announced by an unsolicited neighbour advertisement, the IPv6 gratuitous
ARP) receives the internet's ping -6, the other does not; moving the VIP moves the
traffic. A VM without the pair may not use or announce the address (`spoofed`), nor
may the uplink; the VIP with a MAC of neither owner is `dst-mismatch`."""
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip6, marker
import ipv6_e2e as v6
from scapy.layers.inet import UDP

K = 4
VIP = "2001:db8:1::100"


def unsolicited_na(h, m=b""):
    return v6.na_frame(h.mac, VIP, VIP, tll=h.mac, payload=m)


def take_vip(holder, other):
    other.run("ip", "-6", "addr", "del", f"{VIP}/128", "dev", "eth0")
    holder.run("ip", "-6", "addr", "add", f"{VIP}/128", "dev", "eth0", "nodad", check=True)
    holder.send_frames([unsolicited_na(holder)] * 2)
    time.sleep(0.2)


def scenario():
    with e2e.Topology("v6-address-pairs", ipv6=True) as t:
        pair = [{"ip": VIP}]
        a = t.vm("a", ["10.0.1.10", "2001:db8:1::10"], groups=["ha"], pairs=pair, ipv6=True)
        b = t.vm("b", ["10.0.1.11", "2001:db8:1::11"], groups=["ha"], pairs=pair, ipv6=True)
        c = t.vm("c", ["10.0.1.12", "2001:db8:1::12"], groups=["ha"])  # IPv6 off, no pair: crafted frames
        inet = t.inet
        t.start(security_groups=[group("ha", rule("Ingress", "All", cidr="::/0"), rule("Egress", "All", cidr="::/0"))])
        sniffers = {h.name: h.sniffer() for h in (a, b, c, inet)}
        vip_b = v6.ip6_bytes(VIP)

        def echo_requests_to_vip(f):
            return v6.icmp6_type(f) == 128 and f[38:54] == vip_b

        def vip_hits():
            for s in sniffers.values():
                s.clear()
            got = inet.ping(VIP, count=3)
            time.sleep(0.3)
            return got, len(sniffers["a"].matching(echo_requests_to_vip)), \
                len(sniffers["b"].matching(echo_requests_to_vip))

        with t.case("a holds the VIP (unsolicited NA passes): the internet's ping -6 reaches a only"):
            before = t.stats()
            take_vip(a, b)
            got, at_a, at_b = vip_hits()
            check(got == 3, f"{got} of 3 pings to the VIP answered")
            check(at_a == 3 and at_b == 0, f"echo requests to the VIP seen by a: {at_a}, by b: {at_b}")
            check(v6.neigh_mac(inet, VIP) == a.mac, f"the internet's neighbour entry: {v6.neigh_mac(inet, VIP)}")
            t.expect(before, {}, quiet=[("port", "vm-a"), ("port", "vm-b"), ("port", "uplink")])

        with t.case("the VIP moves to b (unsolicited NA): the traffic moves with it"):
            take_vip(b, a)
            check(v6.neigh_mac(inet, VIP) == b.mac, f"the internet's neighbour entry: {v6.neigh_mac(inet, VIP)}")
            got, at_a, at_b = vip_hits()
            check(got == 3, f"{got} of 3 pings to the VIP answered")
            check(at_b == 3 and at_a == 0, f"echo requests to the VIP seen by a: {at_a}, by b: {at_b}")
            check(b.ping(e2e.INET6_IP, count=2) == 2, "b cannot reach the internet")

        def case(title, sender, frame_fn, expected, quiet):
            with t.case(title):
                m = marker("v6pair")
                before = t.stats()
                sender.send_frames([frame_fn(m)] * K)
                t.expect(before, expected, quiet=quiet)
                seen = {n: s.count(m) for n, s in sniffers.items() if n != sender.name}
                check(not any(seen.values()), f"frames seen behind sgfwd: {seen}")

        qc = [("port", "vm-c"), ("vm", "c")]
        case(f"c (no pair) announcing the VIP with an unsolicited NA: spoofed x{K}", c,
             lambda m: unsolicited_na(c, m), {("port", "vm-c", "spoofed"): K, ("vm", "c", "spoofed"): K}, qc)
        case(f"c (no pair) sending from the VIP: spoofed x{K}", c,
             lambda m: bytes(eth_ip6(c, inet, src_ip=VIP, dst_ip=e2e.INET6_IP) / UDP(sport=4000, dport=4001) / m),
             {("port", "vm-c", "spoofed"): K, ("vm", "c", "spoofed"): K}, qc)
        case(f"the uplink sending from the VIP: spoofed x{K}", inet,
             lambda m: bytes(eth_ip6(inet, c, src_ip=VIP) / UDP(sport=4000, dport=4001) / m),
             {("port", "uplink", "spoofed"): K}, [("port", "uplink")])
        case(f"the uplink's NA for the VIP: spoofed x{K}", inet,
             lambda m: v6.na_frame(inet.mac, inet.link_local, VIP, tll=inet.mac, payload=m),
             {("port", "uplink", "spoofed"): K}, [("port", "uplink")])
        case(f"to the VIP with a MAC of neither owner (c's): dst-mismatch x{K}", inet,
             lambda m: bytes(eth_ip6(inet, c, src_ip=e2e.INET6_IP, dst_ip=VIP) / UDP(sport=4000, dport=4001) / m),
             {("port", "uplink", "dst-mismatch"): K}, [("port", "uplink")])

        for s in sniffers.values():
            s.close()
        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
