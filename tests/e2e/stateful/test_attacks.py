#!/usr/bin/env python3
"""Attacks that once got through (docs/testing.md, "attacks"), each against real
network stacks in namespaces:
- ICMP echo state is directional: after the client pings the internet, an echo
  request from the internet with the same identifier is a first packet (no-rule), and
  an unsolicited echo reply admitted by a rule creates no state;
- a local VM cannot forge an ICMP error about another VM's connection (no-rule), while
  the connection's real destination can (related);
- ARP replies go to the owner of their target address when two VMs on different ports
  share a MAC: the second VM resolves the internet's address and pings it;
- source-routed IPv4 (LSRR, SSRR) is dropped as ip-source-route;
- a SYN flood of 200,000 spoofed internet sources at a VM's open port with
  per_vm_limit 1000 only recycles that VM's inbound half-open budget (250): the VM
  keeps opening its own connections (all of them), another VM is unaffected, the
  status counters show the recycled entries, the control socket answers within 2 s
  throughout, and within the SYN timeout after the flood none of its entries is left."""
import ipaddress
import socket
import struct
import threading
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker, sh
from scapy.layers.inet import IP, UDP, ICMP, IPOption
from scapy.layers.l2 import Ether

import conntrack_e2e as ct

INET = e2e.INET_IP
FLOOD = 200000
QUOTA = 1000
SYN_TIMEOUT = 30  # flows.timeouts.tcp_syn, the default (docs/configuration.md)
FLOOD_NET = ipaddress.ip_network("100.64.0.0/10")  # the flood's sources
GROUPS = [
    group("client", rule("Egress", "All", cidr="0.0.0.0/0", name="out")),
    group("forger", rule("Egress", "TCP", cidr="0.0.0.0/0", name="tcp-out")),
    group("pingable", rule("Ingress", "ICMP", cidr="0.0.0.0/0", name="echo-in")),
    group("server", rule("Ingress", "TCP", port=80, cidr="0.0.0.0/0", name="web"),
          rule("Egress", "TCP", port=443, cidr="0.0.0.0/0", name="tls-out")),
]
QUIET = [("port", "uplink")]


def icmp_to(ip, type_, ident=None):
    """Frames that are ICMP `type_` to `ip` (and with echo identifier `ident`)."""
    dst = socket.inet_aton(ip)

    def pred(f):
        if f[12:14] != b"\x08\x00" or f[23] != 1 or f[30:34] != dst:
            return False
        l4 = 14 + (f[14] & 15) * 4
        return f[l4] == type_ and (ident is None or f[l4 + 4:l4 + 6] == struct.pack("!H", ident))
    return pred


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def syn_flood_frames(src_mac, dst_mac, dst_ip, dport, n):
    """n SYNs from n distinct addresses in 100.64.0.0/10 (never a VM), checksums right."""
    dst = socket.inet_aton(dst_ip)
    eth = bytes.fromhex(dst_mac.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00"
    frames = []
    for i in range(n):
        src = struct.pack("!I", 0x64400000 + i + 1)
        tcp = struct.pack("!HHIIBBHHH", 1024 + i % 60000, dport, i, 0, 5 << 4, 0x02, 65535, 0, 0)
        tsum = checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", tsum) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff, 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frames.append(eth + ip + tcp)
    return frames


def scenario():
    with ct.Topology("st-attacks", flows={"per_vm_limit": QUOTA}) as t:
        client = t.vm("client", "10.0.1.10", groups=["client"])
        forger = t.vm("forger", "10.0.1.20", groups=["forger"])
        srv = t.vm("srv", "10.0.1.30", groups=["server", "pingable"])
        twin = t.vm("twin", "10.0.1.40", groups=["client", "pingable"])
        # twin shares client's MAC (another port): ARP replies must go by target address.
        sh("ip", "-n", twin.ns, "link", "set", "eth0", "address", client.mac)
        twin.mac = client.mac
        inet = t.inet
        t.start(security_groups=GROUPS)
        inet.udp_server(7001)

        with t.case("echo state is directional: the reverse request with the pinged identifier is no-rule"):
            with inet.sniffer() as isnif:
                check(client.ping(INET, count=1) == 1, "client -> internet ping failed")
                # The sniffer's thread may not have read the request yet when ping returns.
                ct.wait_for(lambda: isnif.matching(icmp_to(INET, 8)), timeout=1.0)
                reqs = isnif.matching(icmp_to(INET, 8))
            check(len(reqs) == 1, f"{len(reqs)} echo requests seen on the internet side")
            f = reqs[0]
            ident = struct.unpack("!H", f[14 + (f[14] & 15) * 4 + 4:][:2])[0]
            m = marker("reverse-echo")
            frame = bytes(eth_ip(inet, client) / ICMP(type=8, id=ident, seq=7) / m)
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([frame])
                t.expect(before, {("vm", "client", "no-rule"): 1, ("port", "uplink", "no-rule"): 1}, quiet=QUIET)
                check(snif.count(m) == 0, "the reverse echo request reached the client")

        with t.case("an unsolicited echo reply admitted by a rule creates no state"):
            m = marker("unsolicited")
            with srv.sniffer() as snif:
                before = t.stats()
                inet.send_frames([bytes(eth_ip(inet, srv) / ICMP(type=0, id=0x5151, seq=1) / m)])
                t.expect(before, {("rule", "pingable/echo-in"): 1}, quiet=QUIET)
                check(snif.wait_count(m, 1) == 1, "the reply (allowed by pingable) did not arrive")
            check(not [fl for fl in t.flows(vm="srv") if fl["proto"] == 1], "the reply created state")
            # srv has no ICMP egress: its request with that identifier is judged by rules.
            before = t.stats()
            srv.send_frames([bytes(eth_ip(srv, inet) / ICMP(type=8, id=0x5151, seq=2) / m)])
            t.expect(before, {("vm", "srv", "no-rule"): 1, ("port", "vm-srv", "no-rule"): 1}, quiet=QUIET)

        with t.case("a local VM cannot forge a related error about another VM's connection"):
            s = client.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((client.ip, 40001))
            s.sendto(b"query", (INET, 7001))
            s.settimeout(1)
            check(s.recvfrom(100)[0] == b"query", "no echo from the internet")
            quoted = IP(src=client.ip, dst=INET) / UDP(sport=40001, dport=7001) / b"query"
            m = marker("forged")
            forged = bytes(eth_ip(forger, client) / ICMP(type=3, code=3) / bytes(quoted)[:28] / m)
            real = bytes(eth_ip(inet, client) / ICMP(type=3, code=3) / bytes(quoted)[:28] / m)
            with client.sniffer() as snif:
                before = t.stats()
                forger.send_frames([forged])
                t.expect(before, {("vm", "forger", "no-rule"): 1, ("port", "vm-forger", "no-rule"): 1},
                         quiet=QUIET)
                check(snif.count(m) == 0, "the forged error reached the client")
                inet.send_frames([real])
                check(snif.wait_count(m, 1) == 1, "the destination's own error did not arrive")
            s.close()

        with t.case("ARP replies by target address: twin (client's MAC, another port) pings the internet"):
            check(twin.ping(INET, count=2) == 2, "twin -> internet ping failed")
            check(client.ping(INET, count=1) == 1, "client -> internet ping failed")

        with t.case("source-routed IPv4 (LSRR, SSRR) is dropped as ip-source-route"):
            m = marker("lsrr")
            frames = [bytes(eth_ip(client, inet, options=[IPOption(bytes([t_, 7, 4, 198, 51, 100, 1]))]) /
                            UDP(sport=40002, dport=7001) / m) for t_ in (0x83, 0x89)]
            with inet.sniffer() as snif:
                before = t.stats()
                client.send_frames(frames)
                t.expect(before, {("port", "vm-client", "ip-source-route"): 2}, quiet=QUIET)
                check(snif.count(m) == 0, "a source-routed packet reached the internet")

        with t.case(f"SYN flood of {FLOOD} spoofed sources at srv:80 (per_vm_limit {QUOTA}): srv's own "
                    "connections and another VM's all pass; the flood only recycles srv's inbound budget"):
            srv.tcp_server(80)
            tls = ct.HoldServer(inet, 443)
            frames = syn_flood_frames(inet.mac, srv.mac, srv.ip, 80, FLOOD)
            before = t.stats()
            st0 = t.status()["flows"]
            sender = threading.Thread(target=lambda: inet.send_frames(frames, burst=256, pause=0.0005))
            sender.start()
            opened = failed = 0
            conns = []
            slowest_status = 0.0  # the control socket, answered while the flood runs
            while sender.is_alive() or opened < 100:
                c = ct.try_connect(srv, INET, 443, timeout=2)
                if c is None:
                    failed += 1
                else:
                    opened += 1
                    conns.append(c)
                if sender.is_alive():
                    s0 = time.monotonic()
                    t.status()
                    slowest_status = max(slowest_status, time.monotonic() - s0)
                if opened + failed >= 400:
                    break
            sender.join()
            flood_end = time.monotonic()
            e2e.log(f"     slowest status during the flood: {slowest_status:.2f}s")
            check(slowest_status < 2.0, f"sgfwctl status took {slowest_status:.2f}s during the flood")
            check(failed == 0, f"srv: {failed} of {opened + failed} outbound connections failed during the flood")
            check(opened >= 100, f"only {opened} outbound connections tried")
            check(all(c.echo() for c in conns), "srv's connections do not carry data")
            check(ct.try_connect(client, INET, 443, timeout=2) is not None, "client's connection failed")
            after = t.stats()
            d = after.delta(before)
            hits = d.get(("rule", "server/web"), 0)
            st = t.status()["flows"]
            recycled = st["inbound_half_open_recycled"] - st0["inbound_half_open_recycled"]
            inbound_left = len([f for f in t.flows(vm="srv") if f["dst_vm"] == "srv" and f["dport"] == 80])
            e2e.log(f"     flood: {hits} SYNs admitted, {recycled} inbound half-open recycled, "
                    f"{inbound_left} left; srv opened {opened}")
            check(hits > FLOOD // 2, f"only {hits} of {FLOOD} flood SYNs reached the rule")
            check(inbound_left <= QUOTA // 4, f"{inbound_left} inbound half-open connections left")
            check(recycled == hits - inbound_left, f"recycled {recycled} != {hits} - {inbound_left}")
            check(d.get(("vm", "srv", "quota-exceeded"), 0) == 0, "srv got quota-exceeded")
            check(d.get(("port", "uplink", "table-full"), 0) == 0, "table-full during the flood")
            for c in conns:
                c.abort()
            tls.close()
        with t.case(f"after the flood the table recovers within the SYN timeout ({SYN_TIMEOUT} s): no flood "
                    "entry is left and only the test's own connections are added"):
            deadline = flood_end + SYN_TIMEOUT + 5  # + the sweep (a whole table every ~0.5 s)
            while True:
                left = [f for f in t.flows(vm="srv") if ipaddress.ip_address(f["src"]) in FLOOD_NET]
                if not left or time.monotonic() > deadline:
                    break
                time.sleep(1)
            e2e.log(f"     {len(left)} flood entries left {time.monotonic() - flood_end:.1f}s after the flood")
            check(not left, f"{len(left)} flood entries left {SYN_TIMEOUT} + 5 s after the flood")
            used = t.status()["flows"]["used"]
            # srv's and client's connections (aborted: closing, still listed) and the
            # ones the earlier cases left; the flood added none that stayed.
            check(used <= st0["used"] + opened + 1, f"flows.used {used}, before the flood {st0['used']}, "
                  f"the test opened {opened + 1}")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
