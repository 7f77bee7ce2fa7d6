#!/usr/bin/env bash
# Compile benchmark at the performance issue's figure: 10,000 VMs (1,000 local),
# 1,000 groups x 60 rules, 5 groups per VM, 200 roles, 20% group-reference remotes.
# Builds sgfw-bench if needed, generates the policy (fixed seed), then runs
# `sgfw-bench compile` REPEATS times (one process each, pinned to one CPU) and prints
# one table: each figure's median with min and max. docs/performance.md explains it.
#
# usage: scripts/bench/compile.sh [--repeats N] [--build DIR] [--cpu N] [--keep FILE]
#                                 [--memory-mb MB] [--family 4|6|dual] [--json]
#   --family VM addresses of the policy (gen-policy --family; default 4; dual: every
#            VM has an IPv4 and an IPv6 address; address remotes of every other rule IPv6)
#   --json   print one JSON object per run (no table, no summary)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build"
repeats=3
cpu=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//; s/[-,].*//' || echo 0)
keep=""
memory_mb=4096
json=0
family=4
while [ $# -gt 0 ]; do
  case "$1" in
    --repeats) repeats=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --memory-mb) memory_mb=$2; shift 2 ;;
    --family) family=$2; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compile.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$root" >/dev/null
fi
ninja -C "$build" app/sgfw-bench/sgfw-bench >/dev/null
bench="$build/app/sgfw-bench/sgfw-bench"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
policy=${keep:-$work/policy.yaml}
"$bench" gen-policy --vms 10000 --local-vms 1000 --groups 1000 --rules-per-group 60 \
  --groups-per-vm 5 --roles 200 --group-ref-share 0.2 --ports 32 --subnets 16 --seed 1 \
  --family "$family" --out "$policy"

pin=()
command -v taskset >/dev/null && pin=(taskset -c "$cpu")
for i in $(seq 1 "$repeats"); do
  "${pin[@]}" "$bench" compile "$policy" --memory-mb "$memory_mb" --json >"$work/run$i.json"
  [ "$json" = 1 ] && cat "$work/run$i.json"
done
[ "$json" = 1 ] && exit 0

jq -r '"policy      \(.vms) VMs (\(.local_vms) local), \(.groups) groups incl. 3 built-in, " +
       "\(.policy_rules) rules (\(.group_ref_rules) group references)\n" +
       "families    \(.vms_ipv4) VMs with IPv4, \(.vms_ipv6) with IPv6\n" +
       "compiled    \(.classes) classes, \(.contexts) + \(.contexts6) rte_acl contexts (IPv4 + IPv6), " +
       "\(.acl_rules) + \(.acl_rules6) ACL rules\n" +
       "machine     \(.machine.cpu), \(.machine.cpus) CPUs, pinned to CPU '"$cpu"', " +
       "no hugepages (EAL -m \(.machine.eal_memory_mb))"' "$work/run1.json"
echo "runs        $repeats (median [min .. max])"
echo
jq -rs '
  def stat(f): (map(f) | sort) as $v
    | [$v[(($v | length) - 1) / 2 | floor], $v[0], $v[-1]];
  def ms(x): x * 1000 | round / 1000;
  def secs(name; f): stat(f) as $s
    | "\(name)\t\(ms($s[0])) s\t[\(ms($s[1])) .. \(ms($s[2]))]";
  def mib(name; f): stat(f) as $s
    | "\(name)\t\($s[0] / 1048576 | round) MiB\t[\($s[1] / 1048576 | round) .. \($s[2] / 1048576 | round)]";
  secs("parse"; .parse_s), secs("compile"; .compile_s), secs("rte_acl build"; .acl_build_s),
  secs("total"; .total_s), secs("CPU (main thread)"; .cpu_s),
  secs("EAL init (not in total)"; .eal_init_s),
  mib("peak RSS"; .peak_rss_bytes), mib("peak RSS before EAL"; .peak_rss_before_eal_bytes),
  mib("DPDK heap"; .dpdk_heap_bytes)' "$work"/run*.json | column -t -s $'\t'
