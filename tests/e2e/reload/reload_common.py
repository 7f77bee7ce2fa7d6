"""Shared pieces of the hot-reload e2e tests (tests/e2e/reload/): a Topology whose daemon
config can carry extra keys (control_group, flows, the socket path), sgfwctl calls with
timing, static neighbours (no ARP on the wire, so port counters hold exactly the test's
packets), a paced one-way UDP stream with per-packet send and receive times, and a
paced raw-frame flood.

Clocks: every time here is time.perf_counter() of this process (sender, receiver and
the command's start and return are all measured on it)."""

import grp
import hashlib
import json
import os
import pwd
import re
import select
import shutil
import socket
import struct
import subprocess
import threading
import time

import sgfw_e2e as e2e
from sgfw_e2e import HarnessError

SGFWCTL = e2e.SGFWCTL
ACCOUNT_PREFIX = "sgfwe2e"  # throwaway users and groups: sgfwe2e<pid>{g,o,m}


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def sha256_text(text):
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


class Topology(e2e.Topology):
    """e2e.Topology whose start() also takes extra daemon-config keys and a socket path."""

    def start(self, security_groups=(), subnets=(), policy_text=None, extra=None, socket_path=None):
        policy_path = os.path.join(self.tmp, "policy.yaml")
        with open(policy_path, "w") as f:
            f.write(policy_text if policy_text is not None else self.policy(security_groups, subnets))
        ports = [{"name": h.port, "device": self._device(i, h.host_if, h.driver)}
                 for i, h in enumerate(self.vms)]
        ports.append({"name": "uplink", "device": self._device(len(self.vms), self.inet.host_if),
                      "uplink": True})
        cfg = {
            "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                    "--file-prefix", f"sgfwe2e{self.pid}{self.tag}", "--log-level=lib.*:error"],
            "ports": ports,
            "workers": self.workers,
            "policy": "policy.yaml",
            "control_socket": socket_path or os.path.join(self.tmp, "run", "sgfwd.sock"),
        }
        cfg.update(extra or {})
        self.config = cfg
        self.config_path = os.path.join(self.tmp, "sgfwd.yaml")
        self.policy_path = policy_path
        with open(self.config_path, "w") as f:
            f.write(e2e.to_yaml(cfg) + "\n")
        self.daemon = e2e.Daemon(self.config_path, os.path.join(self.tmp, "sgfwd.log"), cfg["control_socket"])
        t0 = time.monotonic()
        self.daemon.start()
        e2e.log(f"sgfwd running ({len(ports)} ports, {self.workers} workers) in {time.monotonic() - t0:.1f}s")

    def policy_with(self, security_groups, groups=None, subnets=()):
        """The policy text for this topology with some VMs' groups (local or hosted
        elsewhere) replaced: groups = {vm name: [group, ...] or None}."""
        groups = groups or {}
        saved_local = {h.name: h.groups for h in self.vms}
        saved_remote = list(self.remote_vms)
        try:
            for h in self.vms:
                if h.name in groups:
                    h.groups = groups[h.name]
            self.remote_vms = [(n, ips, groups.get(n, g)) for n, ips, g in self.remote_vms]
            return self.policy(security_groups, subnets)
        finally:
            for h in self.vms:
                h.groups = saved_local[h.name]
            self.remote_vms = saved_remote

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def log_lines(self):
        with self.daemon.cond:
            return list(self.daemon.lines)

    def wait_log(self, pred, start=0, timeout=3.0):
        """sgfwd's output lines from index `start` on, once pred(lines) holds (the
        reader thread copies them from a pipe, a moment after sgfwd writes them)."""
        deadline = time.monotonic() + timeout
        with self.daemon.cond:
            while True:
                lines = list(self.daemon.lines[start:])
                left = deadline - time.monotonic()
                if pred(lines) or left <= 0:
                    return lines
                self.daemon.cond.wait(min(left, 0.1))


def read_line(s, timeout=5.0):
    """One line from a control-socket connection (bytes, without the newline), or what
    came before EOF."""
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(1 << 20)
        if not chunk:
            return buf
        buf += chunk
    return buf.split(b"\n", 1)[0]


def held_and_refused(conns):
    """Which connections the daemon holds (nothing to read yet) and which it refused
    (index, everything it wrote before closing)."""
    held, refused = [], []
    for i, c in enumerate(conns):
        c.setblocking(False)
        try:
            data = c.recv(4096)
        except BlockingIOError:
            held.append(i)
            continue
        c.settimeout(2)
        rest = data
        while data:
            data = c.recv(4096)
            rest += data
        refused.append((i, rest))
    return held, refused


class Ctl:
    """One finished sgfwctl run: rc, stdout, stderr, parsed JSON (or None), start/end."""

    def __init__(self, argv, rc, out, err, t0, t1):
        self.argv, self.rc, self.out, self.err, self.t0, self.t1 = argv, rc, out, err, t0, t1
        try:
            self.json = json.loads(out) if out.strip() else None
        except ValueError:
            self.json = None

    @property
    def wall_ms(self):
        return (self.t1 - self.t0) * 1000.0

    def __repr__(self):
        return (f"sgfwctl {' '.join(self.argv)}: exit {self.rc}, stdout {self.out.strip()[:300]!r}, "
                f"stderr {self.err.strip()[:300]!r}")


def ctl(t, *args, json_out=True, socket_path=None, prefix=(), timeout=30, stdin=None):
    """Run sgfwctl against t's daemon. prefix: a command to run it under (setpriv ...)."""
    argv = [SGFWCTL, "--socket", socket_path or t.daemon.socket] + (["--json"] if json_out else []) + \
        [str(a) for a in args]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(list(prefix) + argv, capture_output=True, text=True, timeout=timeout, input=stdin)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"sgfwctl {' '.join(argv[3:])} timed out after {timeout}s")
    t1 = time.perf_counter()
    return Ctl(argv[3:], r.returncode, r.stdout, r.stderr, t0, t1)


def status(t):
    r = ctl(t, "status")
    if r.rc != 0 or r.json is None:
        raise HarnessError(f"status failed: {r}")
    return r.json


def pin_neighbours(*pairs):
    """Permanent ARP entries (a knows b's MAC) so the kernel sends no ARP: port counters
    then hold exactly the test's own packets."""
    for a, b in pairs:
        e2e.sh("ip", "-n", a.ns, "neigh", "replace", b.ip, "lladdr", b.mac, "dev", "eth0", "nud", "permanent")


def _bigbuf(s):
    s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE


class Sink:
    """UDP sink in a namespace: counts datagrams whose payload starts with `magic`,
    recording (payload, receive time); sends nothing back."""

    def __init__(self, host, port, magic):
        self.magic = magic
        self.sock = host.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _bigbuf(self.sock)
        self.sock.bind(("0.0.0.0", port))
        self.sock.setblocking(False)
        self.got = []
        self.other = 0
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.05)
            except (OSError, ValueError):
                return
            if not r:
                continue
            while True:
                try:
                    data = self.sock.recv(65535)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    return
                now = time.perf_counter()
                with self.lock:
                    if data.startswith(self.magic):
                        self.got.append((data, now))
                    else:
                        self.other += 1

    def count(self):
        with self.lock:
            return len(self.got)

    def close(self):
        self.stop_event.set()
        self.thread.join(2)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class UdpStream:
    """A one-way UDP stream src -> dst:port, one datagram every `interval` seconds, all
    from one socket (one 5-tuple: one tracked connection once admitted). Each payload
    carries a sequence number; sent[i] and received[i] are perf_counter times."""

    def __init__(self, src, dst, port, interval=0.001, label="s"):
        self.src, self.dst, self.port, self.interval = src, dst, port, interval
        self.magic = f"RLSTREAM-{label}-{os.getpid()}-".encode()
        self.sink = Sink(dst, port, self.magic)
        self.sock = src.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src.ip, 0))
        self.sport = self.sock.getsockname()[1]
        self.sent = []
        self.errors = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        nxt = time.perf_counter()
        seq = 0
        while not self.stop_event.is_set():
            now = time.perf_counter()
            if now < nxt:
                time.sleep(nxt - now)
                continue
            payload = self.magic + struct.pack("!I", seq)
            t = time.perf_counter()
            try:
                self.sock.sendto(payload, (self.dst.ip, self.port))
            except OSError:
                self.errors += 1
                nxt += self.interval
                continue
            self.sent.append(t)
            seq += 1
            nxt += self.interval
            if nxt < now - 0.02:  # stalled (GIL, scheduler): do not burst to catch up
                nxt = now

    def stop(self, settle=0.25):
        self.stop_event.set()
        self.thread.join(2)
        time.sleep(settle)
        self.sink.close()
        self.sock.close()
        self.received = {}
        for data, when in self.sink.got:
            seq = struct.unpack("!I", data[len(self.magic):len(self.magic) + 4])[0]
            if seq in self.received:
                raise AssertionError(f"stream {self.magic!r}: datagram {seq} delivered twice")
            self.received[seq] = when
        return self

    # --- after stop()
    def n_sent(self):
        return len(self.sent)

    def n_received(self):
        return len(self.received)

    def sent_between(self, a, b):
        return [i for i, t in enumerate(self.sent) if a <= t < b]


class RawFlood:
    """A paced flood of prebuilt Ethernet frames out of a namespace's eth0 (AF_PACKET),
    `burst` frames per `tick` seconds, cycling through `frames`, until stopped.
    sent counts frames the kernel accepted."""

    def __init__(self, host, frames, burst=10, tick=0.001):
        self.host, self.frames, self.burst, self.tick = host, frames, burst, tick
        self.sock = host.raw_socket()
        self.sent = 0
        self.enobufs = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        n = len(self.frames)
        i = 0
        nxt = time.perf_counter()
        while not self.stop_event.is_set():
            now = time.perf_counter()
            if now < nxt:
                time.sleep(nxt - now)
                continue
            for _ in range(self.burst):
                try:
                    self.sock.send(self.frames[i % n])
                except OSError as e:
                    if e.errno in (105, 11):  # ENOBUFS / EAGAIN: not sent, try again next tick
                        self.enobufs += 1
                        break
                    raise
                i += 1
                self.sent += 1
            nxt += self.tick
            if nxt < now - 0.02:
                nxt = now

    def stop(self):
        self.stop_event.set()
        self.thread.join(5)
        self.sock.close()
        return self.sent


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))] if v else float("nan")


def sweep_accounts():
    """Delete users/groups left by a killed run of a test using Accounts (their pid is dead)."""
    for p in pwd.getpwall():
        m = re.fullmatch(ACCOUNT_PREFIX + r"(\d+)[om]", p.pw_name)
        if m and not e2e._pid_alive(int(m.group(1))):
            e2e.sh("userdel", p.pw_name, check=False)
    for g in grp.getgrall():
        m = re.fullmatch(ACCOUNT_PREFIX + r"(\d+)[gom]", g.gr_name)
        if m and not e2e._pid_alive(int(m.group(1))):
            e2e.sh("groupdel", g.gr_name, check=False)


class Accounts:
    """A throwaway control group, an outsider and a member (supplementary group) for a
    test, named sgfwe2e<pid>{g,o,m}: created on entry (leftovers of a killed run swept
    first), deleted on exit, also on failure."""

    def __init__(self):
        pid = os.getpid()
        self.group = f"{ACCOUNT_PREFIX}{pid}g"
        self.outsider = f"{ACCOUNT_PREFIX}{pid}o"
        self.member = f"{ACCOUNT_PREFIX}{pid}m"
        self.made = []

    def __enter__(self):
        for tool in ("useradd", "userdel", "groupadd", "groupdel", "setpriv"):
            if not shutil.which(tool):
                raise e2e.HarnessError(f"{tool} is not installed")
        sweep_accounts()
        try:
            e2e.sh("groupadd", "--system", self.group)
            self.made.append(("group", self.group))
            for name, extra in ((self.outsider, []), (self.member, ["-G", self.group])):
                e2e.sh("useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                       *extra, name)
                self.made.append(("user", name))
        except BaseException:
            self.__exit__()
            raise
        self.gid = grp.getgrnam(self.group).gr_gid
        self.out_pw = pwd.getpwnam(self.outsider)
        self.mem_pw = pwd.getpwnam(self.member)
        e2e.log(f"accounts: group {self.group} ({self.gid}), outsider {self.outsider} ({self.out_pw.pw_uid}), "
                f"member {self.member} ({self.mem_pw.pw_uid}, primary gid {self.mem_pw.pw_gid}, "
                f"supplementary {self.group})")
        return self

    def __exit__(self, *exc):
        for kind, name in reversed(self.made):
            if kind == "user":
                e2e.sh("userdel", name, check=False)  # also removes its user group
        for kind, name in reversed(self.made):
            if kind == "group":
                e2e.sh("groupdel", name, check=False)
        for kind, name in self.made:
            db = pwd.getpwnam if kind == "user" else grp.getgrnam
            try:
                db(name)
                e2e.log(f"WARNING: could not delete {kind} {name}")
            except KeyError:
                pass
        self.made = []
        return False

    def as_user(self, pw, init_groups):
        """setpriv prefix: the user's uid and primary gid, and either its supplementary
        groups from the user database or none at all."""
        return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                "--init-groups" if init_groups else "--clear-groups", "--"]
