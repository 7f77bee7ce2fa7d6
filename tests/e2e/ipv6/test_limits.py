#!/usr/bin/env python3
"""Connection limits with IPv6 (docs/configuration.md "Capacity per address family",
semantics §4), one topology, three daemon configurations (sgfwd restarted in between):
- `flows: {capacity: 10}`: each family has its own table of 10: ten IPv4 and ten IPv6
  TCP connections held open all fit (status used_ipv4 10, used_ipv6 10); the 11th of
  each family is `table-full` (exactly one SYN each); all twenty still exchange data;
- `flows: {per_vm_limit: 8}`: one quota for both families: four IPv4 and four IPv6
  connections fill it, a ninth of either family is `quota-exceeded`, while another VM
  connects;
- `flows: {keep_established: true}`: an open IPv6 TCP connection keeps passing after a
  reload removes its rule; a new one is `no-rule`."""
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group
import ipv6_e2e as v6  # noqa: F401  (sys.path for conntrack_e2e)
from ipv6_e2e import ct

INET4, INET6 = e2e.INET_IP, e2e.INET6_IP
OUT = group("out", rule("Egress", "TCP", port=7300, cidr="0.0.0.0/0", name="tcp4"),
            rule("Egress", "TCP", port=7300, cidr="::/0", name="tcp6"))
OUT_EMPTY = group("out")
QUIET = [("port", "vm-client"), ("port", "vm-other"), ("port", "uplink"), ("vm", "client"), ("vm", "other")]


def only(t, before, expected, allowed_extra=()):
    now = t.expect(before, expected, quiet=[])
    d = now.delta(before)
    bad = {k: v for k, v in d.items()
           if k[0] in ("vm", "port") and len(k) == 3 and k[2] not in ("rx", "tx", "allowed", "dropped")
           and k not in expected and k[2] not in allowed_extra and v}
    check(not bad, f"other drops moved: {bad}")
    return now


def scenario():
    with ct.Topology("v6-limits", ipv6=True, flows={"capacity": 10}) as t:
        client = t.vm("client", ["10.0.1.10", "2001:db8:1::10"], groups=["out"], ipv6=True)
        other = t.vm("other", ["10.0.1.20", "2001:db8:1::20"], groups=["out"], ipv6=True)
        inet = t.inet
        t.start(security_groups=[OUT])
        servers = [ct.HoldServer(inet, 7300), ct.HoldServer(inet, 7300, addr="::")]
        conns = []

        def open_conns(host, dst, n):
            got = []
            for _ in range(n):
                got.append(ct.Conn(host, dst, 7300))
            conns.extend(got)
            return got

        def abort_all():
            for c in conns:
                c.abort()
            conns.clear()
            for s in servers:
                s.close()

        with t.case("capacity 10 per family: 10 IPv4 and 10 IPv6 connections held; the 11th of each family is "
                    "table-full x1; all 20 still echo"):
            before = t.stats()
            c4 = open_conns(client, INET4, 10)
            c6 = open_conns(client, INET6, 10)
            st = t.status()["flows"]
            check(st["used_ipv4"] == 10 and st["used_ipv6"] == 10 and st["used"] == 20, f"status flows: {st}")
            check(ct.try_connect(client, INET6, 7300) is None, "an 11th IPv6 connection was made")
            check(ct.try_connect(client, INET4, 7300) is None, "an 11th IPv4 connection was made")
            t.expect(before, {("vm", "client", "table-full"): 2, ("port", "vm-client", "table-full"): 2,
                              ("rule", "out/tcp4"): 10, ("rule", "out/tcp6"): 10}, quiet=QUIET)
            check(all(c.echo() for c in c4 + c6), "a held connection stopped echoing")
        abort_all()

        with t.case("per_vm_limit 8, one quota for both families: 4 IPv4 + 4 IPv6 fill it, a 9th of either "
                    "family is quota-exceeded x1; another VM still connects"):
            t.restart(flows={"per_vm_limit": 8})
            servers[:] = [ct.HoldServer(inet, 7300), ct.HoldServer(inet, 7300, addr="::")]
            before = t.stats()
            open_conns(client, INET4, 4)
            open_conns(client, INET6, 4)
            check(ct.try_connect(client, INET6, 7300) is None, "a 9th (IPv6) connection was made")
            check(ct.try_connect(client, INET4, 7300) is None, "a 9th (IPv4) connection was made")
            o = ct.try_connect(other, INET6, 7300)
            check(o is not None and o.echo(), "other could not connect")
            conns.append(o)
            t.expect(before, {("vm", "client", "quota-exceeded"): 2, ("port", "vm-client", "quota-exceeded"): 2},
                     quiet=QUIET)
        abort_all()

        with t.case("keep_established: an open IPv6 connection keeps passing after its rule is removed; a new "
                    "one is no-rule x1"):
            t.restart(flows={"keep_established": True})
            servers[:] = [ct.HoldServer(inet, 7300, addr="::")]
            a = open_conns(client, INET6, 1)[0]
            check(a.echo(), "echo before the reload")
            t.reload([OUT_EMPTY])
            before = t.stats()
            check(a.echo(), "the open connection stopped after the reload")
            check(ct.try_connect(client, INET6, 7300) is None, "a new connection was made")
            only(t, before, {("vm", "client", "no-rule"): 1, ("port", "vm-client", "no-rule"): 1,
                             ("vm", "client", "revoked"): 0})
        abort_all()
        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
