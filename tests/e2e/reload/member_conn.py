"""Helpers of the hostile-member e2e test (test_hostile_member.py): connections made
as the member, the daemon's memory and sockets from /proc, a memory watchdog and the
/etc/group padding for a group with thousands of members."""
import json
import os
import select
import socket
import threading
import time

import reload_common as rc
import sgfw_e2e as e2e
from sgfw_e2e import check

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


def socket_fds(pid):
    """How many sockets the process holds (its ports' and listeners' are constant)."""
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return n


def wait_reaped(pid, idle_sockets):
    """Waits until sgfwd has reaped every control connection the test closed: a
    closed peer keeps its slot until the daemon's poll sees the hangup, which on a
    loaded machine can take longer than a fixed sleep."""
    deadline = time.monotonic() + 10
    while socket_fds(pid) > idle_sockets and time.monotonic() < deadline:
        time.sleep(0.05)
    check(socket_fds(pid) == idle_sockets,
          f"sgfwd still holds {socket_fds(pid) - idle_sockets} closed control connections after 10 s")


def close_all():
    while OPEN:
        OPEN.pop().close()


def ask(s, request):
    """Sends one request line (bytes or a JSON-able object); returns (reply, seconds)."""
    line = request if isinstance(request, bytes) else json.dumps(request).encode()
    t0 = time.perf_counter()
    s.sendall(line + b"\n")
    raw = rc.read_line(s, timeout=10.0)
    took = time.perf_counter() - t0
    check(raw, "no reply (connection closed)")
    return json.loads(raw), took


def status_ok(t):
    r = rc.ctl(t, "status")
    check(r.rc == 0 and r.json and r.json.get("generation"), f"status: {r}")
    return r.json


def add_phantom_members(group_name, n):
    """Lists n member names (no such users) on the group's /etc/group line, under the
    shadow tools' lock: getgrnam_r then needs far more than a 16 KiB buffer. The line
    goes with the group at the end (groupdel)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    check(libc.lckpwdf() == 0, "cannot lock the user database")
    try:
        with open("/etc/group") as f:
            lines = f.read().splitlines()
        for i, line in enumerate(lines):
            if line.startswith(group_name + ":"):
                extra = ",".join(f"{group_name}p{k}" for k in range(n))
                lines[i] = line + ("," if not line.endswith(":") else "") + extra
                break
        else:
            raise e2e.HarnessError(f"group {group_name} not in /etc/group")
        tmp = "/etc/group.sgfwe2e"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        st = os.stat("/etc/group")
        os.chmod(tmp, st.st_mode & 0o7777)
        os.replace(tmp, "/etc/group")
    finally:
        libc.ulckpwdf()


def second_daemon(t, sock):
    """Another sgfwd with t's config but another socket path; returns (exit, output)."""
    import subprocess
    cfg = dict(t.config)
    cfg["control_socket"] = sock
    cfg["eal"] = [a if not a.startswith("sgfwe2e") else a + "x" for a in cfg["eal"]]
    # Null devices: the second daemon must meet the socket directory, not the first
    # one's device locks.
    cfg["ports"] = [dict(p, device=f"net_null{i},no-rx=1") for i, p in enumerate(cfg["ports"])]
    path = t.write(f"second-{len(os.listdir(t.tmp))}.yaml", e2e.to_yaml(cfg) + "\n")
    try:
        r = subprocess.run([e2e.SGFWD, "--config", path], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired as e:  # it started: it accepted the directory
        return "still running after 20 s", (e.stdout or b"").decode(errors="replace")
    return r.returncode, r.stdout + r.stderr


def big_policy(base, groups, rules_per_group=4000):
    """`base` (a policy's YAML) with `groups` more groups of TCP rules that no VM uses:
    a valid policy whose parse and compile take seconds."""
    big = "".join("  - name: big-%d\n    rules:\n" % g + "".join(
        "      - {direction: Ingress, protocol: TCP, port: %d, remote: {address: "
        "{IPAddressOrCIDR: 10.%d.%d.0/24}}}\n" % (1 + r, g % 250, r % 250) for r in range(rules_per_group))
        for g in range(groups))
    text = base.replace("\nvms:\n", "\n" + big + "vms:\n", 1)
    check(text != base, "the big groups were not inserted")
    return text


def statuses_during_reload(t, acc, sock_path, text):
    """Sends `text` as a member's reload on one connection and, until its reply arrives,
    asks root's status (sgfwctl) and the member's own status on a second connection,
    in turn. Returns (reply, seconds to the reply, samples), a sample being (seconds
    after the send, root's seconds, root's generation, the member's seconds, the
    member's generation). The connections are closed on return, also on failure."""
    c = member_connect(acc, sock_path)
    other = member_connect(acc, sock_path)
    samples = []
    try:
        t0 = time.perf_counter()
        c.sendall(json.dumps({"cmd": "reload", "args": {"policy": text}}).encode() + b"\n")
        while not select.select([c], [], [], 0.05)[0]:
            check(time.perf_counter() - t0 < 120, "no reply to the reload after 120 s")
            t1 = time.perf_counter()
            st = status_ok(t)
            t2 = time.perf_counter()
            rep, member_took = ask(other, {"cmd": "status"})
            check(rep.get("ok") is True, f"member's status: {rep}")
            samples.append((t1 - t0, t2 - t1, st["generation"], member_took, rep["result"]["generation"]))
        raw = rc.read_line(c, timeout=10)
        took = time.perf_counter() - t0
        check(raw, "no reply to the reload (connection closed)")
        return json.loads(raw), took, samples
    finally:
        for s in (c, other):
            s.close()
            OPEN.remove(s)
