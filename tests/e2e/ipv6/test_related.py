#!/usr/bin/env python3
"""Related ICMPv6 errors (semantics §4, §7) with the stateful tests' policy and hosts
(ipv6_e2e.start_stateful(), plus the far network: a router in front of a 1280-byte link):
- a port unreachable from the internet reaches the VM (ECONNREFUSED; the flow stays
  `udp-one-way`, the error creates no state), and srv's own port unreachable leaves
  without an egress rule;
- a packet too big from the router reaches the VM, which learns the path MTU: a 300 KB
  TCP transfer completes, `ping -6 -s 1400` is answered;
- not related: port unreachables quoting a live connection but sent to another VM, or
  quoting it from its other end, or quoting no connection: `no-rule`; the right one
  passes;
- a time exceeded from a router off the appliance and an error whose quoted packet has a
  destination options header are related; a packet too big forged by another local VM
  is not (`no-rule`)."""
import errno
import socket
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, eth_ip6, marker
import ipv6_e2e as v6
from ipv6_e2e import ct, K, QUIET
from scapy.layers.inet import UDP
from scapy.layers.inet6 import ICMPv6DestUnreach, IPv6, IPv6ExtHdrDestOpt, ICMPv6PacketTooBig, ICMPv6TimeExceeded
from scapy.packet import Raw

INET6 = e2e.INET6_IP


def scenario():
    with ct.Topology("v6-related", ipv6=True) as t:
        client, srv, other, far = v6.start_stateful(t, far=True)
        inet = t.inet
        inet.udp_server(7005, "::")
        time.sleep(0.3)

        # ---------------------------------------------------------------- related ICMPv6
        with t.case("UDP client -> closed port on the internet: port unreachable passes (related), "
                    "ECONNREFUSED"):
            with client.sniffer() as snif:
                before = t.stats()
                s = client.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                s.connect((INET6, 7009))
                s.settimeout(2)
                s.send(b"anyone?")
                try:
                    s.recv(100)
                    err = None
                except OSError as e:
                    err = e.errno
                check(err == errno.ECONNREFUSED, f"recv: {errno.errorcode.get(err, err)}, not ECONNREFUSED")
                t.expect(before, {("rule", "c6/udp-inet"): 1}, quiet=QUIET)
                check(len(snif.matching(v6.is_icmp6(1, src=INET6, dst=client.ip6))) == 1,
                      "no port unreachable seen at the VM")
            fl = ct.flow_of(t.flows(), 17, client.ip6, s.getsockname()[1], INET6, 7009)
            check(len(fl) == 1 and fl[0]["state"] == "udp-one-way",
                  f"the error must not answer the connection: {fl}")
            check(not [f for f in t.flows() if f["proto"] == 58 and f["state"] not in ("icmp-echo", "icmp-echo-replied")],
                  f"the ICMPv6 error created state: {t.flows()}")

        with t.case("UDP internet -> closed port on srv (no egress rules): srv's port unreachable passes out "
                    "(related), ECONNREFUSED at the sender"):
            before = t.stats()
            s = inet.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.connect((srv.ip6, 7008))
            s.settimeout(2)
            s.send(b"anyone?")
            try:
                s.recv(100)
                err = None
            except OSError as e:
                err = e.errno
            check(err == errno.ECONNREFUSED, f"recv: {errno.errorcode.get(err, err)}, not ECONNREFUSED")
            t.expect(before, {("rule", "s6/udp-closed"): 1}, quiet=QUIET)

        with t.case("PMTU: 300 KB over TCP to a host behind a 1280-byte link; the router's packet too big "
                    "passes (related), the VM learns MTU 1280 and the transfer completes"):
            check("mtu" not in client.run("ip", "-6", "route", "get", v6.FAR6_IP).stdout,
                  "a path MTU is cached already")
            ct.HoldServer(far, 7004, mode="sink", addr="::")
            data = bytes(range(256)) * 1200
            with client.sniffer() as snif:
                before = t.stats()
                c = ct.Conn(client, v6.FAR6_IP, 7004, timeout=10)
                c.sock.sendall(data)
                c.sock.shutdown(socket.SHUT_WR)
                got = b""
                while True:
                    d = c.sock.recv(100)
                    if not d:
                        break
                    got += d
                c.close()
                check(got == str(len(data)).encode(), f"the far host got {got!r} bytes, not {len(data)}")
                t.expect(before, {("rule", "c6/tcp-far"): 1}, quiet=QUIET)
                ptb = snif.matching(v6.is_icmp6(2, dst=client.ip6))
                check(ptb, "no packet too big reached the VM")
                mtu = int.from_bytes(ptb[0][58:62], "big")
                check(mtu == 1280, f"packet too big says MTU {mtu}")
            route = client.run("ip", "-6", "route", "get", v6.FAR6_IP).stdout
            check("mtu 1280" in route, f"the VM did not learn the path MTU: {route.strip()}")
            e2e.log(f"     {len(ptb)} packet too big passed; {route.strip()}")

        with t.case("ping -6 -s 1400 client -> far host: the router's packet too big quoting the echo request "
                    "passes (related), later requests leave fragmented and are answered"):
            far2 = "2001:db8:fa::11"  # a destination whose path MTU the VM has not learnt yet
            e2e.sh("ip", "-n", far.ns, "-6", "addr", "add", f"{far2}/64", "dev", "eth0", "nodad")
            check("mtu" not in client.run("ip", "-6", "route", "get", far2).stdout, "a path MTU is cached already")
            with client.sniffer() as snif:
                before = t.stats()
                r = client.run("ping", "-n", "-q", "-c", "4", "-i", "0.3", "-W", "1", "-s", "1400", far2,
                               timeout=15)
                m = __import__("re").search(r"(\d+) received", r.stdout)
                got = int(m.group(1)) if m else -1
                check(got >= 3, f"{got} of 4 answered: {r.stdout.strip()}")
                check(snif.matching(v6.is_icmp6(2, dst=client.ip6)), "no packet too big reached the VM")
                t.expect(before, {("rule", "c6/icmp-far"): 1}, quiet=QUIET)

        u = client.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.connect((INET6, 7005))
        usport = u.getsockname()[1]
        with t.case("a live UDP connection client -> internet 7005 (quoted by the error cases below)"):
            u.settimeout(1)
            u.send(b"live")
            try:
                got = u.recv(100)
            except OSError as e:
                got = e
            check(got == b"live", f"the live UDP connection did not work: {got!r}")

        def unreach(dst_host, quote, m):
            return bytes(eth_ip6(inet, dst_host, src_ip=INET6) / ICMPv6DestUnreach(code=4) / quote / Raw(m))

        spoofed_errors = [
            ("quoting client's live connection, sent to other (not the quoted source)", other,
             lambda m: unreach(other, IPv6(src=client.ip6, dst=INET6) / UDP(sport=usport, dport=7005), m)),
            ("quoting the live connection from its other end", client,
             lambda m: unreach(client, IPv6(src=INET6, dst=client.ip6) / UDP(sport=7005, dport=usport), m)),
            ("quoting no connection", client,
             lambda m: unreach(client, IPv6(src=client.ip6, dst=INET6) / UDP(sport=usport + 1, dport=7005), m)),
        ]
        for title, host, build in spoofed_errors:
            with t.case(f"ICMPv6 port unreachable {title}: no-rule x{K}, not delivered"):
                m = marker("spoofed-error")
                with host.sniffer() as snif:
                    before = t.stats()
                    inet.send_frames([build(m)] * K)
                    t.expect(before, {("vm", host.name, "no-rule"): K, ("port", "uplink", "no-rule"): K}, quiet=QUIET)
                    check(snif.count(m) == 0, "the error was delivered")

        with t.case(f"ICMPv6 port unreachable quoting client's live connection, to client: related, x{K} delivered"):
            m = marker("related-error")
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([unreach(client, IPv6(src=client.ip6, dst=INET6) / UDP(sport=usport, dport=7005),
                                          m)] * K)
                check(snif.wait_count(m, K) == K, f"client saw {snif.count(m)} of {K}")
                t.expect(before, {("vm", "client", "allowed"): K}, quiet=QUIET)
        u.close()

        # --- related errors from a router elsewhere, and from a local VM
        u = client.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.connect((INET6, 7005))
        usport = u.getsockname()[1]
        with t.case("a live UDP connection client -> internet 7005 (quoted below)"):
            u.settimeout(1)
            u.send(b"live")
            try:
                got = u.recv(100)
            except OSError as err:
                got = err
            check(got == b"live", f"the live UDP connection did not work: {got!r}")
        quote = IPv6(src=client.ip6, dst=INET6, hlim=63) / UDP(sport=usport, dport=7005) / b"live"

        with t.case(f"time exceeded quoting client's live connection from a router off the appliance "
                    f"(2001:db8:ff::fe): related, x{K} delivered"):
            m = marker("time-exceeded")
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([bytes(eth_ip6(inet, client, src_ip="2001:db8:ff::fe") / ICMPv6TimeExceeded() /
                                        quote / Raw(m))] * K)
                check(snif.wait_count(m, K) == K, f"client saw {snif.count(m)} of {K}")
                t.expect(before, {("vm", "client", "allowed"): K}, quiet=QUIET)

        with t.case(f"port unreachable quoting client's live connection with a destination options header in the "
                    f"quoted packet: related, x{K} delivered"):
            m = marker("quote-ext")
            q_ext = IPv6(src=client.ip6, dst=INET6, hlim=63) / IPv6ExtHdrDestOpt() / UDP(sport=usport, dport=7005) / b"live"
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([bytes(eth_ip6(inet, client, src_ip=INET6) / ICMPv6DestUnreach(code=4) / q_ext /
                                        Raw(m))] * K)
                check(snif.wait_count(m, K) == K, f"client saw {snif.count(m)} of {K}")
                t.expect(before, {("vm", "client", "allowed"): K}, quiet=QUIET)

        with t.case(f"packet too big quoting client's live connection forged by another local VM (other): not "
                    f"related, no-rule x{K} at client's ingress"):
            m = marker("vm-forged-ptb")
            with client.sniffer() as snif:
                before = t.stats()
                other.send_frames([bytes(eth_ip6(other, client) / ICMPv6PacketTooBig(mtu=1280) / quote / Raw(m))] * K)
                t.expect(before, {("vm", "client", "no-rule"): K, ("port", "vm-other", "no-rule"): K}, quiet=QUIET)
                check(snif.count(m) == 0, "the forged error was delivered")
        u.close()

        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
