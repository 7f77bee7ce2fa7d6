#!/usr/bin/env python3
"""Smoke test with 2 workers: every port has 2 queue pairs (net_af_packet qpairs=2, a
net_null port with 2 queues), the kernel fans flows out over the queues, and forwarding
and exact drop counting still hold when the counters are summed over workers."""
import os
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group


def scenario():
    with e2e.Topology("workers", workers=2, qpairs=2, null_ports=1) as t:
        a = t.vm("a", "10.0.1.10", groups=["open"])
        b = t.vm("b", "10.0.1.11", groups=["open"])
        c = t.vm("c", "10.0.1.12", groups=["default-allow-ssh"])
        inet = t.inet
        t.start(security_groups=[group("open", rule("Egress", "All", cidr="0.0.0.0/0"),
                                       rule("Ingress", "All", cidr="0.0.0.0/0"))])
        b.tcp_server(8080)
        b.udp_server(5353)
        inet.tcp_server(443)
        inet.udp_server(53)

        with t.case("2 workers: ping a <-> b and a -> internet"):
            check(a.ping(b.ip, count=3) == 3, "a -> b lost replies")
            check(b.ping(a.ip, count=3) == 3, "b -> a lost replies")
            check(a.ping(e2e.INET_IP, count=3) == 3, "a -> internet lost replies")

        with t.case("2 workers: 20 TCP connections and 20 UDP round trips (many flows, both queues)"):
            before = t.stats()
            ok_tcp = sum(a.tcp_echo(b.ip, 8080) for _ in range(10)) + \
                sum(b.tcp_echo(e2e.INET_IP, 443) for _ in range(10))
            ok_udp = sum(a.udp_echo(b.ip, 5353) for _ in range(10)) + \
                sum(a.udp_echo(e2e.INET_IP, 53) for _ in range(10))
            check(ok_tcp == 20 and ok_udp == 20, f"TCP {ok_tcp}/20, UDP {ok_udp}/20")
            t.expect(before, {}, quiet=[("vm", "a"), ("vm", "b")])

        with t.case("2 workers: exact no-rule counts (ping to c denied x6, UDP x4)"):
            before = t.stats()
            check(a.ping(c.ip, count=3) == 0, "a -> c answered")
            check(inet.ping(c.ip, count=3) == 0, "internet -> c answered")
            for _ in range(4):
                inet.udp_send(c.ip, 9, b"x")
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
        with t.case(f"2 idle workers sleep between polls (worker_idle_sleep_us {e2e.IDLE_SLEEP_US})"):
            # Busy-polling, two workers burn up to 2 CPU seconds per second (4 s here);
            # sleeping, about 0.3 s in all. 1 s tells the two apart on a loaded machine.
            if e2e.IDLE_SLEEP_US == 0:
                print("SGFW_E2E_IDLE_SLEEP_US=0: the workers busy-poll; nothing to check", flush=True)
            else:
                ticks = os.sysconf("SC_CLK_TCK")

                def cpu_seconds():
                    with open(f"/proc/{t.daemon.proc.pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

                time.sleep(0.5)  # past the 1,024 empty polls before the first sleep
                c0 = cpu_seconds()
                time.sleep(2.0)
                used = cpu_seconds() - c0
                check(used < 1.0, f"sgfwd used {used:.2f} CPU seconds in 2 idle seconds")
                print(f"sgfwd idle: {used:.2f} CPU seconds in 2 s", flush=True)
                check(a.ping(b.ip, count=3) == 3, "a -> b lost replies after the idle spell")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
