#!/usr/bin/env python3
"""lib/etcd against a real etcd (docs/testing.md, "etcd"; docs/design/etcd-client.md).

1. One member on a free loopback port: `etcd_probe basic` checks range at a revision,
   a paged range over 3,000 keys at one revision, transactions by compare, a watch
   delivering exactly the events written, a watch from a compacted revision, and errors
   for a bad URL and a dead endpoint.
2. Three members on 127.0.0.1..3: a watch connected to the leader, 200 puts through
   the followers, the leader killed (SIGKILL) after 60 puts. The watch must
   move to another member and deliver every revision exactly once: revisions contiguous
   from the start to the writer's last, none twice, every key seen.

Every etcd is started here (tests/e2e/etcd_cluster.py), each with its own data
directory, and stopped by PID at the end, also on failure. Exit 77 (skipped) only when
the etcd binary is not installed (scripts/deps.sh installs Debian's etcd-server)."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

PROBE = os.environ.get("SGFW_ETCD_PROBE") or os.path.join(os.environ.get("SGFW_BUILD_DIR", "build"),
                                                           "tests", "etcd", "etcd_probe")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import etcd_cluster  # noqa: E402  (tests/e2e/etcd_cluster.py: members, leader, kill)
PROCS = []     # every probe started, stopped by PID in cleanup()
CLUSTERS = []  # every etcd cluster started, its members stopped by PID in cleanup()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
    PROCS.clear()
    for c in CLUSTERS:
        c.close()
    CLUSTERS.clear()


def start_cluster(n):
    """n members on 127.0.0.1..n (tests/e2e/etcd_cluster.py), a leader agreed."""
    c = etcd_cluster.EtcdCluster(n)
    CLUSTERS.append(c)
    c.start()
    return c


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


def single_member():
    t0 = time.time()
    url = start_cluster(1).urls[0]
    out = subprocess.run([PROBE, "basic", "--endpoints", url, "--prefix", "/probe/",
                          "--dead-endpoint", f"http://127.0.0.1:{free_port()}"],
                         capture_output=True, text=True, timeout=60)
    print(out.stdout, end="")
    print(out.stderr, end="", file=sys.stderr)
    check(out.returncode == 0, f"etcd_probe basic exited {out.returncode}")
    oks = [l.split()[1] for l in out.stdout.splitlines() if l.startswith("ok ")]
    check(oks == ["bad-input", "range-at-revision", "paged-range", "txn", "watch", "compaction", "push", "basic"],
          f"checks run: {oks}")
    cleanup()
    print(f"single member: ok ({time.time() - t0:.1f}s)")


def reader(pipe, lines, cond):
    for line in pipe:
        with cond:
            lines.append(line.rstrip("\n"))
            cond.notify_all()


def leader_kill():
    t0 = time.time()
    cluster = start_cluster(3)
    urls = cluster.urls
    lead = cluster.leader()
    leader = cluster.members.index(lead)
    start = cluster.revision() + 1
    followers = [u for i, u in enumerate(urls) if i != leader]
    print(f"leader {lead.name} ({urls[leader]}), watch from revision {start}")

    cond = threading.Condition()
    wlines, plines = [], []
    watch = subprocess.Popen([PROBE, "watch", "--endpoints", ",".join([urls[leader]] + followers),
                              "--prefix", "/stream/", "--start", str(start), "--wait-ms", "20000"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    PROCS.append(watch)
    threading.Thread(target=reader, args=(watch.stdout, wlines, cond), daemon=True).start()
    with cond:
        check(cond.wait_for(lambda: any(l.startswith("connected") for l in wlines), 10), "watch never connected")
    put = subprocess.Popen([PROBE, "put-stream", "--endpoints", ",".join(followers), "--prefix", "/stream/",
                            "--count", "200", "--interval-ms", "10", "--timeout-ms", "2000"],
                           stdout=subprocess.PIPE, text=True)
    PROCS.append(put)
    threading.Thread(target=reader, args=(put.stdout, plines, cond), daemon=True).start()
    with cond:
        check(cond.wait_for(lambda: len(plines) >= 60, 20), "the writer stalled before 60 puts")
    cluster.kill(lead)
    print(f"killed the leader after {len(plines)} puts")
    check(put.wait(timeout=40) == 0, f"put-stream failed: {plines[-3:]}")
    time.sleep(0.1)
    done = [l for l in plines if l.startswith("done")]
    check(len(done) == 1, "no summary from put-stream")
    fields = dict(kv.split("=") for kv in done[0].split()[1:])
    last, retries = int(fields["last_revision"]), int(fields["retries"])
    watch.stdin.write(f"until {last}\n")
    watch.stdin.close()
    check(watch.wait(timeout=30) == 0, f"the watch did not reach revision {last}: {wlines[-3:]}")
    time.sleep(0.1)
    events = [l.split() for l in wlines if l.startswith("event ")]
    revs = [int(e[1]) for e in events]
    keys = {e[3] for e in events}
    print(f"{len(events)} events, revisions {revs[0] if revs else None}..{revs[-1] if revs else None}, "
          f"writer retries {retries}")
    check(len(revs) == len(set(revs)), "a revision delivered twice")
    check(revs == list(range(start, last + 1)), f"revisions not exactly {start}..{last}: "
          f"missing {sorted(set(range(start, last + 1)) - set(revs))[:10]}")
    check(200 <= len(events) <= 200 + retries, f"{len(events)} events for 200 puts and {retries} retries")
    check(keys == {f"/stream/k{i:04d}" for i in range(200)}, "not every key seen")
    check(all(e[2] == "P" for e in events), "an event that is not a put")
    disc = [i for i, l in enumerate(wlines) if l.startswith("disconnected")]
    check(disc, "the watch never saw its member go")
    later = [l for l in wlines[disc[0]:] if l.startswith("connected")]
    check(later and later[-1].split()[1] != urls[leader], "the watch did not resume on another member")
    check(wlines[-1].endswith("duplicates_dropped=0"), f"watch summary: {wlines[-1]}")
    cleanup()
    print(f"leader kill: ok ({time.time() - t0:.1f}s)")


def main():
    if not etcd_cluster.have_etcd():
        print("SKIP: no etcd binary (Debian etcd-server; scripts/deps.sh installs it)")
        return 77
    check(os.access(PROBE, os.X_OK), f"no probe at {PROBE}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    try:
        single_member()
        leader_kill()
    finally:
        cleanup()
    print("etcd client: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
