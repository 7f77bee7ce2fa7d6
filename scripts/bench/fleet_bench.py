#!/usr/bin/env python3
"""Benchmark (not a test): etcd write -> enforcement on a fleet of two sgfwd appliances
(issue 14; docs/performance.md, "etcd: write to enforcement"). Run by
scripts/bench/fleet.sh, which builds and sets the paths.

1. small: a 3-member etcd cluster (tests/e2e/etcd_cluster.py), 2 groups and 20 VMs (10
   on each appliance), edge-1 and edge-2 (net_null ports, no traffic). N membership
   changes, each one `vms/NAME` value written through etcd's JSON gateway; for each, the
   time from the write (client wall clock, taken before the request) to each
   appliance's `policy_source.applied_at_unix` once its `revision` reaches the write's
   (the control socket polled on one connection, JSON lines, tight loop).
2. big: sgfw-bench's 10,000-VM policy (1,000 local VMs: even ports on edge-1, odd on
   edge-2). Initial load: sgfwd started on the file (edge-1's VMs local) and on etcd,
   alternating, R rounds; the time from exec to `sgfwd: running` (same EAL and port
   set-up on both sides) and, when the daemon serves metrics, its
   `sgfw_policy_load_duration_seconds`. Then both appliances on etcd and M membership
   changes (a VM moved to another role's group set), write -> applied_at_unix on each.

Prints a table and one JSON line. Every etcd and sgfwd is stopped by PID at the end.
usage: fleet_bench.py --build DIR [--changes 100] [--big-changes 50] [--rounds 3] [--no-big]
"""
import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import etcd_cluster  # noqa: E402
import yaml  # noqa: E402  (python3-yaml)

PREFIX = "/sgfw/"
IDLE_SLEEP_US = 0  # --idle-sleep-us
PROCS = []


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Appliance:
    """One sgfwd on net_null ports; started by exec, stopped by PID."""

    def __init__(self, build, work, name, ports, policy_source=None, policy_file=None, memory=512):
        self.name, self.dir = name, os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "run", "sgfwd.sock")
        self.metrics = f"127.0.0.1:{free_port()}"
        lines = [f'eal: ["--no-huge", "-m", "{memory}", "--no-pci", "--no-shconf", "--file-prefix", '
                 f'"sgfwbench{os.getpid()}{name}", "--log-level=lib.*:error"]', "ports:"]
        lines += [f'  - {{name: {p}, device: "net_null{i},no-rx=1"}}' for i, p in enumerate(ports)]
        lines += [f'  - {{name: uplink, device: "net_null{len(ports)},no-rx=1", uplink: true}}',
                  "workers: 1", f"worker_idle_sleep_us: {IDLE_SLEEP_US}", f"policy: {policy_file or os.path.join(self.dir, 'policy.yaml')}",
                  f"control_socket: {self.socket}", "flows: {capacity: 65536}",
                  f"metrics: {{listen: {self.metrics}}}"]
        if policy_source:
            lines.append("policy_source: " + json.dumps(policy_source))
        self.cfg = os.path.join(self.dir, "sgfwd.yaml")
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.build, self.proc, self.conn = build, None, None

    def start(self, timeout=300):
        """Starts sgfwd; returns seconds from exec to its `sgfwd: running` line."""
        self.log = os.path.join(self.dir, f"sgfwd-{time.time():.0f}.log")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([os.path.join(self.build, "app", "sgfwd", "sgfwd"), "--config", self.cfg],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        PROCS.append(self.proc)
        out = open(self.log, "w")
        for line in self.proc.stdout:
            out.write(line)
            if line.startswith("sgfwd: running"):
                took = time.perf_counter() - t0
                break
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"{self.name}: sgfwd not running after {timeout}s ({self.log})")
        else:
            raise SystemExit(f"{self.name}: sgfwd exited {self.proc.wait()} ({self.log})")
        out.close()
        # keep draining its output so it never blocks on a full pipe
        self.drain = subprocess.Popen(["cat"], stdin=self.proc.stdout, stdout=open(self.log, "a"))
        PROCS.append(self.drain)
        return took

    def load_metric(self):
        """sgfw_policy_load_duration_seconds, or None."""
        try:
            with urllib.request.urlopen(f"http://{self.metrics}/metrics", timeout=5) as r:
                for line in r.read().decode().splitlines():
                    if line.startswith("sgfw_policy_load_duration_seconds "):
                        return float(line.split()[1])
        except OSError:
            return None
        return None

    def status(self):
        if self.conn is None:
            self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.conn.connect(self.socket)
            self.rfile = self.conn.makefile("rb")
        self.conn.sendall(b'{"cmd": "status", "args": {}}\n')
        reply = json.loads(self.rfile.readline())
        if not reply.get("ok"):
            raise SystemExit(f"{self.name}: status: {reply.get('error')}")
        return reply["result"]["policy_source"]

    def wait_revision(self, rev, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            ps = self.status()
            if ps.get("revision", 0) >= rev:
                return ps
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name}: revision {rev} not applied in {timeout}s: {ps}")

    def stop(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "drain", None):
            self.drain.wait(10)


def put_many(cluster, kvs):
    """Writes {key: value} in transactions of 100 puts (etcd allows 128 ops)."""
    items = list(kvs.items())
    for i in range(0, len(items), 100):
        ops = [{"request_put": {"key": base64.b64encode(k.encode()).decode(),
                                "value": base64.b64encode(v.encode()).decode()}}
               for k, v in items[i:i + 100]]
        cluster.call("/v3/kv/txn", {"success": ops}, timeout=30)
    return cluster.revision()


def keys_of(policy):
    kvs = {}
    for s in policy.get("subnets", []):
        kvs[f"{PREFIX}subnets/{s['name']}"] = json.dumps(s)
    for g in policy.get("securityGroups", []):
        kvs[f"{PREFIX}groups/{g['name']}"] = json.dumps(g)
    for v in policy.get("vms", []):
        kvs[f"{PREFIX}vms/{v['name']}"] = json.dumps(v)
    return kvs


def changes(cluster, edges, vms, roles, n, rng):
    """n membership changes written to etcd; write -> applied_at_unix per appliance (ms)."""
    lat = {e.name: [] for e in edges}
    revs = set()
    for i in range(n):
        vm = dict(rng.choice(vms))
        old = vm.get("securityGroups", [])
        vm["securityGroups"] = list(rng.choice([r for r in roles if list(r) != old]))
        t0 = time.time()
        rev = cluster.put(f"{PREFIX}vms/{vm['name']}", json.dumps(vm))
        revs.add(rev)
        for e in edges:
            ps = e.wait_revision(rev)
            lat[e.name].append((ps["applied_at_unix"] - t0) * 1000.0)
        for j, v in enumerate(vms):
            if v["name"] == vm["name"]:
                vms[j] = vm
    out = {k: {"n": len(v), "p50_ms": round(pct(v, 50), 2), "p99_ms": round(pct(v, 99), 2),
               "max_ms": round(max(v), 2)} for k, v in lat.items()}
    for e in edges:  # the daemon's own part: "etcd: applied revision R (generation G, KIND, X ms)"
        own, kinds = [], set()
        with open(e.log) as f:
            for line in f:
                m = re.search(r"etcd: applied revision (\d+) \(generation \d+, ([a-z ]+), ([0-9.]+) ms\)", line)
                if m and int(m.group(1)) in revs:
                    own.append(float(m.group(3)))
                    kinds.add(m.group(2))
        if own:
            out[e.name].update(apply_p50_ms=round(pct(own, 50), 2), apply_p99_ms=round(pct(own, 99), 2),
                               apply_kinds=sorted(kinds))
    return out


def small(args, work, rng):
    with etcd_cluster.EtcdCluster(3) as cluster:
        groups = [{"name": "g-a", "rules": [{"direction": "Ingress", "protocol": "TCP", "port": 22,
                                             "remote": {"securityGroupRef": {"name": "g-b"}}}]},
                  {"name": "g-b", "rules": [{"direction": "Egress", "protocol": "All",
                                             "remote": {"address": {"IPAddressOrCIDR": "0.0.0.0/0"}}}]}]
        vms = [{"name": f"vm-{i}", "appliance": f"edge-{i % 2 + 1}", "port": f"p{i % 2}",
                "mac": f"02:00:00:00:00:{i + 1:02x}", "ips": [f"10.1.0.{i + 1}"], "securityGroups": ["g-a"]}
               for i in range(20)]
        put_many(cluster, keys_of({"securityGroups": groups, "vms": vms}))
        src = {"etcd": {"endpoints": cluster.urls, "prefix": PREFIX}}
        edges = [Appliance(args.build, work, f"edge-{k}", [f"p{k - 1}"],
                           {"etcd": dict(src["etcd"], appliance=f"edge-{k}")}) for k in (1, 2)]
        try:
            for e in edges:
                e.start()
            return changes(cluster, edges, vms, [("g-a",), ("g-b",), ("g-a", "g-b")], args.changes, rng)
        finally:
            for e in edges:
                e.stop()


def big(args, work, rng):
    path = os.path.join(work, "gen.yaml")
    subprocess.run([os.path.join(args.build, "app", "sgfw-bench", "sgfw-bench"), "gen-policy", "--vms", "10000",
                    "--local-vms", "1000", "--groups", "1000", "--rules-per-group", "60", "--groups-per-vm", "5",
                    "--roles", "200", "--group-ref-share", "0.2", "--ports", "31", "--seed", "1", "--out", path],
                   check=True)
    with open(path) as f:  # libyaml's loader (python3-yaml has it): seconds, not minutes
        pol = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    ports = sorted({v["port"] for v in pol["vms"] if "port" in v})
    edge_of = {p: f"edge-{i % 2 + 1}" for i, p in enumerate(ports)}
    file_pol = {k: v for k, v in pol.items()}
    file_pol["vms"] = [v if edge_of.get(v.get("port")) == "edge-1" else {k: x for k, x in v.items() if k != "port"}
                       for v in pol["vms"]]
    file_path = os.path.join(work, "edge-1-file.yaml")
    with open(file_path, "w") as f:
        yaml.dump(file_pol, f, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False)
    for v in pol["vms"]:
        if "port" in v:
            v["appliance"] = edge_of[v["port"]]
    local = [v for v in pol["vms"] if "port" in v]
    roles = sorted({tuple(v.get("securityGroups", [])) for v in pol["vms"]})
    out = {"keys": 0, "load": []}
    with etcd_cluster.EtcdCluster(3) as cluster:
        kvs = keys_of(pol)
        out["keys"] = len(kvs)
        put_many(cluster, kvs)
        src = {"endpoints": cluster.urls, "prefix": PREFIX}
        for r in range(args.rounds):
            fa = Appliance(args.build, work, "file-1", ports, policy_file=file_path, memory=4096)
            ea = Appliance(args.build, work, "etcd-1", ports, {"etcd": dict(src, appliance="edge-1")}, memory=4096)
            row = {}
            for key, a in (("file", fa), ("etcd", ea)) if r % 2 == 0 else (("etcd", ea), ("file", fa)):
                try:
                    row[key + "_s"] = round(a.start(), 3)
                    row[key + "_metric_s"] = a.load_metric()
                finally:
                    a.stop()
            row["ratio"] = round(row["etcd_s"] / row["file_s"], 3)
            print("  load round", r + 1, json.dumps(row), flush=True)
            out["load"].append(row)
        out["load_ratio_median"] = statistics.median(r["ratio"] for r in out["load"])
        edges = [Appliance(args.build, work, f"edge-{k}", ports, {"etcd": dict(src, appliance=f"edge-{k}")},
                           memory=4096) for k in (1, 2)]
        try:
            for e in edges:
                e.start()
            out["changes"] = changes(cluster, edges, local, roles, args.big_changes, rng)
        finally:
            for e in edges:
                e.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--big-changes", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-big", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--idle-sleep-us", type=int, default=0,
                    help="sgfwd's worker_idle_sleep_us: on a machine with fewer cores than pollers, "
                         "idle workers then leave the CPUs to the control threads and etcd")
    a = ap.parse_args()
    global IDLE_SLEEP_US
    IDLE_SLEEP_US = a.idle_sleep_us
    print(f"sgfwd worker_idle_sleep_us: {IDLE_SLEEP_US}", flush=True)
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="sgfw-fleet-bench-")
    result = {}
    try:
        result["small"] = small(a, work, rng)
        print("small policy, write -> applied_at_unix:", json.dumps(result["small"]), flush=True)
        if not a.no_big:
            result["big"] = big(a, work, rng)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["rm", "-rf", work])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
