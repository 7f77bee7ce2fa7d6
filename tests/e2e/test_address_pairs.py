#!/usr/bin/env python3
"""Allowed address pairs (docs/enforcement.md §7 "Allowed address pairs"): two VMs share
a keepalived-style VIP. The one holding it (the address on its interface, announced by
a gratuitous ARP) receives the traffic to it, the other does not; moving the VIP moves
the traffic. A VM without the pair may not use the address (spoofed, ARP included); a
pair with its own MAC is usable with that MAC only; the uplink may not claim a pair
address; a connection from the VIP counts as a member of the holder's groups."""
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether

K = 4
VIP = "10.0.1.100"
MAC_VIP = "10.0.1.200"           # a pair that comes with its own MAC
PAIR_MAC = "02:e2:e0:00:aa:01"
BCAST = "ff:ff:ff:ff:ff:ff"


def garp(h, ip, mac=None):
    """A gratuitous ARP (request for its own address, broadcast), as keepalived sends."""
    mac = mac or h.mac
    return bytes(Ether(src=mac, dst=BCAST) / ARP(op=1, hwsrc=mac, psrc=ip, hwdst="00:00:00:00:00:00", pdst=ip))


def take_vip(holder, other):
    other.run("ip", "addr", "del", f"{VIP}/32", "dev", "eth0")
    holder.run("ip", "addr", "add", f"{VIP}/32", "dev", "eth0", check=True)
    holder.send_frames([garp(holder, VIP)] * 2)


def scenario():
    with e2e.Topology("address_pairs") as t:
        pair = [{"ip": VIP}]
        a = t.vm("a", "10.0.1.10", groups=["ha"], pairs=pair)
        b = t.vm("b", "10.0.1.11", groups=["ha"], pairs=pair)
        c = t.vm("c", "10.0.1.12", groups=["backend"])
        d = t.vm("d", "10.0.1.13", groups=["ha"], pairs=[{"ip": MAC_VIP, "mac": PAIR_MAC}], silent=True)
        inet = t.inet
        e2e.sh("ip", "netns", "exec", inet.ns, "sysctl", "-q", "-w", "net.ipv4.conf.eth0.arp_accept=1")
        t.start(security_groups=[
            group("ha", rule("Ingress", "All", cidr="0.0.0.0/0"), rule("Egress", "All", cidr="0.0.0.0/0")),
            group("backend", rule("Ingress", "TCP", group="ha", port=5432, name="from-ha"),
                  rule("Egress", "All", cidr="0.0.0.0/0")),
        ])
        server_a = a.tcp_server(8080)
        b.tcp_server(8080)
        c.tcp_server(5432)
        sniffers = {h.name: h.sniffer() for h in (a, b, c, inet)}

        vip_bytes = bytes(map(int, VIP.split(".")))

        def echo_request_to_vip(f):  # IPv4, ICMP, echo request, destination the VIP
            return len(f) > 34 and f[12:14] == b"\x08\x00" and f[23] == 1 and f[30:34] == vip_bytes and \
                f[14 + (f[14] & 15) * 4] == 8

        def vip_hits():
            """Pings the VIP from the internet; returns (answered, seen by a, seen by b)."""
            for s in sniffers.values():
                s.clear()
            got = inet.ping(VIP, count=3)
            time.sleep(0.3)
            return got, len(sniffers["a"].matching(echo_request_to_vip)), len(sniffers["b"].matching(echo_request_to_vip))

        with t.case("a holds the VIP: the internet's pings and TCP reach a only"):
            take_vip(a, b)
            got, at_a, at_b = vip_hits()
            check(got == 3, f"{got} of 3 pings to the VIP answered")
            check(at_a == 3 and at_b == 0, f"echo requests to the VIP seen by a: {at_a}, by b: {at_b}")
            ok = inet.tcp_echo(VIP, 8080, payload=b"to-a")
            check(ok, "TCP to the VIP failed while a holds it")
            check(any(p[0] == e2e.INET_IP for p in server_a.peers()), "a's server saw no connection")

        with t.case("the VIP moves to b (gratuitous ARP): the traffic moves with it"):
            take_vip(b, a)
            time.sleep(0.3)
            got, at_a, at_b = vip_hits()
            check(got == 3, f"{got} of 3 pings to the VIP answered after the move")
            check(at_a == 0 and at_b == 3, f"echo requests to the VIP seen by a: {at_a}, by b: {at_b}")

        with t.case("from the VIP to a group-referenced port: the holder's pair counts as a member of ha"):
            before = t.stats()
            ok = b.tcp_echo(c.ip, 5432, src=VIP, payload=b"from-vip")
            check(ok, "TCP from the VIP (b) to c:5432 (ingress from group ha) failed")
            t.expect(before, {("rule", "backend/from-ha"): 1})

        with t.case(f"c (no pair) using the VIP as source, and its gratuitous ARP for it: spoofed x{2 * K}"):
            m = marker("vip-spoof")
            before = t.stats()
            c.send_frames([bytes(eth_ip(c, inet, src_ip=VIP) / UDP(sport=4000, dport=4001) / m)] * K)
            c.send_frames([garp(c, VIP)] * K)
            t.expect(before, {("port", "vm-c", "spoofed"): 2 * K, ("vm", "c", "spoofed"): 2 * K},
                     quiet=[("port", "vm-c"), ("vm", "c")])
            check(sniffers["inet"].count(m) == 0, "c's packet from the VIP reached the uplink")

        with t.case(f"a pair with its own MAC: usable with that MAC (x{K} pass), with the VM's MAC spoofed x{K}"):
            m = marker("pair-mac")
            before = t.stats()
            frame = bytes(Ether(src=PAIR_MAC, dst=inet.mac) / IP(src=MAC_VIP, dst=e2e.INET_IP) /
                          UDP(sport=4000, dport=4001) / m)
            d.send_frames([frame] * K)
            check(sniffers["inet"].wait_count(m, K) == K, f"uplink saw {sniffers['inet'].count(m)} of {K}")
            m2 = marker("pair-wrong-mac")
            d.send_frames([bytes(eth_ip(d, inet, src_ip=MAC_VIP) / UDP(sport=4000, dport=4001) / m2)] * K)
            t.expect(before, {("port", "vm-d", "spoofed"): K, ("vm", "d", "spoofed"): K, ("vm", "d", "allowed"): K},
                     quiet=[("port", "vm-d"), ("vm", "d")])
            check(sniffers["inet"].count(m2) == 0, "a pair address with the VM's own MAC got through")

        with t.case(f"the uplink claiming the VIP as source: spoofed x{K}"):
            m = marker("uplink-vip")
            before = t.stats()
            inet.send_frames([bytes(eth_ip(inet, c, src_ip=VIP) / UDP(sport=4000, dport=4001) / m)] * K)
            t.expect(before, {("port", "uplink", "spoofed"): K}, quiet=[("port", "uplink")])
            check(sniffers["c"].count(m) == 0, "c received a packet from the uplink claiming the VIP")

        with t.case(f"to the VIP with a MAC of neither owner: dst-mismatch x{K}"):
            m = marker("vip-wrong-mac")
            before = t.stats()
            inet.send_frames([bytes(eth_ip(inet, c, dst_ip=VIP) / ICMP(type=8, id=7) / m)] * K)
            t.expect(before, {("port", "uplink", "dst-mismatch"): K}, quiet=[("port", "uplink")])
            check(sniffers["c"].count(m) == 0, "c received traffic for the VIP")

        for s in sniffers.values():
            s.close()
        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
