#!/usr/bin/env python3
"""sgfwctl policy push / pull against one real etcd member (docs/fleet.md, "policy push
and pull"). No sgfwd: the target comes from --endpoints/--prefix/--appliance. Checked
with `etcdctl get --prefix` (Debian etcd-client):

1. A first push writes exactly the file's keys (one transaction: every key at the push's
   revision); a second push writes nothing (the store's revision does not move); a
   changed file writes exactly the changed keys (2 puts, 1 delete).
2. pull writes a file holding every VM with its appliance and port; pushing it writes 0.
3. A generated policy of 300 keys (above the 127 writes of one transaction) is pushed
   staged: every key lands, steps of <= 127 keys, PREFIX meta/push present at every
   revision of the push but the last (so an appliance never applies half of it).
4. A stale PREFIX meta/push makes push fail with a clear message and writes nothing;
   --force removes it and pushes.
5. A bad file is refused before anything is written (etcd's revision unchanged).
6. Unreachable endpoints: a clear error within a few seconds. Partial flags: usage (2).

The etcd member is started here with its own data directory and stopped by PID at the
end, also on failure. Exit 77 (skipped) only when the etcd binary is not installed."""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import etcd_cluster  # tests/e2e/etcd_cluster.py: members started and stopped by PID

BUILD = os.environ.get("SGFW_BUILD_DIR", "build")
SGFWCTL = os.environ.get("SGFW_SGFWCTL") or os.path.join(BUILD, "app", "sgfwctl", "sgfwctl")
SOURCE = os.environ.get("SGFW_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
PREFIX = "/sgfw/"


def check(cond, msg):
    if not cond:
        raise SystemExit("FAIL: " + msg)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def etcdctl(url, *args):
    r = subprocess.run([ETCDCTL, "--endpoints", url, *args], capture_output=True, text=True,
                       env=dict(os.environ, ETCDCTL_API="3"), timeout=30)
    check(r.returncode == 0, f"etcdctl {' '.join(args)}: {r.stderr}")
    return r.stdout


def stored(url):
    """{key: (value, mod_revision)} under PREFIX and the store's revision."""
    doc = json.loads(etcdctl(url, "get", "--prefix", PREFIX, "-w", "json"))
    keys = {}
    for kv in doc.get("kvs", []):
        keys[base64.b64decode(kv["key"]).decode()] = (base64.b64decode(kv["value"]).decode(),
                                                     int(kv["mod_revision"]))
    return keys, int(doc["header"]["revision"])


def sgfwctl(url, *args, appliance="edge-1", timeout=60):
    flags = ["--endpoints", url, "--prefix", PREFIX] + (["--appliance", appliance] if appliance else [])
    t0 = time.time()
    r = subprocess.run([SGFWCTL, "policy", *args, *flags], capture_output=True, text=True, timeout=timeout)
    r.elapsed = time.time() - t0
    return r


PUSHED = re.compile(r"^pushed to /sgfw/ at revision (\d+): (\d+) puts, (\d+) deletes, (\d+) unchanged$", re.M)


def pushed(r):
    check(r.returncode == 0, f"push exited {r.returncode}: {r.stderr.strip()}")
    m = PUSHED.search(r.stdout)
    check(m is not None, f"no push line in {r.stdout!r}")
    return tuple(int(x) for x in m.groups())


def objects(policy_text):
    """The keys a policy file (flow-style YAML as written here or by sgfw) should give."""
    import yaml
    doc = yaml.safe_load(policy_text) or {}
    keys = set()
    for s in doc.get("subnets") or []:
        keys.add(PREFIX + "subnets/" + s["name"])
    for g in doc.get("securityGroups") or []:
        keys.add(PREFIX + "groups/" + g["name"])
    for v in doc.get("vms") or []:
        keys.add(PREFIX + "vms/" + v["name"])
    return keys


def write(work, name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def first_push_and_changes(url, work):
    text = open(os.path.join(SOURCE, "conf", "policy.yaml")).read()
    f = write(work, "policy.yaml", text)
    want = objects(text)
    rev, puts, deletes, unchanged = pushed(sgfwctl(url, "push", f))
    keys, store_rev = stored(url)
    check(set(keys) == want, f"keys in etcd {sorted(set(keys) ^ want)} differ from the file's")
    check((puts, deletes, unchanged) == (len(want), 0, 0), f"first push: {puts} puts {deletes} deletes {unchanged}")
    check(rev == store_rev and all(m == rev for _, m in keys.values()), "the first push was not one transaction")
    vms = [v for k, (v, _) in keys.items() if k.startswith(PREFIX + "vms/")]
    check(vms and all(('"appliance":"edge-1"' in v) == ('"port"' in v) for v in vms),
          "a VM with a port without the pushing appliance")
    print(f"first push: {puts} keys at revision {rev}")

    rev2, puts, deletes, unchanged = pushed(sgfwctl(url, "push", f))
    _, store_rev2 = stored(url)
    check((puts, deletes, unchanged) == (0, 0, len(want)), f"second push: {puts} puts {deletes} deletes")
    check(store_rev2 == store_rev and rev2 == rev, f"the second push moved the revision {store_rev} -> {store_rev2}")

    # One VM's groups changed, a subnet added, one VM removed.
    import yaml
    doc = yaml.safe_load(text)
    doc["vms"][0]["securityGroups"] = ["default-allow-ssh"]
    gone = doc["vms"].pop()["name"]
    doc.setdefault("subnets", []).append({"name": "added-subnet", "cidr": "192.0.2.0/24"})
    changed = yaml.safe_dump(doc)
    f2 = write(work, "changed.yaml", changed)
    rev3, puts, deletes, unchanged = pushed(sgfwctl(url, "push", f2))
    keys, _ = stored(url)
    written = {k for k, (_, m) in keys.items() if m == rev3}
    expect = {PREFIX + "vms/" + doc["vms"][0]["name"], PREFIX + "subnets/added-subnet"}
    check((puts, deletes, unchanged) == (2, 1, len(want) - 2), f"changed push: {puts} puts {deletes} deletes "
                                                                f"{unchanged} unchanged")
    check(written == expect, f"written at {rev3}: {sorted(written)}, expected {sorted(expect)}")
    check(PREFIX + "vms/" + gone not in keys and set(keys) == objects(changed), "the removed VM is still there")
    print(f"changed push: 2 puts, 1 delete at revision {rev3}")
    return f2


def pull_round_trip(url, work):
    out = os.path.join(work, "pulled.yaml")
    r = sgfwctl(url, "pull", out, appliance=None)
    check(r.returncode == 0, f"pull exited {r.returncode}: {r.stderr.strip()}")
    check(re.match(r"pulled /sgfw/ at revision \d+ into .*pulled\.yaml: \d+ subnets, \d+ security groups, "
                   r"\d+ VMs$", r.stdout.strip()) is not None, f"pull said {r.stdout!r}")
    import yaml
    doc = yaml.safe_load(open(out).read())
    ported = [v for v in doc["vms"] if "port" in v]
    check(ported and all(v.get("appliance") == "edge-1" for v in ported), "a pulled VM lost its appliance")
    _, before = stored(url)
    # Pushed by another appliance's name: each VM keeps its own appliance.
    rev, puts, deletes, unchanged = pushed(sgfwctl(url, "push", out, appliance="edge-7"))
    keys, after = stored(url)
    check((puts, deletes) == (0, 0) and unchanged == len(keys), f"push(pull()): {puts} puts {deletes} deletes")
    check(after == before, "push(pull()) moved the revision")
    print(f"pull: {len(doc['vms'])} VMs; push(pull()) wrote nothing")


def generated(n_vms):
    lines = ["securityGroups:", "  - {name: web, rules: [{direction: Ingress, protocol: TCP, port: 443, "
             "remote: {securityGroupRef: {name: web}}}]}", "vms:"]
    for i in range(n_vms):
        addr = f"10.{100 + i // 250}.{i % 250}.{1 + i // 250}"
        if i % 3 == 0:
            app = "edge-1" if i % 2 == 0 else "edge-2"
            lines.append(f"  - {{name: vm-{i:04d}, appliance: {app}, port: p{i % 4}, "
                         f"mac: '02:00:00:00:{i // 256:02x}:{i % 256:02x}', ips: [{addr}], securityGroups: [web]}}")
        else:
            lines.append(f"  - {{name: vm-{i:04d}, ips: [{addr}], securityGroups: [web]}}")
    return "\n".join(lines) + "\n"


def staged(url, work):
    etcdctl(url, "del", "--prefix", PREFIX)
    text = generated(299)
    f = write(work, "large.yaml", text)
    want = objects(text)
    check(len(want) == 300, "the generated policy is not 300 keys")
    r = sgfwctl(url, "push", f, "--force")  # nothing stale: --force changes nothing
    rev, puts, deletes, unchanged = pushed(r)
    check("removed the stale" not in r.stdout, "--force removed a marker that was not there")
    keys, store_rev = stored(url)
    check(set(keys) == want, f"{len(keys)} keys in etcd after a staged push of {len(want)}")
    check(PREFIX + "meta/push" not in keys, "the marker stayed")
    check((puts, deletes, unchanged) == (300, 0, 0), f"staged push: {puts} puts")
    revs = sorted({m for _, m in keys.values()})
    per_rev = [sum(1 for _, m in keys.values() if m == x) for x in revs]
    check(len(revs) == 3 and max(per_rev) <= 127, f"steps: {per_rev} keys per revision")
    check(rev == store_rev, f"push says revision {rev}, etcd {store_rev}")
    # Bracketed: the marker exists at every revision from the one before the first step
    # (its creation) to the one before the last, and not at the last (deleted with it).
    for r in range(revs[0] - 1, rev + 1):
        out = etcdctl(url, "get", PREFIX + "meta/push", f"--rev={r}", "--print-value-only")
        check(bool(out.strip()) == (r < rev), f"meta/push at revision {r}: {out.strip()!r}")
    r = sgfwctl(url, "push", f, "--json")
    check(r.returncode == 0, f"json push: {r.stderr}")
    j = json.loads(r.stdout)
    check(j["puts"] == 0 and j["unchanged"] == 300 and not j["staged"] and j["transactions"] == 0, f"json: {j}")
    print(f"staged push: 300 keys in steps of {per_rev} keys, marker gone")
    return f


def stale_marker(url, work, f):
    etcdctl(url, "put", PREFIX + "meta/push", '{"id":"dead-pusher"}')
    text = open(f).read().replace("port: 443", "port: 8443")
    f2 = write(work, "large2.yaml", text)
    _, before = stored(url)
    r = sgfwctl(url, "push", f2)
    check(r.returncode == 1, f"push over a stale marker exited {r.returncode}")
    check("a push is in progress: /sgfw/meta/push exists" in r.stderr and "--force" in r.stderr,
          f"message: {r.stderr.strip()}")
    _, after = stored(url)
    check(after == before, "a refused push wrote something")
    r = sgfwctl(url, "pull", os.path.join(work, "x.yaml"), appliance=None)
    check(r.returncode == 1 and "a push is in progress" in r.stderr, f"pull during a push: {r.stderr.strip()}")
    r = sgfwctl(url, "push", f2, "--force")
    rev, puts, deletes, unchanged = pushed(r)
    check("removed the stale /sgfw/meta/push" in r.stdout, f"--force said {r.stdout!r}")
    keys, _ = stored(url)
    check(PREFIX + "meta/push" not in keys and (puts, deletes) == (1, 0), f"--force: {puts} puts, marker gone?")
    check('"port":8443' in keys[PREFIX + "groups/web"][0], "the forced push did not land")
    print("stale marker: refused, then --force pushed 1 key")


def refusals(url, work):
    _, before = stored(url)
    bad = write(work, "bad.yaml", "vms:\n  - {name: a, ips: [10.0.0.1], securityGroups: [nope]}\n")
    r = sgfwctl(url, "push", bad)
    check(r.returncode == 1 and re.search(r"bad\.yaml:2:\d+: unknown security group 'nope'", r.stderr),
          f"bad file: {r.stderr}")
    r = sgfwctl(url, "push", write(work, "appl.yaml", "vms:\n  - {name: a, appliance: edge-2, ips: [10.0.0.1]}\n"))
    check(r.returncode == 1 and "has appliance 'edge-2' but no 'port'" in r.stderr, f"appliance only: {r.stderr}")
    clash = ("vms:\n"
             "  - {name: a, appliance: edge-1, port: p1, mac: '02:00:00:00:00:01', ips: [10.0.0.1]}\n"
             "  - {name: b, port: p1, mac: '02:00:00:00:00:01', ips: [10.0.0.2]}\n")
    r = sgfwctl(url, "push", write(work, "mac.yaml", clash))
    check(r.returncode == 1 and "duplicate MAC '02:00:00:00:00:01' on port 'p1' of appliance 'edge-1'" in r.stderr,
          f"MAC after resolving appliances: {r.stderr}")
    r = sgfwctl(url, "push", os.path.join(work, "missing.yaml"))
    check(r.returncode == 1 and "cannot open file" in r.stderr, f"missing file: {r.stderr}")
    _, after = stored(url)
    check(after == before, "a refused file wrote something")
    dead = f"http://127.0.0.1:{free_port()}"
    for args in (["push", os.path.join(SOURCE, "conf", "policy.yaml")], ["pull", os.path.join(work, "y.yaml")]):
        r = sgfwctl(dead, *args, timeout=30)
        check(r.returncode == 1 and f"etcd {dead}: Range:" in r.stderr, f"{args[0]} to a dead endpoint: {r.stderr}")
        check(r.elapsed < 8, f"{args[0]} to a dead endpoint took {r.elapsed:.1f}s")
    check(not os.path.exists(os.path.join(work, "y.yaml")), "a failed pull wrote its file")
    r = subprocess.run([SGFWCTL, "policy", "push", bad, "--endpoints", url], capture_output=True, text=True)
    check(r.returncode == 2 and "--prefix" in r.stderr, f"partial flags: {r.returncode} {r.stderr}")
    r = subprocess.run([SGFWCTL, "--socket", os.path.join(work, "no.sock"), "policy", "pull",
                        os.path.join(work, "z.yaml")], capture_output=True, text=True)
    check(r.returncode == 3 and "daemon not reachable" in r.stderr, f"no daemon: {r.returncode} {r.stderr}")
    print("refusals: bad files write nothing; dead endpoint, partial flags and no daemon are clear errors")


def main():
    if not os.path.exists(ETCD):
        print("SKIP: no etcd binary (Debian etcd-server; scripts/deps.sh installs it)")
        return 77
    check(os.path.exists(ETCDCTL), "no etcdctl (Debian etcd-client; scripts/deps.sh installs it)")
    check(os.access(SGFWCTL, os.X_OK), f"no sgfwctl at {SGFWCTL}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated"))
    work = tempfile.mkdtemp(prefix="sgfw-push-")
    try:
        # One member (tests/e2e/etcd_cluster.py), stopped by PID when the block ends.
        with etcd_cluster.EtcdCluster(1) as cluster:
            url = cluster.urls[0]
            first_push_and_changes(url, work)
            pull_round_trip(url, work)
            f = staged(url, work)
            stale_marker(url, work, f)
            refusals(url, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("policy push/pull: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
