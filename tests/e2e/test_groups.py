#!/usr/bin/env python3
"""Group membership semantics (docs/enforcement.md §3): members of one group cannot talk unless
the group references itself; a VM's checks use the union of its groups; the deciding
rule (hit counters) is the first match in (group name, rule index) order, whatever the
order the VM lists its groups in."""
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group

GROUPS = [
    # Members may go anywhere and accept ssh, but have no rule for each other's ICMP/UDP.
    group("iso", rule("Egress", "All", cidr="0.0.0.0/0"),
          rule("Ingress", "TCP", port=22, cidr="0.0.0.0/0")),
    # Members talk to each other, and only to each other.
    group("mesh", rule("Egress", "All", group="mesh", name="to-members"),
          rule("Ingress", "All", group="mesh", name="from-members")),
    # Union: each group opens one thing.
    group("tcp-7001", rule("Ingress", "TCP", port=7001, cidr="0.0.0.0/0", name="in")),
    group("udp-7002", rule("Ingress", "UDP", port=7002, cidr="0.0.0.0/0", name="in")),
    # Two groups that both allow TCP 7003: the deciding rule is aa-allow's.
    group("zz-allow", rule("Ingress", "TCP", port=7003, cidr="0.0.0.0/0", name="web")),
    group("aa-allow", rule("Ingress", "TCP", port=7003, cidr="0.0.0.0/0", name="web")),
]


def scenario():
    with e2e.Topology("groups") as t:
        a = t.vm("iso-a", "10.0.1.10", groups=["iso"])
        b = t.vm("iso-b", "10.0.1.11", groups=["iso"])
        c = t.vm("mesh-c", "10.0.2.10", groups=["mesh"])
        d = t.vm("mesh-d", "10.0.2.11", groups=["mesh"])
        u = t.vm("union", "10.0.5.10",
                 groups=["zz-allow", "udp-7002", "tcp-7001", "aa-allow", "default-allow-egress"])
        inet = t.inet
        t.start(security_groups=GROUPS)
        b_udp = b.udp_server(7000)
        d.tcp_server(7000)
        d.udp_server(7000)
        for p in (7001, 7003):
            u.tcp_server(p)
        u.udp_server(7002)
        u_udp_7001 = u.udp_server(7001)
        u.tcp_server(7002)

        with t.case("same group without self-reference: iso-a cannot ping iso-b (no-rule x3 on iso-b)"):
            before = t.stats()
            check(a.ping(b.ip, count=3) == 0, "ping answered")
            t.expect(before, {("vm", "iso-b", "no-rule"): 3, ("port", "vm-iso-a", "no-rule"): 3,
                              ("vm", "iso-a", "no-rule"): 0, ("vm", "iso-a", "allowed"): 0},
                     quiet=[("vm", "iso-a"), ("vm", "iso-b"), ("port", "vm-iso-a")])

        with t.case("same group without self-reference: UDP iso-a -> iso-b denied"):
            before = t.stats()
            check(not a.udp_echo(b.ip, 7000, timeout=0.5), "got through")
            t.expect(before, {("vm", "iso-b", "no-rule"): 1}, quiet=[("vm", "iso-b")])
            check(b_udp.count() == 0, "iso-b received a datagram")

        with t.case("same group with self-reference: mesh-c and mesh-d ping, TCP and UDP"):
            before = t.stats()
            check(c.ping(d.ip, count=3) == 3, "ping c->d lost replies")
            check(d.ping(c.ip, count=2) == 2, "ping d->c lost replies")
            check(c.tcp_echo(d.ip, 7000), "TCP c->d failed")
            check(c.udp_echo(d.ip, 7000), "UDP c->d failed")
            after = t.expect(before, {}, quiet=[("vm", "mesh-c"), ("vm", "mesh-d")])
            dd = after.delta(before)
            check(dd.get(("rule", "mesh/to-members"), 0) > 0 and dd.get(("rule", "mesh/from-members"), 0) > 0,
                  f"mesh rules not hit: {dd}")

        with t.case("self-reference admits members only: iso-a -> mesh-c denied, mesh-c -> internet denied"):
            before = t.stats()
            check(a.ping(c.ip, count=2) == 0, "iso-a reached mesh-c")
            check(c.ping(e2e.INET_IP, count=2) == 0, "mesh-c reached the internet")
            t.expect(before, {("vm", "mesh-c", "no-rule"): 4, ("port", "vm-iso-a", "no-rule"): 2,
                              ("port", "vm-mesh-c", "no-rule"): 2},
                     quiet=[("vm", "mesh-c"), ("port", "vm-mesh-c"), ("port", "vm-iso-a")])

        with t.case("union of groups: TCP 7001 and UDP 7002 open (one group each)"):
            before = t.stats()
            check(inet.tcp_echo(u.ip, 7001), "TCP 7001 failed")
            check(inet.udp_echo(u.ip, 7002), "UDP 7002 failed")
            dd = t.expect(before, {("rule", "udp-7002/in"): 1}, quiet=[("vm", "union")]).delta(before)
            check(dd.get(("rule", "tcp-7001/in"), 0) > 0, f"tcp-7001/in not hit: {dd}")

        with t.case("union of groups: protocol/port pairs no group opens stay closed"):
            before = t.stats()
            check(not inet.tcp_echo(u.ip, 7002, timeout=0.7), "TCP 7002 got through")
            check(not inet.udp_echo(u.ip, 7001, timeout=0.5), "UDP 7001 got through")
            check(inet.ping(u.ip, count=2) == 0, "ping answered")
            t.expect(before, {("vm", "union", "no-rule"): 4, ("port", "uplink", "no-rule"): 4},
                     quiet=[("vm", "union"), ("port", "uplink")])
            check(u_udp_7001.count() == 0, "UDP 7001 server received")

        with t.case("deciding rule: TCP 7003 counted on aa-allow/web, never zz-allow/web"):
            before = t.stats()
            check(inet.tcp_echo(u.ip, 7003), "TCP 7003 failed")
            dd = t.expect(before, {("rule", "zz-allow/web"): 0}, quiet=[("vm", "union")]).delta(before)
            check(dd.get(("rule", "aa-allow/web"), 0) > 0, f"aa-allow/web not hit: {dd}")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
