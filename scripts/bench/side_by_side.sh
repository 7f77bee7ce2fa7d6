#!/usr/bin/env bash
# Benchmark (not a test): the same traffic through sgfwd and through Open vSwitch with
# its DPDK datapath (Debian openvswitch-switch-dpdk), one worker / one PMD on the same
# CPU, runs alternating between the two systems.
#
# Traffic: UDP request/response. scripts/bench/make_pcaps.py writes, per flow count N,
# vm.pcap (N requests VM -> server, one per flow) and uplink.pcap (the N replies).
# Both systems get two ports, each reading one pcap in a loop
# (net_pcap,rx_pcap=FILE,infinite_rx=1; no tx file: the PMD drops what is sent).
# Frames are 60 bytes in the pcap (64 on a wire with the FCS). Once both pcaps have
# gone round once every flow has been seen both ways, so both systems hold all N flows
# as established connections (UDP was chosen so that no TCP state or tcp_loose is
# involved; after the warm-up every request and every reply is an established packet).
#
# Variants per system:
#   baseline   sgfwd: every VM in a group allowing All both ways (sgfwd has no pure
#              forwarding mode in the daemon: connection tracking still runs);
#              OVS: in_port=1,actions=output:2 and in_port=2,actions=output:1.
#   firewall   sgfwd: every VM in bench-sg (egress UDP 53 to 198.18.0.0/15 only);
#              OVS: table 0 ip,ct_state=-trk -> ct(table=1,zone=1); table 1
#              +trk+est -> the other port; +trk+new,udp,in_port=1,nw_dst=198.18.0.0/15,
#              tp_dst=53 -> ct(commit,zone=1),output:2; everything else dropped.
#
# Memory: without --hugepages both systems run their EAL with --no-huge (4 KiB pages);
# with --hugepages the script reserves 2 MiB hugepages for the larger of the two (one
# system runs at a time), mounts a hugetlbfs of its own in the work directory, and
# both use it (sgfwd -m 2048, OVS -m --ovs-mem, --huge-dir); the previous reservation
# is restored and the mount removed at exit.
#
# Placement: sgfwd workers: 1, EAL --lcores 0@0,1@1 (main lcore on CPU 0, the worker on
# CPU 1); OVS pmd-cpu-mask=0x2 (PMD on CPU 1), dpdk-lcore-mask=0x1. Both processes are
# started under `taskset -c 0` so that their other threads stay off CPU 1.
# OVS runs in its own network namespace with its own ovsdb-server, database, run and
# log directories under the work directory, EAL `--no-huge --legacy-mem -m MB` and its
# own --file-prefix: no hugepages are needed.
#
# Per run: start, wait until forwarding, warm up (--warmup s), then measure over
# --seconds s: sgfwd from `sgfwctl status --json` workers[0] packets and busy_cycles
# (deltas), OVS from `ovs-appctl dpif-netdev/pmd-stats-clear` then `pmd-stats-show`
# (packets received, processing cycles). cycles/packet = busy (processing) TSC cycles
# per received packet; Mpps = received packets / wall time of the window. "fwd" is the
# share of received packets sent out (tx/rx deltas of the ports), which must be ~1.00;
# "cpu1" the share of the window the measured worker/PMD thread actually ran
# (/proc/PID/task/TID/schedstat): below 1.00 something else ran on CPU 1, and since
# busy cycles are TSC (wall) cycles, that run's cycles/packet include the stolen time;
# "on-CPU c/p" = on-CPU time x TSC rate / packets, the cost without the stolen time
# (cache pollution by the other process still counts).
# The table shows the median over rounds; the ratio line is sgfwd/OVS Mpps and
# OVS/sgfwd cycles per packet (above 1: sgfwd is faster).
#
# net_pcap with infinite_rx preloads the whole pcap into mbufs of the rx queue's pool:
# the sgfwd config sets `mbufs: 16383 + 2 x flows` (docs/daemon.md).
#
# usage: scripts/bench/side_by_side.sh [--flows "1000 100000"] [--rounds 3]
#          [--seconds 10] [--warmup 3] [--json FILE] [--keep DIR] [--ovs-mem MB]
#          [--hugepages] [--perf]
#   --perf       sample the measured worker/PMD thread with `perf record -e cpu-clock`
#                during each window and report the share of its samples in the packet
#                I/O libraries (net_pcap's PMD, the mempool: what the driver costs) and
#                the top shared objects
#   --keep DIR   keep the work directory (pcaps, configs, logs) in DIR
# env: SGFW_BUILD_DIR (default build), SGFW_BUILD=1 to run scripts/build.sh even if
#      the binaries exist.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

flows_list="1000 100000"
rounds=3
seconds=10
warmup=3
json_out=""
keep=""
ovs_mem=2048
hugepages=
use_perf=
while [ $# -gt 0 ]; do
  case "$1" in
    --flows) flows_list=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --ovs-mem) ovs_mem=$2; shift 2 ;;
    --hugepages) hugepages=1; shift ;;
    --perf) use_perf=1; shift ;;
    -h|--help) sed -n "2,$(grep -n "^set -euo" "$0" | cut -d: -f1)p" "$0" | sed "\$d" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "side_by_side.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "side_by_side.sh: needs root (network namespace, DPDK)" >&2; exit 1; }
[ "$(nproc --all)" -ge 2 ] || { echo "side_by_side.sh: needs CPUs 0 and 1" >&2; exit 1; }

PY=/usr/bin/python3   # Debian's python3 (python3-scapy), not a pyenv shim
OVS_VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
if [ ! -x $OVS_VSWITCHD ]; then
  echo "installing openvswitch-switch-dpdk ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openvswitch-switch-dpdk >/dev/null
fi
$PY -c 'import scapy' 2>/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-scapy >/dev/null

BUILD=${SGFW_BUILD_DIR:-build}
SGFWD=$ROOT/$BUILD/app/sgfwd/sgfwd
SGFWCTL=$ROOT/$BUILD/app/sgfwctl/sgfwctl
if [ -n "${SGFW_BUILD:-}" ] || [ ! -x "$SGFWD" ] || [ ! -x "$SGFWCTL" ]; then
  SGFW_BUILD_DIR=$BUILD scripts/build.sh >/dev/null
fi

# --- state owned by this script (and only that is cleaned up) ----------------------
WORK=$(mktemp -d /tmp/sgfw-sbs.XXXXXX)
NS=sgfw-sbs-$$
SG_PREFIX=sgfw-sbs-$$
OVS_PREFIX=ovs-sbs-$$
NS_MADE=
SGFWD_PID=
VSWITCHD_PID=
OVSDB_PID=
NAP_PID=
DPDK_RUN=/var/run/dpdk
HUGE_DIR=
HUGE_SYSFS=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
HUGE_BEFORE=

stop_pid() {  # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL (our own children only)
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$NAP_PID" ] && kill "$NAP_PID" 2>/dev/null
  stop_pid "$SGFWD_PID"
  stop_pid "$VSWITCHD_PID"
  stop_pid "$OVSDB_PID"
  [ -n "$NS_MADE" ] && ip netns del "$NS" 2>/dev/null
  rm -rf "${DPDK_RUN:?}/$SG_PREFIX" "${DPDK_RUN:?}/$OVS_PREFIX"
  if [ -n "$HUGE_DIR" ]; then
    rm -f "$HUGE_DIR"/* 2>/dev/null
    umount "$HUGE_DIR" 2>/dev/null
  fi
  [ -n "$HUGE_BEFORE" ] && echo "$HUGE_BEFORE" > "$HUGE_SYSFS"
  if [ -n "$keep" ]; then
    mkdir -p "$keep" && cp -a "$WORK"/. "$keep"/ && echo "work directory kept in $keep" >&2
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "[$(date +%T)] $*" >&2; }
# thread_run_ns PID COMM-PREFIX: nanoseconds the thread has run on a CPU (schedstat).
# Its delta over the window divided by the window is the share of CPU 1 the measured
# worker/PMD got: below 1.00, another process ran on CPU 1 and the TSC-based cycles
# per packet include that time.
thread_run_ns() {
  local t
  for t in /proc/"$1"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in "$2"*) awk '{ print $1 }' "$t/schedstat"; return ;; esac
  done
  echo 0
}
thread_tid() {  # thread_tid PID COMM-PREFIX: the thread's id
  local t
  for t in /proc/"$1"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in "$2"*) basename "$t"; return ;; esac
  done
}
# window SECONDS PID COMM TAG: wait out the measurement window; with --perf, sample the
# measured thread meanwhile and write its shares per shared object to $WORK/TAG.dso.
window() {
  if [ -z "$use_perf" ]; then nap "$1"; return; fi
  local tid
  tid=$(thread_tid "$2" "$3")
  perf record -q -e cpu-clock -t "$tid" -o "$WORK/$4.perf" -- sleep "$1" >/dev/null 2>&1
  perf report -q -i "$WORK/$4.perf" --sort dso --stdio 2>/dev/null |
    awk '$1 ~ /%$/ { sub(/%/, "", $1); print $1, $2 }' > "$WORK/$4.dso"
}
# dso_json TAG: {"driver_share": ..., "top_dsos": [[name, share], ...]} or {} without --perf
dso_json() {
  [ -n "$use_perf" ] || { echo '{}'; return; }
  $PY -c '
import json, re, sys
rows = [l.split(None, 1) for l in open(sys.argv[1]) if l.strip()]
rows = [(name.strip(), float(pct)) for pct, name in rows]
driver = sum(p for n, p in rows if re.search(r"net_pcap|mempool|librte_mbuf|librte_ring", n))
print(json.dumps({"driver_share": round(driver / 100, 3), "top_dsos": [[n, round(p / 100, 3)] for n, p in rows[:6]]}))
' "$WORK/$1.dso"
}
now() { date +%s.%N; }
nap() { sleep "$1" & NAP_PID=$!; wait $NAP_PID; NAP_PID=; }  # a signal interrupts the wait

# --- memory: 4 KiB pages, or 2 MiB hugepages on a mount of our own --------------------
SG_MEM_ARGS='"--no-huge", "-m", "2048"'
OVS_MEM_ARGS="--no-huge --legacy-mem -m $ovs_mem"
if [ -n "$hugepages" ]; then
  [ -w "$HUGE_SYSFS" ] || { echo "side_by_side.sh: no 2 MiB hugepages here ($HUGE_SYSFS)" >&2; exit 1; }
  want=$(( ( (ovs_mem > 2048 ? ovs_mem : 2048) + 256 ) / 2 ))
  HUGE_BEFORE=$(cat "$HUGE_SYSFS")
  [ "$HUGE_BEFORE" -lt "$want" ] && echo "$want" > "$HUGE_SYSFS"
  got=$(cat "$HUGE_SYSFS")
  if [ "$got" -lt "$want" ]; then
    echo "side_by_side.sh: reserved $got of $want 2 MiB hugepages (memory too fragmented?)" >&2
    exit 1
  fi
  HUGE_DIR=$WORK/huge
  mkdir -p "$HUGE_DIR"
  mount -t hugetlbfs -o pagesize=2M nodev "$HUGE_DIR"
  SG_MEM_ARGS="\"--huge-dir\", \"$HUGE_DIR\", \"-m\", \"2048\""
  OVS_MEM_ARGS="--huge-dir $HUGE_DIR --legacy-mem -m $ovs_mem"
  log "hugepages: $got x 2 MiB reserved (was $HUGE_BEFORE), hugetlbfs on $HUGE_DIR"
fi

# Private copies: every run of this invocation uses the same binaries even if the
# build directory is rebuilt meanwhile.
cp "$SGFWD" "$WORK/sgfwd"; cp "$SGFWCTL" "$WORK/sgfwctl"
SGFWD=$WORK/sgfwd SGFWCTL=$WORK/sgfwctl

# --- OVS: namespace, ovsdb-server, database (once per script run) ------------------
OVS_DIR=$WORK/ovs
mkdir -p "$OVS_DIR/run" "$OVS_DIR/db" "$OVS_DIR/log"
export OVS_RUNDIR=$OVS_DIR/run OVS_DBDIR=$OVS_DIR/db OVS_LOGDIR=$OVS_DIR/log
DB_SOCK=unix:$OVS_DIR/run/db.sock
VSCTL=(ovs-vsctl --db="$DB_SOCK" --timeout=120)
VSCTL_CTL=$OVS_DIR/run/vswitchd.ctl
BR_MGMT=unix:$OVS_DIR/run/br0.mgmt
APPCTL=(ovs-appctl -t "$VSCTL_CTL")

ip netns add "$NS"
NS_MADE=1
ovsdb-tool create "$OVS_DIR/db/conf.db" /usr/share/openvswitch/vswitch.ovsschema
taskset -c 0 ip netns exec "$NS" ovsdb-server "$OVS_DIR/db/conf.db" --remote=punix:"$OVS_DIR/run/db.sock" \
  --unixctl="$OVS_DIR/run/ovsdb-server.ctl" --log-file="$OVS_DIR/log/ovsdb-server.log" \
  > "$OVS_DIR/log/ovsdb-server.out" 2>&1 &
OVSDB_PID=$!
for _ in $(seq 100); do [ -S "$OVS_DIR/run/db.sock" ] && break; sleep 0.1; done
"${VSCTL[@]}" --no-wait init
"${VSCTL[@]}" --no-wait set Open_vSwitch . other_config:dpdk-init=true \
  other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
  "other_config:dpdk-extra=\"$OVS_MEM_ARGS --file-prefix $OVS_PREFIX --no-pci --log-level=lib.*:error\""
"${VSCTL[@]}" --no-wait add-br br0 -- set bridge br0 datapath_type=netdev

# --- one OVS run ---------------------------------------------------------------------
ovs_flows_file() {  # ovs_flows_file VARIANT FILE
  if [ "$1" = baseline ]; then
    printf '%s\n' "table=0,priority=10,in_port=1,actions=output:2" \
                  "table=0,priority=10,in_port=2,actions=output:1" \
                  "table=0,priority=0,actions=drop" > "$2"
  else
    printf '%s\n' \
      "table=0,priority=100,ip,ct_state=-trk,actions=ct(table=1,zone=1)" \
      "table=0,priority=0,actions=drop" \
      "table=1,priority=100,ip,ct_state=+trk+est,in_port=1,actions=output:2" \
      "table=1,priority=100,ip,ct_state=+trk+est,in_port=2,actions=output:1" \
      "table=1,priority=90,udp,ct_state=+trk+new,in_port=1,nw_dst=198.18.0.0/15,tp_dst=53,actions=ct(commit,zone=1),output:2" \
      "table=1,priority=0,actions=drop" > "$2"
  fi
}

ovs_port_counts() {  # prints "rx tx" summed over the two dpdk ports (datapath counters)
  "${APPCTL[@]}" dpctl/show -s | awk '
    /^ *port [0-9]+: (vm0|up0)/ { p = 1; next }
    /^ *port [0-9]+:/ { p = 0 }
    p && /RX packets:/ { sub(/.*RX packets:/, ""); rx += $1 }
    p && /TX packets:/ { sub(/.*TX packets:/, ""); tx += $1 }
    END { print rx + 0, tx + 0 }'
}

run_ovs() {  # run_ovs FLOWS VARIANT ROUND DIR
  local flows=$1 variant=$2 round=$3 dir=$4 tag="ovs-$2-$1-r$3"
  "${VSCTL[@]}" --no-wait -- --if-exists del-port br0 vm0 -- --if-exists del-port br0 up0 \
    -- add-port br0 vm0 -- set Interface vm0 type=dpdk ofport_request=1 \
       "options:dpdk-devargs=net_pcap0,rx_pcap=$dir/vm.pcap,infinite_rx=1" \
    -- add-port br0 up0 -- set Interface up0 type=dpdk ofport_request=2 \
       "options:dpdk-devargs=net_pcap1,rx_pcap=$dir/uplink.pcap,infinite_rx=1"
  ovs_flows_file "$variant" "$WORK/$tag.flows"
  rm -f "$VSCTL_CTL"
  taskset -c 0 ip netns exec "$NS" $OVS_VSWITCHD "$DB_SOCK" --unixctl="$VSCTL_CTL" \
    --log-file="$OVS_DIR/log/$tag.log" > "$OVS_DIR/log/$tag.out" 2>&1 &
  VSWITCHD_PID=$!
  local ok=
  for _ in $(seq 600); do
    kill -0 $VSWITCHD_PID 2>/dev/null || break
    if [ -S "$VSCTL_CTL" ] && ovs-ofctl show "$BR_MGMT" 2>/dev/null | grep -q ' 1(vm0)' &&
       ovs-ofctl show "$BR_MGMT" 2>/dev/null | grep -q ' 2(up0)'; then ok=1; break; fi
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    echo "side_by_side.sh: ovs-vswitchd did not bring up both ports ($tag):" >&2
    "${VSCTL[@]}" --no-wait get Interface vm0 error 2>/dev/null >&2 || true
    tail -20 "$OVS_DIR/log/$tag.log" >&2
    exit 1
  fi
  ovs-ofctl del-flows "$BR_MGMT"
  ovs-ofctl add-flows "$BR_MGMT" "$WORK/$tag.flows"
  nap "$warmup"
  local c0 c1 t0 t1 stats r0 r1
  c0=$(ovs_port_counts)
  "${APPCTL[@]}" dpif-netdev/pmd-stats-clear
  t0=$(now); r0=$(thread_run_ns "$VSWITCHD_PID" pmd)
  window "$seconds" "$VSWITCHD_PID" pmd "$tag"
  stats=$("${APPCTL[@]}" dpif-netdev/pmd-stats-show)
  t1=$(now); r1=$(thread_run_ns "$VSWITCHD_PID" pmd)
  c1=$(ovs_port_counts)
  echo "$stats" > "$OVS_DIR/log/$tag.pmd-stats"
  "${APPCTL[@]}" dpctl/ct-stats-show > "$OVS_DIR/log/$tag.ct-stats" 2>&1 || true
  [ -n "$TSC_HZ" ] || TSC_HZ=$(sed -n 's/.*DPDK provided TSC frequency: \([0-9]*\) KHz.*/\1000/p' \
                                 "$OVS_DIR/log/$tag.log" | head -1)
  stop_pid "$VSWITCHD_PID"
  VSWITCHD_PID=
  echo "$stats" | $PY -c '
import json, re, sys
flows, variant, rnd, t0, t1, c0, c1, r0, r1, prof = sys.argv[1:11]
text = sys.stdin.read()
pmd = text.split("main thread:")[0]
def num(pat):
    m = re.search(pat, pmd)
    if not m:
        sys.exit("cannot parse pmd-stats-show: " + pat)
    return int(m.group(1))
pk = num(r"packets received: (\d+)")
cy = num(r"processing cycles: (\d+)")
rx0, tx0 = map(int, c0.split()); rx1, tx1 = map(int, c1.split())
dt = float(t1) - float(t0)
print(json.dumps({"flows": int(flows), "system": "ovs", "variant": variant, "round": int(rnd),
                  "seconds": round(dt, 3), "packets": pk, "busy_cycles": cy,
                  "cycles_per_packet": round(cy / pk, 1) if pk else None,
                  "mpps": round(pk / dt / 1e6, 3),
                  "forwarded": round((tx1 - tx0) / (rx1 - rx0), 4) if rx1 > rx0 else None,
                  "cpu_share": round((int(r1) - int(r0)) / 1e9 / dt, 3), "run_ns": int(r1) - int(r0),
                  **json.loads(prof)}))
' "$flows" "$variant" "$round" "$t0" "$t1" "$c0" "$c1" "$r0" "$r1" "$(dso_json "$tag")" >> "$WORK/runs.jsonl"
}

# --- one sgfwd run -------------------------------------------------------------------
sgfwd_status() { "$SGFWCTL" --socket "$WORK/sgfwd-run/sgfwd.sock" status --json; }

run_sgfwd() {  # run_sgfwd FLOWS VARIANT ROUND DIR
  local flows=$1 variant=$2 round=$3 dir=$4 tag="sgfwd-$2-$1-r$3"
  local policy=policy-allow.yaml
  [ "$variant" = firewall ] && policy=policy-sg.yaml
  cat > "$dir/$tag.yaml" <<EOF
eal: [$SG_MEM_ARGS, "--no-pci", "--no-shconf", "--file-prefix", "$SG_PREFIX", "--lcores", "0@0,1@1", "--log-level=lib.*:error"]
ports:
  - {name: vm0, device: "net_pcap0,rx_pcap=$dir/vm.pcap,infinite_rx=1"}
  - {name: uplink, device: "net_pcap1,rx_pcap=$dir/uplink.pcap,infinite_rx=1", uplink: true}
workers: 1
policy: $policy
control_socket: $WORK/sgfwd-run/sgfwd.sock
mbufs: $((16383 + 2 * flows))
EOF
  taskset -c 0 "$SGFWD" --config "$dir/$tag.yaml" > "$WORK/$tag.log" 2>&1 &
  SGFWD_PID=$!
  local ok=
  for _ in $(seq 600); do
    grep -q '^sgfwd: running' "$WORK/$tag.log" && { ok=1; break; }
    kill -0 $SGFWD_PID 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$ok" ]; then
    echo "side_by_side.sh: sgfwd did not start ($tag):" >&2
    tail -20 "$WORK/$tag.log" >&2
    exit 1
  fi
  nap "$warmup"
  local s0 s1 t0 t1 r0 r1
  t0=$(now); r0=$(thread_run_ns "$SGFWD_PID" rte-worker); s0=$(sgfwd_status)
  window "$seconds" "$SGFWD_PID" rte-worker "$tag"
  t1=$(now); r1=$(thread_run_ns "$SGFWD_PID" rte-worker); s1=$(sgfwd_status)
  stop_pid "$SGFWD_PID"
  SGFWD_PID=
  $PY -c '
import json, sys
flows, variant, rnd, t0, t1, s0, s1, r0, r1, prof = sys.argv[1:11]
a, b = json.loads(s0), json.loads(s1)
w0, w1 = a["workers"][0], b["workers"][0]
pk = w1["packets"] - w0["packets"]
cy = w1["busy_cycles"] - w0["busy_cycles"]
rx = sum(p["rx"] for p in b["ports"]) - sum(p["rx"] for p in a["ports"])
tx = sum(p["tx"] for p in b["ports"]) - sum(p["tx"] for p in a["ports"])
dt = float(t1) - float(t0)
print(json.dumps({"flows": int(flows), "system": "sgfwd", "variant": variant, "round": int(rnd),
                  "seconds": round(dt, 3), "packets": pk, "busy_cycles": cy,
                  "cycles_per_packet": round(cy / pk, 1) if pk else None,
                  "mpps": round(pk / dt / 1e6, 3),
                  "forwarded": round(tx / rx, 4) if rx else None,
                  "cpu_share": round((int(r1) - int(r0)) / 1e9 / dt, 3), "run_ns": int(r1) - int(r0),
                  "flows_held": b["flows"]["used"], **json.loads(prof)}))
' "$flows" "$variant" "$round" "$t0" "$t1" "$s0" "$s1" "$r0" "$r1" "$(dso_json "$tag")" >> "$WORK/runs.jsonl"
}

# --- main loop -------------------------------------------------------------------------
TSC_HZ=
: > "$WORK/runs.jsonl"
# (no mkdir of $WORK/sgfwd-run: sgfwd makes its control socket directory itself, 02750)
START=$(date +%s)
for flows in $flows_list; do
  dir=$WORK/f$flows
  mkdir -p "$dir"
  log "flows $flows: writing pcaps and policies"
  $PY scripts/bench/make_pcaps.py --flows "$flows" --vm-pcap "$dir/vm.pcap" \
    --uplink-pcap "$dir/uplink.pcap" --policy-dir "$dir"
  for round in $(seq "$rounds"); do
    for variant in baseline firewall; do
      log "flows $flows round $round $variant: sgfwd"
      run_sgfwd "$flows" "$variant" "$round" "$dir"
      tail -1 "$WORK/runs.jsonl" >&2
      log "flows $flows round $round $variant: ovs"
      run_ovs "$flows" "$variant" "$round" "$dir"
      tail -1 "$WORK/runs.jsonl" >&2
    done
  done
done
[ -n "$TSC_HZ" ] || TSC_HZ=$(awk -F': *' '/^cpu MHz/ { printf "%.0f", $2 * 1e6; exit }' /proc/cpuinfo)

# --- report ----------------------------------------------------------------------------
MACHINE="$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $([ -n "$hugepages" ] && echo "2 MiB hugepages" || echo "no hugepages (--no-huge)")"
$PY scripts/bench/side_by_side_report.py "$WORK/runs.jsonl" "$TSC_HZ" "$MACHINE" "$(uptime | sed 's/.*load average: //')" \
    "$($OVS_VSWITCHD --version | head -1)" "$(( $(date +%s) - START ))" "$json_out"
