#!/usr/bin/env python3
"""default-allow-web-protocols and default-allow-ssh (docs/enforcement.md §2): TCP 80, 443 and 22
from anywhere are accepted, other ports and protocols are not; a group listed
explicitly replaces default-allow-egress."""
import sgfw_e2e as e2e
from sgfw_e2e import check


def scenario():
    with e2e.Topology("builtin") as t:
        # default-allow-egress listed explicitly: the web server's replies (no
        # connection tracking yet) and its own outbound traffic.
        web = t.vm("web", "10.0.1.10",
                   groups=["default-allow-web-protocols", "default-allow-ssh", "default-allow-egress"])
        # Only the ssh group: once a VM has a group, default-allow-egress is gone.
        sshonly = t.vm("sshonly", "10.0.1.11", groups=["default-allow-ssh"])
        inet = t.inet
        t.start()
        for p in (80, 443, 22, 8080):
            web.tcp_server(p)
        web.udp_server(80)
        sshonly.tcp_server(22)
        inet_udp = inet.udp_server(9000, echo=False)

        for port, rule in ((80, "default-allow-web-protocols/http"),
                           (443, "default-allow-web-protocols/https"),
                           (22, "default-allow-ssh/ssh")):
            with t.case(f"TCP {port} from the internet accepted ({rule})"):
                before = t.stats()
                check(inet.tcp_echo(web.ip, port),
                      f"TCP {port} round trip failed")
                after = t.expect(before, {}, quiet=[("vm", "web"), ("port", "uplink"), ("port", "vm-web")])
                d = after.delta(before)
                check(d.get(("rule", rule), 0) > 0, f"no hits on {rule}: {d}")
                others = [r for r in ("default-allow-web-protocols/http", "default-allow-web-protocols/https",
                                      "default-allow-ssh/ssh") if r != rule and d.get(("rule", r), 0)]
                check(not others, f"other built-in rules hit: {others}")

        with t.case("TCP 8080 from the internet denied: exactly one SYN dropped (no-rule)"):
            before = t.stats()
            check(not inet.tcp_echo(web.ip, 8080, timeout=0.7), "TCP 8080 got through")
            t.expect(before, {("vm", "web", "no-rule"): 1, ("port", "uplink", "no-rule"): 1},
                     quiet=[("vm", "web"), ("port", "uplink")])

        with t.case("UDP 80 and ICMP from the internet denied (the built-ins are TCP only)"):
            before = t.stats()
            check(not inet.udp_echo(web.ip, 80, timeout=0.5), "UDP 80 got through")
            check(inet.ping(web.ip, count=2) == 0, "ping answered")
            t.expect(before, {("vm", "web", "no-rule"): 3, ("port", "uplink", "no-rule"): 3},
                     quiet=[("vm", "web"), ("port", "uplink")])

        with t.case("default-allow-egress listed explicitly: the web VM reaches the internet"):
            before = t.stats()
            web.udp_send(e2e.INET_IP, 9000, b"web-out")
            t.expect(before, {("vm", "web", "allowed"): 1, ("rule", "default-allow-egress/egress-all"): 1},
                     quiet=[("port", "vm-web"), ("vm", "web")])
            check(inet_udp.count(b"web-out") == 1, f"inet got {inet_udp.count()} datagrams")

        with t.case("ssh only: nothing leaves the VM (no default-allow-egress): ping out denied x2"):
            before = t.stats()
            check(sshonly.ping(e2e.INET_IP, count=2) == 0, "ping answered")
            t.expect(before, {("vm", "sshonly", "no-rule"): 2, ("port", "vm-sshonly", "no-rule"): 2},
                     quiet=[("port", "vm-sshonly")])

        # Last: without connection tracking sshonly's SYN-ACKs are refused (no egress
        # rule) and its kernel retransmits them for a while; with it, they are replies.
        with t.case("ssh only: TCP 22 SYN admitted by default-allow-ssh/ssh (exactly one hit)"):
            before = t.stats()
            inet.tcp_echo(sshonly.ip, 22, timeout=0.7)
            d = t.stats().delta(before)
            check(d.get(("rule", "default-allow-ssh/ssh"), 0) == 1, f"ssh hits: {d}")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
