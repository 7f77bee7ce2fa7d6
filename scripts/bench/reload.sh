#!/usr/bin/env bash
# Benchmark (not a test): control-plane change latency with the 10,000-VM synthetic
# policy loaded in a running sgfwd (31 VM ports + uplink, all net_null: no traffic
# needed, the workers still poll and must pass RCU grace periods).
# Reports p50/p99 of 100 single-VM `vm set-groups` changes (command -> enforced) and
# full reloads. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
scripts/deps.sh
command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null || apt-get install -y -qq python3-yaml >/dev/null
[[ -n ${SGFW_NO_BUILD:-} ]] || scripts/build.sh >/dev/null
BUILD=${SGFW_BUILD_DIR:-build}
WORK=$(mktemp -d /tmp/sgfw-reload.XXXXXX)
PID=
cleanup() { [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$BUILD/app/sgfw-bench/sgfw-bench" gen-policy --vms 10000 --local-vms 1000 --groups 1000 \
  --rules-per-group 60 --groups-per-vm 5 --roles 200 --group-ref-share 0.2 --ports 31 --seed 1 \
  --out "$WORK/policy.yaml"
# PAIRS=N (default 0): the first N local VMs get an allowed address pair of each family
# (a /32 and a /128 of their own), so that every snapshot builds the pair tables.
if [[ ${PAIRS:-0} -gt 65536 ]]; then echo "PAIRS: at most 65536" >&2; exit 2; fi
if [[ ${PAIRS:-0} -gt 0 ]]; then
  python3 - "$WORK/policy.yaml" "$PAIRS" <<'PY'
import sys, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
path, n = sys.argv[1], int(sys.argv[2])
doc = yaml.load(open(path), Loader=loader)
local = [v for v in doc["vms"] if "port" in v][:n]
for i, v in enumerate(local):
    v["allowedAddressPairs"] = [{"ip": f"100.64.{i >> 8}.{i & 255}"}, {"ip": f"fd64::{i:x}"}]
yaml.dump(doc, open(path, "w"), Dumper=dumper, sort_keys=False)
print(f"allowed address pairs: {len(local)} local VMs, one IPv4 and one IPv6 each")
PY
fi
{
  # LCORES (unset: sgfwd's default floating map) is passed as --lcores, e.g.
  # LCORES="0@0,1@1": the control thread (and the builder threads it starts) on CPU 0,
  # the worker alone on CPU 1, as on a host with a dedicated worker core.
  echo "eal: [\"--no-huge\", \"-m\", \"4096\", \"--no-pci\", \"--no-shconf\", \"--file-prefix\", \"sgfw-reload\", \"--log-level=lib.*:error\"${LCORES:+, \"--lcores=$LCORES\"}]"
  echo "ports:"
  python3 - "$WORK/policy.yaml" <<'PY'
import sys, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's: seconds, not a minute
ports = sorted({v["port"] for v in yaml.load(open(sys.argv[1]), Loader=loader)["vms"] if "port" in v})
for i, p in enumerate(ports):
    print(f'  - {{name: {p}, device: "net_null{i},no-rx=1"}}')
print(f'  - {{name: uplink, device: "net_null{len(ports)},no-rx=1", uplink: true}}')
PY
  echo "workers: 1"
  echo "policy: policy.yaml"
  echo "control_socket: $WORK/run/sgfwd.sock"
  echo "flows: {capacity: 65536}"
} > "$WORK/sgfwd.yaml"
# DAEMON_CPUS (unset: every CPU) confines sgfwd, all its threads, to those CPUs:
# DAEMON_CPUS=1 makes the control thread share the worker's CPU (a small host).
DPIN=()
[[ -n ${DAEMON_CPUS:-} ]] && DPIN=(taskset -c "$DAEMON_CPUS")
"${DPIN[@]}" "$BUILD/app/sgfwd/sgfwd" --config "$WORK/sgfwd.yaml" > "$WORK/sgfwd.log" 2>&1 &
PID=$!
for _ in $(seq 600); do grep -q running "$WORK/sgfwd.log" && break; kill -0 $PID || { cat "$WORK/sgfwd.log"; exit 1; }; sleep 0.1; done
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, no hugepages"
grep -m1 running "$WORK/sgfwd.log"
# The client is pinned to CLIENT_CPUS (default: the first CPU this script may use, CPU 0
# on most machines; CLIENT_CPUS= (empty) leaves it
# unpinned). Without LCORES sgfwd's threads are not pinned (its default lcore map lets
# the main and worker lcores float over every allowed CPU), so pinning the client keeps
# it in one place but does not reserve a CPU for the worker; LCORES=0@0,1@1 does, as a
# host with dedicated worker cores would. docs/performance.md reports both layouts.
PIN=()
FIRST_CPU=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | cut -d, -f1 | cut -d- -f1)
CLIENT_CPUS=${CLIENT_CPUS-${FIRST_CPU:-0}}
[[ -n $CLIENT_CPUS ]] && PIN=(taskset -c "$CLIENT_CPUS")
echo "client CPUs: $CLIENT_CPUS" | sed 's/: $/: unpinned/'
echo "sgfwd CPUs: ${DAEMON_CPUS:-all}, lcores: ${LCORES:-default (floating)}"
"${PIN[@]}" python3 scripts/bench/reload_latency.py "$WORK/run/sgfwd.sock" "$WORK/policy.yaml" --changes ${CHANGES:-100} --reloads ${RELOADS:-5} --warmup ${WARMUP:-5}
