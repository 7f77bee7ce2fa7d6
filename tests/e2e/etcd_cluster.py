"""A real etcd cluster for tests, the demo and benchmarks (docs/testing.md, "etcd" and
"The fleet test").

EtcdCluster(n) starts n members (Debian etcd-server, /usr/bin/etcd), member i on
127.0.0.(i+1) (127.0.0.1..3 for three; all of 127.0.0.0/8 is on lo), each with its own
free client and peer port and its own data directory under one temporary directory
(/dev/shm when it exists: no disk fsync), with `initial-cluster` naming all of them.
Members start in parallel; start() returns once every member answers and one leader
is agreed. Every member is a child process stopped by PID (SIGKILL) in close(), also on
failure; the directory is removed unless keep=True.

The client side talks to etcd's JSON gateway (grpc-gateway, served on each client
port: POST /v3/kv/put, /v3/kv/range, /v3/kv/deleterange, /v3/kv/compaction,
/v3/maintenance/status), so it needs nothing but Python's standard library. A write
goes to the first member that answers, leader or not.

Errors: EtcdError (no member answered, a member that does not start, an etcd error
reply). Not thread-safe: one thread drives one cluster.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ETCD = shutil.which("etcd") or "/usr/bin/etcd"


class EtcdError(Exception):
    pass


def have_etcd():
    return os.access(ETCD, os.X_OK)


def _free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def _unb64(s):
    return base64.b64decode(s).decode()


class Member:
    """One etcd member: name, host, client URL, peer URL, data directory, process."""

    def __init__(self, name, host, base):
        self.name, self.host = name, host
        self.client_port, self.peer_port = _free_port(host), _free_port(host)
        self.url = f"http://{host}:{self.client_port}"
        self.peer_url = f"http://{host}:{self.peer_port}"
        self.data_dir = os.path.join(base, name)
        self.log_path = os.path.join(base, name + ".log")
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def __repr__(self):
        return f"{self.name}({self.url})"


class EtcdCluster:
    def __init__(self, n=3, keep=False, heartbeat_ms=50, election_ms=500):
        if not 1 <= n <= 3:
            raise ValueError("1..3 members (127.0.0.1..3)")
        shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.base = tempfile.mkdtemp(prefix="sgfw-etcd-", dir=shm)
        self.keep = keep
        self.timing = (heartbeat_ms, election_ms)
        self.members = [Member(f"m{i + 1}", f"127.0.0.{i + 1}", self.base) for i in range(n)]
        self.initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    # --- lifecycle
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def urls(self):
        return [m.url for m in self.members]

    def start(self, timeout=20.0):
        """Starts every member that is not running (in parallel); waits for a leader."""
        for m in self.members:
            if not m.alive():
                self._spawn(m)
        self.wait_leader(timeout)

    def _spawn(self, m):
        log = open(m.log_path, "a")
        m.proc = subprocess.Popen(
            [ETCD, "--name", m.name, "--data-dir", m.data_dir,
             "--listen-client-urls", m.url, "--advertise-client-urls", m.url,
             "--listen-peer-urls", m.peer_url, "--initial-advertise-peer-urls", m.peer_url,
             "--initial-cluster", self.initial, "--initial-cluster-state", "new",
             "--initial-cluster-token", os.path.basename(self.base),
             "--heartbeat-interval", str(self.timing[0]), "--election-timeout", str(self.timing[1])],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def start_member(self, m, wait=True, timeout=20.0):
        """Restarts a stopped member on its data directory (it rejoins the cluster)."""
        if not m.alive():
            self._spawn(m)
        if wait:
            self.wait_leader(timeout, members=[m])

    def kill(self, m, sig=signal.SIGKILL):
        """Stops one member by PID (SIGKILL by default; SIGTERM for a clean stop)."""
        if m.alive():
            os.kill(m.proc.pid, sig)
            try:
                m.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(m.proc.pid, signal.SIGKILL)
                m.proc.wait()

    def stop_all(self, sig=signal.SIGTERM):
        for m in self.members:
            if m.alive():
                os.kill(m.proc.pid, sig)
        for m in self.members:
            if m.proc is not None:
                try:
                    m.proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(m.proc.pid, signal.SIGKILL)
                    m.proc.wait()

    def close(self):
        self.stop_all(signal.SIGKILL)
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def logs(self, lines=20):
        out = []
        for m in self.members:
            try:
                with open(m.log_path, errors="replace") as f:
                    out.append(f"--- {m}\n" + "".join(f.readlines()[-lines:]))
            except OSError:
                pass
        return "\n".join(out)

    # --- the JSON gateway
    def _post(self, url, path, body, timeout):
        req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}")

    def call(self, path, body, members=None, timeout=2.0, deadline_s=10.0):
        """POSTs to the first live member that answers; retries until deadline_s (a
        leader election takes about one election timeout). An etcd error reply is
        raised at once (EtcdError), except 'leader changed'/'no leader' (retried)."""
        deadline = time.monotonic() + deadline_s
        last = None
        while True:
            for m in members or self.members:
                if not m.alive():
                    continue
                try:
                    return self._post(m.url, path, body, timeout)
                except urllib.error.HTTPError as e:
                    text = e.read().decode(errors="replace")
                    last = f"{m}: HTTP {e.code}: {text}"
                    if "leader" not in text and "timed out" not in text:
                        raise EtcdError(last)
                except (OSError, ValueError) as e:
                    last = f"{m}: {e}"
            if time.monotonic() > deadline:
                raise EtcdError(f"no etcd member answered {path}: {last}")
            time.sleep(0.05)

    def status(self, m, timeout=1.0):
        """One member's status: {member_id, leader, revision, raft_term}; raises OSError."""
        r = self._post(m.url, "/v3/maintenance/status", {}, timeout)
        h = r.get("header", {})
        return {"member_id": h.get("member_id"), "leader": r.get("leader"),
                "revision": int(h.get("revision", 0)), "raft_term": int(h.get("raft_term", 0))}

    def wait_leader(self, timeout=20.0, members=None):
        """Waits until every live member (or `members`) answers and all name the same
        leader; returns the leader's Member."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            live = [m for m in (members or self.members) if m.alive()]
            try:
                sts = {m.name: self.status(m) for m in live}
                if members:  # the leader may be another member: ask every live one
                    live = [m for m in self.members if m.alive()]
                    sts = {m.name: self.status(m) for m in live}
                leaders = {s["leader"] for s in sts.values()}
                ids = {m.name: sts[m.name]["member_id"] for m in live}
                if live and len(leaders) == 1 and next(iter(leaders)) in ids.values():
                    chosen = next(iter(leaders))
                    return next(m for m in live if ids[m.name] == chosen)
                last = sts
            except (OSError, ValueError, EtcdError) as e:
                last = e
            for m in members or self.members:
                if m.proc is not None and not m.alive() and m.proc.returncode not in (-9, -15):
                    raise EtcdError(f"etcd {m} exited {m.proc.returncode}:\n" + self.logs())
            time.sleep(0.05)
        raise EtcdError(f"no agreed leader within {timeout}s: {last}\n" + self.logs())

    def leader(self):
        """The live member that is the leader now (None if there is none)."""
        for m in self.members:
            if not m.alive():
                continue
            try:
                s = self.status(m)
            except (OSError, ValueError):
                continue
            if s["leader"] and s["leader"] == s["member_id"]:
                return m
        return None

    def put(self, key, value, **kw):
        """Writes one key; returns the revision of the write."""
        r = self.call("/v3/kv/put", {"key": _b64(key), "value": _b64(value)}, **kw)
        return int(r["header"]["revision"])

    def delete(self, key, **kw):
        r = self.call("/v3/kv/deleterange", {"key": _b64(key)}, **kw)
        return int(r["header"]["revision"])

    def get(self, key, **kw):
        """(value or None, mod_revision or 0)."""
        r = self.call("/v3/kv/range", {"key": _b64(key)}, **kw)
        kvs = r.get("kvs") or []
        if not kvs:
            return None, 0
        return _unb64(kvs[0].get("value", "")), int(kvs[0].get("mod_revision", 0))

    def range_prefix(self, prefix, **kw):
        """{key: value} of every key under prefix, at one revision; and that revision."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        r = self.call("/v3/kv/range", {"key": _b64(prefix), "range_end": _b64(end)}, **kw)
        return ({_unb64(kv["key"]): _unb64(kv.get("value", "")) for kv in r.get("kvs") or []},
                int(r["header"]["revision"]))

    def revision(self, **kw):
        """The cluster's current revision (a range of one key reads it)."""
        r = self.call("/v3/kv/range", {"key": _b64("\0"), "count_only": True}, **kw)
        return int(r["header"]["revision"])

    def compact(self, revision, **kw):
        """Compacts the key-value history up to `revision` (physical: returns once it is done)."""
        self.call("/v3/kv/compaction", {"revision": str(revision), "physical": True}, **kw)
