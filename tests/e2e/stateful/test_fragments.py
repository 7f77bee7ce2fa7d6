#!/usr/bin/env python3
"""IPv4 fragments through sgfwd (docs/design/packet-path.md, catalogue F01, F05). The
ports are the harness's default, af_xdp, the documented port type for kernel interfaces
(net_af_packet's fanout defrag would reassemble the datagrams in the kernel and truncate
those over its frame size; docs/daemon.md).
- a 4000-byte and a 60,000-byte UDP datagram, and `ping -s 4000`, leave fragmented (MTU
  1500): the first fragment is judged, the later ones follow it; the fragmented replies
  pass as the connection's return traffic; both directions (VM -> internet, internet ->
  VM);
- a fragmented datagram to a denied port: its first fragment is `no-rule`, the later
  ones `fragment-orphan`, nothing is delivered;
- a non-first fragment alone, and a train sent last fragment first: `fragment-orphan`
  for each fragment that comes before its first."""
import socket

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, marker
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import conntrack_e2e as ct

INET = e2e.INET_IP
BIG = 4000    # UDP payload: 4008 bytes of UDP, fragments of 1480 + 1480 + 1048
FRAGS = 3
HUGE = 60000  # UDP payload: 60,008 bytes of UDP in 41 fragments
HUGE_FRAGS = 41
GROUPS = [
    group("frag-out",
          rule("Egress", "UDP", port=7100, cidr="0.0.0.0/0", name="udp-out"),
          rule("Egress", "ICMP", cidr="0.0.0.0/0", name="icmp-out")),
    group("frag-in", rule("Ingress", "UDP", port=7100, cidr="0.0.0.0/0", name="udp-in")),
]
QUIET = [("port", "vm-fa"), ("port", "vm-fb"), ("port", "uplink"), ("vm", "fa"), ("vm", "fb")]


def is_fragment_of(src, proto):
    """Frames that are IPv4 fragments (MF or offset) from `src` with protocol `proto`."""
    s = socket.inet_aton(src)

    def pred(f):
        return (f[12:14] == b"\x08\x00" and f[26:30] == s and f[23] == proto and
                (int.from_bytes(f[20:22], "big") & 0x3fff) != 0)
    return pred


def from_ip(src):
    s = socket.inet_aton(src)
    return lambda f: f[12:14] == b"\x08\x00" and f[26:30] == s


def scenario():
    with ct.Topology("st-fragments") as t:
        fa = t.vm("fa", "10.0.1.10", groups=["frag-out"])  # egress only
        fb = t.vm("fb", "10.0.1.20", groups=["frag-in"])   # ingress UDP 7100 only
        inet = t.inet
        t.start(security_groups=GROUPS)
        inet.udp_server(7100)
        fb_srv = fb.udp_server(7100)
        denied = inet.udp_server(7199, echo=False)

        with t.case(f"UDP {BIG} bytes VM -> internet: {FRAGS} fragments out, {FRAGS} back, echo complete"):
            with inet.sniffer() as snif:
                before = t.stats()
                check(fa.udp_echo(INET, 7100, payload=marker("big") + b"u" * (BIG - 24)), "no echo")
                t.expect(before, {("vm", "fa", "allowed"): 2 * FRAGS, ("rule", "frag-out/udp-out"): 1},
                         quiet=QUIET)
                n = len(snif.matching(is_fragment_of(fa.ip, 17)))
                check(n == FRAGS, f"the internet saw {n} fragments, not {FRAGS}")

        with t.case(f"UDP {HUGE} bytes VM -> internet and internet -> VM: {HUGE_FRAGS} fragments each way, "
                    "echo complete"):
            before = t.stats()
            check(fa.udp_echo(INET, 7100, payload=marker("huge") + b"h" * (HUGE - 25), timeout=3), "no echo out")
            check(inet.udp_echo(fb.ip, 7100, payload=marker("huge-in") + b"H" * (HUGE - 28), timeout=3),
                  "no echo in")
            t.expect(before, {("vm", "fa", "allowed"): 2 * HUGE_FRAGS, ("vm", "fb", "allowed"): 2 * HUGE_FRAGS,
                              ("rule", "frag-out/udp-out"): 1, ("rule", "frag-in/udp-in"): 1}, quiet=QUIET)

        with t.case(f"UDP {HUGE} bytes to a denied port: no-rule x1, fragment-orphan x{HUGE_FRAGS - 1}, "
                    "nothing delivered"):
            with inet.sniffer() as snif:
                before = t.stats()
                fa.udp_send(INET, 7199, b"D" * HUGE)
                t.expect(before, {("vm", "fa", "no-rule"): 1, ("vm", "fa", "fragment-orphan"): HUGE_FRAGS - 1,
                                  ("port", "vm-fa", "no-rule"): 1,
                                  ("port", "vm-fa", "fragment-orphan"): HUGE_FRAGS - 1,
                                  ("vm", "fa", "allowed"): 0}, quiet=QUIET)
                check(not snif.matching(from_ip(fa.ip)), "a fragment reached the internet")
            check(denied.count() == 0, "the denied server got a datagram")

        with t.case(f"ping -s {BIG} x3 VM -> internet: fragmented requests and replies, 3 replies"):
            before = t.stats()
            r = fa.run("ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", "-s", str(BIG), INET, timeout=15)
            check(" 3 received" in r.stdout, f"ping: {r.stdout.strip()}")
            t.expect(before, {("vm", "fa", "allowed"): 3 * 2 * FRAGS, ("rule", "frag-out/icmp-out"): 1},
                     quiet=QUIET)

        with t.case(f"UDP {BIG} bytes internet -> VM without egress rules: the fragmented echo passes back"):
            before = t.stats()
            check(inet.udp_echo(fb.ip, 7100, payload=marker("big-in") + b"i" * (BIG - 27)), "no echo")
            t.expect(before, {("vm", "fb", "allowed"): 2 * FRAGS, ("rule", "frag-in/udp-in"): 1},
                     quiet=QUIET)

        with t.case(f"UDP {BIG} bytes x2 to a denied port: no-rule x2 (first fragments), "
                    f"fragment-orphan x{2 * (FRAGS - 1)}, nothing delivered"):
            with inet.sniffer() as snif:
                before = t.stats()
                fa.udp_send(INET, 7199, b"d" * BIG, count=2)
                t.expect(before, {("vm", "fa", "no-rule"): 2, ("vm", "fa", "fragment-orphan"): 2 * (FRAGS - 1),
                                  ("port", "vm-fa", "no-rule"): 2,
                                  ("port", "vm-fa", "fragment-orphan"): 2 * (FRAGS - 1),
                                  ("vm", "fa", "allowed"): 0}, quiet=QUIET)
                check(not snif.matching(from_ip(fa.ip)), "a fragment reached the internet")
            check(denied.count() == 0, "the denied server got a datagram")

        with t.case(f"UDP {BIG} bytes internet -> VM without that ingress rule: no-rule x1, "
                    f"fragment-orphan x{FRAGS - 1}"):
            with fa.sniffer() as snif:
                before = t.stats()
                inet.udp_send(fa.ip, 7100, b"x" * BIG)
                t.expect(before, {("vm", "fa", "no-rule"): 1, ("vm", "fa", "fragment-orphan"): FRAGS - 1,
                                  ("port", "uplink", "no-rule"): 1, ("port", "uplink", "fragment-orphan"): FRAGS - 1},
                         quiet=QUIET)
                check(not snif.matching(from_ip(INET)), "a fragment reached the VM")

        def train(m, ident, sport):
            p = IP(bytes(IP(src=INET, dst=fb.ip, id=ident) / UDP(sport=sport, dport=7100) / Raw(m + b"o" * BIG)))
            return [bytes(Ether(src=inet.mac, dst=fb.mac) / f) for f in fragment(p, fragsize=1480)]

        with t.case("orphan fragments (non-first, alone) x3: fragment-orphan x3, none delivered"):
            m = marker("orphan")
            with fb.sniffer() as snif:
                before = t.stats()
                inet.send_frames([train(m, 0x7a00 + i, 40100 + i)[1] for i in range(3)])
                t.expect(before, {("vm", "fb", "fragment-orphan"): 3, ("port", "uplink", "fragment-orphan"): 3,
                                  ("vm", "fb", "allowed"): 0}, quiet=QUIET)
                check(not snif.matching(from_ip(INET)), "an orphan reached the VM")

        with t.case("a train sent last fragment first: fragment-orphan x2, then the first passes alone"):
            m = marker("reversed")
            frames = train(m, 0x7b00, 40110)
            check(len(frames) == FRAGS, f"{len(frames)} fragments")
            with fb.sniffer() as snif:
                before = t.stats()
                inet.send_frames(list(reversed(frames)))
                t.expect(before, {("vm", "fb", "fragment-orphan"): FRAGS - 1, ("vm", "fb", "allowed"): 1,
                                  ("port", "uplink", "fragment-orphan"): FRAGS - 1,
                                  ("rule", "frag-in/udp-in"): 1}, quiet=QUIET)
                got = snif.matching(is_fragment_of(INET, 17))
                check(len(got) == 1 and m in got[0], f"{len(got)} fragments reached the VM (want the first only)")

        with t.case("a crafted train in order: the first is judged, the later ones follow: delivered, "
                    "and the fragmented echo passes back"):
            m = marker("inorder")
            back = inet.udp_server(40120, echo=False)  # the echo's destination (else port-unreachable)
            with fb.sniffer() as snif:
                before = t.stats()
                inet.send_frames(train(m, 0x7c00, 40120))
                t.expect(before, {("vm", "fb", "allowed"): 2 * FRAGS, ("rule", "frag-in/udp-in"): 1},
                         quiet=QUIET)
                got = snif.matching(is_fragment_of(INET, 17))
                check(len(got) == FRAGS, f"{len(got)} of {FRAGS} fragments reached the VM")
            check(fb_srv.count(m) == 1, "the VM's server did not get the datagram")
            check(back.count(m) == 1, "the echo did not arrive")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
