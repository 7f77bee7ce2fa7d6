#!/usr/bin/env python3
"""The IPv4 stateful cases again over IPv6 (semantics §3, §4, §5): real stacks with IPv6
on (client, srv, other and the internet namespace), rules whose remotes are an address
(::/0, a bare /128), a subnet (subnetRef) and a group (securityGroupRef); the policy and
the hosts are ipv6_e2e.start_stateful()'s, shared with test_related and test_fragments:
- ping -6: the echo request opens state, replies pass without an ingress rule; inbound
  and VM-to-VM pings without a rule are `no-rule`; an unsolicited echo reply is `no-rule`;
- TCP and UDP pass or are `no-rule` exactly as the remote forms say, in both directions,
  return traffic passes; `::/0` does not match IPv4;
- ports come from the upper-layer header after hop-by-hop and destination options; a
  type 0 routing header is `ipv6-routing-type0`;
- directional echo state; TCP without a connection (`no-connection`), SYN+FIN
  (`invalid-tcp-flags`); an echo request behind a hop-by-hop header keeps echo state;
- a reload that removes a live TCP connection's rule: its next packet is `revoked`, a
  connection whose rule stays keeps working; `sgfwctl flows` and `status` for IPv6
  connections.
Related ICMPv6 errors: test_related.py; fragments: test_fragments.py."""
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, group, eth_ip6, marker
import ipv6_e2e as v6
from ipv6_e2e import ct, K, C6_RULES, GROUPS, QUIET
from scapy.layers.inet import TCP, UDP
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop,
                                IPv6ExtHdrRouting)
from scapy.packet import Raw

INET6 = e2e.INET6_IP


def only(t, before, expected, allowed_extra=()):
    """expect() with every VM and port quiet except for `allowed_extra` reasons (TCP
    retransmissions of a connection that is gone)."""
    now = t.expect(before, expected, quiet=[])
    d = now.delta(before)
    bad = {k: v for k, v in d.items()
           if k[0] in ("vm", "port") and len(k) == 3 and k[2] not in ("rx", "tx", "allowed", "dropped")
           and k not in expected and k[2] not in allowed_extra and v}
    check(not bad, f"other drops moved: {bad}")
    return now


def scenario():
    with ct.Topology("v6-stateful", ipv6=True) as t:
        client, srv, other, _ = v6.start_stateful(t)
        inet = t.inet
        for port in (7000, 7002):
            srv.tcp_server(port, "::")
            inet.tcp_server(port, "::")
        srv.udp_server(7001, "::")
        inet.udp_server(7001, "::")
        frag_srv = srv.udp_server(7006, "::", echo=False)
        frag_denied = srv.udp_server(7007, "::", echo=False)
        time.sleep(0.3)

        # ------------------------------------------------------------------ ICMPv6 echo
        with t.case("ping -6 client -> internet (ICMP to subnet inet6): 3 replies without an ingress rule"):
            before = t.stats()
            check(client.ping(INET6) == 3, "echo replies lost")
            t.expect(before, {("rule", "c6/icmp-inet"): 1}, quiet=QUIET)

        with t.case("ping -6 internet -> client (no ingress rule): no-rule x3"):
            before = t.stats()
            check(inet.ping(client.ip6) == 0, "an inbound ping was answered")
            t.expect(before, {("vm", "client", "no-rule"): 3, ("port", "uplink", "no-rule"): 3}, quiet=QUIET)

        with t.case("ping -6 client -> srv (ICMP egress only to the internet's subnet): no-rule x3"):
            before = t.stats()
            check(client.ping(srv.ip6) == 0, "a ping to srv was answered")
            t.expect(before, {("vm", "client", "no-rule"): 3, ("port", "vm-client", "no-rule"): 3}, quiet=QUIET)

        with t.case(f"an echo reply from the internet that answers no request: no-rule x{K}"):
            m = marker("unsolicited-reply")
            with client.sniffer() as snif:
                before = t.stats()
                inet.send_frames([bytes(eth_ip6(inet, client, src_ip=INET6) / ICMPv6EchoReply(id=4242, data=m))] * K)
                t.expect(before, {("vm", "client", "no-rule"): K, ("port", "uplink", "no-rule"): K}, quiet=QUIET)
                check(snif.count(m) == 0, "an unsolicited echo reply reached the VM")

        # ---------------------------------------------------------------- TCP and UDP
        with t.case("TCP client -> srv 7000 (egress address ::/0, ingress securityGroupRef c6): echo passes"):
            before = t.stats()
            check(client.tcp_echo(srv.ip6, 7000), "no echo")
            t.expect(before, {("rule", "c6/tcp-addr"): 1, ("rule", "s6/tcp-from-group"): 1}, quiet=QUIET)

        with t.case("TCP client -> internet 7000 over IPv6 passes; over IPv4 ::/0 does not match: no-rule x1"):
            before = t.stats()
            check(client.tcp_echo(INET6, 7000), "no echo over IPv6")
            t.expect(before, {("rule", "c6/tcp-addr"): 1}, quiet=QUIET)
            before = t.stats()
            check(ct.try_connect(client, e2e.INET_IP, 7000) is None, "IPv4 connection made")
            t.expect(before, {("vm", "client", "no-rule"): 1, ("port", "vm-client", "no-rule"): 1}, quiet=QUIET)

        with t.case("TCP other (not in c6) -> srv 7000: no-rule x1 (ingress)"):
            before = t.stats()
            check(ct.try_connect(other, srv.ip6, 7000) is None, "connection made")
            t.expect(before, {("vm", "srv", "no-rule"): 1, ("port", "vm-other", "no-rule"): 1}, quiet=QUIET)

        with t.case("UDP client -> srv 7001 (egress subnetRef vm6, ingress bare address): echo passes"):
            before = t.stats()
            check(client.udp_echo(srv.ip6, 7001), "no echo")
            t.expect(before, {("rule", "c6/udp-subnet"): 1, ("rule", "s6/udp-from-addr"): 1}, quiet=QUIET)

        with t.case("UDP other -> srv 7001 (not the address): no-rule x1; client -> internet 7001 "
                    "(outside subnet vm6): no-rule x1"):
            before = t.stats()
            other.udp_send(srv.ip6, 7001, marker("udp-other"))
            client.udp_send(INET6, 7001, marker("udp-inet"))
            t.expect(before, {("vm", "srv", "no-rule"): 1, ("port", "vm-other", "no-rule"): 1,
                              ("vm", "client", "no-rule"): 1, ("port", "vm-client", "no-rule"): 1}, quiet=QUIET)

        with t.case("TCP client -> srv 7002 (egress securityGroupRef s6, ingress subnetRef vm6) and "
                    "other -> srv 7002 pass"):
            before = t.stats()
            check(client.tcp_echo(srv.ip6, 7002), "no echo from client")
            check(other.tcp_echo(srv.ip6, 7002), "no echo from other")
            t.expect(before, {("rule", "c6/tcp-group"): 1, ("rule", "s6/tcp-from-subnet"): 2,
                              ("rule", "o6/all-out"): 1}, quiet=QUIET)

        with t.case("TCP client -> internet 7002 (not a member of s6): no-rule x1; internet -> srv 7002 "
                    "(outside subnet vm6): no-rule x1"):
            before = t.stats()
            check(ct.try_connect(client, INET6, 7002) is None, "client connected")
            check(ct.try_connect(inet, srv.ip6, 7002) is None, "the internet connected")
            t.expect(before, {("vm", "client", "no-rule"): 1, ("port", "vm-client", "no-rule"): 1,
                              ("vm", "srv", "no-rule"): 1, ("port", "uplink", "no-rule"): 1}, quiet=QUIET)

        # ------------------------------------------------------------ extension headers
        with t.case("UDP behind hop-by-hop and destination options headers: the port after them decides "
                    "(srv 7006 delivered, 7007 no-rule x1)"):
            m_ok, m_no = marker("ext-ok"), marker("ext-no")
            before = t.stats()
            inet.send_frames([bytes(eth_ip6(inet, srv, src_ip=INET6) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
                                    UDP(sport=41000 + i, dport=dport) / Raw(mm))
                              for i, (dport, mm) in enumerate(((7006, m_ok), (7007, m_no)))])
            check(ct.wait_for(lambda: frag_srv.count(m_ok) == 1), "srv 7006 did not get the datagram")
            t.expect(before, {("vm", "srv", "no-rule"): 1, ("port", "uplink", "no-rule"): 1,
                              ("rule", "s6/udp-frag"): 1}, quiet=QUIET)
            check(frag_denied.count(m_no) == 0, "srv 7007 got the datagram")

        with t.case(f"a routing header of type 0 (RFC 5095) to srv 7006: ipv6-routing-type0 x{K}"):
            m = marker("rh0")
            before = t.stats()
            inet.send_frames([bytes(eth_ip6(inet, srv, src_ip=INET6) /
                                    IPv6ExtHdrRouting(type=0, addresses=[client.ip6]) /
                                    UDP(sport=42000, dport=7006) / Raw(m))] * K)
            t.expect(before, {("port", "uplink", "ipv6-routing-type0"): K}, quiet=QUIET)
            check(frag_srv.count(m) == 0, "srv got a datagram with a type 0 routing header")

        # ------------------------------------------------------------------ echo state
        with t.case(f"the echo state is directional: an echo request from the internet with the identifier of "
                    f"client's ping: no-rule x{K}"):
            ident = 0x4321
            m0 = marker("echo-state")
            with client.sniffer() as snif:
                client.send_frames([bytes(eth_ip6(client, inet, dst_ip=INET6) / ICMPv6EchoRequest(id=ident, seq=1, data=m0))])
                check(snif.wait_count(m0, 1) == 1, "no echo reply to the crafted request")
            m = marker("reverse-echo")
            before = t.stats()
            inet.send_frames([bytes(eth_ip6(inet, client, src_ip=INET6) / ICMPv6EchoRequest(id=ident, seq=2 + i, data=m))
                              for i in range(K)])
            t.expect(before, {("vm", "client", "no-rule"): K, ("port", "uplink", "no-rule"): K}, quiet=QUIET)

        with t.case(f"TCP from the internet to srv without a connection: an ACK no-connection x{K}, SYN+FIN "
                    f"invalid-tcp-flags x{K}"):
            before = t.stats()
            inet.send_frames([bytes(eth_ip6(inet, srv, src_ip=INET6) / TCP(sport=44000 + i, dport=7002, flags="A"))
                              for i in range(K)] +
                             [bytes(eth_ip6(inet, srv, src_ip="2001:db8:1::99") / TCP(sport=44100 + i, dport=7002,
                                                                                     flags="SF"))
                              for i in range(K)])
            t.expect(before, {("port", "uplink", "no-connection"): K, ("port", "uplink", "invalid-tcp-flags"): K,
                              ("vm", "srv", "no-connection"): K, ("vm", "srv", "invalid-tcp-flags"): K},
                     quiet=QUIET)

        with t.case(f"an echo request with a hop-by-hop header: its reply passes as the echo's return traffic "
                    f"(x{K})"):
            with client.sniffer() as snif:
                ms = [marker(f"hbh-echo{i}") for i in range(K)]
                before = t.stats()
                client.send_frames([bytes(eth_ip6(client, inet, dst_ip=INET6) / IPv6ExtHdrHopByHop() /
                                          ICMPv6EchoRequest(id=0x4400 + i, seq=1, data=mm)) for i, mm in enumerate(ms)])
                got = [snif.wait_count(mm, 1) for mm in ms]
                check(all(g == 1 for g in got), f"echo replies seen: {got}")
                t.expect(before, {("rule", "c6/icmp-inet"): K}, quiet=QUIET)

        # ----------------------------------------------------------- revoked on reload
        with t.case("reload removes the rule of a live TCP connection: its next packet is revoked x1, "
                    "a connection whose rule stays keeps working"):
            ct.HoldServer(inet, 7010, addr="::")
            ct.HoldServer(inet, 7011, addr="::")
            hold = ct.Conn(client, INET6, 7010)
            keep = ct.Conn(client, INET6, 7011)
            check(hold.echo() and keep.echo(), "echo before the reload")
            fl = ct.flow_of(t.flows(vm="client"), 6, client.ip6, hold.sport, INET6, 7010)
            check(len(fl) == 1 and fl[0]["state"] == "established" and fl[0]["egress_rule"] == "c6/tcp-hold"
                  and fl[0]["ingress_rule"] is None, f"sgfwctl flows for the held connection: {fl}")
            used6 = t.status()["flows"]["used_ipv6"]
            check(used6 >= 2, f"status flows.used_ipv6 {used6}")
            r = t.reload([group("c6", *C6_RULES), GROUPS[1], GROUPS[2]])
            check(r["generation"] == 2, f"reload: {r}")
            before = t.stats()
            hold.sock.send(b"after")
            only(t, before, {("vm", "client", "revoked"): 1, ("port", "vm-client", "revoked"): 1,
                             ("vm", "client", "no-rule"): 0}, allowed_extra=("no-connection",))
            check(keep.echo(), "the still-allowed connection stopped")
            fl = t.flows(vm="client")
            check(not ct.flow_of(fl, 6, client.ip6, hold.sport), f"the revoked connection is still listed: {fl}")
            fk = ct.flow_of(fl, 6, client.ip6, keep.sport, INET6, 7011)
            check(len(fk) == 1 and fk[0]["generation"] == 2 and fk[0]["egress_rule"] == "c6/tcp-keep",
                  f"the kept connection: {fk}")
            check(not hold.echo(timeout=0.5), "the revoked connection still works")
            hold.abort()
            keep.abort()

        t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
