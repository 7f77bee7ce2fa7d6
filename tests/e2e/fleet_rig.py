"""Two or more sgfwd appliances following one policy in etcd (docs/testing.md, "The
fleet test"; docs/fleet.md). Builds on sgfw_e2e.py (one appliance and its namespaces)
and etcd_cluster.py (the etcd members).

- Edge(name, index): an sgfw_e2e.Topology whose VM MACs carry `index` (02:e2:eI:...),
  so the VMs of several appliances can share one L2 fabric, started with
  `policy_source: {etcd: ...}` (docs/configuration.md) and no policy file: `policy:` is
  the copy sgfwd persists. restart() stops sgfwd by PID and starts it again on the same
  configuration; pause()/resume() SIGSTOP/SIGCONT it.
- join_uplinks(edges): one L2 fabric between the appliances' uplinks. The first edge's
  "internet" namespace becomes a bridge (its eth0 plus the other edges' uplink peers,
  moved into it); the other internet namespaces are left empty. A VM on edge-1 then
  ARPs for and reaches a VM on edge-2 through both firewalls (docs/enforcement.md §5.3,
  §5.4: a VM hosted elsewhere is behind the uplink).
- status(edge) reads the control socket directly (one JSON line each way,
  docs/control.md); ctl(edge, ...) runs sgfwctl against the edge.

Everything is removed by the Topologies' __exit__ (namespaces, veths, sgfwd by PID).
Not thread-safe: one thread drives the rig.
"""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import sgfw_e2e as e2e
from sgfw_e2e import HarnessError, sh


class Daemon(e2e.Daemon):
    """sgfw_e2e.Daemon with its start in two halves, so that several sgfwd start at
    once from the main thread (PR_SET_PDEATHSIG signals a child when the *thread* that
    made it ends: sgfwd must not be started from a helper thread)."""

    def launch(self):
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([e2e.SGFWD, "--config", self.config_path], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=e2e._pdeathsig)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def wait_running(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.running:
                if self.proc.poll() is not None:
                    self.cond.wait(0.2)  # let the reader drain the output
                    raise HarnessError(f"sgfwd exited with {self.proc.returncode} before running:\n" + self.tail())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError("sgfwd did not report 'running' in time:\n" + self.tail())
                self.cond.wait(min(left, 0.1))

    def start(self, timeout=40.0):
        self.launch()
        self.wait_running(timeout)


class Edge(e2e.Topology):
    def __init__(self, appliance, index):
        super().__init__(appliance)
        self.appliance = appliance
        self.index = index
        self.restarts = 0
        self.paused = False

    def _make_host(self, role, ips, mac, port, **kw):
        if role != "inet":  # 02:e2:e0:00:.. -> 02:e2:eI:00:..: unique across edges
            mac = mac[:6] + f"e{self.index}" + mac[8:]
        return super()._make_host(role, ips, mac, port, **kw)

    def start_etcd(self, endpoints, prefix, wait=True):
        """Writes the configuration (ports as Topology.start, policy_source etcd) and
        starts sgfwd; no policy file is written (etcd is the source). wait=False: the
        caller calls self.daemon.wait_running() (start several at once)."""
        ports = [{"name": h.port, "device": self._device(i, h.host_if, h.driver)}
                 for i, h in enumerate(self.vms)]
        ports.append({"name": "uplink", "device": self._device(len(self.vms), self.inet.host_if),
                      "uplink": True})
        self.policy_path = os.path.join(self.tmp, "policy.yaml")
        cfg = {
            "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                    "--file-prefix", f"sgfwe2e{self.pid}{self.tag}", "--log-level=lib.*:error"],
            "ports": ports,
            "workers": 1,
            "policy": self.policy_path,
            "policy_source": {"etcd": {"endpoints": list(endpoints), "prefix": prefix,
                                       "appliance": self.appliance}},
            "control_socket": os.path.join(self.tmp, "run", "sgfwd.sock"),
        }
        self.cfg_path = os.path.join(self.tmp, "sgfwd.yaml")
        with open(self.cfg_path, "w") as f:
            f.write(e2e.to_yaml(cfg) + "\n")
        self.daemon = Daemon(self.cfg_path, os.path.join(self.tmp, "sgfwd.log"), cfg["control_socket"])
        self.daemon.launch()
        if wait:
            self.daemon.wait_running(40)

    def restart(self, timeout=40):
        """Stops sgfwd (SIGTERM by PID; its exit code must be 0) and starts it again."""
        rc = self.daemon.stop()
        if rc != 0:
            raise AssertionError(f"{self.appliance}: sgfwd exited {rc} on SIGTERM:\n" + self.daemon.tail())
        self.restarts += 1
        self.daemon = Daemon(self.cfg_path, os.path.join(self.tmp, f"sgfwd-{self.restarts}.log"),
                             self.daemon.socket)
        self.daemon.start(timeout=timeout)

    def pause(self):
        os.kill(self.daemon.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self):
        if self.paused and self.daemon.alive():
            os.kill(self.daemon.proc.pid, signal.SIGCONT)
        self.paused = False

    def __exit__(self, *exc):
        self.resume()  # a stopped sgfwd would not see its SIGTERM
        return super().__exit__(*exc)

    # --- the daemon's log
    def log_lines(self, pattern):
        """The lines of the running sgfwd's output matching a regular expression."""
        rx = re.compile(pattern)
        with self.daemon.cond:
            return [l for l in self.daemon.lines if rx.search(l)]

    def wait_log(self, pattern, timeout=10.0, count=1):
        deadline = time.monotonic() + timeout
        while True:
            got = self.log_lines(pattern)
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.02)


def join_uplinks(edges):
    """One bridge in edges[0]'s internet namespace joins every edge's uplink."""
    fabric = edges[0].inet.ns
    sh("ip", "-n", fabric, "addr", "flush", "dev", "eth0")
    sh("ip", "-n", fabric, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0")
    sh("ip", "-n", fabric, "link", "set", "eth0", "master", "br0")
    for i, e in enumerate(edges[1:], start=2):
        name = f"up{i}"
        sh("ip", "-n", e.inet.ns, "link", "set", "eth0", "netns", fabric, "name", name)
        sh("ip", "-n", fabric, "link", "set", name, "address", f"02:e2:e0:00:fe:{i:02x}")
        sh("ip", "-n", fabric, "link", "set", name, "master", "br0")
        sh("ip", "-n", fabric, "link", "set", name, "up")
    sh("ip", "-n", fabric, "link", "set", "br0", "up")


# ------------------------------------------------------------------- control socket

def call(edge, cmd, args=None, timeout=10.0):
    """One request on the edge's control socket; the result, or HarnessError."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(edge.daemon.socket)
        s.sendall((json.dumps({"cmd": cmd, "args": args or {}}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
    except OSError as e:
        raise HarnessError(f"{edge.appliance}: {cmd}: {e}")
    finally:
        s.close()
    reply = json.loads(buf)
    if not reply.get("ok"):
        raise HarnessError(f"{edge.appliance}: {cmd}: {reply.get('error')}")
    return reply["result"]


def source(edge):
    """The edge's status.policy_source (docs/control.md)."""
    ps = call(edge, "status").get("policy_source")
    if not isinstance(ps, dict):
        raise HarnessError(f"{edge.appliance}: status has no policy_source object: {ps!r}")
    return ps


def wait_source(edges, pred, what, timeout=10.0):
    """Polls every edge's policy_source until pred(ps) holds on all; AssertionError
    naming `what` and the last readings otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        got = {e.appliance: source(e) for e in edges}
        if all(pred(ps) for ps in got.values()):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s: " +
                                 "; ".join(f"{a}: {_brief(ps)}" for a, ps in got.items()))
        time.sleep(0.02)


def wait_revision(edges, revision, timeout=10.0):
    return wait_source(edges, lambda ps: ps.get("revision", 0) >= revision,
                       f"revision {revision} applied", timeout)


def _brief(ps):
    keys = ("revision", "connected", "refused", "last_error")
    return json.dumps({k: ps.get(k) for k in keys})


def ctl(edge, *args, check=True, timeout=30):
    """sgfwctl against the edge's socket; the CompletedProcess."""
    r = subprocess.run([e2e.SGFWCTL, "--socket", edge.daemon.socket, *args],
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"sgfwctl {' '.join(args)} on {edge.appliance}: exit {r.returncode}: "
                             f"{(r.stderr or r.stdout).strip()}")
    return r


def fleet_policy(edges, security_groups):
    """A fleet policy file: every VM of every edge with its `appliance` and `port`."""
    vms = []
    for e in edges:
        for h in e.vms:
            v = {"name": h.name, "appliance": e.appliance, "port": h.port, "mac": h.mac, "ips": h.ips}
            if h.groups is not None:
                v["securityGroups"] = h.groups
            vms.append(v)
    return e2e.to_yaml({"securityGroups": list(security_groups), "vms": vms}) + "\n"
