#!/usr/bin/env python3
"""Malformed and unsupported frames (docs/enforcement.md §5-6, catalogue M01-M09, M16, M17): each
kind, sent from a VM with its real MAC and addresses towards an allowed destination, is
dropped with its exact reason counter and seen nowhere; well-formed oddities (Ethernet
padding, IPv4 options) are still judged correctly; the daemon keeps serving."""
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import IP, TCP, UDP, ICMP, IPOption
from scapy.layers.inet6 import IPv6, IPv6ExtHdrRouting
from scapy.layers.l2 import ARP, Dot1Q, Dot1AD, Ether
from scapy.packet import Padding, Raw

K = 3
GROUPS = [
    # Egress only to UDP 9999 and ICMP: a parser reading ports at a wrong offset would
    # turn the allowed packets below into no-rule drops.
    group("probe", rule("Egress", "UDP", port=9999, cidr="0.0.0.0/0", name="udp-9999"),
          rule("Egress", "ICMP", cidr="0.0.0.0/0", name="icmp-out"),
          rule("Ingress", "ICMP", cidr="0.0.0.0/0", name="icmp-in")),
]


def malformed_cases(a, inet):
    """(title, reason, frame builder taking a marker). Every frame carries a's MAC and
    address and is aimed at the internet namespace on UDP 9999 unless its defect is
    exactly that it cannot be."""
    ip = lambda **kw: eth_ip(a, inet, **kw)  # noqa: E731
    udp = lambda m: UDP(sport=40000, dport=9999) / m  # noqa: E731

    def trunc(pkt, n):
        return bytes(pkt)[:n]

    def set_byte(b, off, val):
        b = bytearray(b)
        b[off] = val
        return bytes(b)

    return [
        ("truncated IPv4 header (10 of 20 bytes)", "malformed-ipv4",
         lambda m: trunc(ip() / udp(m), 14 + 10)),
        ("IPv4 IHL 4 (< 5)", "malformed-ipv4",
         lambda m: bytes(ip(ihl=4) / udp(m))),
        ("IPv4 IHL 15 past the frame", "malformed-ipv4",
         lambda m: bytes(ip(ihl=15) / Raw(b"\0" * 10))),
        ("IPv4 total length past the frame", "malformed-ipv4",
         lambda m: bytes(ip(len=400) / udp(m))),
        ("IPv4 total length below the header", "malformed-ipv4",
         lambda m: bytes(ip(len=12) / udp(m))),
        ("IPv4 version 6 in an IPv4 ethertype", "malformed-ipv4",
         lambda m: bytes(ip(version=6) / udp(m))),
        ("IPv4 bad header checksum", "malformed-ipv4",
         lambda m: bytes(ip(chksum=0x1234) / udp(m))),
        ("truncated TCP header (10 bytes)", "malformed-l4",
         lambda m: bytes(ip(proto=6) / Raw(bytes(TCP(sport=1, dport=9999))[:10]))),
        ("TCP data offset 4 (< 5)", "malformed-l4",
         lambda m: bytes(ip() / TCP(sport=1, dport=9999, dataofs=4) / m)),
        ("TCP data offset past the segment", "malformed-l4",
         lambda m: bytes(ip() / TCP(sport=1, dport=9999, dataofs=15))),
        ("truncated UDP header (4 bytes)", "malformed-l4",
         lambda m: bytes(ip(proto=17) / Raw(bytes(UDP(sport=40000, dport=9999))[:4]))),
        ("UDP length past the datagram", "malformed-l4",
         lambda m: bytes(ip() / UDP(sport=40000, dport=9999, len=200) / m)),
        ("UDP length 4 (< 8)", "malformed-l4",
         lambda m: bytes(ip() / UDP(sport=40000, dport=9999, len=4) / m)),
        ("truncated ICMP header (4 bytes)", "malformed-l4",
         lambda m: bytes(ip(proto=1) / Raw(bytes(ICMP())[:4]))),
        ("truncated ARP (20 of 28 bytes)", "malformed-l2",
         lambda m: trunc(Ether(src=a.mac, dst="ff:ff:ff:ff:ff:ff") /
                         ARP(hwsrc=a.mac, psrc=a.ip, pdst=inet.ip), 14 + 20)),
        ("ARP with hardware length 8", "malformed-l2",
         lambda m: set_byte(bytes(Ether(src=a.mac, dst="ff:ff:ff:ff:ff:ff") /
                                  ARP(hwsrc=a.mac, psrc=a.ip, pdst=inet.ip) / Padding(load=m)), 14 + 4, 8)),
        ("IPv6 with a type 0 routing header (RFC 5095)", "ipv6-routing-type0",
         lambda m: bytes(Ether(src=a.mac, dst=inet.mac) / IPv6(src="fd00::1", dst="fd00::2") /
                         IPv6ExtHdrRouting(type=0, addresses=["fd00::3"], segleft=1) / udp(m))),
        ("ethertype 0x88b5 (local experimental)", "unsupported-ethertype",
         lambda m: bytes(Ether(src=a.mac, dst=inet.mac, type=0x88b5) / Raw(m))),
        ("802.1Q VLAN-tagged IPv4", "vlan-tagged",
         lambda m: bytes(Ether(src=a.mac, dst=inet.mac) / Dot1Q(vlan=5) /
                         IP(src=a.ip, dst=inet.ip) / udp(m))),
        ("802.1ad (QinQ) tagged IPv4", "vlan-tagged",
         lambda m: bytes(Ether(src=a.mac, dst=inet.mac) / Dot1AD(vlan=7) / Dot1Q(vlan=5) /
                         IP(src=a.ip, dst=inet.ip) / udp(m))),
    ]


def fragment_cases(f, inet):
    ip = lambda **kw: eth_ip(f, inet, **kw)  # noqa: E731
    return [
        ("first fragment too short for the UDP header", "fragment-invalid",
         lambda m: bytes(ip(proto=17, flags="MF", id=77) / Raw(b"\x9c\x40\x27"))),
        ("fragment at offset 1 (RFC 1858)", "fragment-invalid",
         lambda m: bytes(ip(proto=17, frag=1, id=78) / Raw(m))),
        ("non-first fragment without a first (orphan)", "fragment-orphan",
         lambda m: bytes(ip(proto=17, frag=100, id=79) / Raw(m))),
    ]


def scenario():
    with e2e.Topology("malformed") as t:
        a = t.vm("a", "10.0.1.10", groups=["probe"])
        # Fragments: af_packet's fanout defrag would reassemble (or hold) them in the
        # kernel, so this VM's port is a net_pcap one (see Topology.vm).
        f = t.vm("f", "10.0.1.11", groups=["probe"], driver="pcap")
        inet = t.inet
        t.start(security_groups=GROUPS)
        server = inet.udp_server(9999, echo=False)
        snif = inet.sniffer()

        for vm, title, reason, build in ([(a,) + c for c in malformed_cases(a, inet)] +
                                         [(f,) + c for c in fragment_cases(f, inet)]):
            with t.case(f"{title}: {reason} x{K}"):
                m = marker("bad")
                frame = build(m)
                before = t.stats()
                snif.clear()
                vm.send_frames([frame] * K)
                expected = {("port", vm.port, reason): K, ("port", vm.port, "rx"): K,
                            ("port", "uplink", "tx"): 0}
                # Parser drops happen before the VM is known: only pipeline drops
                # (fragment-orphan) are also counted against the VM.
                expected[("vm", vm.name, reason)] = K if reason == "fragment-orphan" else 0
                t.expect(before, expected, quiet=[("port", vm.port), ("vm", vm.name)])
                check(not snif.matching(lambda f: f[12:14] != b"\x08\x06"), "a frame reached the internet")
                check(server.count() == 0, "the UDP server received a datagram")

        with t.case("Ethernet padding beyond the IPv4 total length is ignored: the datagram passes"):
            m = marker("pad")
            before = t.stats()
            # Each from its own source port: K connections, K hits (with or without
            # connection tracking).
            a.send_frames([bytes(eth_ip(a, inet) / UDP(sport=41000 + i, dport=9999) / m / Padding(load=b"\xff" * 40))
                           for i in range(K)])
            t.expect(before, {("vm", "a", "allowed"): K, ("rule", "probe/udp-9999"): K},
                     quiet=[("port", "vm-a"), ("vm", "a")])
            check(server.count(m) == K, f"server got {server.count(m)} of {K}")

        with t.case("IPv4 options (IHL 6): ports read after the options, UDP 9999 allowed"):
            m = marker("opts")
            before = t.stats()
            pkts = [eth_ip(a, inet, options=[IPOption(b"\x94\x04\x00\x00")]) / UDP(sport=42000 + i, dport=9999) / m
                    for i in range(K)]
            check(bytes(pkts[0])[14] == 0x46, "IHL is not 6")
            a.send_frames([bytes(p) for p in pkts])
            t.expect(before, {("vm", "a", "allowed"): K, ("rule", "probe/udp-9999"): K},
                     quiet=[("port", "vm-a"), ("vm", "a")])
            check(snif.wait_count(m, K) == K, f"internet saw {snif.count(m)} of {K}")

        with t.case("IPv4 options: UDP 9998 still denied (no-rule)"):
            before = t.stats()
            pkt = eth_ip(a, inet, options=[IPOption(b"\x94\x04\x00\x00")]) / UDP(sport=9999, dport=9998) / b"x"
            a.send_frames([bytes(pkt)] * K)
            t.expect(before, {("vm", "a", "no-rule"): K, ("port", "vm-a", "no-rule"): K},
                     quiet=[("port", "vm-a"), ("vm", "a")])

        with t.case("the daemon still serves: ping a -> internet"):
            check(a.ping(e2e.INET_IP, count=3) == 3, "ping lost replies")
        snif.close()
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
