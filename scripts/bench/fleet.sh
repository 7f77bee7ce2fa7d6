#!/usr/bin/env bash
# Benchmark (not a test): etcd write -> enforcement on two sgfwd appliances following
# one policy in a 3-member etcd cluster (issue 14). p50/p99 of 100 membership changes
# (write -> the remote appliance's applied_at_unix) on a small policy; with the
# 10,000-VM synthetic policy: initial load from etcd against the same policy from a
# file (alternating, 3 rounds, median of per-round ratios) and 100 membership changes.
# net_null ports: no traffic, no namespaces. Figures: docs/performance.md, "etcd: write
# to enforcement". Every etcd and sgfwd is stopped by PID at the end (scripts/bench/
# fleet_bench.py). Options: CHANGES, BIG_CHANGES, ROUNDS, NO_BIG=1, SGFW_NO_BUILD=1,
# IDLE_SLEEP_US (sgfwd worker_idle_sleep_us; 0: busy-poll).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -z ${SGFW_NO_BUILD:-} ]]; then
  scripts/deps.sh
  scripts/build.sh >/dev/null
fi
python3 -c 'import yaml' 2>/dev/null || apt-get install -y -qq python3-yaml >/dev/null
command -v etcd >/dev/null || { echo "fleet bench: no etcd (scripts/deps.sh installs etcd-server)" >&2; exit 1; }
BUILD=${SGFW_BUILD_DIR:-build}
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
exec python3 scripts/bench/fleet_bench.py --build "$BUILD" --changes "${CHANGES:-100}" \
  --big-changes "${BIG_CHANGES:-100}" --rounds "${ROUNDS:-3}" --idle-sleep-us "${IDLE_SLEEP_US:-0}" ${NO_BIG:+--no-big}
