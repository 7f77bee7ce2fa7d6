#!/usr/bin/env python3
"""A hostile member of control_group against a real sgfwd (issue 10, docs/testing.md
"Hostile member"). Every request here comes from a connection made by a throwaway
system user whose supplementary group is control_group (connected in a child process
that drops to that user, then handed to the test over SCM_RIGHTS: the daemon's peer
check sees the member's credentials). Each case measures the daemon's time to answer
and its memory (VmRSS/VmHWM from /proc) and fails if the member can stop it, hold its
control thread for more than a second, or grow it without bound. A watchdog kills
sgfwd if its RSS grows by more than 1 GiB (the machine is shared), which fails the case.

The users and group (sgfwe2e<pid>{g,o,m}) are deleted at the end, also on failure."""
import json
import os
import socket
import threading
import time

import reload_common as rc
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group
from test_socket_security import Accounts

GROUPS = [group("clients", rule("Egress", "All", cidr="0.0.0.0/0", name="out")),
          group("svc", rule("Ingress", "UDP", port=9000, cidr="0.0.0.0/0", name="udp-9000"))]
OPEN = []


def proc_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Watchdog:
    """Kills sgfwd when its RSS passes start + limit; records the highest RSS seen."""

    def __init__(self, daemon, limit_kib=1 << 20):
        self.daemon = daemon
        self.pid = daemon.proc.pid
        self.base = proc_kib(self.pid, "VmRSS")
        self.limit = limit_kib
        self.peak = self.base
        self.killed = False
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.wait(0.02):
            try:
                rss = proc_kib(self.pid, "VmRSS")
            except OSError:
                return
            self.peak = max(self.peak, rss)
            if rss > self.base + self.limit:
                self.killed = True
                e2e.log(f"watchdog: sgfwd RSS {rss} KiB (start {self.base}): killing it")
                self.daemon.proc.kill()
                return

    def close(self):
        self.stop_event.set()
        self.thread.join(2)


def member_connect(acc, path):
    """A connection to `path` made by the member (uid, gid, supplementary control
    group), returned to this (root) process."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            parent.close()
            os.setgroups([acc.gid])
            os.setgid(acc.mem_pw.pw_gid)
            os.setuid(acc.mem_pw.pw_uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            socket.send_fds(child, [b"x"], [s.fileno()])
            code = 0
        finally:
            os._exit(code)
    child.close()
    _, status = os.waitpid(pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "the member could not connect")
    _, fds, _, _ = socket.recv_fds(parent, 16, 1)
    parent.close()
    s = socket.socket(fileno=fds[0])
    OPEN.append(s)
    s.settimeout(10)
    return s


def close_all():
    while OPEN:
        OPEN.pop().close()


def read_line(s, timeout=10.0):
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(1 << 20)
        if not chunk:
            return buf
        buf += chunk
    return buf.split(b"\n", 1)[0]


def ask(s, request):
    """Sends one request line (bytes or a JSON-able object); returns (reply, seconds)."""
    line = request if isinstance(request, bytes) else json.dumps(request).encode()
    t0 = time.perf_counter()
    s.sendall(line + b"\n")
    raw = read_line(s)
    took = time.perf_counter() - t0
    check(raw, "no reply (connection closed)")
    return json.loads(raw), took


def status_ok(t):
    r = rc.ctl(t, "status")
    check(r.rc == 0 and r.json and r.json.get("generation"), f"status: {r}")
    return r.json


def scenario():
    with Accounts() as acc, rc.Topology("rl-hostile") as t:
        cli = t.vm("cli", "10.0.1.10", groups=["clients"])
        srv = t.vm("srv", "10.0.1.20", groups=["svc"])
        os.chmod(t.tmp, 0o755)
        sock_dir = os.path.join(t.tmp, "run")
        sock_path = os.path.join(sock_dir, "sgfwd.sock")
        t.start(security_groups=GROUPS, extra={"control_group": acc.group}, socket_path=sock_path)
        rc.pin_neighbours((cli, srv))
        dog = Watchdog(t.daemon)
        pid = t.daemon.proc.pid
        figures = []

        def measured(label, fn):
            hwm0 = proc_kib(pid, "VmHWM")
            t0 = time.perf_counter()
            out = fn()
            took = time.perf_counter() - t0
            grew = proc_kib(pid, "VmHWM") - hwm0
            figures.append((label, took, grew))
            e2e.log(f"  figure: {label}: {took:.3f} s, VmHWM +{grew} KiB")
            return out, took, grew

        try:
            with t.case("1: 100,000 nested arrays under args: an error reply, at once; the daemon lives"):
                c = member_connect(acc, sock_path)
                deep = b'{"cmd": "status", "args": {"x": ' + b"[" * 100000 + b"]" * 100000 + b"}}"
                (rep, took), _, grew = measured("100,000 nested arrays (200 KB)", lambda: ask(c, deep))
                check(rep.get("ok") is False and "nest" in rep.get("error", ""), f"deep request: {rep}")
                check(took < 1.0, f"took {took:.2f} s")
                check(grew < 16 << 10, f"VmHWM grew {grew} KiB")
                rep, _ = ask(c, b'{"cmd": "status", "args": {"x": ' + b"[" * 33 + b"]" * 33 + b"}}")
                check(rep.get("ok") is False and "nest" in rep.get("error", ""), f"33 levels: {rep}")
                rep, _ = ask(c, b'{"cmd": "status", "args": {"x": [[["]]]]]]"]], {"y": "[[[["}]}}')
                check(rep.get("ok") is True, f"shallow args with brackets in strings: {rep}")
                rep, _ = ask(c, {"cmd": "status"})
                check(rep.get("ok") is True, f"status on the same connection: {rep}")
                c.close()
                t.assert_alive()
        finally:
            dog.close()
            close_all()
        e2e.log("figures: " + "; ".join(f"{l}: {s:.3f} s, +{k} KiB" for l, s, k in figures))
        check(not dog.killed, "the watchdog killed sgfwd")
    return t


if __name__ == "__main__":
    e2e.main(scenario)
