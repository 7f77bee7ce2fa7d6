#!/usr/bin/env bash
# The fleet demo (issue 14, docs/fleet.md "The fleet demo"): a three-member etcd
# cluster on 127.0.0.1..3, two sgfwd appliances (edge-1, edge-2) each with its own VM
# namespaces, their uplinks joined by one bridge; `sgfwctl policy push` of one fleet
# policy; a ping and a TCP connection from a1 (on edge-1, group client) to b1 (on
# edge-2, whose group admits group client) pass by a group reference across the
# appliances; `sgfwctl vm set-groups` on edge-1 cuts it on edge-2 and restores it.
# Prints each step and its commands. Everything (etcd, sgfwd, namespaces, veths,
# temporary files) is stopped by PID and removed on exit, Ctrl-C or failure.
# Needs root (namespaces, veths) and Debian's etcd-server (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export SGFW_BUILD_DIR=${SGFW_BUILD_DIR:-$ROOT/build}
[[ $SGFW_BUILD_DIR = /* ]] || SGFW_BUILD_DIR=$ROOT/$SGFW_BUILD_DIR

if [[ -z ${SGFW_NO_BUILD:-} ]]; then
  scripts/deps.sh
  scripts/build.sh >/dev/null
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "demo-fleet: needs root (network namespaces, veth pairs); run: sudo $0" >&2
  exit 1
fi
command -v etcd >/dev/null || { echo "demo-fleet: no etcd (apt-get install etcd-server)" >&2; exit 1; }

# Debian's python3 (python3-scapy, which the e2e harness imports, lives there): the
# program comes on stdin, so it cannot re-execute itself under another interpreter.
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=python3
PY=
cleanup() {  # the Python side removes what it made; this stops it if it still runs
  if [[ -n $PY ]] && kill -0 "$PY" 2>/dev/null; then
    kill -TERM "$PY" 2>/dev/null || true
    wait "$PY" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PYTHONPATH=$ROOT/tests/e2e PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 "$PYTHON" - <<'PY' &
import json, signal, sys, time
import sgfw_e2e as e2e
import etcd_cluster
import fleet_rig as fr
from fleet_rig import Edge
from sgfw_e2e import rule, group

signal.signal(signal.SIGTERM, lambda *_: sys.exit("demo-fleet: stopped"))
NET = "10.0.0.0/16"
GROUPS = [
    group("client", rule("Egress", "All", cidr=NET, name="out"), rule("Ingress", "All", cidr=NET, name="in")),
    group("other", rule("Egress", "All", cidr=NET, name="out"), rule("Ingress", "All", cidr=NET, name="in")),
    group("server", rule("Ingress", "TCP", port=5000, group="client", name="tcp-from-client"),
          rule("Ingress", "ICMP", group="client", name="icmp-from-client"),
          rule("Egress", "All", cidr=NET, name="replies")),
]


def say(text):
    print(text, flush=True)


def show_sources(edges):
    for e in edges:
        out = fr.ctl(e, "status").stdout.splitlines()
        line = next((l for l in out if l.startswith("policy source")), "(sgfwctl status printed no policy source)")
        say(f"  {e.appliance}: {line}")


def traffic(src, dst):
    ping = src.ping(dst.ip, count=2, interval=0.2, wait=0.5)
    tcp = src.tcp_echo(dst.ip, 5000, timeout=0.8)
    say(f"  {src.name} -> {dst.name}  ping {'PASSED' if ping else 'BLOCKED'} ({ping}/2 replies), "
        f"tcp 5000 {'PASSED' if tcp else 'BLOCKED'}")


e2e.require_environment()
say("== etcd: three members on 127.0.0.1..3 (tests/e2e/etcd_cluster.py)")
with etcd_cluster.EtcdCluster(3) as cluster, Edge("edge-1", 1) as e1, Edge("edge-2", 2) as e2:
    say(f"  endpoints {', '.join(cluster.urls)}; leader {cluster.leader().name}")
    say("== two appliances, their uplinks on one bridge")
    a1 = e1.vm("a1", "10.0.1.10", groups=["client"])
    a2 = e1.vm("a2", "10.0.1.20", groups=["other"])
    b1 = e2.vm("b1", "10.0.2.10", groups=["server"])
    fr.join_uplinks([e1, e2])
    for e in (e1, e2):
        e.start_etcd(cluster.urls, "/sgfw/")
        say(f"  {e.appliance}: sgfwd pid {e.daemon.proc.pid}, VMs {', '.join(h.name for h in e.vms)}, "
            f"config {e.cfg_path}:")
        with open(e.cfg_path) as f:
            say("".join("      " + l for l in f if "policy" in l or "endpoints" in l
                        or "prefix" in l or "appliance" in l or "etcd" in l).rstrip())
    b1.tcp_server(5000)
    path = f"{e1.tmp}/fleet.yaml"
    with open(path, "w") as f:
        f.write(fr.fleet_policy([e1, e2], GROUPS))
    say(f"== sgfwctl policy push {path}   (a1, a2 on edge-1; b1 on edge-2; b1's group admits group client)")
    say("  " + fr.ctl(e1, "policy", "push", path).stdout.strip())
    keys, rev = cluster.range_prefix("/sgfw/")
    say(f"  etcd at revision {rev}: {', '.join(sorted(keys))}")
    fr.wait_revision([e1, e2], rev)
    show_sources([e1, e2])
    say("== across the appliances: edge-2 admits a1 because etcd says a1 is in group client")
    traffic(a1, b1)
    traffic(a2, b1)
    say("== sgfwctl vm set-groups a1 other   (on edge-1: written to etcd, applied by both)")
    say("  " + fr.ctl(e1, "vm", "set-groups", "a1", "other").stdout.strip())
    fr.wait_revision([e1, e2], cluster.revision())
    show_sources([e1, e2])
    traffic(a1, b1)
    drops = e2.stats()[("vm", "b1", "no-rule")]
    say(f"  edge-2 has dropped {drops} packets to b1 by its rules so far (no-rule: a2 before, a1 now)")
    say("== sgfwctl vm set-groups a1 client   (restored)")
    say("  " + fr.ctl(e1, "vm", "set-groups", "a1", "client").stdout.strip())
    fr.wait_revision([e1, e2], cluster.revision())
    show_sources([e1, e2])
    traffic(a1, b1)
    say("== done: stopping sgfwd, etcd and removing the namespaces")
PY
PY=$!
wait "$PY"
