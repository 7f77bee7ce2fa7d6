#!/usr/bin/env python3
"""Measures control-plane change latency against a running sgfwd: N single-VM
`set-groups` changes (command sent -> reply, which sgfwd sends after the new snapshot is
published and the RCU grace period is over, i.e. once the change is enforced), then
full reloads of the same policy file. Prints p50/p99/max of both the enforcement time (the daemon's `enforced_ms`: request
received -> new snapshot published) and the reply time (client clock: sent -> reply,
which also waits for the policy file to be written and fsync'ed), and a JSON line.

usage: reload_latency.py SOCKET POLICY_YAML [--changes 100] [--reloads 5] [--seed 1] [--warmup 5]
"""
import argparse
import json
import random
import socket
import statistics
import sys
import time

import yaml  # python3-yaml


def call(sock_path, cmd, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    t0 = time.perf_counter()
    s.sendall((json.dumps({"cmd": cmd, "args": args}) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    dt = (time.perf_counter() - t0) * 1000.0
    s.close()
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise SystemExit(f"{cmd} rejected: {reply.get('error')}")
    return dt, reply["result"]


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("policy")
    ap.add_argument("--changes", type=int, default=100)
    ap.add_argument("--reloads", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    # The first changes after start-up pay one-off costs (the journal file is created,
    # the heap grows, caches are cold): made and reported, not counted in the percentiles.
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    pol = yaml.load(open(a.policy), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml's when there
    vms = [v for v in pol["vms"] if "port" in v]
    roles = sorted({tuple(v.get("securityGroups", [])) for v in pol["vms"]})
    rng = random.Random(a.seed)
    lat, rebuilt, enforced = [], [], []
    phases = {k: [] for k in ("queued_ms", "build_ms", "compile_ms", "tables_ms", "snapshot_other_ms", "handoff_ms",
                                 "publish_ms", "persist_ms")}
    warm = []
    for _ in range(a.warmup):
        vm = rng.choice(vms)
        dt, r = call(a.socket, "set-groups", {"vm": vm["name"], "groups": list(rng.choice(roles))})
        warm.append((r["enforced_ms"], dt))
    if warm:
        print(f"warm-up: {len(warm)} set-groups, not counted: enforced "
              + ", ".join(f"{e:.1f}" for e, _ in warm) + " ms; reply " + ", ".join(f"{d:.1f}" for _, d in warm) + " ms")
    for _ in range(a.changes):
        vm = rng.choice(vms)
        groups = list(rng.choice(roles))  # move the VM to another existing role
        dt, r = call(a.socket, "set-groups", {"vm": vm["name"], "groups": groups})
        lat.append(dt)
        rebuilt.append(r["contexts_rebuilt"])
        enforced.append(r["enforced_ms"])
        for k, v in phases.items():
            if k in r:
                v.append(r[k])
        if len(lat) <= 3:
            print("  change:", json.dumps(r))
    text = open(a.policy).read()
    rl = []
    for _ in range(a.reloads):
        dt, r = call(a.socket, "reload", {"policy": text, "name": a.policy})
        rl.append(dt)
    summary = {
        "set_groups": {"n": len(lat), "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99), "max_ms": max(lat),
                       "enforced_p50_ms": pct(enforced, 50), "enforced_p99_ms": pct(enforced, 99),
                       "enforced_max_ms": max(enforced),
                       "contexts_rebuilt_mean": statistics.mean(rebuilt)},
        "reload": {"n": len(rl), "p50_ms": pct(rl, 50), "max_ms": max(rl), "min_ms": min(rl)},
        # p50 of each phase of a set-groups (daemon clock; build_ms contains compile, tables and other)
        "set_groups_phases_p50_ms": {k: pct(v, 50) for k, v in phases.items() if v},
        "set_groups_phases_p99_ms": {k: pct(v, 99) for k, v in phases.items() if v},
    }
    print(f"set-groups x{len(lat)}, command received -> enforced (daemon clock): "
          f"p50 {pct(enforced, 50):.1f} ms, p99 {pct(enforced, 99):.1f} ms, max {max(enforced):.1f} ms")
    print(f"set-groups x{len(lat)}, sent -> reply (persisted, client clock): p50 {summary['set_groups']['p50_ms']:.1f} ms, "
          f"p99 {summary['set_groups']['p99_ms']:.1f} ms, max {max(lat):.1f} ms, "
          f"contexts rebuilt per change {summary['set_groups']['contexts_rebuilt_mean']:.2f}")
    print("set-groups phases, p50 (ms): " + ", ".join(f"{k[:-3]} {pct(v, 50):.1f}" for k, v in phases.items() if v))
    print("set-groups phases, p99 (ms): " + ", ".join(f"{k[:-3]} {pct(v, 99):.1f}" for k, v in phases.items() if v))
    print(f"full reload x{len(rl)}: p50 {summary['reload']['p50_ms']:.1f} ms, "
          f"min {min(rl):.1f} ms, max {max(rl):.1f} ms")
    print("json: " + json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
