#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/, docs/fuzzing.md).
Run once by hand when seeds change; the output is committed. Needs python3-scapy.
Files are named by content hash, so running it again changes nothing."""
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


RULE = "{direction: Ingress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}"
POLICIES = [
    open(os.path.join(ROOT, "conf", "policy.yaml")).read(),
    open(os.path.join(ROOT, "conf", "demo-policy.yaml")).read(),
    "",
    ",",
    "---\n...\n",
    "subnets: []\nsecurityGroups: []\nvms: []\n",
    "subnets:\n  - {name: net, cidr: 10.0.0.0/24}\nsecurityGroups:\n  - name: web\n    description: \"a\\nb\"\n"
    "    rules:\n      - {name: https, direction: Ingress, protocol: TCP, port: 443, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
    "      - {direction: Egress, protocol: UDP, portRange: 1000-1100, remote: {subnetRef: {name: net}}}\n"
    "      - {direction: Ingress, protocol: All, remote: {securityGroupRef: {name: web}}}\n"
    "      - {direction: egress, protocol: icmp, remote: {securityGroupRef: {name: default-allow-ssh}}}\n"
    "vms:\n  - {name: a, port: p1, mac: \"02:00:00:00:00:01\", ips: [10.0.0.1, 10.0.0.9], securityGroups: [web, default-allow-ssh]}\n"
    "  - {name: far, ips: [10.9.0.1]}\n",
    "securityGroups:\n  - name: \"null\"\n    rules:\n      - {name: \"yes\", direction: Ingress, protocol: All, remote: {securityGroupRef: {name: \"null\"}}}\n"
    "vms:\n  - {name: \"0x1\", ips: [10.0.0.1], securityGroups: [\"null\"]}\n",
    "securityGroups:\n  - name: g\n    rules:\n      - &r " + RULE + "\n      - *r\n",
    "a: &x [1, 2]\nb: *x\n",
    "securityGroups: [{name: g}]\n---\nvms: []\n",
    "subnets: " + "[" * 70 + "]" * 70 + "\n",
    "vms:\n  - name: a\n    ips: [10.0.0.1]\n    securityGroups: [g, g]\n",
    "vms:\n  - {name: a, port: p, ips: [10.0.0.1]}\n",
    "securityGroups:\n  - name: g\n    rules:\n      - {direction: Ingress, protocol: TCP, port: 0x50, remote: {address: {IPAddressOrCIDR: 10.0.0.1/8}}}\n",
    "securityGroups:\n  - name: g\n    rules:\n      - {direction: Ingress, protocol: UDP, portRange: 9-8, remote: {subnetRef: {name: nope}}}\n",
    "unknown: 1\n",
    "vms: !!map {}\n",
    "\"\\x1b[2J\": 1\n",
    "vms:\n  - name: a\n    ips: [10.0.0.1]\n    securityGroups: [" + ", ".join(f"g{i}" for i in range(300)) + "]\n",
]
for p in POLICIES:
    put("policy_loader", p)
    put("policy_writer", p)

CONFIGS = [
    open(os.path.join(ROOT, "conf", "sgfwd.yaml")).read(),
    "ports:\n  - {name: a, device: net_null0}\n  - {name: up, device: net_null1, uplink: true}\npolicy: p.yaml\n",
    "eal: [\"--no-huge\"]\nports:\n  - {name: up, device: x, uplink: true}\npolicy: /p\nworkers: 2\n"
    "flows: {capacity: 10, per_vm_limit: 5, per_vm_inbound_half_open: 2, keep_established: true, tcp_loose: false,\n"
    "        timeouts: {tcp_syn: 1, tcp_established: 2, tcp_closing: 3, udp: 4, udp_stream: 5, icmp: 6, other: 7}}\n"
    "limits: {local_vms: 1, vms: 2, groups: 3}\ncontrol_socket: /run/x/s.sock\ncontrol_group: g\nacl_max_size: 0\nmbufs: 2048\n",
    ",",
    "ports: []\n---\n",
    "ports: &p []\npolicy: *p\n",
    "ports:\n  - {name: a, device: d, uplink: yes}\npolicy: p\n",
]
for c in CONFIGS:
    put("daemon_config", c)

import json
REQS = [
    {"cmd": "status"}, {"cmd": "stats"}, {"cmd": "stats", "args": {"vm": "a"}},
    {"cmd": "flows", "args": {"limit": 5}}, {"cmd": "flows-flush"}, {"cmd": "flows-flush", "args": {"vm": "zz"}},
    {"cmd": "explain", "args": {"packets": ["tcp 10.0.0.2:1000 10.0.0.1:443", "udp 10.9.0.1 10.0.0.1:1050",
                                            "icmp 10.0.0.1 8.8.8.8 3/4", "bad line"]}},
    {"cmd": "set-groups", "args": {"vm": "b", "groups": ["web", "null"]}},
    {"cmd": "set-groups", "args": {"vm": "b", "groups": []}},
    {"cmd": "set-groups", "args": {"vm": "nope\n", "groups": ["x"]}},
    {"cmd": "reload"},
    {"cmd": "reload", "args": {"name": "n\u001b", "policy": POLICIES[6]}},
    {"cmd": "reload", "args": {"policy": ","}},
    {"cmd": "reload", "args": {"policy": POLICIES[8]}},
    {"cmd": "frobnicate"}, {"cmd": 5}, [1, 2], {"cmd": "status", "args": 3},
    # capture and trace (docs/capture.md): parsed by control/capture_request.cpp
    {"cmd": "capture", "args": {"vm": "b", "port": "vm-a", "drops": True, "count": 5, "timeout": 1}},
    {"cmd": "capture", "args": {"count": 0, "drops": "yes", "file": "/etc/shadow"}},
    {"cmd": "trace", "args": {"proto": "tcp", "src": "10.0.0.1:1234", "dst": "10.0.1.5:80", "count": 3}},
    {"cmd": "trace", "args": {"proto": "icmp", "src": "[2001:db8::1]", "dst": "2001:db8::2", "icmp_type": 300}},
    {"cmd": "trace", "args": []},
]
for r in REQS:
    put("control_request", json.dumps(r))
put("control_request", b'{"cmd": "status", "args": {"x": ' + b"[" * 40 + b"]" * 40 + b"}}")
put("control_request", b'\xff\xfe{"cmd"')

# The set-groups change journal (lib/control/journal_format.hpp): whole, torn, damaged.
def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def jline(vm, groups):
    body = f"set-groups {vm} {','.join(groups) if groups else '-'}"
    return f"{body} {crc32c(body.encode()):08x}\n"


JHEAD = "sgfw-journal 1 " + "ab" * 32 + "\n"
JOURNAL = JHEAD + jline("web-1", ["g1", "g2"]) + jline("db", []) + jline("x", ["default-allow-ssh"])
for text in (JHEAD, JOURNAL, JOURNAL[:-5], JOURNAL[:-1], JOURNAL.replace("web-1", "web-2", 1),
             JHEAD + "set-groups a - 00000000\n" + jline("b", ["c"]), JHEAD + jline("A", ["g"]),
             JHEAD + jline("a", ["g", ""]), "sgfw-journal 1 xyz\n", "sgfw-journal 2 " + "0" * 64 + "\n",
             JHEAD + jline("a", ["g"]).replace("set-groups", "del-groups"), JHEAD + "\n\n"):
    put("journal", text)

# etcd_value (docs/fleet.md): byte 0 picks the key (0 subnet, 1 group, 2 VM), the rest
# is the value, among a small valid policy's keys (tests/fuzz/entries/etcd_value_entry.cpp).
ETCD_VALUES = [
    (0, '{"name":"fz","cidr":"10.1.0.0/16"}'), (0, '{"cidr":"2001:db8::/64"}'), (0, '{"name":"fz","cidr":"10.1.0.1/16"}'),
    (0, '{"name":"other","cidr":"10.1.0.0/16"}'), (0, '{"cidr":"10.1.0.0/33","x":1}'), (0, '[]'), (0, ''), (0, '{'),
    (1, '{"name":"fz","description":"d\\u00e9\\n","rules":[{"name":"r","direction":"Egress","protocol":"UDP",'
        '"portRange":"1000-1100","remote":{"securityGroupRef":{"name":"web"}}},{"direction":"ingress","protocol":"icmp",'
        '"remote":{"address":{"IPAddressOrCIDR":"::/0"}}}]}'),
    (1, '{"rules":[{"direction":"Ingress","protocol":"TCP","port":"0x50","remote":{"subnetRef":{"name":"nope"}}}]}'),
    (1, '{"rules":[{"direction":"Ingress","protocol":"TCP","port":80,"portRange":"1-2","remote":{}}]}'),
    (1, '{"rules":' + "[" * 60 + "]" * 60 + '}'), (1, '{"name":null}'), (1, '"just a string"'),
    (2, '{"ips":["10.0.0.9"],"securityGroups":["web","default-allow-ssh"]}'),
    (2, '{"appliance":"edge-1","port":"p2","mac":"02:00:00:00:00:02","ips":["10.0.0.9","2001:db8::9"],'
        '"allowedAddressPairs":[{"ip":"10.0.0.100","mac":"02:00:00:00:00:64"},{"ip":"10.0.3.0/28"}]}'),
    (2, '{"appliance":"edge-2","port":"p1","mac":"02:00:00:00:00:01","ips":["10.0.0.9"]}'),
    (2, '{"appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01","ips":["10.0.0.9"]}'),
    (2, '{"ips":["10.0.0.1"]}'), (2, '{"port":"p9","ips":["10.0.0.9"]}'), (2, '{"appliance":"Edge 1","port":"p"}'),
    (2, '{"ips":["10.0.0.9"],"securityGroups":["web","web"]}'), (2, '{"ips":[],"extra":true}'),
    (2, '{"ips":["10.0.0.9"]}, "vms": [{"name":"inj","ips":["10.0.0.8"]}'), (2, '{"ips":["\\u0000"]}'),
]
for kind, value in ETCD_VALUES:
    put("etcd_value", bytes([kind]) + value.encode())

# follow_batch (lib/follow/batch.hpp): one etcd event per line, byte 0 '-' a delete, else
# a put; byte 1 picks the key ('0'-'3' VMs a-d, '4' group web, '5' subnet net, '6' a new
# VM, '7' the push marker, '8' an invalid name, '9' outside the prefix); the rest is the
# value (tests/fuzz/entries/follow_batch_entry.cpp holds the map the batch applies to).
VM_A = '"name":"a","appliance":"edge-1","port":"p1","mac":"02:00:00:00:00:01","ips":["10.0.0.1"]'
VM_C = ('"name":"c","appliance":"edge-2","port":"p2","ips":["10.0.0.3","2001:db8::3"],"allowedAddressPairs":'
        '[{"ip":"10.0.3.0/28"},{"ip":"10.0.0.100","mac":"02:00:00:00:00:64"}]')
BATCHES = [
    '+0{' + VM_A + ',"securityGroups":["web","default-allow-ssh"]}',
    '+1{ "securityGroups" : ["web"], "ips" : ["10.0.0.2"] }\n',
    '+0{"securityGroups":[],' + VM_A + '}\n+2{' + VM_C + ',"securityGroups":["x"]}\n'
    '+2{' + VM_C + ',"securityGroups":["web"]}',
    '+3{"name":"d","ips":["10.0.0.4"],"securityGroups":["web","nope"]}',
    '+1{"ips":["10.0.0.\\u0032"],"securityGroups":["w\\u00e9b"]}',
    '+1{"ips":["10.0.0.2"],"securityGroups":[5],"securityGroups":["web"]}',
    '-0', '+1{"ips":["10.0.0.2"],"securityGroups":["web"]}\n-4',
    '+6{"ips":["10.0.0.9"],"securityGroups":[]}',
    '+1{"ips":["10.0.0.9"],"securityGroups":[]}', '+1{"ips":["10.0.0.2"]}',
    '+1{"ips":["10.0.0.2"],"securityGroups":"web"}', '+1{"ips":["10.0.0.2"],"securityGroups":[1]}',
    '+1{"ips":["10.0.0.2"],"securityGroups":[', '+1[1]', '+1', '+1\xff',
    '+4{"name":"web","rules":[]}', '+5{"name":"net","cidr":"10.0.0.0/24"}', '+7x',
    '+8{"securityGroups":[]}', '+9{' + VM_A + ',"securityGroups":[]}',
    '+0{' + VM_A + ',"securityGroups":["web"],"z":' + '[' * 60 + ']' * 60 + '}',
    '+0{' + VM_A + ',"securityGroups":["web"],"z":' + '[' * 70 + ']' * 70 + '}',
    '+0' + '[' * 5000 + ']' * 5000,
    '', '\n\n',
]
for b in BATCHES:
    put("follow_batch", b.encode("latin-1"))

# persisted_copy (lib/follow/persisted_copy.hpp): the first line of a persisted etcd copy.
LEAD = "# sgfw etcd copy: prefix "
for text in [LEAD + "/sgfw/ revision 42 appliance edge-1\n" + POLICIES[5],
             LEAD + "/sgfw/ revision 42 appliance edge-1",
             LEAD + "/sgfw/ revision 42 appliance edge-1\r\n", LEAD + "/p/ revision 0 appliance a\n",
             LEAD + "/p/ revision 007 appliance a\n", LEAD + "/p/ revision 9223372036854775807 appliance a\n",
             LEAD + "/p/ revision 9223372036854775808 appliance a\n", LEAD + "/p/ revision -1 appliance a\n",
             LEAD + "/p/ revision +1 appliance a\n", LEAD + "/p/ revision x appliance a\n",
             LEAD + " revision 1 appliance a\n", LEAD + "/p/ revision 1  appliance a\n",
             LEAD + "/p/ revision 1 appliance a \n", LEAD + "/p/ revision 1 appliance a extra\n",
             LEAD + "/p/ revision 1 appliance A_b\n", LEAD + "/p/ revision 1 appliance " + "a" * 64 + "\n",
             LEAD + "/p/ revision 1\n", LEAD + "/a#b:c/ revision 1 appliance a\n",
             LEAD + "/a\r/ revision 1 appliance a\n",
             LEAD + "/\u00e9\0/ revision 1 appliance a\n", LEAD + "/" + "p" * 300 + "/ revision 1 appliance a\n",
             "# sgfw etcd copy: prefix", "#sgfw etcd copy: prefix /p/ revision 1 appliance a\n", "vms: []\n", ""]:
    put("persisted_copy", text)

sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import Ether, IP, TCP, UDP, ICMP, ARP, Dot1Q, IPOption, Raw  # noqa: E402
from scapy.layers.inet import IPOption_LSRR, IPOption_SSRR, IPOption_RR, IPOption_Timestamp  # noqa: E402

E = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
frames = [
    E / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1000, dport=443, flags="S"),
    E / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000, dport=53) / b"q",
    E / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8) / b"ping",
    E / ARP(op=1, psrc="10.0.0.1", pdst="10.0.0.2"),
    E / Dot1Q(vlan=5) / IP() / UDP(),
    E / IP(src="10.0.0.1", dst="10.0.0.2", flags="MF", frag=0) / UDP() / (b"x" * 40),
    E / IP(src="10.0.0.1", dst="10.0.0.2", frag=3) / (b"x" * 40),
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption_LSRR(routers=["1.2.3.4", "5.6.7.8"])]) / TCP(),
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption_SSRR(routers=["1.2.3.4"])]) / UDP(),
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption_RR(routers=["0.0.0.0"] * 3)]) / ICMP(),
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption_Timestamp(flg=0, timestamp=[1, 2])]) / TCP(),
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x01\x01\x00\x00")]) / UDP(),
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x83\x00\x00\x00")]) / TCP(),   # length 0
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x83\x01\x00\x00")]) / TCP(),   # length 1
    E / IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption(b"\x44\x28\x05\x00")]) / TCP(),   # past the header
    E / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=3) /
        IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=53, dport=1000),
    E / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=11) /
        IP(src="10.0.0.2", dst="10.0.0.1", options=[IPOption_RR(routers=["0.0.0.0"])]) / TCP(sport=1, dport=2),
    E / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=12) / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=8, id=7),
    E / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=3, code=4) / bytes(IP(src="10.0.0.2", dst="10.0.0.1") / TCP())[:24],
]
for f in frames:
    b = bytes(f)
    put("packet_parser", b)
    put("packet_parser", b[: len(b) // 2])

# IPv6 (docs/design/packet-parser.md, "IPv6"): every extension header kind, fragments,
# neighbour discovery, ICMPv6 errors quoting TCP/UDP/echo, and the drop cases.
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,  # noqa: E402
                                IPv6ExtHdrFragment, IPv6ExtHdrSegmentRouting, RouterAlert, Jumbo,
                                ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_NA,
                                ICMPv6ND_RS, ICMPv6ND_RA, ICMPv6ND_Redirect, ICMPv6NDOptSrcLLAddr,
                                ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo,
                                ICMPv6PacketTooBig, ICMPv6DestUnreach, ICMPv6TimeExceeded,
                                ICMPv6ParamProblem, ICMPv6MLReport2, ICMPv6MLQuery)
from scapy.layers.ipsec import AH  # noqa: E402

E6 = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
A, B, LL, SOL, ALL = "fd00::1", "fd00::2", "fe80::1", "ff02::1:ff00:2", "ff02::1"
V6 = lambda **kw: E6 / IPv6(src=kw.pop("src", A), dst=kw.pop("dst", B), **kw)  # noqa: E731
frames6 = [
    V6() / TCP(sport=1000, dport=443, flags="S"),
    V6() / UDP(sport=546, dport=547) / b"dhcp",
    V6() / ICMPv6EchoRequest(id=7, data=b"ping"),
    V6() / ICMPv6EchoReply(id=7),
    V6(nh=59),
    V6() / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt() / TCP(),
    V6() / IPv6ExtHdrRouting(type=2, addresses=[B]) / UDP(),
    V6() / IPv6ExtHdrSegmentRouting(addresses=[A, B]) / TCP(),
    V6() / IPv6ExtHdrRouting(type=0, addresses=[B], segleft=1) / TCP(),
    V6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrHopByHop() / TCP(),
    V6() / IPv6ExtHdrFragment(offset=0, m=0, id=5) / TCP(),
    V6() / IPv6ExtHdrFragment(offset=0, m=1, id=6) / UDP() / (b"x" * 32),
    V6() / IPv6ExtHdrFragment(nh=6, offset=0, m=1, id=6) / Raw(bytes(TCP())[:16]),
    V6() / IPv6ExtHdrFragment(offset=4, m=1, id=6) / (b"x" * 40),
    V6() / IPv6ExtHdrFragment(offset=9, m=0, id=6) / (b"x" * 13),
    V6() / IPv6ExtHdrFragment(offset=1, m=0, id=6) / (b"x" * 8),
    V6() / IPv6ExtHdrFragment(nh=44) / IPv6ExtHdrFragment() / TCP(),
    V6() / AH(nh=6, payloadlen=4, icv=b"\0" * 12) / TCP(),
    V6(nh=0) / Raw(bytes(IPv6ExtHdrHopByHop(nh=6, options=[Jumbo(jumboplen=100000)]))) / TCP(),
    V6() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt()
        / IPv6ExtHdrDestOpt() / TCP(),
    V6(dst=SOL, hlim=255) / ICMPv6ND_NS(tgt=B) / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01"),
    V6(src="::", dst=SOL, hlim=255) / ICMPv6ND_NS(tgt=B),
    V6(src="::", dst=SOL, hlim=255) / ICMPv6ND_NS(tgt=B) / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01"),
    V6(hlim=255) / ICMPv6ND_NA(tgt=A, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:01"),
    V6(hlim=254) / ICMPv6ND_NA(tgt=A),
    V6(src=LL, dst=ALL, hlim=255) / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01"),
    V6(src=LL, dst=ALL, hlim=255) / ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")
        / ICMPv6NDOptMTU() / ICMPv6NDOptPrefixInfo(prefix="fd00::"),
    V6(src=LL, dst=A, hlim=255) / ICMPv6ND_Redirect(tgt=LL, dst=B) / ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:02"),
    V6(dst=SOL, hlim=255) / ICMPv6ND_NS(tgt=B) / Raw(b"\x01\x00" + b"\0" * 6),
    V6(hlim=1, dst="ff02::16") / ICMPv6MLReport2(),
    V6(hlim=1, src=LL, dst=ALL) / ICMPv6MLQuery(),
    V6(src=LL, dst=A) / ICMPv6PacketTooBig(mtu=1280) / IPv6(src=A, dst=B) / TCP(sport=1000, dport=443),
    V6(src=LL, dst=A) / ICMPv6DestUnreach() / IPv6(src=A, dst=B) / IPv6ExtHdrDestOpt() / UDP(sport=53, dport=5353),
    V6(src=LL, dst=A) / ICMPv6TimeExceeded() / IPv6(src=A, dst=B) / ICMPv6EchoRequest(id=9),
    V6(src=LL, dst=A) / ICMPv6ParamProblem() / IPv6(src=A, dst=B) / IPv6ExtHdrFragment(offset=3) / (b"x" * 8),
]
for f in frames6:
    b = bytes(f)
    put("packet_parser", b)
    put("packet_parser", b[: len(b) // 2])
put("packet_parser", b"")
put("packet_parser", bytes(E)[:13])
