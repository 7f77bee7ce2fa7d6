#!/usr/bin/env python3
"""The report of scripts/bench/side_by_side.sh: medians per flows, system and variant,
the sgfwd/OVS ratios, and the JSON document (--json).

usage: side_by_side_report.py RUNS.jsonl TSC_HZ MACHINE LOAD OVS_VERSION ELAPSED_S [JSON_OUT]
"""
import json, statistics, sys
path, tsc, machine, load, ovs_version, elapsed, out = sys.argv[1:8]
runs = [json.loads(l) for l in open(path) if l.strip()]
for r in runs:  # CPU cycles the thread really ran per packet (TSC rate x on-CPU time)
    r["oncpu_cycles_per_packet"] = round(r["run_ns"] * int(tsc) / 1e9 / r["packets"], 1) if r["packets"] else None
def med(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None
summary, ratios = [], []
keys = []
for r in runs:
    k = (r["flows"], r["variant"])
    if k not in keys:
        keys.append(k)
print(f"machine: {machine}; TSC {int(tsc) / 1e9:.3f} GHz; load average at the end: {load}")
print(f"{ovs_version}; {len(runs)} runs in {elapsed} s")
print()
hdr = (f"{'flows':>7}  {'system':<6} {'variant':<9} {'cycles/pkt':>10} {'Mpps':>7} {'fwd':>5} {'cpu1':>5} "
       f"{'on-CPU c/p':>10}  rounds: cycles/pkt (cpu1)")
print(hdr)
print("-" * len(hdr))
for flows, variant in keys:
    by = {}
    for system in ("sgfwd", "ovs"):
        rs = [r for r in runs if r["flows"] == flows and r["variant"] == variant and r["system"] == system]
        if not rs:
            continue
        s = {"flows": flows, "system": system, "variant": variant, "rounds": len(rs),
             "cycles_per_packet": med(r["cycles_per_packet"] for r in rs),
             "mpps": med(r["mpps"] for r in rs),
             "forwarded": med(r["forwarded"] for r in rs),
             "cpu_share": med(r["cpu_share"] for r in rs),
             "oncpu_cycles_per_packet": med(r["oncpu_cycles_per_packet"] for r in rs),
             "driver_share": med(r.get("driver_share") for r in rs),
             "cycles_per_packet_runs": [r["cycles_per_packet"] for r in rs],
             "mpps_runs": [r["mpps"] for r in rs]}
        summary.append(s)
        by[system] = s
        runs_txt = " ".join(f"{r['cycles_per_packet']:.0f} ({r['cpu_share']:.2f})" for r in rs)
        print(f"{flows:>7}  {system:<6} {variant:<9} {s['cycles_per_packet']:>10.0f} {s['mpps']:>7.2f} "
              f"{s['forwarded']:>5.2f} {s['cpu_share']:>5.2f} {s['oncpu_cycles_per_packet']:>10.0f}  {runs_txt}")
        if s["driver_share"] is not None:
            top = ", ".join(f"{n.split('/')[-1]} {p:.0%}" for n, p in rs[-1]["top_dsos"])
            print(f"{'':>7}  {'':<6} perf: driver (net_pcap, mempool) {s['driver_share']:.0%} of the thread's "
                  f"samples; last round: {top}")
    if "sgfwd" in by and "ovs" in by:
        rt = {"flows": flows, "variant": variant,
              "mpps_sgfwd_over_ovs": round(by["sgfwd"]["mpps"] / by["ovs"]["mpps"], 2),
              "cycles_ovs_over_sgfwd": round(by["ovs"]["cycles_per_packet"] / by["sgfwd"]["cycles_per_packet"], 2),
              "oncpu_cycles_ovs_over_sgfwd": round(by["ovs"]["oncpu_cycles_per_packet"] /
                                                   by["sgfwd"]["oncpu_cycles_per_packet"], 2)}
        ratios.append(rt)
        print(f"{'':>7}  ratio sgfwd/OVS {variant}: Mpps x{rt['mpps_sgfwd_over_ovs']:.2f}; "
              f"cycles/pkt OVS/sgfwd x{rt['cycles_ovs_over_sgfwd']:.2f}, "
              f"on-CPU x{rt['oncpu_cycles_ovs_over_sgfwd']:.2f}")
doc = {"machine": machine, "tsc_hz": int(tsc), "load_average_end": load, "ovs": ovs_version,
       "elapsed_s": int(elapsed), "summary": summary, "ratios": ratios, "runs": runs}
if out:
    with open(out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
