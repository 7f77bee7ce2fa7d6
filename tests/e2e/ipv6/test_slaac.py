#!/usr/bin/env python3
"""SLAAC through sgfw (semantics §7 "Neighbour discovery"): radvd on the uplink (the
internet namespace, the VMs' IPv6 router) advertises 2001:db8:1::/64; VM a turns IPv6
on while sgfwd runs, so its DAD (source ::), router solicitation, MLD reports and the
router's advertisement all cross sgfwd; a configures its EUI-64 address (the one its
policy lists: anti-spoofing needs it) and a default route via the router's link-local
address, then pings the internet over IPv6. Nothing is dropped on a's port.
A VM running radvd (rogue) is cut off: each of its RAs is `ra-from-vm`, no other VM nor
the uplink sees one, and a gets no address in its prefix and no route via it.
Crafted: an RA from the uplink reaches every VM, a redirect the VM it is for; a VM's RS goes to every other port
(a solicitation to a multicast MAC, docs/enforcement.md §7.4); an RS with a forged
source link-layer option is `spoofed`."""
import os
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, marker
import ipv6_e2e as v6
from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6ND_Redirect, ICMPv6ND_RS, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, IPv6
from scapy.layers.l2 import Ether

K = 4
PREFIX = "2001:db8:1::"
ROGUE_PREFIX = "2001:db8:bad::"
RADVD_CONF = """interface eth0 {{
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    AdvDefaultLifetime 60;
    prefix {prefix}/64 {{
        AdvOnLink on;
        AdvAutonomous on;
    }};
}};
"""


def radvd(host, tmp, tag, prefix):
    conf = os.path.join(tmp, f"radvd-{tag}.conf")
    with open(conf, "w") as f:
        f.write(RADVD_CONF.format(prefix=prefix))
    os.chmod(conf, 0o644)
    return host.spawn("radvd", "--nodaemon", "--config", conf, "--pidfile", os.path.join(tmp, f"radvd-{tag}.pid"),
                      "--logmethod", "stderr", "--debug", "1", log_name=f"radvd-{tag}")


def scenario():
    with e2e.Topology("v6-slaac", ipv6=True) as t:
        a = t.vm("a", "10.0.1.10", slaac=True)      # default-allow-egress (both families)
        a.ips.append(e2e.eui64(a.mac, PREFIX))      # its SLAAC address, in the policy
        rogue = t.vm("rogue", ["10.0.1.11", "2001:db8:1::11"], ipv6=True)
        b = t.vm("b", ["10.0.1.12", "2001:db8:1::12"])  # IPv6 off: crafted frames, silent receiver
        inet = t.inet
        t.start()
        sniffers = {h.name: h.sniffer() for h in (a, b, rogue, inet)}
        slaac_addr = a.ip6

        server = radvd(inet, t.tmp, "uplink", PREFIX)
        with t.case(f"a (IPv6 turned on now) gets {slaac_addr}/64 from radvd on the uplink and pings the "
                    "internet over IPv6; nothing dropped on its port"):
            time.sleep(0.5)
            check(server.alive(), f"radvd did not start:\n{server.output()}")
            before = t.stats()
            a.enable_ipv6()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and slaac_addr not in a.addrs6():
                time.sleep(0.2)
            addrs = a.run("ip", "-6", "addr", "show", "dev", "eth0").stdout
            check(slaac_addr in a.addrs6(), f"no SLAAC address {slaac_addr} on a:\n{addrs}\nradvd:\n"
                  f"{server.output()[-1500:]}")
            route = a.run("ip", "-6", "route", "show", "default").stdout
            check(f"via {inet.link_local}" in route, f"a's default route: {route!r}")
            got = a.ping(e2e.INET6_IP, count=3)
            check(got == 3, f"{got} of 3 pings to {e2e.INET6_IP} answered")
            rs = sniffers["inet"].matching(v6.is_icmp6(133))
            check(any(f[6:12] == bytes.fromhex(a.mac.replace(":", "")) for f in rs),
                  f"the uplink saw no RS from a ({len(rs)} RS in all)")
            ras = sniffers["a"].matching(v6.is_icmp6(134, src=inet.link_local))
            check(ras, "a saw no RA from the uplink")
            d = t.stats().delta(before)
            drops = {k: v for k, v in d.items() if k[0] in ("port", "vm") and k[1] in ("vm-a", "a")
                     and k[2] not in ("rx", "tx", "allowed")}
            check(not drops, f"drops on a's port or VM while it configured itself: {drops}\n"
                  f"all deltas: {dict(sorted(d.items(), key=str))}")
            check(d.get(("rule", "default-allow-egress/egress-all-ipv6"), 0) >= 1,
                  f"the IPv6 ping hit no egress-all-ipv6: {d}")

        with t.case("a VM running radvd (rogue prefix 2001:db8:bad::/64): every RA it sends is ra-from-vm, "
                    "no host sees one, a gets no address or route from it"):
            with rogue.sniffer(outgoing=True) as out:
                e2e.sh("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1", ns=rogue.ns)
                for s in sniffers.values():
                    s.clear()
                before = t.stats()
                bad = radvd(rogue, t.tmp, "rogue", ROGUE_PREFIX)
                time.sleep(7)
                check(bad.alive(), f"rogue radvd did not run:\n{bad.output()}")
                bad.stop()          # radvd sends its final RAs (router lifetime 0) as it stops
                time.sleep(0.5)
                sent = len(out.matching(v6.is_icmp6(134)))
            check(sent >= 2, f"rogue radvd sent {sent} RAs:\n{bad.output()[-1500:]}")
            t.expect(before, {("port", "vm-rogue", "ra-from-vm"): sent, ("vm", "rogue", "ra-from-vm"): sent},
                     quiet=[("port", "vm-rogue"), ("vm", "rogue"), ("port", "vm-a"), ("vm", "a")])
            seen = {n: len(s.matching(v6.is_icmp6(134, src=rogue.link_local)))
                    for n, s in sniffers.items() if n != "rogue"}
            check(not any(seen.values()), f"the rogue RAs were seen: {seen}")
            addrs = a.run("ip", "-6", "addr", "show", "dev", "eth0").stdout
            check("2001:db8:bad:" not in addrs, f"a took the rogue prefix:\n{addrs}")
            routes = a.run("ip", "-6", "route", "show").stdout
            check(rogue.link_local not in routes and "2001:db8:bad:" not in routes,
                  f"a has a route from the rogue:\n{routes}")
            check(a.ping(e2e.INET6_IP, count=2) == 2, "a lost the internet")

        server.stop()  # from here on, crafted frames only (radvd would answer the RS below)
        time.sleep(0.5)

        with t.case(f"a crafted RA from the uplink reaches every VM (x{K})"):
            m = marker("uplink-ra")
            before = t.stats()
            inet.send_frames([bytes(Ether(src=inet.mac, dst=v6.ALL_NODES_MAC) /
                                    IPv6(src=inet.link_local, dst=v6.ALL_NODES, hlim=255) /
                                    ICMPv6ND_RA(routerlifetime=60) / ICMPv6NDOptSrcLLAddr(lladdr=inet.mac) /
                                    ICMPv6NDOptPrefixInfo(prefix=PREFIX, prefixlen=64)) + m] * K)
            for n in ("a", "b", "rogue"):
                check(sniffers[n].wait_count(m, K) == K, f"{n} saw {sniffers[n].count(m)} of {K} RAs")
            t.expect(before, {}, quiet=[("port", "uplink"), ("vm", "a"), ("vm", "b"), ("vm", "rogue")])

        with t.case(f"a crafted redirect from the uplink (its link-local address) to a reaches a only (x{K})"):
            m = marker("uplink-redirect")
            before = t.stats()
            inet.send_frames([bytes(Ether(src=inet.mac, dst=a.mac) / IPv6(src=inet.link_local, dst=a.link_local, hlim=255) /
                                    ICMPv6ND_Redirect(tgt=inet.link_local, dst="2001:db8:77::1")) + m] * K)
            check(sniffers["a"].wait_count(m, K) == K, f"a saw {sniffers['a'].count(m)} of {K} redirects")
            t.expect(before, {}, quiet=[("port", "uplink"), ("vm", "a")])
            check(sniffers["b"].count(m) == 0 and sniffers["rogue"].count(m) == 0, "a redirect reached another VM")

        with t.case(f"b's RS (link-local source, its MAC in the option) goes to every other port (x{K}); "
                    f"with a forged option: spoofed x{K}"):
            m, m2 = marker("rs"), marker("rs-forged")
            before = t.stats()

            def rs(sll, mm):
                return bytes(Ether(src=b.mac, dst=v6.ALL_ROUTERS_MAC) /
                             IPv6(src=b.link_local, dst=v6.ALL_ROUTERS, hlim=255) /
                             ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=sll)) + mm
            b.send_frames([rs(b.mac, m)] * K + [rs(a.mac, m2)] * K)
            for n in ("inet", "a", "rogue"):  # a solicitation to a multicast MAC: every other port (§7.4)
                check(sniffers[n].wait_count(m, K) == K, f"{n} saw {sniffers[n].count(m)} of {K}")
            # (ND, like ARP, is not counted as `allowed`)
            t.expect(before, {("vm", "b", "allowed"): 0, ("port", "vm-b", "spoofed"): K,
                              ("vm", "b", "spoofed"): K}, quiet=[("port", "vm-b"), ("vm", "b")])
            seen = {n: s.count(m2) for n, s in sniffers.items() if n != "b"}
            check(not any(seen.values()), f"the forged RS was seen: {seen}")

        for s in sniffers.values():
            s.close()
        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
