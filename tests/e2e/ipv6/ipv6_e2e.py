"""Helpers for the IPv6 e2e tests (tests/e2e/ipv6/), on top of the suite's harness
(sgfw_e2e: Topology(ipv6=True), t.vm(..., ipv6=True | slaac=True)) and the stateful
helpers (../stateful/conntrack_e2e.py: sgfwctl, reload, HoldServer, Conn):

- a routed IPv6 "far" network behind the internet namespace (a router with a small-MTU
  link, for packet-too-big);
- scapy builders for neighbour discovery, router advertisements and the like, and frame
  predicates (raw bytes, no scapy parse per frame);
- the policy and hosts of the stateful tests (test_stateful, test_related,
  test_fragments): start_stateful().

Addresses: VMs on e2e.VM6_NET (2001:db8:1::/64), the internet namespace e2e.INET6_IP
(2001:db8:ff::7/64), the far network FAR6_NET.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stateful"))

import sgfw_e2e as e2e  # noqa: E402
from sgfw_e2e import sh, rule, group  # noqa: E402
import conntrack_e2e as ct  # noqa: E402,F401  (re-exported for the tests)
from scapy.layers.inet6 import (IPv6, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr,  # noqa: E402
                                ICMPv6NDOptDstLLAddr, in6_getnsma, in6_getnsmac)
from scapy.layers.l2 import Ether  # noqa: E402

FAR6_NET = "2001:db8:fa::/64"
FAR6_ROUTER_IP = "2001:db8:fa::1"
FAR6_IP = "2001:db8:fa::10"
FAR6_MAC = "02:e2:e0:00:fe:0b"
ALL_NODES = "ff02::1"
ALL_NODES_MAC = "33:33:00:00:00:01"
ALL_ROUTERS = "ff02::2"
ALL_ROUTERS_MAC = "33:33:00:00:00:02"
ETH_IPV6 = b"\x86\xdd"

# --- the stateful tests' policy: remotes as an address (::/0, a bare /128), a subnet
# (subnetRef) and a group (securityGroupRef); client is in c6, srv in s6, other in o6.
K = 3
SUBNETS = [("vm6", "2001:db8:1::/64"), ("inet6", "2001:db8:ff::/64")]
C6_RULES = [
    rule("Egress", "TCP", port=7000, cidr="::/0", name="tcp-addr"),
    rule("Egress", "UDP", port=7001, subnet="vm6", name="udp-subnet"),
    rule("Egress", "TCP", port=7002, group="s6", name="tcp-group"),
    rule("Egress", "ICMP", subnet="inet6", name="icmp-inet"),
    rule("Egress", "UDP", port_range=(7003, 7009), cidr="2001:db8:ff::/64", name="udp-inet"),
    rule("Egress", "TCP", port=7004, cidr=FAR6_NET, name="tcp-far"),
    rule("Egress", "ICMP", cidr=FAR6_NET, name="icmp-far"),
    rule("Egress", "TCP", port=7011, cidr="::/0", name="tcp-keep"),
]
HOLD_RULE = rule("Egress", "TCP", port=7010, cidr="::/0", name="tcp-hold")
GROUPS = [
    group("c6", *C6_RULES, HOLD_RULE),
    group("s6",
          rule("Ingress", "TCP", port=7000, group="c6", name="tcp-from-group"),
          rule("Ingress", "UDP", port=7001, cidr="2001:db8:1::10", name="udp-from-addr"),
          rule("Ingress", "TCP", port=7002, subnet="vm6", name="tcp-from-subnet"),
          rule("Ingress", "UDP", port=7006, cidr="::/0", name="udp-frag"),
          rule("Ingress", "UDP", port=7008, cidr="::/0", name="udp-closed")),
    group("o6", rule("Egress", "All", cidr="::/0", name="all-out")),
]
QUIET = [("port", "vm-client"), ("port", "vm-srv"), ("port", "vm-other"), ("port", "uplink"),
         ("vm", "client"), ("vm", "srv"), ("vm", "other")]


def quiet_ipv6_sysctls(ns, dev):
    sh("sysctl", "-q", "-w", f"net.ipv6.conf.{dev}.disable_ipv6=0", f"net.ipv6.conf.{dev}.accept_dad=0",
       f"net.ipv6.conf.{dev}.dad_transmits=0", f"net.ipv6.conf.{dev}.accept_ra=0",
       f"net.ipv6.conf.{dev}.router_solicitations=0", ns=ns)


def add_far_network6(t, mtu=1280, far_advmss=None):
    """The internet namespace (Topology(ipv6=True): forwarding on) routes to a far
    namespace over a link of MTU `mtu` (both ends): FAR6_ROUTER_IP on its side,
    FAR6_IP on the far host, which routes e2e.VM6_NET and e2e.INET6_NET back through it.
    far_advmss: the MSS the far host advertises, so a sender starts with segments
    larger than the far link takes. VMs get a route with route_far6()."""
    ns = f"{e2e.NS_PREFIX}{t.pid}-{t.tag}-far6"
    sh("ip", "netns", "add", ns)
    t._namespaces.append(ns)
    inet = t.inet.ns
    sh("ip", "-n", inet, "link", "add", "far0", "type", "veth", "peer", "name", "eth0", "netns", ns)
    quiet_ipv6_sysctls(inet, "far0")
    quiet_ipv6_sysctls(ns, "eth0")
    for n, dev in ((inet, "far0"), (ns, "eth0")):
        sh("ip", "-n", n, "link", "set", dev, "mtu", str(mtu))
        sh("ethtool", "-K", dev, "tx", "off", ns=n)
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", ns, "link", "set", "eth0", "address", FAR6_MAC)
    sh("ip", "-n", inet, "-6", "addr", "add", f"{FAR6_ROUTER_IP}/64", "dev", "far0", "nodad")
    sh("ip", "-n", ns, "-6", "addr", "add", f"{FAR6_IP}/64", "dev", "eth0", "nodad")
    sh("ip", "-n", inet, "link", "set", "far0", "up")
    sh("ip", "-n", ns, "link", "set", "eth0", "up")
    for net in (e2e.VM6_NET, e2e.INET6_NET):
        extra = ["advmss", str(far_advmss)] if far_advmss else []
        sh("ip", "-n", ns, "-6", "route", "add", net, "via", FAR6_ROUTER_IP, *extra)
    far = e2e.Host(t, "far6", ns, None, FAR6_MAC, [FAR6_IP], None, ipv6=True)
    return far


def route_far6(vm):
    sh("ip", "-n", vm.ns, "-6", "route", "add", FAR6_NET, "via", e2e.INET6_IP, "dev", "eth0")


def solicited_node(addr):
    """(solicited-node multicast address, its MAC) of `addr`."""
    return (socket.inet_ntop(socket.AF_INET6, in6_getnsma(socket.inet_pton(socket.AF_INET6, addr))),
            in6_getnsmac(socket.inet_pton(socket.AF_INET6, addr)))


def ns_frame(src_mac, src_ip, target, sll=None, dst_ip=None, dst_mac=None, payload=b""):
    """A neighbour solicitation for `target` (to its solicited-node group unless
    dst_ip/dst_mac given); sll: the source link-layer option's MAC (None: no option)."""
    mc, mcmac = solicited_node(target)
    p = (Ether(src=src_mac, dst=dst_mac or mcmac) / IPv6(src=src_ip, dst=dst_ip or mc, hlim=255) /
         ICMPv6ND_NS(tgt=target))
    if sll:
        p = p / ICMPv6NDOptSrcLLAddr(lladdr=sll)
    return bytes(p) + payload


def na_frame(src_mac, src_ip, target, tll=None, dst_ip=ALL_NODES, dst_mac=ALL_NODES_MAC, solicited=0,
             override=1, payload=b""):
    """A neighbour advertisement for `target`; tll: the target link-layer option's MAC."""
    p = (Ether(src=src_mac, dst=dst_mac) / IPv6(src=src_ip, dst=dst_ip, hlim=255) /
         ICMPv6ND_NA(tgt=target, R=0, S=solicited, O=override))
    if tll:
        p = p / ICMPv6NDOptDstLLAddr(lladdr=tll)
    return bytes(p) + payload


def ip6_bytes(addr):
    return socket.inet_pton(socket.AF_INET6, addr)


def icmp6_type(f):
    """The ICMPv6 type of an Ethernet/IPv6 frame without extension headers, else None."""
    if len(f) > 54 and f[12:14] == ETH_IPV6 and f[20] == 58:
        return f[54]
    return None


def is_icmp6(type_, src=None, dst=None):
    """Predicate: an IPv6 frame carrying ICMPv6 of `type_` directly (no extension
    headers), from `src`, to `dst` (addresses, optional)."""
    s = ip6_bytes(src) if src else None
    d = ip6_bytes(dst) if dst else None
    return lambda f: (icmp6_type(f) == type_ and (s is None or f[22:38] == s) and
                      (d is None or f[38:54] == d))


def is_fragment6(src):
    """Predicate: an IPv6 frame from `src` whose first header is a fragment header."""
    s = ip6_bytes(src)
    return lambda f: len(f) > 62 and f[12:14] == ETH_IPV6 and f[20] == 44 and f[22:38] == s


def from_ip6(src):
    s = ip6_bytes(src)
    return lambda f: len(f) >= 54 and f[12:14] == ETH_IPV6 and f[22:38] == s


def neigh_mac(host, addr):
    """The MAC `host` has for `addr` in its neighbour cache (None if none)."""
    r = host.run("ip", "-6", "neigh", "show", addr, "dev", "eth0")
    parts = r.stdout.split()
    return parts[parts.index("lladdr") + 1] if "lladdr" in parts else None


def start_stateful(t, far=False):
    """The stateful tests' hosts: client (c6), srv (s6) and other (o6), IPv6 on; far: the
    far network (1280-byte link, the far host advertising MSS 1440) and client's route
    to it; then sgfwd with GROUPS and SUBNETS. Returns (client, srv, other, far or None)."""
    client = t.vm("client", ["10.0.1.10", "2001:db8:1::10"], groups=["c6"], ipv6=True)
    srv = t.vm("srv", ["10.0.1.20", "2001:db8:1::20"], groups=["s6"], ipv6=True)
    other = t.vm("other", ["10.0.1.30", "2001:db8:1::30"], groups=["o6"], ipv6=True)
    far_host = None
    if far:
        far_host = add_far_network6(t, mtu=1280, far_advmss=1440)
        route_far6(client)
    t.start(security_groups=GROUPS, subnets=SUBNETS)
    return client, srv, other, far_host
