#!/usr/bin/env python3
"""DPDK telemetry (docs/metrics.md, "DPDK telemetry"): sgfwd registers /sgfw/ commands
on the EAL's telemetry socket (<runtime dir>/dpdk_telemetry.v2, printed at start). After
A allowed UDP datagrams and D TCP SYNs denied by policy from VM a (nothing else from a),
/sgfw/vm,a and /sgfw/port,vm-a answer those exact counts, the same as `sgfwctl stats`;
/sgfw/status, /sgfw/stats, /sgfw/vms, /sgfw/ports, /sgfw/rules and /sgfw/workers agree
with `sgfwctl`; an unknown VM or a missing parameter answers null, and the daemon stays
up. The test's client speaks the protocol of DPDK's dpdk-telemetry.py (SOCK_SEQPACKET, a
JSON greeting, one command per message, one JSON reply), and DPDK's own script (Debian
dpdk-dev) reads /sgfw/vm,a and /sgfw/status too."""
import json
import os
import shutil
import socket
import subprocess

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import TCP, UDP

ALLOWED = 5
DENIED = 7


class TelemetryClient:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(10)
        self.sock.connect(path)
        hello = json.loads(self.sock.recv(1024).decode())
        check("max_output_len" in hello, f"telemetry greeting {hello}")
        self.max_len = hello["max_output_len"]

    def ask(self, cmd):
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(self.max_len).decode())
        key = cmd.split(",")[0]
        check(key in reply, f"{cmd}: reply {reply}")
        return reply[key]

    def close(self):
        self.sock.close()


def telemetry_path(t):
    for line in t.daemon.lines:
        if line.startswith("sgfwd: telemetry: "):
            return line[len("sgfwd: telemetry: "):].split(" ")[0]
    raise AssertionError("sgfwd printed no telemetry socket:\n" + t.daemon.tail())


def scenario():
    with e2e.Topology("telemetry") as t:
        a = t.vm("a", "10.0.1.10", groups=["out7000"])
        inet = t.inet
        t.start(security_groups=[group("out7000", rule("Egress", "UDP", cidr="0.0.0.0/0", port=7000))])
        client = None
        try:
            with t.case("the telemetry socket: /sgfw commands listed, /sgfw/status"):
                path = telemetry_path(t)
                client = TelemetryClient(path)
                cmds = client.ask("/")
                for c in ("/sgfw/status", "/sgfw/stats", "/sgfw/ports", "/sgfw/port", "/sgfw/vms", "/sgfw/vm",
                          "/sgfw/rules", "/sgfw/workers"):
                    check(c in cmds, f"{c} not in {cmds}")
                st = client.ask("/sgfw/status")
                check(st["generation"] == 1, f"status {st}")
                check(st["policy_load_duration_us"] > 0, f"start-up load duration {st}")
                check(st["ports"] == 2 and st["workers"] == 1 and st["local_vms"] == 1, f"status {st}")
                check(client.ask("/sgfw/vms") == ["a"], "vms")
                check(client.ask("/sgfw/ports") == ["vm-a", "uplink"], "ports")
            with t.case(f"{ALLOWED} allowed and {DENIED} denied frames: exact over telemetry"):
                inet.udp_server(7000, echo=False)
                before = t.stats()
                m = marker("tel")
                frames = [bytes(eth_ip(a, inet) / UDP(sport=41000 + i, dport=7000) / m) for i in range(ALLOWED)]
                frames += [bytes(eth_ip(a, inet) / TCP(sport=42000 + i, dport=7001, flags="S")) for i in range(DENIED)]
                a.send_frames(frames)
                s = t.expect(before, {("vm", "a", "allowed"): ALLOWED, ("vm", "a", "no-rule"): DENIED,
                                      ("port", "vm-a", "no-rule"): DENIED}, quiet=[("port", "vm-a"), ("vm", "a")])
                vm = client.ask("/sgfw/vm,a")
                # Nothing but the crafted frames came from a: absolute counts.
                check(vm["allowed"] == ALLOWED and vm["no_rule"] == DENIED and vm["dropped"] == DENIED, f"vm a {vm}")
                check(vm["allowed"] == s[("vm", "a", "allowed")], "vm a allowed != sgfwctl stats")
                port = client.ask("/sgfw/port,vm-a")
                check(port["rx"] == ALLOWED + DENIED and port["no_rule"] == DENIED, f"port vm-a {port}")
                check(port["rx"] == s[("port", "vm-a", "rx")] and port["tx"] == s[("port", "vm-a", "tx")], "port")
                tot = client.ask("/sgfw/stats")
                want_rx = sum(p["rx"] for p in s.json["ports"])
                check(tot["rx"] == want_rx and tot["no_rule"] == DENIED and tot["vm_allowed"] == ALLOWED,
                      f"stats {tot}, rx {want_rx}")
                rules = client.ask("/sgfw/rules")
                got = dict(zip(rules["rule"], rules["hits"]))
                want = {r["rule"]: r["hits"] for r in s.json["rules"]}
                check(got == want, f"rules {got}, sgfwctl {want}")
                check(sum(want.values()) == ALLOWED, f"{ALLOWED} connections admitted, hits {want}")
                w = client.ask("/sgfw/workers")
                check(len(w["packets"]) == 1 and w["packets"][0] >= want_rx and w["loops"][0] > 0, f"workers {w}")
            with t.case("bad parameters: null, the daemon unaffected"):
                for cmd in ("/sgfw/vm,nosuch", "/sgfw/vm", "/sgfw/port,", "/sgfw/port,x" + "y" * 500):
                    check(client.ask(cmd) is None, f"{cmd} answered")
                t.assert_alive()
                check(client.ask("/sgfw/status")["generation"] == 1, "status after bad parameters")
            with t.case("DPDK's own client, dpdk-telemetry.py (Debian dpdk-dev), reads the same counts"):
                tool = shutil.which("dpdk-telemetry.py")
                check(tool is not None, "dpdk-telemetry.py not installed (scripts/deps.sh installs dpdk-dev)")
                prefix = os.path.basename(os.path.dirname(path))
                r = subprocess.run([tool, "-f", prefix], input="/sgfw/vm,a\n/sgfw/status\nquit\n",
                                   capture_output=True, text=True, timeout=30)
                replies = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
                check(r.returncode == 0 and len(replies) == 2, f"dpdk-telemetry.py: rc {r.returncode}, {r.stdout}{r.stderr}")
                vm = replies[0]["/sgfw/vm"]
                check(vm["allowed"] == ALLOWED and vm["no_rule"] == DENIED, f"dpdk-telemetry.py /sgfw/vm,a {vm}")
                check(replies[1]["/sgfw/status"]["generation"] == 1, f"dpdk-telemetry.py /sgfw/status {replies[1]}")
        finally:
            if client:
                client.close()
        return t


if __name__ == "__main__":
    e2e.main(scenario)
