#!/usr/bin/env python3
"""Related ICMP errors (docs/enforcement.md §4; test catalogue S19, S20, S21 for errors
about the originator's packets, S22, S23, P08): no VM here has any ICMP rule.
- UDP to a closed port: the port-unreachable passes back as related, in both directions
  (internet -> VM and VM -> internet), and the sender's connected socket gets
  ECONNREFUSED;
- path MTU discovery: the internet namespace routes to a far network over a 1280-byte
  link; a VM's large TCP transfer (DF) to the far host gets the router's
  fragmentation-needed as related, learns the path MTU and completes;
- errors that are not related are judged by the rules (`no-rule`) and never arrive:
  quoting a live connection but sent to another VM, quoting the connection from the
  wrong end, quoting no connection. A correctly addressed one from another router
  (time exceeded) passes, and so does one quoting only 8 bytes of a live connection's
  TCP header."""
import errno
import socket

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import IP, UDP, ICMP
from scapy.packet import Raw

import conntrack_e2e as ct

K = 2
INET = e2e.INET_IP
GROUPS = [
    group("client-out",
          rule("Egress", "TCP", port_range=(7000, 7009), cidr="0.0.0.0/0", name="tcp-out"),
          rule("Egress", "UDP", port_range=(7000, 7009), cidr="0.0.0.0/0", name="udp-out")),
    group("udp-in", rule("Ingress", "UDP", port_range=(7000, 7009), cidr="0.0.0.0/0", name="udp-in")),
]
QUIET = [("port", "vm-client"), ("port", "vm-srv"), ("port", "vm-other"), ("port", "uplink"),
         ("vm", "client"), ("vm", "srv"), ("vm", "other")]


def icmp_frames(snif, ip, type_, code=None):
    """Frames seen by `snif` that are ICMP errors of `type_` (and `code`) to `ip`."""
    def pred(f):
        return (f[12:14] == b"\x08\x00" and f[23] == 1 and f[30:34] == socket.inet_aton(ip) and
                f[14 + (f[14] & 15) * 4] == type_ and
                (code is None or f[14 + (f[14] & 15) * 4 + 1] == code))
    return snif.matching(pred)


def scenario():
    with ct.Topology("st-related") as t:
        client = t.vm("client", "10.0.1.10", groups=["client-out"])  # egress TCP/UDP only
        srv = t.vm("srv", "10.0.1.20", groups=["udp-in"])             # ingress UDP only
        other = t.vm("other", "10.0.1.30", groups=["client-out"])
        inet = t.inet
        far = t.add_far_network(mtu=1280, far_advmss=1460)
        t.route_far(client)
        t.start(security_groups=GROUPS)
        inet.udp_server(7001)

        # ---------------------------------------------------------- port unreachable
        with t.case("UDP VM -> closed port on the internet: port-unreachable passes (related), "
                    "the connected socket gets ECONNREFUSED"):
            with client.sniffer() as snif:
                before = t.stats()
                s = client.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.connect((INET, 7009))
                s.settimeout(2)
                s.send(b"anyone?")
                try:
                    s.recv(100)
                    err = None
                except OSError as e:
                    err = e.errno
                check(err == errno.ECONNREFUSED, f"recv: {errno.errorcode.get(err, err)}, not ECONNREFUSED")
                t.expect(before, {("vm", "client", "allowed"): 2, ("rule", "client-out/udp-out"): 1},
                         quiet=QUIET)
                check(len(icmp_frames(snif, client.ip, 3, 3)) == 1, "no port-unreachable seen at the VM")
            fl = ct.flow_of(t.flows(), 17, client.ip, s.getsockname()[1], INET, 7009)
            check(len(fl) == 1 and fl[0]["state"] == "udp-one-way",
                  f"the error must not answer the connection: {fl}")
            check(not [f for f in t.flows() if f["proto"] == 1], "the ICMP error created state")

        with t.case("UDP internet -> closed port on a VM without egress rules: the VM's "
                    "port-unreachable passes out (related), ECONNREFUSED at the sender"):
            before = t.stats()
            s = inet.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.connect((srv.ip, 7008))
            s.settimeout(2)
            s.send(b"anyone?")
            try:
                s.recv(100)
                err = None
            except OSError as e:
                err = e.errno
            check(err == errno.ECONNREFUSED, f"recv: {errno.errorcode.get(err, err)}, not ECONNREFUSED")
            t.expect(before, {("vm", "srv", "allowed"): 2, ("rule", "udp-in/udp-in"): 1}, quiet=QUIET)

        # ------------------------------------------------------------ path MTU discovery
        with t.case("PMTU: 300 KB over TCP to a host behind a 1280-byte link; the router's "
                    "frag-needed passes (related) and the transfer completes"):
            check("mtu" not in client.run("ip", "route", "get", ct.FAR_IP).stdout, "a path MTU is cached already")
            ct.HoldServer(far, 7002, mode="sink")  # answers with the byte count at EOF
            data = bytes(range(256)) * 1200  # 307,200 bytes
            with client.sniffer() as snif:
                before = t.stats()
                c = ct.Conn(client, ct.FAR_IP, 7002, timeout=10)
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
                t.expect(before, {("rule", "client-out/tcp-out"): 1}, quiet=QUIET)
                needs = icmp_frames(snif, client.ip, 3, 4)
                check(needs, "no fragmentation-needed reached the VM")
                mtu = int.from_bytes(needs[0][14 + 20 + 6:14 + 20 + 8], "big")
                check(mtu == 1280, f"next-hop MTU {mtu}")
            route = client.run("ip", "route", "get", ct.FAR_IP).stdout
            check("mtu 1280" in route, f"the VM did not learn the path MTU: {route.strip()}")
            e2e.log(f"     {len(needs)} frag-needed passed; {route.strip()}")

        # ----------------------------------------------------------- unrelated errors
        u = client.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.connect((INET, 7001))
        u.settimeout(1)
        u.send(b"live")
        check(u.recv(100) == b"live", "the live UDP connection did not work")
        sport = u.getsockname()[1]
        live_quote = IP(src=client.ip, dst=INET, ttl=63) / UDP(sport=sport, dport=7001) / b"live"

        def error_to(dst_host, quote, outer_src=INET, type_=3, code=3, m=b""):
            return bytes(eth_ip(inet, dst_host, src_ip=outer_src) / ICMP(type=type_, code=code) / quote / Raw(m))

        cases = [
            ("quoting a live connection, sent to another VM (not the quoted source)", other, "other",
             lambda m: error_to(other, live_quote, m=m)),
            ("quoting the live connection from its other end (the VM is not the quoted source)", client,
             "client", lambda m: error_to(client, IP(src=INET, dst=client.ip) / UDP(sport=7001, dport=sport), m=m)),
            ("quoting no connection", client, "client",
             lambda m: error_to(client, IP(src=client.ip, dst=INET) / UDP(sport=sport + 1, dport=7001), m=m)),
            ("time exceeded quoting no connection, from another router", client, "client",
             lambda m: error_to(client, IP(src=client.ip, dst=ct.FAR_IP) / UDP(sport=sport, dport=7001),
                                outer_src="203.0.113.254", type_=11, code=0, m=m)),
        ]
        for title, host, vm, build in cases:
            with t.case(f"spoofed ICMP error {title}: no-rule x{K}, not delivered"):
                m = marker("spoof")
                with host.sniffer() as snif:
                    before = t.stats()
                    inet.send_frames([build(m) for _ in range(K)])
                    t.expect(before, {("vm", vm, "no-rule"): K, ("port", "uplink", "no-rule"): K,
                                      ("vm", vm, "allowed"): 0}, quiet=QUIET)
                    check(snif.count(m) == 0, f"{snif.count(m)} reached the VM")
                u.send(b"still")
                check(u.recv(100) == b"still", "the live connection was disturbed")

        with t.case("a correctly addressed error from another router (time exceeded) passes as related"):
            m = marker("related")
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([error_to(client, live_quote, outer_src="203.0.113.254", type_=11, code=0, m=m)])
                t.expect(before, {("vm", "client", "allowed"): 1}, quiet=QUIET)
                check(snif.wait_count(m, 1) == 1, "the error did not reach the VM")

        with t.case("an error quoting only 8 bytes of a live TCP connection's header passes as related"):
            hold = ct.HoldServer(inet, 7005)
            c = ct.Conn(client, INET, 7005)
            check(c.echo(), "the TCP connection does not work")
            tcp8 = c.sport.to_bytes(2, "big") + (7005).to_bytes(2, "big") + b"\x00\x00\x10\x00"
            quote = IP(src=client.ip, dst=INET, proto=6, len=1500, flags="DF") / Raw(tcp8)
            frame = bytes(eth_ip(inet, client, src_ip="203.0.113.254") /
                          ICMP(type=3, code=4, nexthopmtu=1400) / quote)
            check(len(frame) == 14 + 20 + 8 + 20 + 8, f"frame length {len(frame)}")

            def mine(f):
                return f[12:14] == b"\x08\x00" and f[23] == 1 and f[34] == 3 and f[35] == 4 and \
                    f[62:64] == c.sport.to_bytes(2, "big")
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([frame])
                t.expect(before, {("vm", "client", "allowed"): 1}, quiet=QUIET)
                check(ct.wait_for(lambda: len(snif.matching(mine)) == 1), "the error did not reach the VM")
            check(c.echo(), "the TCP connection broke")
            c.abort()
            hold.close()

        with t.case("after the connection is flushed the same error is no-rule"):
            t.flush(vm="client")
            m = marker("flushed")
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([error_to(client, live_quote, m=m)] * K)
                t.expect(before, {("vm", "client", "no-rule"): K, ("port", "uplink", "no-rule"): K},
                         quiet=QUIET)
                check(snif.count(m) == 0, "the error reached the VM")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
