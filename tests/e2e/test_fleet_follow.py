#!/usr/bin/env python3
"""sgfwd follows a policy in etcd (docs/fleet.md, "Following the policy live"): one etcd
member, one sgfwd with two VMs (a, b) whose policy lives under /sgfw/.

The initial load lets a ping b (both in `mesh`; status, log lines, /metrics); a put
while `meta/push` exists waits for its delete; `sgfwctl reload` loads in full; a put of `mesh` without ICMP stops the
pings and the old value restores them; b's groups put to [] (the membership fast path)
cut a -> b, `sgfwctl vm set-groups b mesh` (written to etcd by the daemon) restores it;
an unknown group in b's value and a bad CIDR in a subnet are refused with the exact log
line naming the key, counted in status (`refused`), traffic unchanged, then fixed. etcd
stopped: pings still pass, status connected=false; sgfwd restarted meanwhile comes up on
its persisted copy (the log line) and enforces; etcd back: caught up (a later put is
enforced). Compaction: sgfwd paused (SIGSTOP), etcd restarted, three changes and a
compaction, sgfwd resumed: its watch resumes from a compacted revision, the log shows
the compaction line and a full reload, the final state is enforced.

etcd is started here with its own data directory and stopped by PID, also on failure.
Exit 77 (skipped) when not root / no network namespaces, or when etcd or etcdctl is not
installed (scripts/deps.sh installs Debian's etcd-server and etcd-client)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group

ETCD = shutil.which("etcd")
ETCDCTL = shutil.which("etcdctl")
PREFIX = "/sgfw/"
APPLIANCE = "edge-1"
MESH = group("mesh", rule("Egress", "All", group="mesh", name="to-members"),
             rule("Ingress", "All", group="mesh", name="from-members"))
MESH_TCP = group("mesh", rule("Egress", "All", group="mesh", name="to-members"),
                 rule("Ingress", "TCP", group="mesh", name="from-members"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Etcd:
    """One member; start() may be called again after stop() (same data, same ports)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sgfw-follow-etcd-")
        self.client, self.peer = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.client}"
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "etcd.log"), "a")
        self.proc = subprocess.Popen(
            [ETCD, "--name", "solo", "--data-dir", os.path.join(self.dir, "data"),
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", f"http://127.0.0.1:{self.peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer}",
             "--initial-cluster", f"solo=http://127.0.0.1:{self.peer}",
             "--heartbeat-interval", "50", "--election-timeout", "500"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ctl("endpoint", "health", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise e2e.HarnessError("etcd did not become healthy")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def ctl(self, *args, check=True):
        r = subprocess.run([ETCDCTL, "--endpoints", self.url, "--dial-timeout", "1s", "--command-timeout", "3s",
                            *args], capture_output=True, text=True, timeout=15,
                           env=dict(os.environ, ETCDCTL_API="3"))
        if check and r.returncode != 0:
            raise e2e.HarnessError(f"etcdctl {' '.join(args)}: {r.stderr.strip()}")
        return r

    def put(self, key, value):
        self.ctl("put", PREFIX + key, json.dumps(value, separators=(",", ":")) if not isinstance(value, str) else value)
        return self.revision()

    def revision(self):
        r = self.ctl("endpoint", "status", "-w", "json")
        return int(json.loads(r.stdout)[0]["Status"]["header"]["revision"])

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def vm_value(h, groups):
    return {"name": h.name, "appliance": APPLIANCE, "port": h.port, "mac": h.mac, "ips": h.ips,
            "securityGroups": groups}


def status(t):
    r = subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, "--json", "status"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 0, f"sgfwctl status: exit {r.returncode}: {r.stderr.strip()}")
    return json.loads(r.stdout)["policy_source"]


def wait_for(what, pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def log_has(t, pattern, start=0):
    with t.daemon.cond:
        lines = list(t.daemon.lines[start:])
    return next((l for l in lines if re.search(pattern, l)), None)


def wait_applied(t, revision, timeout=10.0):
    wait_for(f"revision {revision} applied", lambda: status(t)["revision"] >= revision, timeout)


def pings(a, b, n=3):
    return a.ping(b.ip, count=n, interval=0.1, wait=0.5)


def scenario():
    etcd = Etcd()
    try:
        etcd.start()
        return run(etcd)
    finally:
        etcd.cleanup()


def run(etcd):
    with e2e.Topology("follow") as t:
        a = t.vm("a", "10.0.1.10", groups=["mesh"])
        b = t.vm("b", "10.0.1.11", groups=["mesh"])
        etcd.put("groups/mesh", MESH)
        etcd.put("vms/a", vm_value(a, ["mesh"]))
        rev = etcd.put("vms/b", vm_value(b, ["mesh"]))
        src = {"etcd": {"endpoints": [etcd.url], "prefix": PREFIX, "appliance": APPLIANCE}}
        metrics_port = free_port()
        # The file written here is never read: etcd answers, and sgfwd replaces it with its copy.
        t.start(policy_text="vms: []\n", extra_config={"policy_source": src,
                                                       "metrics": {"listen": f"127.0.0.1:{metrics_port}"}})
        copy_path = os.path.join(t.tmp, "policy.yaml")

        with t.case("initial load at one revision: status, the log line, a pings b"):
            s = status(t)
            check(s["kind"] == "etcd" and s["prefix"] == PREFIX and s["appliance"] == APPLIANCE, f"status {s}")
            check(s["revision"] == rev and s["connected"] is True and s["refused"] == 0, f"status {s}")
            check(s["last_error"] is None and s["persisted"] == copy_path, f"status {s}")
            # Printed before "running", which the harness waited for.
            check(log_has(t, rf"etcd: loaded revision {rev} \(3 keys\)"), "no 'etcd: loaded revision' line")
            check(log_has(t, re.escape(f"etcd: connected to {etcd.url}")), "no 'etcd: connected to' line")
            check(pings(a, b) == 3, "a -> b ping lost")
            text = subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, "status"], capture_output=True,
                                  text=True, timeout=10).stdout
            check(f"policy source: etcd {PREFIX} at revision {rev}, connected" in text, f"status text:\n{text}")
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
                m = r.read().decode()
            for want in (f"\nsgfw_policy_etcd_revision {rev}\n", "\nsgfw_policy_etcd_connected 1\n",
                         "\nsgfw_policy_etcd_refused_batches_total 0\n"):
                check(want in m, f"/metrics lacks {want.strip()!r}")

        with t.case("a staged push (meta/push) holds the batch until its delete; sgfwctl reload loads in full"):
            before = status(t)["revision"]
            etcd.put("meta/push", '{"id":"test","steps":2}')
            etcd.put("groups/mesh", MESH_TCP)
            time.sleep(0.5)  # what is checked is that nothing happens: give it the time to
            check(status(t)["revision"] == before, "a batch was applied while meta/push exists")
            check(pings(a, b) == 3, "ping lost while the push is open")
            etcd.ctl("del", PREFIX + "meta/push")
            wait_applied(t, etcd.revision())
            check(pings(a, b) == 0, "the pushed change (mesh TCP-only) not enforced after the delete")
            mark = len(t.daemon.lines)
            r = etcd.put("groups/mesh", MESH)
            rl = subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, "reload"], capture_output=True,
                                text=True, timeout=20)
            check(rl.returncode == 0, f"reload: exit {rl.returncode}: {rl.stderr.strip()}")
            check(status(t)["revision"] >= r, "reload replied before the full load was applied")
            wait_for("the reload's full load", lambda: log_has(t, r"etcd: loaded revision \d+", mark), 3)
            check(pings(a, b) == 3, "ping lost after the reload")

        with t.case("a group's rules put: ICMP no longer allowed, then allowed again"):
            wait_applied(t, etcd.put("groups/mesh", MESH_TCP))
            check(pings(a, b) == 0, "ping passed with mesh TCP-only")
            r = etcd.put("groups/mesh", MESH)
            wait_applied(t, r)
            wait_for(f"the line 'etcd: applied revision {r}'", lambda: log_has(t, rf"etcd: applied revision {r} "), 3)
            check(pings(a, b) == 3, "ping lost after mesh restored")

        with t.case("membership fast path: b's groups put to [], then vm set-groups b mesh through etcd"):
            r = etcd.put("vms/b", vm_value(b, []))
            wait_applied(t, r)
            wait_for("the membership path's line", lambda: log_has(t, rf"etcd: applied revision {r} .*membership"), 3)
            check(pings(a, b) == 0, "ping passed with b in no group")
            sg = subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, "vm", "set-groups", "b", "mesh"],
                                capture_output=True, text=True, timeout=20)
            check(sg.returncode == 0, f"set-groups: exit {sg.returncode}: {sg.stderr.strip()}")
            got = json.loads(etcd.ctl("get", PREFIX + "vms/b", "--print-value-only").stdout)
            check(got["securityGroups"] == ["mesh"] and got["ips"] == b.ips, f"etcd holds {got}")
            check(pings(a, b) == 3, "ping lost after set-groups (the reply came before enforcement?)")
            nope = subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, "vm", "set-groups", "b", "nope"],
                                  capture_output=True, text=True, timeout=20)
            check(nope.returncode == 1 and "unknown security group 'nope'" in nope.stderr, f"nope: {nope.stderr!r}")
            got = json.loads(etcd.ctl("get", PREFIX + "vms/b", "--print-value-only").stdout)
            check(got["securityGroups"] == ["mesh"], f"an unknown group was written to etcd: {got}")
            bad = subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, "vm", "set-groups", "nobody", "mesh"],
                                 capture_output=True, text=True, timeout=20)
            check(bad.returncode == 1 and "unknown VM 'nobody'" in bad.stderr, f"unknown VM: {bad.stderr!r}")
            rl = subprocess.run([e2e.SGFWCTL, "--socket", t.daemon.socket, "reload", "--policy", copy_path],
                                capture_output=True, text=True, timeout=20)
            check(rl.returncode == 1 and "the policy comes from etcd: use sgfwctl policy push" in rl.stderr,
                  f"reload --policy: {rl.stderr!r}")

        with t.case("invalid values refused whole, named in the log and status; traffic unchanged; then fixed"):
            r1 = etcd.put("vms/b", vm_value(b, ["nope"]))
            line = f"etcd: refused revision {r1}: /sgfw/vms/b: unknown security group 'nope'"
            wait_for("the refusal of vms/b", lambda: log_has(t, re.escape(line)))
            s = status(t)
            check(s["refused"] == 1 and s["last_error"] == "/sgfw/vms/b: unknown security group 'nope'", f"{s}")
            check(s["revision"] < r1, f"revision moved to {s['revision']}")
            check(pings(a, b) == 3, "ping lost while the refused value is in etcd")
            wait_applied(t, etcd.put("vms/b", vm_value(b, ["mesh"])))
            r2 = etcd.put("subnets/net", {"name": "net", "cidr": "10.0.0.0/33"})
            line = f"etcd: refused revision {r2}: /sgfw/subnets/net: invalid subnet cidr '10.0.0.0/33'"
            wait_for("the refusal of subnets/net", lambda: log_has(t, re.escape(line)))
            check(status(t)["refused"] == 2, "refused count")
            check(pings(a, b) == 3, "ping lost while the bad subnet is in etcd")
            wait_applied(t, etcd.put("subnets/net", {"name": "net", "cidr": "10.9.0.0/16"}))
            s = status(t)
            check(s["last_error"] is None and s["refused"] == 2, f"after the fix: {s}")
            check(pings(a, b) == 3, "ping lost after the fix")

        with t.case("fail static: etcd stopped, enforcement continues, status disconnected"):
            applied = status(t)["revision"]
            wait_for("the persisted copy of the last revision",
                     lambda: os.path.exists(copy_path) and
                     f"revision {applied} appliance {APPLIANCE}" in open(copy_path).readline())
            etcd.stop()
            wait_for("connected=false", lambda: status(t)["connected"] is False)
            wait_for("the line 'etcd: disconnected: ...'", lambda: log_has(t, r"etcd: disconnected: "), 3)
            check(pings(a, b) == 3, "ping lost with etcd down")

        with t.case("restart without etcd: the persisted copy serves"):
            t.daemon.stop()
            t.daemon = e2e.Daemon(t.daemon.config_path, os.path.join(t.tmp, "sgfwd-2.log"), t.daemon.socket)
            t.daemon.start()
            line = f"etcd: unreachable at start; serving the persisted copy {copy_path} (revision {applied})"
            check(log_has(t, re.escape(line)), "no 'unreachable at start' line:\n" + t.daemon.tail())  # before "running"
            s = status(t)
            check(s["revision"] == applied and s["connected"] is False, f"status {s}")
            check(pings(a, b) == 3, "ping lost on the persisted copy")

        with t.case("etcd back: the daemon loads and follows again"):
            mark = len(t.daemon.lines)
            t0 = time.monotonic()
            etcd.start()
            t1 = time.monotonic()
            wait_for("a full load", lambda: log_has(t, r"etcd: loaded revision \d+", mark), timeout=15)
            e2e.log(f"etcd healthy after {t1 - t0:.1f}s, sgfwd loaded after a further {time.monotonic() - t1:.1f}s")
            wait_applied(t, etcd.put("groups/mesh", MESH_TCP))
            check(status(t)["connected"] is True, "not connected")
            check(pings(a, b) == 0, "ping passed after mesh TCP-only")

        with t.case("compacted revision: full reload, final state enforced"):
            mark = len(t.daemon.lines)
            os.kill(t.daemon.proc.pid, signal.SIGSTOP)
            try:
                etcd.stop()
                etcd.start()
                etcd.put("vms/b", vm_value(b, []))
                etcd.put("vms/b", vm_value(b, ["mesh"]))
                last = etcd.put("groups/mesh", MESH)
                etcd.ctl("compaction", "--physical", str(last))
            finally:
                os.kill(t.daemon.proc.pid, signal.SIGCONT)
            wait_for("the compaction line", lambda: log_has(t, r"etcd: revision \d+ was compacted; full reload", mark),
                     timeout=15)
            wait_for("the reload", lambda: log_has(t, rf"etcd: loaded revision {last} ", mark))
            wait_applied(t, last)
            check(pings(a, b) == 3, "ping lost after the reload (mesh allows ICMP again)")
        return t


if __name__ == "__main__":
    if not ETCD or not ETCDCTL:
        print("SKIP: etcd or etcdctl is not installed (scripts/deps.sh installs etcd-server, etcd-client)")
        sys.exit(77)
    e2e.main(scenario)
