#!/usr/bin/env python3
"""default-allow-egress: a VM without groups reaches the internet and other VMs;
nothing reaches it unasked (docs/enforcement.md §2).

The outbound direction is checked where it lands (one-way UDP into sink servers, echo
requests sniffed at the receiver), each datagram from its own source port: the counts
are then the same whether or not the daemon tracks connections (replies to such a VM
pass only with connection tracking)."""
import socket
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group


def scenario():
    with e2e.Topology("default-egress") as t:
        plain = t.vm("plain", "10.0.1.10")                        # no securityGroups
        empty = t.vm("empty", "10.0.1.11", groups=[])             # [] is the same
        peer = t.vm("peer", "10.0.1.20", groups=["open"])
        inet = t.inet
        t.start(security_groups=[
            group("open", rule("Ingress", "All", cidr="0.0.0.0/0"),
                  rule("Egress", "All", cidr="0.0.0.0/0")),
        ])
        udp_inet = inet.udp_server(5353, echo=False)
        udp_peer = peer.udp_server(5353, echo=False)

        with t.case("no groups: UDP to the internet leaves by the uplink"):
            before = t.stats()
            plain.udp_send(e2e.INET_IP, 5353, b"plain-out", count=5, separate=True)
            t.expect(before, {("vm", "plain", "allowed"): 5,
                              ("rule", "default-allow-egress/egress-all"): 5},
                     quiet=[("port", "vm-plain")])
            check(udp_inet.count(b"plain-out") == 5, f"inet got {udp_inet.count(b'plain-out')} of 5")

        with t.case("groups: [] also gets default-allow-egress"):
            before = t.stats()
            empty.udp_send(peer.ip, 5353, b"empty-out", count=3, separate=True)
            t.expect(before, {("vm", "empty", "allowed"): 3, ("vm", "peer", "allowed"): 3,
                              ("rule", "default-allow-egress/egress-all"): 3, ("rule", "open/rule-0"): 3},
                     quiet=[("port", "vm-empty")])
            check(udp_peer.count(b"empty-out") == 3, f"peer got {udp_peer.count(b'empty-out')} of 3")

        with t.case("no groups: ICMP echo requests reach the internet (3 sniffed there)"):
            with inet.sniffer() as snif:
                plain.ping(e2e.INET_IP, count=3)  # replies pass only with connection tracking
                time.sleep(0.2)
                requests = snif.matching(lambda f: f[12:14] == b"\x08\x00" and f[23] == 1 and
                                         f[26:30] == socket.inet_aton(plain.ip) and f[34] == 8)
            check(len(requests) == 3, f"{len(requests)} echo requests arrived")

        with t.case("no groups: inbound ping from the internet denied (no-rule x3)"):
            before = t.stats()
            got = inet.ping(plain.ip, count=3)
            check(got == 0, f"{got} replies")
            t.expect(before, {("vm", "plain", "no-rule"): 3, ("port", "uplink", "no-rule"): 3,
                              ("vm", "plain", "allowed"): 0},
                     quiet=[("port", "uplink"), ("vm", "plain")])

        with t.case("no groups: inbound UDP and TCP from another VM denied"):
            srv = plain.udp_server(7000)
            tsrv = plain.tcp_server(7001)
            before = t.stats()
            check(not peer.udp_echo(plain.ip, 7000, timeout=0.5), "UDP got through")
            check(not peer.tcp_echo(plain.ip, 7001, timeout=0.7), "TCP got through")
            # peer's egress allows, plain's ingress denies: "allowed" counts packets
            # that passed every check, so peer gets none.
            t.expect(before, {("vm", "plain", "no-rule"): 2, ("port", "vm-peer", "no-rule"): 2,
                              ("vm", "peer", "allowed"): 0},
                     quiet=[("port", "vm-peer"), ("vm", "plain")])
            check(srv.count() == 0 and not tsrv.connections, "server saw traffic")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
