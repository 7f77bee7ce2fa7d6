#!/usr/bin/env python3
"""lib/etcd against a real etcd (docs/testing.md, "etcd"; docs/design/etcd-client.md).

1. One member on a free loopback port: `etcd_probe basic` checks range at a revision,
   a paged range over 3,000 keys at one revision, transactions by compare, a watch
   delivering exactly the events written, a watch from a compacted revision, and errors
   for a bad URL and a dead endpoint.
2. Three members on 127.0.0.1 (distinct ports): a watch connected to the leader, 200
   puts through the followers, the leader killed (SIGKILL) after 60 puts. The watch must
   move to another member and deliver every revision exactly once: revisions contiguous
   from the start to the writer's last, none twice, every key seen.

Every etcd is started here, each with its own data directory, and stopped by PID at the
end, also on failure. Exit 77 (skipped) only when the etcd binary is not installed
(scripts/deps.sh installs Debian's etcd-server)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PROBE = os.environ.get("SGFW_ETCD_PROBE") or os.path.join(os.environ.get("SGFW_BUILD_DIR", "build"),
                                                           "tests", "etcd", "etcd_probe")
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
PROCS = []   # every process started, stopped by PID in cleanup()
DIRS = []


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
    for d in DIRS:
        shutil.rmtree(d, ignore_errors=True)
    DIRS.clear()


def start_cluster(names):
    """Starts one etcd per name; returns [(name, client_url, Popen)]."""
    base = tempfile.mkdtemp(prefix="sgfw-etcd-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    DIRS.append(base)
    ports = {n: (free_port(), free_port()) for n in names}
    initial = ",".join(f"{n}=http://127.0.0.1:{ports[n][1]}" for n in names)
    members = []
    for n in names:
        client, peer = ports[n]
        url = f"http://127.0.0.1:{client}"
        log = open(os.path.join(base, n + ".log"), "w")
        p = subprocess.Popen([ETCD, "--name", n, "--data-dir", os.path.join(base, n),
                              "--listen-client-urls", url, "--advertise-client-urls", url,
                              "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                              "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                              "--initial-cluster", initial, "--initial-cluster-state", "new",
                              "--initial-cluster-token", os.path.basename(base),
                              "--heartbeat-interval", "50", "--election-timeout", "500"],
                             stdout=log, stderr=subprocess.STDOUT)
        PROCS.append(p)
        members.append((n, url, p))
    return members, base


def status(urls):
    out = subprocess.run([PROBE, "status", "--endpoints", ",".join(urls), "--timeout-ms", "1000"],
                         capture_output=True, text=True, timeout=30)
    return [json.loads(line) for line in out.stdout.splitlines()]


def wait_leader(urls, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = status(urls)
        if st and all("error" not in s and s["leader"] != "0" for s in st):
            return st
        time.sleep(0.2)
    raise SystemExit(f"FAIL: no leader among {urls} within {timeout}s")


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


def single_member():
    t0 = time.time()
    members, _ = start_cluster(["solo"])
    url = members[0][1]
    wait_leader([url])
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
    members, _ = start_cluster(["m1", "m2", "m3"])
    urls = [m[1] for m in members]
    st = wait_leader(urls)
    leader = next(i for i, s in enumerate(st) if s["is_leader"])
    start = max(s["revision"] for s in st) + 1
    followers = [u for i, u in enumerate(urls) if i != leader]
    print(f"leader {members[leader][0]} ({urls[leader]}), watch from revision {start}")

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
    os.kill(members[leader][2].pid, signal.SIGKILL)
    members[leader][2].wait()
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
    if not os.path.exists(ETCD):
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
