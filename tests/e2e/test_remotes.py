#!/usr/bin/env python3
"""The three remote forms (docs/enforcement.md §3): address (CIDR), subnetRef and
securityGroupRef, the last with local members and with members hosted elsewhere, whose
addresses live behind the uplink (here: extra addresses of the internet namespace)."""
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group

GROUPS = [
    group("srv-sg",
          rule("Ingress", "TCP", port=5000, cidr="10.0.3.0/25", name="cidr-in"),
          rule("Ingress", "UDP", port=5001, subnet="lab-subnet", name="subnet-in"),
          rule("Ingress", "TCP", port=5002, group="client-sg", name="group-in"),
          rule("Egress", "All", cidr="0.0.0.0/0", name="replies")),
    group("client-sg"),  # names members only
    group("cli-sg",
          rule("Egress", "All", cidr="10.0.1.0/24", name="to-srv"),
          rule("Egress", "TCP", port=6000, group="db-sg", name="to-db"),
          rule("Ingress", "All", cidr="0.0.0.0/0", name="replies")),
    group("db-sg"),
    group("open-in", rule("Ingress", "All", cidr="0.0.0.0/0")),
]


def scenario():
    with e2e.Topology("remotes") as t:
        srv = t.vm("srv", "10.0.1.10", groups=["srv-sg"])
        cli = t.vm("cli", "10.0.3.10", groups=["client-sg", "cli-sg"])
        other = t.vm("other", "10.0.3.200", groups=["open-in", "default-allow-egress"])
        far = t.vm("far", "10.0.4.10", groups=["open-in", "default-allow-egress"])
        t.remote_vm("remote-1", "10.0.9.20", groups=["client-sg"])  # member elsewhere
        t.remote_vm("db-remote", "10.0.9.30", groups=["db-sg"])
        inet = t.inet
        t.start(security_groups=GROUPS, subnets=[("lab-subnet", "10.0.3.0/24")])
        srv.tcp_server(5000)
        srv.udp_server(5001)
        srv.tcp_server(5002)
        db = inet.tcp_server(6000, addr="10.0.9.30")
        inet.tcp_server(6001, addr="10.0.9.20")

        with t.case("CIDR remote: 10.0.3.10 in 10.0.3.0/25 accepted on TCP 5000"):
            before = t.stats()
            check(cli.tcp_echo(srv.ip, 5000), "round trip failed")
            d = t.expect(before, {}, quiet=[("vm", "srv"), ("vm", "cli")]).delta(before)
            check(d.get(("rule", "srv-sg/cidr-in"), 0) > 0, f"no cidr-in hits: {d}")

        with t.case("CIDR remote: 10.0.3.200 outside 10.0.3.0/25 denied (one SYN)"):
            before = t.stats()
            check(not other.tcp_echo(srv.ip, 5000, timeout=0.7), "got through")
            t.expect(before, {("vm", "srv", "no-rule"): 1, ("port", "vm-other", "no-rule"): 1},
                     quiet=[("vm", "srv"), ("port", "vm-other")])

        with t.case("subnet remote: both 10.0.3.x VMs accepted on UDP 5001"):
            before = t.stats()
            check(cli.udp_echo(srv.ip, 5001), "cli round trip failed")
            check(other.udp_echo(srv.ip, 5001), "other round trip failed")
            d = t.expect(before, {("rule", "srv-sg/subnet-in"): 2}, quiet=[("vm", "srv")]).delta(before)

        with t.case("subnet remote: 10.0.4.10 outside the subnet denied"):
            before = t.stats()
            check(not far.udp_echo(srv.ip, 5001, timeout=0.5), "got through")
            t.expect(before, {("vm", "srv", "no-rule"): 1, ("port", "vm-far", "no-rule"): 1},
                     quiet=[("vm", "srv"), ("port", "vm-far")])

        with t.case("group remote: local member cli accepted on TCP 5002"):
            before = t.stats()
            check(cli.tcp_echo(srv.ip, 5002), "round trip failed")
            d = t.expect(before, {}, quiet=[("vm", "srv"), ("vm", "cli")]).delta(before)
            check(d.get(("rule", "srv-sg/group-in"), 0) > 0, f"no group-in hits: {d}")

        with t.case("group remote: non-member other denied on TCP 5002"):
            before = t.stats()
            check(not other.tcp_echo(srv.ip, 5002, timeout=0.7), "got through")
            t.expect(before, {("vm", "srv", "no-rule"): 1}, quiet=[("vm", "srv")])

        with t.case("group remote: member hosted elsewhere (10.0.9.20 via the uplink) accepted"):
            before = t.stats()
            check(inet.tcp_echo(srv.ip, 5002, src="10.0.9.20"), "round trip failed")
            d = t.expect(before, {}, quiet=[("vm", "srv"), ("port", "uplink")]).delta(before)
            check(d.get(("rule", "srv-sg/group-in"), 0) > 0, f"no group-in hits: {d}")

        with t.case("group remote: the internet's own address (not a member) denied"):
            before = t.stats()
            check(not inet.tcp_echo(srv.ip, 5002, src=e2e.INET_IP, timeout=0.7), "got through")
            t.expect(before, {("vm", "srv", "no-rule"): 1, ("port", "uplink", "no-rule"): 1},
                     quiet=[("vm", "srv"), ("port", "uplink")])

        with t.case("egress group remote: cli reaches db-sg member hosted elsewhere (10.0.9.30:6000)"):
            before = t.stats()
            check(cli.tcp_echo("10.0.9.30", 6000), "round trip failed")
            d = t.expect(before, {}, quiet=[("vm", "cli"), ("port", "vm-cli")]).delta(before)
            check(d.get(("rule", "cli-sg/to-db"), 0) > 0, f"no to-db hits: {d}")
            check(len(db.connections) == 1, f"db server connections: {db.connections}")
            check(db.connections[0][0] == cli.ip, f"peer {db.connections[0]}")

        with t.case("egress group remote: 10.0.9.20 (not in db-sg) denied on TCP 6001, and 203.0.113.7"):
            before = t.stats()
            check(not cli.tcp_echo("10.0.9.20", 6001, timeout=0.7), "got through")
            check(not cli.tcp_echo(e2e.INET_IP, 6000, timeout=0.7), "got through")
            t.expect(before, {("vm", "cli", "no-rule"): 2, ("port", "vm-cli", "no-rule"): 2},
                     quiet=[("vm", "cli"), ("port", "vm-cli")])
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
