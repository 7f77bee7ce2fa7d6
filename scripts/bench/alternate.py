#!/usr/bin/env python3
"""Compares sgfw-bench binaries on `traffic`, alternating them in one sitting.

Usage: alternate.py ROUNDS LABEL=BINARY [LABEL=BINARY ...] -- TRAFFIC-ARGS...

Each round runs every binary once, in the order given, with `traffic --json` and the
arguments after `--`. It prints each scenario's median cycles/packet per binary (the
median of the rounds' medians) and, for every binary after the first, the median of
the per-round ratios to the first with their range, then the fastest round of each. Machines here are shared and
change speed between minutes: only ratios of neighbouring runs mean anything
(docs/performance.md, "Method"). Raw JSON goes to $ALT_OUT (default /tmp/alternate).
"""
import json
import os
import statistics
import subprocess
import sys


def main(argv):
    if "--" not in argv or len(argv) < 4:
        sys.exit(__doc__)
    cut = argv.index("--")
    rounds = int(argv[1])
    bins = [a.split("=", 1) for a in argv[2:cut]]
    args = argv[cut + 1:]
    out = os.environ.get("ALT_OUT", "/tmp/alternate")
    os.makedirs(out, exist_ok=True)
    cycles = {}  # (label, row key) -> [per round]
    for r in range(rounds):
        for label, binary in bins:
            run = subprocess.run([binary, "traffic", "--json", *args], capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"{label} failed: {run.stderr.strip()}")
            with open(f"{out}/{label}-{r}.json", "w") as f:
                f.write(run.stdout)
            for row in json.loads(run.stdout)["rows"]:
                key = f"{row['scenario']},{row['connections']}"
                cycles.setdefault((label, key), []).append(row["cycles_per_packet"])
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    keys = sorted({k for _, k in cycles}, key=lambda k: list(cycles).index((bins[0][0], k)))
    base = bins[0][0]
    head = f"{'scenario':<22}" + "".join(f"{l:>12}" for l, _ in bins)
    head += "".join(f"{l + '/' + base:>26}" for l, _ in bins[1:])
    print(head)
    for k in keys:
        line = f"{k:<22}" + "".join(f"{statistics.median(cycles[(l, k)]):>12.1f}" for l, _ in bins)
        for l, _ in bins[1:]:
            ratios = [a / b for a, b in zip(cycles[(l, k)], cycles[(base, k)])]
            line += f"{statistics.median(ratios):>10.3f} ({min(ratios):.2f}..{max(ratios):.2f})"
        print(line)
    # The fastest round of each binary: noise only ever adds cycles, so the minima are
    # the steadiest comparison when neighbours disturb whole rounds.
    print(f"{'best rounds':<22}" + "".join(f"{l:>12}" for l, _ in bins))
    for k in keys:
        line = f"{k:<22}" + "".join(f"{min(cycles[(l, k)]):>12.1f}" for l, _ in bins)
        for l, _ in bins[1:]:
            line += f"{min(cycles[(l, k)]) / min(cycles[(base, k)]):>10.3f}"
        print(line)


if __name__ == "__main__":
    main(sys.argv)
