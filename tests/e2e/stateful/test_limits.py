#!/usr/bin/env python3
"""Connections across policy changes and at the table's limits (docs/enforcement.md §4; test
catalogue S27/R09, L01, L02, L03 (in part), L05). One topology, four daemon
configurations (sgfwd restarted in between):
- default: rules removed by `sgfwctl reload --policy` while TCP connections and a UDP
  flow are open: the next packet of such a connection, from either end, is `revoked`
  (it is re-checked in its original direction); a connection the new policy still
  allows passes and shows the new generation and deciding rule in `sgfwctl flows`;
- `flows: {keep_established: true}`: the open TCP connection and UDP flow keep passing,
  new ones are `no-rule`;
- `flows: {capacity: 20}`: 20 established connections held open fill the table
  (status flows.used 20); the 21st SYN is `table-full` (exactly one); all 20 still
  exchange data; a closed (time-wait) connection is reclaimed for a new one;
- `flows: {per_vm_limit: 8}`: a VM flooding SYNs (distinct source ports, to a closed
  port on the internet) gets 8 through and `quota-exceeded` for the rest, while
  another VM's connections keep working (a flood *to* a local VM only recycles that
  VM's inbound half-open budget: the pipeline scenario tests cover it)."""
import socket

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import TCP

import conntrack_e2e as ct

INET = e2e.INET_IP
N = 20   # capacity
Q = 8    # per-VM quota
OUT_A = group("out-a", rule("Egress", "TCP", port=7300, cidr="0.0.0.0/0", name="tcp-7300"),
              rule("Egress", "UDP", port=7300, cidr="0.0.0.0/0", name="udp-7300"))
OUT_A_EMPTY = group("out-a")
OUT_B = group("out-b", rule("Egress", "TCP", port_range=(7301, 7309), cidr="0.0.0.0/0", name="tcp-7301-7309"))
OUT_B2 = group("out-b", rule("Egress", "TCP", port_range=(7301, 7309), cidr="0.0.0.0/0", name="tcp-renamed"))
FLOOD_OUT = group("flood-out", rule("Egress", "TCP", port_range=(7500, 7501), cidr="0.0.0.0/0", name="tcp-out"))
TARGET_IN = group("target-in", rule("Ingress", "TCP", port_range=(7500, 7501), cidr="0.0.0.0/0", name="tcp-in"))
GROUPS = [OUT_A, OUT_B, FLOOD_OUT, TARGET_IN]
VMS = ("client", "flood", "good", "target")
QUIET = [(k, n) for n in VMS for k in ("vm",)] + [("port", f"vm-{n}") for n in VMS] + [("port", "uplink")]


def only(t, before, expected, allowed_extra=()):
    """expect() with the VMs and ports quiet except for `allowed_extra` reasons, which may
    move by any amount (TCP retransmissions of a connection that is gone)."""
    now = t.expect(before, expected, quiet=[])
    d = now.delta(before)
    bad = {k: v for k, v in d.items()
           if k[0] in ("vm", "port") and len(k) == 3 and k[2] not in ("rx", "tx", "allowed", "dropped")
           and k not in expected and k[2] not in allowed_extra and v}
    check(not bad, f"other drops moved: {bad}")
    return now


def scenario():
    with ct.Topology("st-limits") as t:
        client = t.vm("client", "10.0.1.10", groups=["out-a", "out-b"])
        flood = t.vm("flood", "10.0.1.40", groups=["flood-out"], silent=True)
        good = t.vm("good", "10.0.1.50", groups=["flood-out"])
        target = t.vm("target", "10.0.1.60", groups=["target-in"])
        inet = t.inet
        t.start(security_groups=GROUPS)
        srv_a = ct.HoldServer(inet, 7300)
        srv_b = ct.HoldServer(inet, 7301)
        inet.udp_server(7300)

        def udp_flow():
            u = client.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.connect((INET, 7300))
            u.settimeout(0.5)
            return u

        def udp_echo(u, payload=b"udp"):
            try:
                u.send(payload)
                return u.recv(100) == payload
            except OSError:
                return False

        # ------------------------------------------------------- revoked on reload
        with t.case("reload removes rules: the next packet of an open TCP connection (from either end) "
                    "or UDP flow is revoked; a still-allowed one passes with the new generation"):
            a = ct.Conn(client, INET, 7300)
            c = ct.Conn(client, INET, 7300)
            b = ct.Conn(client, INET, 7301)
            u = udp_flow()
            check(a.echo() and b.echo() and c.echo() and udp_echo(u), "echo before the reload")
            check(ct.wait_for(lambda: srv_a.count() == 2), "server did not accept both")
            server_side_c = [conn for peer, conn in srv_a.accepted if peer[1] == c.sport][0]
            r = t.reload([OUT_A_EMPTY, OUT_B2, FLOOD_OUT, TARGET_IN])
            check(r["generation"] == 2, f"reload: {r}")
            before = t.stats()
            a.sock.send(b"after")           # originator -> responder
            only(t, before, {("vm", "client", "revoked"): 1, ("port", "vm-client", "revoked"): 1,
                             ("vm", "client", "no-rule"): 0}, allowed_extra=("no-connection",))
            before = t.stats()
            server_side_c.send(b"unasked")  # responder -> originator: re-checked originally
            only(t, before, {("vm", "client", "revoked"): 1, ("port", "uplink", "revoked"): 1,
                             ("vm", "client", "no-rule"): 0}, allowed_extra=("no-connection",))
            before = t.stats()
            check(not udp_echo(u), "the UDP flow still passes")
            only(t, before, {("vm", "client", "revoked"): 1, ("port", "vm-client", "revoked"): 1,
                             ("vm", "client", "no-rule"): 0}, allowed_extra=("no-connection",))
            check(b.echo(), "the still-allowed connection stopped")
            fl = t.flows(vm="client")
            check(not ct.flow_of(fl, 6, client.ip, a.sport) and not ct.flow_of(fl, 6, client.ip, c.sport),
                  f"revoked connections still listed: {fl}")
            fb = ct.flow_of(fl, 6, client.ip, b.sport, INET, 7301)
            check(len(fb) == 1 and fb[0]["generation"] == 2 and fb[0]["egress_rule"] == "out-b/tcp-renamed"
                  and fb[0]["state"] == "established", f"the kept connection: {fb}")
            check(not a.echo(timeout=0.5), "the revoked connection still works")
        # Abort (RST) every connection of a phase before the next sgfwd starts: nothing of
        # it is retransmitted into the next phase's counters.
        for x in (a, b, c, srv_a, srv_b):
            x.abort() if isinstance(x, ct.Conn) else x.close()

        # --------------------------------------------------------- keep_established
        with t.case("keep_established: the open TCP connection and UDP flow keep passing after their "
                    "rules are gone; new ones are no-rule"):
            t.restart(flows={"keep_established": True}, security_groups=GROUPS)
            srv_a = ct.HoldServer(inet, 7300)
            a = ct.Conn(client, INET, 7300)
            u = udp_flow()
            check(a.echo() and udp_echo(u), "echo before the reload")
            t.reload([OUT_A_EMPTY, OUT_B, FLOOD_OUT, TARGET_IN])
            before = t.stats()
            check(a.echo(), "the established connection was cut")
            check(a.echo(), "the established connection was cut (2)")
            check(udp_echo(u), "the UDP flow was cut")
            check(ct.try_connect(client, INET, 7300) is None, "a new connection got through")
            check(not udp_echo(udp_flow()), "a new UDP flow got through")
            t.expect(before, {("vm", "client", "no-rule"): 2, ("port", "vm-client", "no-rule"): 2},
                     quiet=[("vm", "client"), ("port", "vm-client"), ("port", "uplink")])
            fa = ct.flow_of(t.flows(), 6, client.ip, a.sport, INET, 7300)
            check(len(fa) == 1 and fa[0]["generation"] == 1 and fa[0]["state"] == "established",
                  f"the kept connection: {fa}")
        a.abort()
        srv_a.close()

        # ------------------------------------------------------------------ capacity
        with t.case(f"capacity {N}: {N} connections held open, the SYN of connection {N + 1} is table-full (x1), "
                    f"all {N} still exchange data"):
            t.restart(flows={"capacity": N}, security_groups=GROUPS)
            check(t.status()["flows"]["capacity"] == N, "capacity not applied")
            srv = ct.HoldServer(inet, 7304)
            conns = [ct.Conn(client, INET, 7304) for _ in range(N)]
            check(all(c.echo() for c in conns), "echo on the held connections")
            st = t.status()["flows"]
            check(st["used"] == N, f"status flows: {st}")
            fl = t.flows()
            check(len(fl) == N and all(f["state"] == "established" for f in fl),
                  f"{len(fl)} flows, states {sorted(set(f['state'] for f in fl))}")
            before = t.stats()
            extra = ct.try_connect(client, INET, 7304)
            check(extra is None, f"connection {N + 1} got through")
            t.expect(before, {("vm", "client", "table-full"): 1, ("port", "vm-client", "table-full"): 1},
                     quiet=QUIET)
            check(srv.count() == N, f"the server accepted {srv.count()}")
            before = t.stats()
            check(all(c.echo() for c in conns), "an established connection was lost")
            t.expect(before, {}, quiet=QUIET)
            check(t.status()["flows"]["used"] == N, "used changed")

        with t.case("capacity: a closed (time-wait) connection is reclaimed for a new one; "
                    "no established one is"):
            first = conns.pop(0)
            first.sock.shutdown(socket.SHUT_WR)
            check(first.sock.recv(10) == b"", "no FIN back")
            check(ct.wait_for(lambda: ct.flow_of(t.flows(), 6, client.ip, first.sport, INET, 7304)[0]["state"]
                              == "time-wait"), "not in time-wait")
            before = t.stats()
            new = ct.try_connect(client, INET, 7304, timeout=2)
            check(new is not None and new.echo(), "the new connection failed")
            t.expect(before, {("vm", "client", "table-full"): 0}, quiet=QUIET)
            fl = t.flows()
            check(len(fl) == N and not ct.flow_of(fl, 6, client.ip, first.sport), "the time-wait one is still there")
            check(all(c.echo() for c in conns), "an established connection was lost")
        for c in conns + [first, new]:
            c.abort()
        srv.close()

        # --------------------------------------------------------------------- quota
        with t.case(f"per_vm_limit {Q}: a SYN flood gets {Q} through and quota-exceeded for the rest; "
                    "another VM's connections keep working"):
            t.restart(flows={"per_vm_limit": Q}, security_groups=GROUPS)
            F = Q + 12
            m = marker("flood")
            syns = [bytes(eth_ip(flood, inet) / TCP(sport=30000 + i, dport=7500, flags="S", seq=i) / m)
                    for i in range(F)]
            with inet.sniffer() as snif:
                before = t.stats()
                flood.send_frames(syns)
                t.expect(before, {("vm", "flood", "quota-exceeded"): F - Q,
                                  ("port", "vm-flood", "quota-exceeded"): F - Q,
                                  ("rule", "flood-out/tcp-out"): Q},
                         quiet=QUIET)
                check(snif.wait_count(m, Q) == Q, f"{snif.count(m)} SYNs reached the internet, not {Q}")
            fl = t.flows(vm="flood")
            check(len(fl) == Q, f"{len(fl)} flows charged to flood")
            srv = ct.HoldServer(target, 7501)
            before = t.stats()
            # good has a quota of its own (Q): it opens Q connections, all pass.
            conns = [ct.Conn(good, target.ip, 7501) for _ in range(Q)]
            check(all(c.echo() for c in conns), "the other VM's connections failed")
            t.expect(before, {("rule", "flood-out/tcp-out"): Q, ("rule", "target-in/tcp-in"): Q},
                     quiet=QUIET)
            check(len(t.flows(vm="good")) == Q, "good's flows")
            before = t.stats()
            flood.send_frames([bytes(eth_ip(flood, inet) / TCP(sport=31000, dport=7500, flags="S") / m)])
            t.expect(before, {("vm", "flood", "quota-exceeded"): 1, ("port", "vm-flood", "quota-exceeded"): 1},
                     quiet=QUIET)

        with t.case("per_vm_limit: after `flows flush --vm flood` the flooder gets room again"):
            removed = t.flush(vm="flood")
            check(removed == Q, f"removed {removed}")
            check(len(t.flows(vm="good")) == Q, "good's flows were flushed too")
            before = t.stats()
            flood.send_frames([bytes(eth_ip(flood, inet) / TCP(sport=31001, dport=7500, flags="S") / m)])
            t.expect(before, {("vm", "flood", "quota-exceeded"): 0, ("rule", "flood-out/tcp-out"): 1},
                     quiet=QUIET)
            check(all(c.echo() for c in conns), "the other VM's connections failed")
            for c in conns:
                c.abort()
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
