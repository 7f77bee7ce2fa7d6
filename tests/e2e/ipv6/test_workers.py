#!/usr/bin/env python3
"""IPv6 with 2 workers (every port 2 queue pairs, net_af_packet qpairs=2; the kernel
fans flows out over the queues): ping -6, many TCP and UDP flows, fragmented UDP
datagrams (af_packet's fanout defragments IPv4 only: IPv6 fragments reach sgfwd as
sent), and exact drop counts summed over the workers; the workers' packets sum to the
ports' rx."""
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, marker

BIG = 4000


def scenario():
    with e2e.Topology("v6-workers", workers=2, qpairs=2, ipv6=True) as t:
        a = t.vm("a", ["10.0.1.10", "2001:db8:1::10"], groups=["open"], ipv6=True)
        b = t.vm("b", ["10.0.1.11", "2001:db8:1::11"], groups=["open"], ipv6=True)
        c = t.vm("c", ["10.0.1.12", "2001:db8:1::12"], groups=["default-allow-ssh"], ipv6=True)
        inet = t.inet
        t.start(security_groups=[group("open", rule("Egress", "All", cidr="::/0"),
                                       rule("Ingress", "All", cidr="::/0"))])
        b.tcp_server(8080, "::")
        b.udp_server(5353, "::")
        inet.tcp_server(443, "::")
        inet.udp_server(53, "::")
        quiet = [("vm", "a"), ("vm", "b"), ("port", "vm-a"), ("port", "vm-b")]

        with t.case("2 workers: ping -6 a <-> b and a -> internet"):
            check(a.ping(b.ip6, count=3) == 3, "a -> b lost replies")
            check(b.ping(a.ip6, count=3) == 3, "b -> a lost replies")
            check(a.ping(e2e.INET6_IP, count=3) == 3, "a -> internet lost replies")

        with t.case("2 workers: 20 TCP connections and 20 UDP round trips over IPv6 (many flows, both queues)"):
            before = t.stats()
            ok_tcp = sum(a.tcp_echo(b.ip6, 8080) for _ in range(10)) + \
                sum(b.tcp_echo(e2e.INET6_IP, 443) for _ in range(10))
            ok_udp = sum(a.udp_echo(b.ip6, 5353) for _ in range(10)) + \
                sum(a.udp_echo(e2e.INET6_IP, 53) for _ in range(10))
            check(ok_tcp == 20 and ok_udp == 20, f"TCP {ok_tcp}/20, UDP {ok_udp}/20")
            t.expect(before, {}, quiet=quiet)

        with t.case(f"2 workers: 20 fragmented UDP round trips ({BIG} bytes, 3 fragments each way)"):
            before = t.stats()
            ok = sum(a.udp_echo(b.ip6, 5353, payload=marker("frag") + b"f" * (BIG - 30)) for _ in range(10)) + \
                sum(a.udp_echo(e2e.INET6_IP, 53, payload=marker("frag") + b"g" * (BIG - 30)) for _ in range(10))
            check(ok == 20, f"{ok}/20 fragmented echoes")
            t.expect(before, {}, quiet=quiet)

        with t.case("2 workers: exact no-rule counts over IPv6 (ping -6 to c denied x6, UDP x4)"):
            before = t.stats()
            check(a.ping(c.ip6, count=3) == 0, "a -> c answered")
            check(inet.ping(c.ip6, count=3) == 0, "internet -> c answered")
            for _ in range(4):
                inet.udp_send(c.ip6, 9, b"x")
            t.expect(before, {("vm", "c", "no-rule"): 10, ("port", "vm-a", "no-rule"): 3,
                              ("port", "uplink", "no-rule"): 7},
                     quiet=[("vm", "c"), ("port", "vm-a"), ("port", "uplink")])

        with t.case("2 workers: both workers report, their packets sum to the ports' rx"):
            s = t.stats()
            workers = s.json["workers"]
            check(len(workers) == 2, f"{len(workers)} workers in stats")
            rx = sum(p["rx"] for p in s.json["ports"])
            pk = sum(w["packets"] for w in workers)
            check(rx == pk, f"ports rx {rx} != workers' packets {pk}")
            print(f"packets per worker: {[w['packets'] for w in workers]}", flush=True)
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
