#!/usr/bin/env python3
"""Protocol All means every IP protocol (docs/enforcement.md §3): crafted SCTP (132), IP-in-IP
(4) and GRE (47) packets pass an All rule set and are seen at the receiver; a TCP-only
rule set drops them, on egress and on ingress, with exact no-rule counts.

Each packet of a kind comes from a different source address of the sender and the
receivers are silent (their kernels own no address, so they never answer): every packet
is a new connection and the counts are exact with or without connection tracking."""
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import GRE
from scapy.layers.sctp import SCTP, SCTPChunkData

N = 5
PROTOS = (("sctp", 132), ("ipip", 4), ("gre", 47))

GROUPS = [
    group("out-all", rule("Egress", "All", cidr="0.0.0.0/0", name="all")),
    group("out-tcp", rule("Egress", "TCP", cidr="0.0.0.0/0", name="tcp")),
    group("in-all", rule("Ingress", "All", cidr="0.0.0.0/0", name="all")),
    group("in-tcp", rule("Ingress", "TCP", cidr="0.0.0.0/0", name="tcp")),
]


def packets(src, dst, tag, dst_ip=None):
    """N of each protocol from src (packet i from src.ips[i]) to dst; returns
    ({proto: marker}, [frames])."""
    marks, frames = {}, []
    for name, num in PROTOS:
        m = marker(f"{tag}-{name}")
        marks[num] = m
        for i in range(N):
            base = eth_ip(src, dst, src_ip=src.ips[i], dst_ip=dst_ip)
            if num == 132:
                pkt = base / SCTP(sport=3868, dport=3868) / SCTPChunkData(data=m)
            elif num == 4:
                pkt = base / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=1, dport=2) / m
            else:
                pkt = base / GRE(proto=0x0800) / IP(src="192.0.2.1", dst="192.0.2.2") / UDP() / m
            b = bytes(pkt)
            assert b[23] == num, (name, b[23])
            frames.append(b)
    return marks, frames


def arrived(sniffer, marks, expect):
    """Counts per protocol of frames carrying the marker, after waiting for `expect`."""
    got = {}
    for num, m in marks.items():
        got[num] = sniffer.wait_count(m, expect, timeout=2.0 if expect else 0.5)
        for f in sniffer.matching(lambda f: m in f):
            check(f[23] == num, f"protocol byte {f[23]} != {num}")
    return got


def scenario():
    with e2e.Topology("protocol-all") as t:
        tx = t.vm("tx", [f"10.0.1.{10 + i}" for i in range(N)], groups=["out-all"])
        txtcp = t.vm("txtcp", [f"10.0.2.{10 + i}" for i in range(N)], groups=["out-tcp"])
        rxall = t.vm("rxall", "10.0.3.20", groups=["in-all"], silent=True)
        rxtcp = t.vm("rxtcp", "10.0.3.21", groups=["in-tcp"], silent=True)
        inet = t.inet
        t.start(security_groups=GROUPS)
        snif = {h.name: h.sniffer() for h in (rxall, rxtcp, inet)}

        with t.case(f"All/All: SCTP, IP-in-IP and GRE tx -> rxall arrive ({N} each)"):
            before = t.stats()
            marks, frames = packets(tx, rxall, "all")
            tx.send_frames(frames)
            got = arrived(snif["rxall"], marks, N)
            check(all(v == N for v in got.values()), f"arrived {got}")
            t.expect(before, {("vm", "tx", "allowed"): 3 * N, ("vm", "rxall", "allowed"): 3 * N,
                              ("rule", "out-all/all"): 3 * N, ("rule", "in-all/all"): 3 * N,
                              ("port", "vm-rxall", "tx"): 3 * N},
                     quiet=[("port", "vm-tx"), ("vm", "tx"), ("vm", "rxall")])

        with t.case("All egress over the uplink: SCTP, IP-in-IP and GRE reach the internet"):
            before = t.stats()
            # To an address the internet namespace does not own: its kernel stays quiet.
            marks, frames = packets(tx, inet, "uplink", dst_ip="198.51.100.9")
            tx.send_frames(frames)
            got = arrived(snif["inet"], marks, N)
            check(all(v == N for v in got.values()), f"arrived {got}")
            t.expect(before, {("vm", "tx", "allowed"): 3 * N, ("rule", "out-all/all"): 3 * N,
                              ("port", "uplink", "tx"): 3 * N},
                     quiet=[("port", "vm-tx"), ("vm", "tx")])

        with t.case(f"TCP-only ingress drops SCTP, IP-in-IP and GRE (no-rule x{3 * N} on rxtcp)"):
            before = t.stats()
            marks, frames = packets(tx, rxtcp, "intcp")
            tx.send_frames(frames)
            t.expect(before, {("vm", "rxtcp", "no-rule"): 3 * N, ("port", "vm-tx", "no-rule"): 3 * N,
                              ("vm", "rxtcp", "allowed"): 0, ("rule", "in-tcp/tcp"): 0},
                     quiet=[("port", "vm-tx"), ("vm", "rxtcp")])
            got = arrived(snif["rxtcp"], marks, 0)
            check(not any(got.values()), f"arrived {got}")

        with t.case("TCP-only ingress still admits TCP (crafted SYN seen at rxtcp)"):
            before = t.stats()
            m = marker("syn")
            tx.send_frames([bytes(eth_ip(tx, rxtcp) / TCP(sport=40000, dport=9, flags="S") / m)])
            check(snif["rxtcp"].wait_count(m, 1) == 1, "SYN not seen")
            t.expect(before, {("rule", "in-tcp/tcp"): 1, ("vm", "rxtcp", "allowed"): 1},
                     quiet=[("port", "vm-tx"), ("vm", "rxtcp")])

        with t.case(f"TCP-only egress drops SCTP, IP-in-IP and GRE (no-rule x{3 * N} on txtcp)"):
            before = t.stats()
            marks, frames = packets(txtcp, rxall, "outtcp")
            txtcp.send_frames(frames)
            t.expect(before, {("vm", "txtcp", "no-rule"): 3 * N, ("port", "vm-txtcp", "no-rule"): 3 * N,
                              ("rule", "out-tcp/tcp"): 0},
                     quiet=[("port", "vm-txtcp"), ("vm", "txtcp")])
            got = arrived(snif["rxall"], marks, 0)
            check(not any(got.values()), f"arrived {got}")
        for s in snif.values():
            s.close()
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
