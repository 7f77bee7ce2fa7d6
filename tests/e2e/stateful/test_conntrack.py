#!/usr/bin/env python3
"""Connection tracking basics (docs/enforcement.md §4; test catalogue S02-S04, S05 in part (the states
established, fin-wait and time-wait; the unit test conn_state has every transition), S08,
S13, S17, S18, S29): replies of an allowed connection pass without any rule in their direction (TCP,
UDP, ICMP echo; VM -> internet, VM -> VM, and a VM without groups); unsolicited TCP
(SYN-ACK, bare ACK) is `no-connection` and an unsolicited echo reply is judged by the
rules (`no-rule`); invalid TCP flag combinations are `invalid-tcp-flags`, also on a live
connection; a TCP connection's life as `sgfwctl --json flows` shows it (established,
fin-wait, time-wait, with its deciding rules), and a new SYN on the time-wait tuple is
exactly one new connection; one-way UDP stays one-way; `sgfwctl flows flush` removes
connections at once."""
import socket
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import TCP, ICMP
from scapy.packet import Raw

import conntrack_e2e as ct

K = 2
INET = e2e.INET_IP
GROUPS = [
    # Egress only: nothing may come in unless it belongs to a connection.
    group("client-out",
          rule("Egress", "TCP", port_range=(7000, 7009), cidr="0.0.0.0/0", name="tcp-out"),
          rule("Egress", "UDP", port_range=(7000, 7009), cidr="0.0.0.0/0", name="udp-out"),
          rule("Egress", "ICMP", cidr="0.0.0.0/0", name="icmp-out")),
    # Ingress only (from client-out members): its replies have no egress rule.
    group("server-in",
          rule("Ingress", "TCP", port_range=(7000, 7009), group="client-out", name="tcp-in"),
          rule("Ingress", "UDP", port_range=(7000, 7009), group="client-out", name="udp-in"),
          rule("Ingress", "ICMP", group="client-out", name="icmp-in")),
]
QUIET = [("port", "vm-client"), ("port", "vm-server"), ("port", "vm-plain"), ("port", "uplink"),
         ("vm", "client"), ("vm", "server"), ("vm", "plain")]


def scenario():
    with ct.Topology("st-conntrack") as t:
        client = t.vm("client", "10.0.1.10", groups=["client-out"])
        server = t.vm("server", "10.0.1.20", groups=["server-in"])
        plain = t.vm("plain", "10.0.1.30")  # no groups: default-allow-egress
        inet = t.inet
        t.start(security_groups=GROUPS)
        inet.tcp_server(7000)
        inet.udp_server(7001)
        server.tcp_server(7000)
        server.udp_server(7001)

        # ---------------------------------------------------------------- return traffic
        with t.case("TCP client -> internet, no ingress rule: the replies pass (1 connection, 1 hit)"):
            before = t.stats()
            check(client.tcp_echo(INET, 7000), "TCP echo failed")
            t.expect(before, {("rule", "client-out/tcp-out"): 1}, quiet=QUIET)

        with t.case("UDP client -> internet, no ingress rule: the echo passes (2 packets, 1 hit)"):
            before = t.stats()
            check(client.udp_echo(INET, 7001), "UDP echo failed")
            t.expect(before, {("rule", "client-out/udp-out"): 1, ("vm", "client", "allowed"): 2},
                     quiet=QUIET)

        with t.case("ICMP client -> internet, no ingress rule: 3 echo replies pass (one connection)"):
            before = t.stats()
            got = client.ping(INET, count=3)
            check(got == 3, f"{got} of 3 replies")
            t.expect(before, {("rule", "client-out/icmp-out"): 1, ("vm", "client", "allowed"): 6},
                     quiet=QUIET)

        with t.case("VM -> VM: the server's replies pass without any egress rule (TCP, UDP, ICMP)"):
            before = t.stats()
            check(client.tcp_echo(server.ip, 7000), "TCP echo failed")
            check(client.udp_echo(server.ip, 7001), "UDP echo failed")
            got = client.ping(server.ip, count=3)
            check(got == 3, f"{got} of 3 replies")
            t.expect(before, {("rule", "client-out/tcp-out"): 1, ("rule", "server-in/tcp-in"): 1,
                              ("rule", "client-out/udp-out"): 1, ("rule", "server-in/udp-in"): 1,
                              ("rule", "client-out/icmp-out"): 1, ("rule", "server-in/icmp-in"): 1},
                     quiet=QUIET)

        with t.case("no groups (default-allow-egress) -> internet: TCP, UDP and ping replies pass"):
            before = t.stats()
            check(plain.tcp_echo(INET, 7000), "TCP echo failed")
            check(plain.udp_echo(INET, 7001), "UDP echo failed")
            got = plain.ping(INET, count=3)
            check(got == 3, f"{got} of 3 replies")
            t.expect(before, {("rule", "default-allow-egress/egress-all"): 3}, quiet=QUIET)

        # ----------------------------------------------------------- unsolicited inbound
        with t.case(f"unsolicited SYN-ACK and bare ACK from the internet: no-connection x{2 * K}, "
                    f"echo reply: no-rule x{K}; nothing reaches the VM"):
            m = marker("unsol")
            frames = []
            for i in range(K):
                frames.append(bytes(eth_ip(inet, client) / TCP(sport=7000, dport=45000 + i, flags="SA",
                                                              seq=1000, ack=2000) / Raw(m)))
                frames.append(bytes(eth_ip(inet, client) / TCP(sport=7000, dport=45100 + i, flags="A",
                                                              seq=1000, ack=2000) / Raw(m)))
                frames.append(bytes(eth_ip(inet, client) / ICMP(type=0, id=0x5e00 + i, seq=1) / Raw(m)))
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames(frames)
                t.expect(before, {("vm", "client", "no-connection"): 2 * K,
                                  ("port", "uplink", "no-connection"): 2 * K,
                                  ("vm", "client", "no-rule"): K, ("port", "uplink", "no-rule"): K,
                                  ("port", "uplink", "rx"): 3 * K, ("vm", "client", "allowed"): 0},
                         quiet=QUIET)
                check(snif.count(m) == 0, f"{snif.count(m)} crafted frames reached the VM")

        with t.case("ICMP echo: the identifier is part of the key (a reply with another id is no-rule)"):
            m = marker("icmp-id")
            with client.sniffer() as snif:
                before = t.stats()
                client.send_frames([bytes(eth_ip(client, inet) / ICMP(type=8, id=0x4242, seq=1) / Raw(m))])
                t.expect(before, {("rule", "client-out/icmp-out"): 1, ("vm", "client", "allowed"): 2},
                         quiet=QUIET)  # the request and the internet's reply
                check(snif.wait_count(m, 1) == 1, "the echo reply did not arrive")
                before = t.stats()
                inet.send_frames([bytes(eth_ip(inet, client) / ICMP(type=0, id=i, seq=2) / Raw(m))
                                  for i in (0x4243, 0x4242)])
                t.expect(before, {("vm", "client", "no-rule"): 1, ("port", "uplink", "no-rule"): 1,
                                  ("vm", "client", "allowed"): 1}, quiet=QUIET)
                check(snif.wait_count(m, 2) == 2, "the reply with the live id did not arrive")

        with t.case("unsolicited SYN-ACK VM -> VM (server to client): no-connection"):
            m = marker("unsol-vm")
            with client.sniffer() as snif:
                before = t.stats()
                server.send_frames([bytes(eth_ip(server, client) / TCP(sport=7000, dport=46000, flags="SA")
                                          / Raw(m))] * K)
                t.expect(before, {("vm", "server", "no-connection"): K,
                                  ("port", "vm-server", "no-connection"): K}, quiet=QUIET)
                check(snif.count(m) == 0, "a crafted frame reached the client")

        # --------------------------------------------------------------- invalid flags
        for flags, title in (("SF", "SYN+FIN"), ("SR", "SYN+RST"), (0, "no flags (null)"),
                             ("F", "FIN without ACK"), ("FR", "FIN+RST"), ("FPU", "Xmas (FIN+PSH+URG)")):
            with t.case(f"{title} from a VM to an allowed port: invalid-tcp-flags x{K}"):
                m = marker("flags")
                with inet.sniffer() as snif:
                    before = t.stats()
                    client.send_frames([bytes(eth_ip(client, inet) / TCP(sport=47000 + i, dport=7000, flags=flags)
                                              / Raw(m)) for i in range(K)])
                    t.expect(before, {("vm", "client", "invalid-tcp-flags"): K,
                                      ("port", "vm-client", "invalid-tcp-flags"): K},
                         quiet=QUIET)
                    check(snif.count(m) == 0, "a frame reached the internet")

        with t.case("invalid flags on a live connection (SYN+FIN, FIN without ACK both ways): dropped, "
                    "the connection still works"):
            c = ct.Conn(client, INET, 7000)
            check(c.echo(), "echo before")
            m = marker("live-flags")
            before = t.stats()
            client.send_frames([bytes(eth_ip(client, inet) / TCP(sport=c.sport, dport=7000, flags=f) / Raw(m))
                                for f in ("SF", "F")])
            inet.send_frames([bytes(eth_ip(inet, client) / TCP(sport=7000, dport=c.sport, flags=f) / Raw(m))
                              for f in ("SF", "F")])
            t.expect(before, {("vm", "client", "invalid-tcp-flags"): 4,
                              ("port", "vm-client", "invalid-tcp-flags"): 2,
                              ("port", "uplink", "invalid-tcp-flags"): 2}, quiet=QUIET)
            check(c.echo(), "echo after")
            c.close()

        # -------------------------------------------------------------- TCP lifecycle
        with t.case("TCP lifecycle in `sgfwctl flows`: established, fin-wait, time-wait, deciding rules"):
            ls = server.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.bind(("0.0.0.0", 7005))
            ls.listen(4)
            before = t.stats()
            c = ct.Conn(client, server.ip, 7005)
            ls.settimeout(2)
            a, _ = ls.accept()
            a.settimeout(2)

            def state():
                fl = ct.flow_of(t.flows(), 6, client.ip, c.sport, server.ip, 7005)
                check(len(fl) == 1, f"{len(fl)} flows for the connection: {fl}")
                return fl[0]

            f = ct.wait_for(lambda: (lambda x: x if x["state"] == "established" else None)(state()))
            check(f, f"not established: {state()}")
            check(f["vm"] == "client", f"charged to {f['vm']}")
            check(f["egress_rule"] == "client-out/tcp-out", f"egress rule {f['egress_rule']}")
            check(f["ingress_rule"] == "server-in/tcp-in", f"ingress rule {f['ingress_rule']}")
            check(f["generation"] == 1, f"generation {f['generation']}")
            e2e.log(f"     after the handshake: {f}")
            c.sock.sendall(b"ping")
            check(a.recv(16) == b"ping", "data to the server")
            a.sendall(b"pong")
            check(c.sock.recv(16) == b"pong", "data back")
            check(state()["state"] == "established", f"after data: {state()}")
            c.sock.shutdown(socket.SHUT_WR)          # client FIN (the server's kernel ACKs it)
            check(a.recv(16) == b"", "the server did not see the FIN")
            f = ct.wait_for(lambda: (lambda x: x if x["state"] == "fin-wait" else None)(state()))
            check(f, f"after the client's FIN: {state()}")
            a.close()                                 # server FIN, the client's kernel ACKs it
            check(c.sock.recv(16) == b"", "the client did not see the FIN")
            f = ct.wait_for(lambda: (lambda x: x if x["state"] == "time-wait" else None)(state()))
            check(f, f"after both FINs and the last ACK: {state()}")
            e2e.log(f"     after the close: {f}")
            t.expect(before, {("rule", "client-out/tcp-out"): 1, ("rule", "server-in/tcp-in"): 1},
                     quiet=QUIET)
            c.close()

        with t.case("a SYN on the time-wait tuple replaces the connection: exactly one new connection"):
            before = t.stats()
            client.send_frames([bytes(eth_ip(client, server) / TCP(sport=c.sport, dport=7005, flags="S",
                                                                   seq=0x12345678))])
            t.expect(before, {("rule", "client-out/tcp-out"): 1, ("rule", "server-in/tcp-in"): 1},
                     quiet=QUIET)
            fl = ct.flow_of(t.flows(), 6, client.ip, c.sport, server.ip, 7005)
            check(len(fl) == 1 and fl[0]["state"] != "time-wait" and fl[0]["age_s"] < 2, f"flow: {fl}")
            e2e.log(f"     after the new SYN: {fl[0]['state']}")
            ls.close()

        with t.case("UDP sent one way only stays one-way (3 datagrams, 1 connection)"):
            sink = inet.udp_server(7004, echo=False)
            s = client.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.connect((INET, 7004))
            before = t.stats()
            for _ in range(3):
                s.send(b"one-way")
                time.sleep(0.05)
            t.expect(before, {("rule", "client-out/udp-out"): 1, ("vm", "client", "allowed"): 3}, quiet=QUIET)
            check(sink.count(b"one-way") == 3, "the sink did not get 3 datagrams")
            fl = ct.flow_of(t.flows(), 17, client.ip, s.getsockname()[1], INET, 7004)
            check(len(fl) == 1 and fl[0]["state"] == "udp-one-way", f"flow: {fl}")

        # ---------------------------------------------------------------------- flush
        with t.case("flows flush --vm: a flushed UDP connection's return traffic is dropped (no-rule)"):
            u = inet.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("0.0.0.0", 7003))
            u.settimeout(2)
            c = client.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.connect((INET, 7003))
            c.settimeout(1)
            c.send(b"hello")
            data, peer = u.recvfrom(100)
            u.sendto(b"reply-1", peer)
            check(c.recv(100) == b"reply-1", "first reply")
            u.sendto(b"reply-2", peer)                  # the server speaks unasked: still the connection
            check(c.recv(100) == b"reply-2", "unasked reply while the connection lives")
            fl = ct.flow_of(t.flows(), 17, client.ip, peer[1], INET, 7003)
            check(len(fl) == 1 and fl[0]["state"] == "udp-two-way", f"flow: {fl}")
            mine = t.flows(vm="client")
            others = [f for f in t.flows() if f["vm"] != "client"]
            check(others, "no other VM's connections to keep")
            removed = t.flush(vm="client")
            check(removed == len(mine), f"removed {removed}, the VM had {len(mine)}")
            check(t.flows(vm="client") == [], "client flows left")
            left = [f for f in t.flows() if f["vm"] != "client"]
            check(len(left) == len(others), f"other VMs' flows: {len(others)} -> {len(left)}")
            before = t.stats()
            u.sendto(b"reply-3", peer)
            t.expect(before, {("vm", "client", "no-rule"): 1, ("port", "uplink", "no-rule"): 1,
                              ("vm", "client", "allowed"): 0}, quiet=QUIET)
            try:
                got = c.recv(100)
            except socket.timeout:
                got = None
            check(got is None, f"the client got {got!r} after the flush")

        with t.case("flows flush (all): table empty, status flows.used 0"):
            total = len(t.flows())
            removed = t.flush()
            check(removed == total, f"removed {removed} of {total}")
            check(t.flows() == [], "flows left")
            used = t.status()["flows"]["used"]
            check(used == 0, f"status flows.used {used}")
            before = t.stats()
            check(client.udp_echo(INET, 7001), "a new connection after the flush")
            t.expect(before, {("rule", "client-out/udp-out"): 1}, quiet=QUIET)
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
