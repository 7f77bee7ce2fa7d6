#!/usr/bin/env python3
"""Anti-spoofing and forwarding checks (docs/enforcement.md §5): a VM's port accepts only its
MAC with its addresses (ARP included); the uplink may not claim a local VM's address;
an IP packet for a local VM must carry that VM's MAC; IPv4 broadcast/multicast and
uplink traffic for no local VM are dropped. Every crafted frame is dropped with exactly
one `spoofed` / `dst-mismatch` / `broadcast` / `not-local` count, none is seen by any
namespace, and the daemon keeps forwarding legitimate traffic."""
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import ICMP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Padding

K = 4
FOREIGN_MAC = "02:e2:e0:00:99:99"
BCAST = "ff:ff:ff:ff:ff:ff"


def arp(eth_src, eth_dst, op, sha, spa, tha, tpa, m):
    return bytes(Ether(src=eth_src, dst=eth_dst) /
                 ARP(op=op, hwsrc=sha, psrc=spa, hwdst=tha, pdst=tpa) / Padding(load=m))


def scenario():
    with e2e.Topology("antispoof") as t:
        a = t.vm("a", "10.0.1.10", groups=["open"])
        b = t.vm("b", "10.0.1.11", groups=["open"])
        inet = t.inet
        t.start(security_groups=[group("open", rule("Ingress", "All", cidr="0.0.0.0/0"),
                                       rule("Egress", "All", cidr="0.0.0.0/0"))])
        sniffers = [h.sniffer() for h in (a, b, inet)]

        def case(title, sender, frame_fn, expected, quiet):
            with t.case(title):
                m = marker("spoof")
                frame = frame_fn(m)
                before = t.stats()
                sender.send_frames([frame] * K)
                t.expect(before, expected, quiet=quiet)
                seen = {s.host.name: s.count(m) for s in sniffers if s.host is not sender}
                check(not any(seen.values()), f"frames seen behind sgfwd: {seen}")

        udp = lambda m: UDP(sport=4000, dport=4001) / m  # noqa: E731

        case(f"foreign source IP from VM a: spoofed x{K}", a,
             lambda m: bytes(eth_ip(a, b, src_ip="10.0.1.99") / udp(m)),
             {("port", "vm-a", "spoofed"): K, ("vm", "a", "spoofed"): K},
             [("port", "vm-a"), ("vm", "a"), ("vm", "b")])
        case(f"VM b's source IP from VM a (a's MAC): spoofed x{K}", a,
             lambda m: bytes(eth_ip(a, inet, src_ip=b.ip) / udp(m)),
             {("port", "vm-a", "spoofed"): K, ("vm", "a", "spoofed"): K, ("vm", "b", "spoofed"): 0},
             [("port", "vm-a"), ("vm", "a"), ("vm", "b")])
        case(f"foreign source MAC from VM a (a's IP): spoofed x{K} on the port", a,
             lambda m: bytes(eth_ip(a, b, src_mac=FOREIGN_MAC) / udp(m)),
             {("port", "vm-a", "spoofed"): K, ("vm", "a", "spoofed"): 0},
             [("port", "vm-a"), ("vm", "a"), ("vm", "b")])
        case(f"VM b's MAC and IP sent on VM a's port: spoofed x{K}", a,
             lambda m: bytes(eth_ip(b, inet) / udp(m)),
             {("port", "vm-a", "spoofed"): K, ("vm", "b", "spoofed"): 0},
             [("port", "vm-a"), ("vm", "a"), ("vm", "b")])
        case(f"ARP request from a claiming b's IP: spoofed x{K}", a,
             lambda m: arp(a.mac, BCAST, 1, a.mac, b.ip, "00:00:00:00:00:00", e2e.INET_IP, m),
             {("port", "vm-a", "spoofed"): K, ("vm", "a", "spoofed"): K},
             [("port", "vm-a"), ("vm", "a")])
        case(f"ARP reply from a with a foreign sender MAC: spoofed x{K}", a,
             lambda m: arp(a.mac, b.mac, 2, FOREIGN_MAC, a.ip, b.mac, b.ip, m),
             {("port", "vm-a", "spoofed"): K, ("vm", "a", "spoofed"): K},
             [("port", "vm-a"), ("vm", "a")])
        case(f"ARP request from a foreign Ethernet source on a's port: spoofed x{K}", a,
             lambda m: arp(FOREIGN_MAC, BCAST, 1, FOREIGN_MAC, "10.0.1.99", "00:00:00:00:00:00", b.ip, m),
             {("port", "vm-a", "spoofed"): K, ("vm", "a", "spoofed"): 0},
             [("port", "vm-a"), ("vm", "a")])
        case(f"uplink packet with local VM a's source address: spoofed x{K}", inet,
             lambda m: bytes(eth_ip(inet, b, src_ip=a.ip) / udp(m)),
             {("port", "uplink", "spoofed"): K, ("vm", "a", "spoofed"): 0, ("vm", "b", "spoofed"): 0},
             [("port", "uplink"), ("vm", "a"), ("vm", "b")])
        case(f"uplink ARP claiming local VM a's address: spoofed x{K}", inet,
             lambda m: arp(inet.mac, BCAST, 1, inet.mac, a.ip, "00:00:00:00:00:00", b.ip, m),
             {("port", "uplink", "spoofed"): K},
             [("port", "uplink"), ("vm", "a"), ("vm", "b")])
        case(f"uplink packet to a's IP with b's MAC: dst-mismatch x{K}", inet,
             lambda m: bytes(eth_ip(inet, a, dst_mac=b.mac) / udp(m)),
             {("port", "uplink", "dst-mismatch"): K, ("vm", "a", "dst-mismatch"): K},
             [("port", "uplink"), ("vm", "a"), ("vm", "b")])
        case(f"VM b to a's IP with the internet's MAC: dst-mismatch x{K}", b,
             lambda m: bytes(eth_ip(b, a, dst_mac=inet.mac) / udp(m)),
             {("port", "vm-b", "dst-mismatch"): K, ("vm", "b", "dst-mismatch"): K},
             [("port", "vm-b"), ("vm", "a"), ("vm", "b")])
        case(f"ICMP from VM a with b's source IP to the internet: spoofed x{K}", a,
             lambda m: bytes(eth_ip(a, inet, src_ip=b.ip) / ICMP() / m),
             {("port", "vm-a", "spoofed"): K, ("vm", "a", "spoofed"): K},
             [("port", "vm-a"), ("vm", "a")])

        case(f"IPv4 broadcast (ff:ff:ff:ff:ff:ff, 255.255.255.255) from a: broadcast x{K}", a,
             lambda m: bytes(eth_ip(a, inet, dst_mac=BCAST, dst_ip="255.255.255.255") / udp(m)),
             {("port", "vm-a", "broadcast"): K, ("vm", "a", "broadcast"): K},
             [("port", "vm-a"), ("vm", "a")])
        case(f"IPv4 multicast (01:00:5e:00:00:fb, 224.0.0.251) from a: broadcast x{K}", a,
             lambda m: bytes(eth_ip(a, inet, dst_mac="01:00:5e:00:00:fb", dst_ip="224.0.0.251") / udp(m)),
             {("port", "vm-a", "broadcast"): K, ("vm", "a", "broadcast"): K},
             [("port", "vm-a"), ("vm", "a")])
        case(f"uplink packet for an address no local VM has: not-local x{K}", inet,
             lambda m: bytes(eth_ip(inet, a, dst_ip="10.0.7.7") / udp(m)),
             {("port", "uplink", "not-local"): K},
             [("port", "uplink"), ("vm", "a"), ("vm", "b")])

        with t.case("legitimate traffic still flows: a <-> b and a -> internet ping"):
            before = t.stats()
            check(a.ping(b.ip, count=3) == 3, "a -> b lost replies")
            check(b.ping(a.ip, count=3) == 3, "b -> a lost replies")
            check(a.ping(e2e.INET_IP, count=3) == 3, "a -> internet lost replies")
            t.expect(before, {}, quiet=[("port", "vm-a"), ("port", "vm-b"), ("port", "uplink")])
        for s in sniffers:
            s.close()
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
