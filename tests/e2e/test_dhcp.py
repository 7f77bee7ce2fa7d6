#!/usr/bin/env python3
"""DHCPv4 through sgfw (docs/enforcement.md §7 "DHCP"): a VM namespace with only a MAC
gets its address from a real DHCP server (dnsmasq) on the uplink with a real client
(ISC dhclient) and then reaches the internet; DHCP passes without rules but not
anti-spoofing (a request for another MAC's lease is spoofed); a server reply reaches
only the VM it is for; a VM running a DHCP server (a real dnsmasq) is cut off
(`dhcp-server-from-vm`), and so is every crafted server message from a VM."""
import os
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, marker
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import mac2str

K = 4
BCAST = "ff:ff:ff:ff:ff:ff"
SERVER_IP = "10.0.255.254"  # the uplink's DHCP server and router for 10.0.0.0/16
FOREIGN_MAC = "02:e2:e0:00:99:99"

# dhclient's script: configure what the lease says, in the VM's namespace only (the
# stock dhclient-script would rewrite the host's /etc/resolv.conf).
CLIENT_SCRIPT = """#!/bin/sh
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    [ -n "$new_routers" ] && ip route replace default via "${new_routers%% *}" dev "$interface"
    echo "$reason $new_ip_address $new_routers" >> "$(dirname "$0")/leases.txt" ;;
esac
exit 0
"""


def discover(src_mac, chaddr, xid, m, src_ip="0.0.0.0", op=1, sport=68, dport=67, dst_mac=BCAST,
             dst_ip="255.255.255.255", msg="discover"):
    return bytes(Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip) / UDP(sport=sport, dport=dport) /
                 BOOTP(op=op, chaddr=mac2str(chaddr), xid=xid, flags=0x8000) /
                 DHCP(options=[("message-type", msg), ("hostname", m), "end"]))


def dnsmasq(host, tmp, tag, hosts):
    argv = ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--port=0",
            "--interface=eth0", "--bind-interfaces", "--user=root", "--group=root",
            "--pid-file=", f"--dhcp-leasefile={os.path.join(tmp, tag + '.leases')}",
            "--dhcp-range=10.0.0.0,static,255.255.0.0,1h", "--log-dhcp", "--log-facility=-"]
    argv += [f"--dhcp-host={mac},{ip}" for mac, ip in hosts]
    argv += [f"--dhcp-option=option:router,{SERVER_IP}"]
    return host.spawn(*argv, log_name=f"dnsmasq-{tag}")


def scenario():
    with e2e.Topology("dhcp") as t:
        a = t.vm("a", "10.0.1.10", silent=True)  # only a MAC: the address comes by DHCP
        b = t.vm("b", "10.0.1.11", silent=True)  # answers nothing: crafted frames are counted exactly
        rogue = t.vm("rogue", "10.0.1.12")      # runs a real DHCP server
        inet = t.inet
        e2e.sh("ip", "-n", inet.ns, "addr", "add", f"{SERVER_IP}/16", "dev", "eth0")
        t.start()
        server = dnsmasq(inet, t.tmp, "uplink", [(a.mac, a.ip)])  # b's requests go unanswered
        time.sleep(0.5)
        check(server.alive(), f"dnsmasq did not start:\n{server.output()}")
        sniffers = {h.name: h.sniffer() for h in (a, b, inet)}

        with t.case("VM a (only a MAC) leases 10.0.1.10 from dnsmasq on the uplink, then pings the internet"):
            script_dir = os.path.join(t.tmp, "dhclient")
            os.makedirs(script_dir)
            script = os.path.join(script_dir, "script")
            with open(script, "w") as f:
                f.write(CLIENT_SCRIPT)
            os.chmod(script, 0o755)
            before = t.stats()
            client = a.spawn("dhclient", "-d", "-v", "-1", "-sf", script, "-pf", os.path.join(script_dir, "pid"),
                             "-lf", os.path.join(script_dir, "leases"), "eth0")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not os.path.exists(os.path.join(script_dir, "leases.txt")):
                time.sleep(0.2)
            leases = open(os.path.join(script_dir, "leases.txt")).read() if os.path.exists(
                os.path.join(script_dir, "leases.txt")) else ""
            check(f"BOUND {a.ip} {SERVER_IP}" in leases,
                  f"no lease: {leases!r}\ndhclient:\n{client.output()[-1500:]}\ndnsmasq:\n{server.output()[-1500:]}")
            addrs = a.run("ip", "-4", "addr", "show", "dev", "eth0").stdout
            check(f"{a.ip}/16" in addrs, f"address not configured: {addrs}")
            check("DHCPACK" in server.output(), "dnsmasq logged no DHCPACK")
            d = t.stats().delta(before)
            for r in ("spoofed", "broadcast", "no-rule", "not-local", "dhcp-server-from-vm"):
                check(d.get(("port", "vm-a", r), 0) == 0 and d.get(("port", "uplink", r), 0) == 0,
                      f"{r} drops during the lease: {dict(sorted(d.items(), key=str))}")
            check(d.get(("vm", "a", "allowed"), 0) >= 4, f"DISCOVER/OFFER/REQUEST/ACK not counted: {d}")
            got = a.ping(e2e.INET_IP, count=3)
            check(got == 3, f"{got} of 3 pings to the internet answered after DHCP")

        with t.case(f"a DISCOVER asking a lease for another MAC (starvation): spoofed x{K}, never on the uplink"):
            m = marker("dhcp-foreign")
            before = t.stats()
            b.send_frames([discover(b.mac, FOREIGN_MAC, 0x1000 + i, m) for i in range(K)])
            t.expect(before, {("port", "vm-b", "spoofed"): K, ("vm", "b", "spoofed"): K},
                     quiet=[("port", "vm-b"), ("vm", "b")])
            check(sniffers["inet"].count(m) == 0, "a spoofed DISCOVER reached the uplink")

        with t.case(f"a DISCOVER from VM b's MAC but another VM's address: spoofed x{K}"):
            m = marker("dhcp-foreign-ip")
            before = t.stats()
            b.send_frames([discover(b.mac, b.mac, 0x2000 + i, m, src_ip=a.ip, op=1, msg="request")
                           for i in range(K)])
            t.expect(before, {("port", "vm-b", "spoofed"): K}, quiet=[("port", "vm-b")])
            check(sniffers["inet"].count(m) == 0, "a spoofed REQUEST reached the uplink")

        with t.case(f"b's own DISCOVER (0.0.0.0, broadcast) reaches only the uplink, without rules, x{K}"):
            m = marker("dhcp-own")
            before = t.stats()
            b.send_frames([discover(b.mac, b.mac, 0x3000 + i, m) for i in range(K)])
            t.expect(before, {("vm", "b", "allowed"): K}, quiet=[("port", "vm-b"), ("vm", "b")])
            check(sniffers["inet"].wait_count(m, K) == K, f"uplink saw {sniffers['inet'].count(m)} of {K}")
            check(sniffers["a"].count(m) == 0, "a VM's DISCOVER reached another VM")

        with t.case(f"a broadcast server reply for b's chaddr reaches b only; for no VM's chaddr: not-local x{K}"):
            m = marker("dhcp-reply")
            before = t.stats()
            inet.send_frames([discover(inet.mac, b.mac, 0x4000 + i, m, src_ip=SERVER_IP, op=2, sport=67, dport=68,
                                       msg="offer") for i in range(K)])
            check(sniffers["b"].wait_count(m, K) == K, f"b saw {sniffers['b'].count(m)} of {K} replies")
            m2 = marker("dhcp-reply-nobody")
            inet.send_frames([discover(inet.mac, FOREIGN_MAC, 0x5000 + i, m2, src_ip=SERVER_IP, op=2, sport=67,
                                       dport=68, msg="offer") for i in range(K)])
            t.expect(before, {("vm", "b", "allowed"): K, ("port", "uplink", "not-local"): K},
                     quiet=[("port", "uplink"), ("vm", "b")])
            check(sniffers["a"].count(m) == 0 and sniffers["a"].count(m2) == 0, "a reply reached the wrong VM")

        with t.case("a VM running a real DHCP server (dnsmasq) is cut off: every OFFER is dhcp-server-from-vm"):
            rogue_server = dnsmasq(rogue, t.tmp, "rogue", [(FOREIGN_MAC, "10.0.7.7")])
            time.sleep(0.5)
            check(rogue_server.alive(), f"rogue dnsmasq did not start:\n{rogue_server.output()}")
            m = marker("dhcp-rogue")
            before = t.stats()
            # A client's DISCOVER handed straight to the rogue VM's interface (from the
            # host end of its veth): sgfw would never deliver one (client messages go to
            # the uplink only), so this is the only way its server gets to answer.
            s = e2e.socket.socket(e2e.socket.AF_PACKET, e2e.socket.SOCK_RAW)
            try:
                s.bind((rogue.host_if, 0))
                for i in range(K):
                    s.send(discover(FOREIGN_MAC, FOREIGN_MAC, 0x6000 + i, m))
                    time.sleep(0.05)
            finally:
                s.close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and rogue_server.output().count("DHCPOFFER(eth0)") < K:
                time.sleep(0.1)
            offers = rogue_server.output().count("DHCPOFFER(eth0)")
            check(offers >= 1, f"the rogue server sent no OFFER:\n{rogue_server.output()[-1500:]}")
            t.expect(before, {("port", "vm-rogue", "dhcp-server-from-vm"): offers,
                              ("vm", "rogue", "dhcp-server-from-vm"): offers},
                     quiet=[("port", "vm-rogue")])
            check(sniffers["inet"].count(FOREIGN_MAC.encode()) == 0, "an OFFER left the rogue VM")
            rogue_server.stop()

        with t.case(f"crafted server messages from VM b (to a, to broadcast, 67->67): dhcp-server-from-vm x{3 * K}"):
            m = marker("dhcp-crafted-server")
            before = t.stats()
            frames = []
            for i in range(K):
                frames.append(discover(b.mac, a.mac, 0x7000 + i, m, src_ip=b.ip, op=2, sport=67, dport=68,
                                       dst_mac=a.mac, dst_ip=a.ip, msg="offer"))
                frames.append(discover(b.mac, a.mac, 0x7100 + i, m, src_ip=b.ip, op=2, sport=67, dport=68,
                                       msg="ack"))
                frames.append(discover(b.mac, a.mac, 0x7200 + i, m, src_ip=b.ip, op=2, sport=67, dport=67,
                                       dst_mac=inet.mac, dst_ip=SERVER_IP, msg="offer"))
            b.send_frames(frames)
            t.expect(before, {("port", "vm-b", "dhcp-server-from-vm"): 3 * K,
                              ("vm", "b", "dhcp-server-from-vm"): 3 * K},
                     quiet=[("port", "vm-b"), ("vm", "b")])
            check(sniffers["a"].count(m) == 0 and sniffers["inet"].count(m) == 0, "a server message got through")

        with t.case(f"an ARP probe (sender 0.0.0.0, RFC 5227) from b's MAC passes; from a foreign MAC: spoofed x{K}"):
            from scapy.layers.l2 import ARP
            m = marker("arp-probe")
            before = t.stats()
            probe = bytes(Ether(src=b.mac, dst=BCAST) / ARP(op=1, hwsrc=b.mac, psrc="0.0.0.0", pdst=b.ip) / m)
            b.send_frames([probe] * K)
            check(sniffers["inet"].wait_count(m, K) == K, f"uplink saw {sniffers['inet'].count(m)} of {K} probes")
            m2 = marker("arp-probe-foreign")
            bad = bytes(Ether(src=b.mac, dst=BCAST) / ARP(op=1, hwsrc=FOREIGN_MAC, psrc="0.0.0.0", pdst=b.ip) / m2)
            b.send_frames([bad] * K)
            t.expect(before, {("port", "vm-b", "spoofed"): K}, quiet=[("port", "vm-b")])

        for s in sniffers.values():
            s.close()
        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
