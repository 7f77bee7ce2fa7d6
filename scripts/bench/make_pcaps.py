#!/usr/bin/python3
"""Writes the two pcaps of scripts/bench/side_by_side.sh and, optionally, the sgfwd
policies that match them.

  vm.pcap      VM -> uplink: one UDP request per flow (VM address:sport -> server:53)
  uplink.pcap  uplink -> VM: the reply of each flow (server:53 -> VM address:sport)

Flow f (0 <= f < N) belongs to VM f % VMS (so consecutive packets come from different
VMs); its source port is 1024 + f // VMS, its server 198.18.0.0/15 + 1 + f % 65534.
VM v (0-based) has MAC 02:00:00:00:XX:XX (XX:XX = v + 1) and address 10.0.X.Y
(10.0.0.0 + v + 1). The fabric's side of every frame is the gateway MAC
02:00:00:ff:ff:01. Frames are --frame-len bytes (default 60: a 64-byte Ethernet frame
once the NIC adds the FCS), zero-padded UDP payload.

  --policy-dir DIR   also writes DIR/policy-allow.yaml (every VM in a group allowing
                     everything both ways: the forwarding baseline) and
                     DIR/policy-sg.yaml (every VM in bench-sg: egress UDP 53 to
                     198.18.0.0/15 only; replies pass as established connections).
"""
import argparse
import ipaddress
import os
import sys

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import RawPcapWriter

GW_MAC = "02:00:00:ff:ff:01"
VM_NET = ipaddress.IPv4Address("10.0.0.0")
SERVER_NET = ipaddress.IPv4Address("198.18.0.0")
SERVER_CIDR = "198.18.0.0/15"
DPORT = 53


def vm_mac(v):
    n = v + 1
    return f"02:00:00:00:{n >> 8 & 0xff:02x}:{n & 0xff:02x}"


def vm_ip(v):
    return str(VM_NET + v + 1)


def write_policies(outdir, vms):
    vm_lines = []
    for v in range(vms):
        vm_lines.append(f"  - {{name: vm-{v + 1}, port: vm0, mac: \"{vm_mac(v)}\", ips: [{vm_ip(v)}], "
                        "securityGroups: [GROUP]}")
    vm_block = "\n".join(vm_lines) + "\n"
    allow = ("# side_by_side.sh forwarding baseline: everything allowed both ways.\n"
             "securityGroups:\n"
             "  - name: allow-all\n"
             "    rules:\n"
             "      - {name: out, direction: Egress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
             "      - {name: in, direction: Ingress, protocol: All, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}\n"
             "vms:\n" + vm_block.replace("GROUP", "allow-all"))
    sg = ("# side_by_side.sh firewall variant: the VMs may send UDP 53 to the servers;\n"
          "# replies pass because the requests opened connections. Nothing else passes.\n"
          "securityGroups:\n"
          "  - name: bench-sg\n"
          "    rules:\n"
          f"      - {{name: dns-out, direction: Egress, protocol: UDP, port: {DPORT}, "
          f"remote: {{address: {{IPAddressOrCIDR: {SERVER_CIDR}}}}}}}\n"
          "vms:\n" + vm_block.replace("GROUP", "bench-sg"))
    with open(os.path.join(outdir, "policy-allow.yaml"), "w") as f:
        f.write(allow)
    with open(os.path.join(outdir, "policy-sg.yaml"), "w") as f:
        f.write(sg)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flows", type=int, required=True)
    ap.add_argument("--vms", type=int, default=64)
    ap.add_argument("--frame-len", type=int, default=60)
    ap.add_argument("--vm-pcap", required=True)
    ap.add_argument("--uplink-pcap", required=True)
    ap.add_argument("--policy-dir")
    a = ap.parse_args()
    if not 1 <= a.vms <= 65000 or a.flows < 1 or a.flows // a.vms + 1024 > 65535:
        sys.exit("make_pcaps.py: need 1 <= vms <= 65000 and flows / vms <= 64511")
    if a.frame_len < 42:
        sys.exit("make_pcaps.py: --frame-len must be at least 42 (Ethernet + IPv4 + UDP)")
    pad = a.frame_len - 42
    # Build each frame once with scapy as a template, then patch the varying fields
    # with bytes: scapy's per-packet cost would make 100k flows take minutes.
    req_t = bytes(Ether(src=vm_mac(0), dst=GW_MAC) / IP(src=vm_ip(0), dst=str(SERVER_NET + 1), ttl=64) /
                  UDP(sport=1024, dport=DPORT) / Raw(b"\0" * pad))
    rep_t = bytes(Ether(src=GW_MAC, dst=vm_mac(0)) / IP(src=str(SERVER_NET + 1), dst=vm_ip(0), ttl=64) /
                  UDP(sport=DPORT, dport=1024) / Raw(b"\0" * pad))
    assert len(req_t) == a.frame_len and len(rep_t) == a.frame_len

    def csum(hdr):
        s = sum(int.from_bytes(hdr[i:i + 2], "big") for i in range(0, len(hdr), 2))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        return (~s) & 0xffff

    def frame(tmpl, src_mac, dst_mac, src_ip, dst_ip, sport, dport):
        b = bytearray(tmpl)
        b[0:6] = bytes.fromhex(dst_mac.replace(":", ""))
        b[6:12] = bytes.fromhex(src_mac.replace(":", ""))
        b[26:30] = ipaddress.IPv4Address(src_ip).packed
        b[30:34] = ipaddress.IPv4Address(dst_ip).packed
        b[24:26] = b"\0\0"
        b[24:26] = csum(bytes(b[14:34])).to_bytes(2, "big")
        b[34:36] = sport.to_bytes(2, "big")
        b[36:38] = dport.to_bytes(2, "big")
        b[40:42] = b"\0\0"  # UDP checksum 0: none (legal for IPv4)
        return bytes(b)

    wq = RawPcapWriter(a.vm_pcap, linktype=1, sync=False)
    wr = RawPcapWriter(a.uplink_pcap, linktype=1, sync=False)
    for f in range(a.flows):
        v = f % a.vms
        sport = 1024 + f // a.vms
        server = str(SERVER_NET + 1 + f % 65534)
        wq.write(frame(req_t, vm_mac(v), GW_MAC, vm_ip(v), server, sport, DPORT))
        wr.write(frame(rep_t, GW_MAC, vm_mac(v), server, vm_ip(v), DPORT, sport))
    wq.close()
    wr.close()
    if a.policy_dir:
        write_policies(a.policy_dir, a.vms)


if __name__ == "__main__":
    main()
