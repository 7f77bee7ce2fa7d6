#!/usr/bin/env python3
"""sgfwctl capture and trace (docs/capture.md) on real namespaces:
- `capture --drops --count 2 -w FILE` during a scripted deny (a denied TCP SYN and a
  spoofed source) writes a pcapng file that `tcpdump -r` reads with exactly those two
  packets, and whose packet comments are their drop reasons;
- `capture --vm b` of an allowed ping holds the request and the reply;
- `trace` of a TCP connection shows every stage and the deciding rules for the SYN, the
  express stage for the packets after it; a denied SYN's trace ends with its reason;
- bad input gets a clear error and the daemon keeps serving.
Every sgfwctl started in the background is stopped by PID, also on failure."""
import os
import json
import struct
import subprocess
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import TCP


def ctl(t, *args, timeout=30):
    return subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, *args], capture_output=True, text=True,
                          timeout=timeout)


class Background:
    """An sgfwctl capture or trace started in the background; stopped by PID on exit."""

    def __init__(self, t, *args):
        self.proc = subprocess.Popen([e2e.SGFWCTL, "--socket", t.daemon.socket, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # sgfwctl starts, the daemon arms the workers within a poll loop (50 ms)

    def wait(self, timeout=20):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def pcapng_packets(path):
    """[(packet bytes, comment or None)] of a pcapng file's Enhanced Packet Blocks."""
    data = open(path, "rb").read()
    check(data[:4] == b"\x0a\x0d\x0d\x0a", "not a pcapng file")
    bom = data[8:12]
    end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
    out, at = [], 0
    while at + 12 <= len(data):
        btype, blen = struct.unpack_from(end + "II", data, at)
        check(blen >= 12 and at + blen <= len(data), f"bad block length {blen} at {at}")
        if btype == 6:
            caplen = struct.unpack_from(end + "I", data, at + 20)[0]
            pkt = data[at + 28:at + 28 + caplen]
            o, comment = at + 28 + ((caplen + 3) & ~3), None
            while o + 4 <= at + blen - 4:
                code, olen = struct.unpack_from(end + "HH", data, o)
                if code == 0:
                    break
                if code == 1:
                    comment = data[o + 4:o + 4 + olen].decode()
                o += 4 + ((olen + 3) & ~3)
            out.append((pkt, comment))
        at += blen
    return out


def tcpdump(path):
    r = subprocess.run(["tcpdump", "-r", path, "-nn"], capture_output=True, text=True, timeout=15)
    check(r.returncode == 0, f"tcpdump -r: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout.splitlines()


def scenario():
    with e2e.Topology("capture") as t:
        a = t.vm("a", "10.0.1.10", groups=["client"])
        b = t.vm("b", "10.0.1.11", groups=["server"])
        t.start(security_groups=[group("client", rule("Egress", "All", cidr="0.0.0.0/0", name="out")),
                                 group("server", rule("Ingress", "TCP", cidr="0.0.0.0/0", port=80, name="web"),
                                       rule("Ingress", "ICMP", cidr="0.0.0.0/0", name="ping"))])
        path = os.path.join(t.tmp, "drops.pcapng")
        with t.case("capture --drops during a scripted deny: exactly those packets, reasons as comments"):
            m = marker("capture")
            denied = bytes(eth_ip(a, b) / TCP(sport=40000, dport=22, flags="S") / m)
            spoofed = bytes(eth_ip(a, b, src_ip="10.0.1.99") / TCP(sport=40001, dport=80, flags="S") / m)
            with Background(t, "capture", "--drops", "--count", "2", "-w", path) as cap:
                a.send_frames([denied, spoofed])
                rc, out, err = cap.wait()
            check(rc == 0, f"capture: exit {rc}: {err.strip()}")
            check("captured 2 packets" in out and "no-rule: 1" in out and "spoofed: 1" in out, f"summary: {out!r}")
            lines = tcpdump(path)
            check(len(lines) == 2, f"tcpdump read {len(lines)} packets, want 2: {lines}")
            # One burst: the frames are written as they are dropped, stage by stage (the
            # spoofed one in admission, before the rule checks), so either order.
            check(sum("10.0.1.10.40000 > 10.0.1.11.22: Flags [S]" in l for l in lines) == 1, f"denied SYN: {lines}")
            check(sum("10.0.1.99.40001 > 10.0.1.11.80: Flags [S]" in l for l in lines) == 1, f"spoofed: {lines}")
            pkts = pcapng_packets(path)
            check(sorted(pkts) == sorted([(denied, "no-rule"), (spoofed, "spoofed")]),
                  f"packets and comments: {[(len(p), c) for p, c in pkts]}")
        with t.case("capture --vm b of an allowed ping: the request and the reply"):
            check(a.ping(b.ip, count=1) == 1, "warm-up ping")  # ARP resolved before the capture
            vm_path = os.path.join(t.tmp, "vm.pcapng")
            with Background(t, "capture", "--vm", "b", "--count", "2", "-w", vm_path) as cap:
                check(a.ping(b.ip, count=1) == 1, "ping through sgfwd")
                rc, out, err = cap.wait()
            check(rc == 0, f"capture: exit {rc}: {err.strip()}")
            lines = tcpdump(vm_path)
            check(len(lines) == 2, f"tcpdump read {len(lines)} packets: {lines}")
            check("10.0.1.10 > 10.0.1.11: ICMP echo request" in lines[0], f"first: {lines[0]}")
            check("10.0.1.11 > 10.0.1.10: ICMP echo reply" in lines[1], f"second: {lines[1]}")
            check([c for _, c in pcapng_packets(vm_path)] == [None, None], "passed packets carry no comment")
        with t.case("trace of a TCP connection: every stage, the deciding rules, then the express stage"):
            b.tcp_server(80)
            with Background(t, "--json", "trace", "tcp", a.ip, f"{b.ip}:80", "--count", "3") as tr:
                check(a.tcp_echo(b.ip, 80), "TCP echo through sgfwd")
                rc, out, err = tr.wait()
            check(rc == 0, f"trace: exit {rc}: {err.strip()}")
            r = json.loads(out)
            check(r["followed"] == 3 and r["ended"] == "count", f"followed {r['followed']}, ended {r['ended']}")
            syn = r["packets"][0]["stages"]
            check([s["stage"] for s in syn] == ["parse", "express", "admit", "connections", "rules", "rules",
                                                "verdict"], f"SYN stages {[s['stage'] for s in syn]}")
            check(syn[2]["from_vm"] == "a" and syn[2]["to_vm"] == "b", f"admit {syn[2]}")
            check(syn[4]["rule"] == "client/out" and syn[5]["rule"] == "server/web", f"rules {syn[4]}, {syn[5]}")
            check(syn[6]["result"] == "created", f"verdict {syn[6]}")
            for p in r["packets"][1:]:
                st = p["stages"]
                check([s["stage"] for s in st] == ["parse", "express"] and st[1]["result"] == "passed",
                      f"later packet {st}")
        with t.case("trace of a denied SYN (text): the failing check and the reason"):
            with Background(t, "trace", "tcp", a.ip, f"{b.ip}:22", "--count", "1") as tr:
                a.tcp_echo(b.ip, 22, timeout=0.5)
                rc, out, err = tr.wait()
            check(rc == 0, f"trace: exit {rc}: {err.strip()}")
            check("ingress check of b: deny" in out and "dropped: no-rule" in out and "1 packet followed" in out,
                  f"trace text:\n{out}")
        with t.case("bad input: clear errors, and the daemon keeps serving"):
            bad = [(["capture", "--count", "0", "-w", path], 1, "from 1 to 10000"),
                   (["capture", "--count", "10001", "-w", path], 1, "from 1 to 10000"),
                   (["capture", "--vm", "nobody", "-w", path], 1, "no VM named 'nobody'"),
                   (["capture", "--port", "eth9", "-w", path], 1, "no port named 'eth9'"),
                   (["capture", "-w", "/nonexistent/dir/f.pcapng"], 1, "cannot write"),
                   (["capture", "--drops"], 2, "-w"),
                   (["trace", "tcp", "10.0.1.300", "10.0.1.11:80"], 2, "sgfwctl trace:"),
                   (["trace", "tcp", "10.0.1.10", "10.0.1.11:80", "--count", "0"], 1, "from 1 to 1000")]
            for args, want, text in bad:
                r = ctl(t, *args)
                check(r.returncode == want and text in r.stderr,
                      f"{args}: exit {r.returncode} (want {want}), stderr {r.stderr.strip()!r}")
            check(not os.path.exists(os.path.join(t.tmp, "none.pcapng")), "no file left")
            busy = os.path.join(t.tmp, "busy.pcapng")
            with Background(t, "capture", "--count", "5", "--timeout", "2", "-w", busy) as first:
                r = ctl(t, "capture", "-w", os.path.join(t.tmp, "second.pcapng"))
                check(r.returncode == 1 and "already running" in r.stderr, f"second capture: {r.stderr.strip()!r}")
                check(not os.path.exists(os.path.join(t.tmp, "second.pcapng")), "the refused capture left its file")
                rc, out, err = first.wait()
            check(rc == 0 and "ended by timeout" in out, f"first capture: exit {rc}: {out!r} {err!r}")
            r = ctl(t, "status")
            check(r.returncode == 0, f"status after the errors: {r.stderr.strip()}")
            t.assert_alive()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
