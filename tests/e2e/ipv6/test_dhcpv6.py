#!/usr/bin/env python3
"""DHCPv6 through sgfw (semantics §7 "DHCP"): a VM (IPv6 on, no global address) leases
2001:db8:1::110 (the one address of the range, listed in its policy) from a real dnsmasq
on the uplink with ISC `dhclient -6` (a script that configures the namespace only) and
then pings the internet over IPv6: its Solicit/Request (UDP 546 -> 547, link-local
source, to ff02::1:2) reach the uplink without rules, the server's Advertise/Reply
(547 -> 546, link-local to link-local) reach it; a dnsmasq in another VM never hears
the client. Crafted (VM b, IPv6 off in its namespace: exact counts): b's Solicit goes
to the uplink only, with another VM's link-local address `spoofed`; a server message
for b from the uplink reaches b only, to a multicast MAC `not-local`, from a VM's
address `spoofed`; server
messages from b (source port 547) are `dhcp-server-from-vm`; a real dnsmasq in a VM
(a Solicit handed to its interface from the host end of its veth) is cut off, each
Advertise `dhcp-server-from-vm`."""
import os
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, marker
import ipv6_e2e as v6
from scapy.layers.dhcp6 import DHCP6_Solicit, DHCP6_Advertise, DHCP6OptClientId, DHCP6OptIA_NA, DHCP6OptElapsedTime
from scapy.layers.dhcp6 import DUID_LL
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

K = 4
LEASE = "2001:db8:1::110"
SERVER_IP = "2001:db8:1::1"   # the uplink's address on the VMs' prefix (dnsmasq needs one)
ALL_DHCP = "ff02::1:2"
ALL_DHCP_MAC = "33:33:00:01:00:02"
FOREIGN_MAC = "02:e2:e0:00:99:98"

CLIENT_SCRIPT = """#!/bin/sh
case "$reason" in
  PREINIT6) ip link set dev "$interface" up ;;
  BOUND6|RENEW6|REBIND6|REBOOT6)
    ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad
    echo "$reason $new_ip6_address" >> "$(dirname "$0")/leases.txt" ;;
esac
exit 0
"""


def dnsmasq6(host, tmp, tag, first, last):
    argv = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--port=0",
            "--interface=eth0", "--bind-interfaces", "--user=root", "--group=root",
            "--pid-file=", f"--dhcp-leasefile={os.path.join(tmp, tag + '.leases')}",
            f"--dhcp-range={first},{last},64,1h", "--log-dhcp", "--log-facility=-"]
    return host.spawn(*argv, log_name=f"dnsmasq6-{tag}")


def solicit(src_mac, src_ip, m, sport=546, dport=547, dst_ip=ALL_DHCP, dst_mac=ALL_DHCP_MAC, trid=0x1234,
            msg=DHCP6_Solicit):
    return bytes(Ether(src=src_mac, dst=dst_mac) / IPv6(src=src_ip, dst=dst_ip, hlim=1 if dst_ip == ALL_DHCP else 64) /
                 UDP(sport=sport, dport=dport) / msg(trid=trid) /
                 DHCP6OptClientId(duid=DUID_LL(lladdr=src_mac)) / DHCP6OptElapsedTime() /
                 DHCP6OptIA_NA(iaid=1)) + m


def scenario():
    with e2e.Topology("v6-dhcpv6", ipv6=True) as t:
        a = t.vm("a", ["10.0.1.10", LEASE], ipv6=True)       # default-allow-egress; gets LEASE by DHCPv6
        a.run("ip", "-6", "addr", "del", f"{LEASE}/64", "dev", "eth0", check=True)
        b = t.vm("b", ["10.0.1.11", "2001:db8:1::11"])      # IPv6 off: crafted frames, counted exactly
        rogue = t.vm("rogue", ["10.0.1.12", "2001:db8:1::12"], ipv6=True)
        inet = t.inet
        e2e.sh("ip", "-n", inet.ns, "-6", "addr", "add", f"{SERVER_IP}/64", "dev", "eth0", "nodad")
        t.start()
        server = dnsmasq6(inet, t.tmp, "uplink", LEASE, LEASE)
        rogue_server = dnsmasq6(rogue, t.tmp, "rogue", "2001:db8:1::200", "2001:db8:1::2ff")
        time.sleep(0.5)
        check(server.alive(), f"dnsmasq did not start:\n{server.output()}")
        check(rogue_server.alive(), f"rogue dnsmasq did not start:\n{rogue_server.output()}")
        sniffers = {h.name: h.sniffer() for h in (a, b, rogue, inet)}

        with t.case(f"VM a leases {LEASE} with dhclient -6 from dnsmasq on the uplink, then pings the internet"):
            script_dir = os.path.join(t.tmp, "dhclient6")
            os.makedirs(script_dir)
            script = os.path.join(script_dir, "script")
            with open(script, "w") as f:
                f.write(CLIENT_SCRIPT)
            os.chmod(script, 0o755)
            leases_txt = os.path.join(script_dir, "leases.txt")
            before = t.stats()
            client = a.spawn("dhclient", "-6", "-d", "-v", "-1", "-sf", script, "-pf",
                             os.path.join(script_dir, "pid"), "-lf", os.path.join(script_dir, "leases"), "eth0",
                             log_name="dhclient6")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not os.path.exists(leases_txt):
                time.sleep(0.2)
            leases = open(leases_txt).read() if os.path.exists(leases_txt) else ""
            check(f"BOUND6 {LEASE}" in leases,
                  f"no lease: {leases!r}\ndhclient:\n{client.output()[-1500:]}\ndnsmasq:\n{server.output()[-1500:]}")
            check(LEASE in a.addrs6(), f"address not configured: {a.run('ip', '-6', 'addr').stdout}")
            check("DHCPREPLY" in server.output(), "dnsmasq logged no DHCPREPLY")
            check("SOLICIT" not in rogue_server.output(), "the rogue VM's server heard a's Solicit:\n"
                  + rogue_server.output()[-800:])
            d = t.stats().delta(before)
            for r in ("spoofed", "broadcast", "no-rule", "not-local", "link-local", "dhcp-server-from-vm"):
                # On the uplink, link-local may move: dnsmasq may ping the client's
                # link-local address to learn its MAC (rightly dropped, not DHCPv6).
                check(d.get(("port", "vm-a", r), 0) == 0 and (r == "link-local" or d.get(("port", "uplink", r), 0) == 0),
                      f"{r} drops during the lease: {dict(sorted(d.items(), key=str))}")
            e2e.log(f"     uplink link-local drops during the lease: {d.get(('port', 'uplink', 'link-local'), 0)}")
            check(d.get(("vm", "a", "allowed"), 0) >= 4, f"Solicit/Advertise/Request/Reply not counted: {d}")
            got = a.ping(e2e.INET6_IP, count=3)
            check(got == 3, f"{got} of 3 pings -6 to the internet answered after DHCPv6")
        server.stop()

        with t.case(f"b's own Solicit (link-local source, to ff02::1:2) reaches only the uplink, without rules, "
                    f"x{K}"):
            m = marker("solicit")
            before = t.stats()
            b.send_frames([solicit(b.mac, b.link_local, m, trid=0x100 + i) for i in range(K)])
            t.expect(before, {("vm", "b", "allowed"): K}, quiet=[("port", "vm-b"), ("vm", "b")])
            check(sniffers["inet"].wait_count(m, K) == K, f"uplink saw {sniffers['inet'].count(m)} of {K}")
            check(sniffers["a"].count(m) == 0 and sniffers["rogue"].count(m) == 0, "a Solicit reached a VM")

        with t.case(f"an Advertise from the uplink (link-local, 547 -> 546) for b reaches b only x{K}"):
            m = marker("advertise")
            before = t.stats()
            inet.send_frames([solicit(inet.mac, inet.link_local, m, sport=547, dport=546, dst_ip=b.link_local,
                                      dst_mac=b.mac, msg=DHCP6_Advertise, trid=0x200 + i) for i in range(K)])
            check(sniffers["b"].wait_count(m, K) == K, f"b saw {sniffers['b'].count(m)} of {K}")
            t.expect(before, {("vm", "b", "allowed"): K}, quiet=[("port", "uplink"), ("vm", "b")])
            check(sniffers["a"].count(m) == 0 and sniffers["rogue"].count(m) == 0, "an Advertise reached another VM")

        with t.case(f"a Solicit from b with a's link-local address (EUI-64 of a's MAC): spoofed x{K}"):
            m = marker("solicit-foreign-ll")
            before = t.stats()
            b.send_frames([solicit(b.mac, a.link_local, m, trid=0x700 + i) for i in range(K)])
            t.expect(before, {("port", "vm-b", "spoofed"): K, ("vm", "b", "spoofed"): K},
                     quiet=[("port", "vm-b"), ("vm", "b")])
            check(sniffers["inet"].count(m) == 0, "the spoofed Solicit reached the uplink")

        with t.case(f"server messages from the uplink to a multicast MAC: not-local x{K}; from a VM's address: "
                    f"spoofed x{K}"):
            m = marker("advertise-bad")
            before = t.stats()
            inet.send_frames([solicit(inet.mac, inet.link_local, m, sport=547, dport=546, dst_ip=ALL_DHCP,
                                      dst_mac=ALL_DHCP_MAC, msg=DHCP6_Advertise, trid=0x800 + i) for i in range(K)] +
                             [solicit(inet.mac, a.ip6, m, sport=547, dport=546, dst_ip=b.link_local, dst_mac=b.mac,
                                      msg=DHCP6_Advertise, trid=0x900 + i) for i in range(K)])
            t.expect(before, {("port", "uplink", "not-local"): K, ("port", "uplink", "spoofed"): K},
                     quiet=[("port", "uplink"), ("vm", "a"), ("vm", "b")])
            check(all(s.count(m) == 0 for n, s in sniffers.items() if n != "inet"), "a bad server message got through")

        with t.case(f"crafted server messages from b (547 -> 546 to a, 547 -> 547 to ff02::1:2, from its global "
                    f"address to the uplink): dhcp-server-from-vm x{3 * K}"):
            m = marker("server-from-vm")
            before = t.stats()
            frames = []
            for i in range(K):
                frames.append(solicit(b.mac, b.link_local, m, sport=547, dport=546, dst_ip=a.link_local,
                                      dst_mac=a.mac, msg=DHCP6_Advertise, trid=0x300 + i))
                frames.append(solicit(b.mac, b.link_local, m, sport=547, dport=547, trid=0x400 + i))
                frames.append(solicit(b.mac, b.ip6, m, sport=547, dport=546, dst_ip=e2e.INET6_IP, dst_mac=inet.mac,
                                      msg=DHCP6_Advertise, trid=0x500 + i))
            b.send_frames(frames)
            t.expect(before, {("port", "vm-b", "dhcp-server-from-vm"): 3 * K,
                              ("vm", "b", "dhcp-server-from-vm"): 3 * K}, quiet=[("port", "vm-b"), ("vm", "b")])
            check(all(s.count(m) == 0 for n, s in sniffers.items() if n != "b"), "a server message got through")

        with t.case("a VM running a real DHCPv6 server (dnsmasq) is cut off: every Advertise is "
                    "dhcp-server-from-vm"):
            m = marker("rogue-solicit")
            foreign_ll = e2e.eui64(FOREIGN_MAC)
            # The server answers the client's link-local address: a permanent neighbour
            # entry lets its Advertise leave without neighbour discovery.
            rogue.run("ip", "-6", "neigh", "replace", foreign_ll, "lladdr", FOREIGN_MAC, "dev", "eth0",
                      "nud", "permanent", check=True)
            before = t.stats()
            # A client's Solicit handed straight to the rogue VM's interface (from the host
            # end of its veth): sgfw never delivers one to a VM (client messages go to the
            # uplink only), so this is the only way its server gets to answer.
            s = e2e.socket.socket(e2e.socket.AF_PACKET, e2e.socket.SOCK_RAW)
            try:
                s.bind((rogue.host_if, 0))
                for i in range(K):
                    s.send(solicit(FOREIGN_MAC, foreign_ll, m, trid=0x600 + i))
                    time.sleep(0.05)
            finally:
                s.close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and rogue_server.output().count("DHCPADVERTISE(eth0)") < K:
                time.sleep(0.1)
            offers = rogue_server.output().count("DHCPADVERTISE(eth0)")
            check(offers >= 1, f"the rogue server sent no Advertise:\n{rogue_server.output()[-1500:]}")
            t.expect(before, {("port", "vm-rogue", "dhcp-server-from-vm"): offers,
                              ("vm", "rogue", "dhcp-server-from-vm"): offers}, quiet=[("port", "vm-rogue")])
            fmac = bytes.fromhex(FOREIGN_MAC.replace(":", ""))
            check(not sniffers["inet"].matching(lambda f: f[0:6] == fmac), "an Advertise left the rogue VM")

        for s in sniffers.values():
            s.close()
        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
