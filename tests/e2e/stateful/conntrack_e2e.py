"""Helpers for the connection-tracking e2e tests (tests/e2e/stateful/), on top of the
suite's harness (tests/e2e/sgfw_e2e.py, imported through PYTHONPATH; not modified here):

- Topology: the harness's, plus a `flows:` section in the daemon config, an uplink that
  may be a net_pcap port (`t.inet.driver = "pcap"`: af_packet's fanout defrag would
  reassemble fragments), restart() with another `flows:` section, sgfwctl in JSON
  (status, flows, flush, reload) and a routed "far" network behind the internet
  namespace (add_far_network: the internet namespace becomes a router);
- HoldServer: a TCP server that keeps every connection open (no idle timeout) and
  echoes, or sinks and reports the byte count;
- Conn: a connected TCP client socket that can be driven step by step.
"""
import json
import os
import select
import socket
import struct
import subprocess
import threading
import time

import sgfw_e2e as e2e
from sgfw_e2e import HarnessError, check, sh

FAR_NET = "198.51.100.0/24"
FAR_ROUTER_IP = "198.51.100.1"
FAR_IP = "198.51.100.10"
FAR_MAC = "02:e2:e0:00:fe:0a"


class Topology(e2e.Topology):
    def __init__(self, name, flows=None, **kw):
        super().__init__(name, **kw)
        self.flows_cfg = flows
        self.groups = []
        self.starts = 0
        self.far = None

    # --- daemon
    def start(self, security_groups=(), subnets=(), policy_text=None, flows=None):
        """As the harness's start(), plus `flows` (a dict: the daemon config's `flows:`
        section; default: the one given to the constructor) and the uplink's driver
        taken from self.inet.driver."""
        if flows is not None:
            self.flows_cfg = flows
        self.groups = list(security_groups)
        self.subnets = list(subnets)
        self.starts += 1
        policy_path = os.path.join(self.tmp, "policy.yaml")
        with open(policy_path, "w") as f:
            f.write(policy_text if policy_text is not None else self.policy(security_groups, subnets))
        ports = [{"name": h.port, "device": self._device(i, h.host_if, h.driver)}
                 for i, h in enumerate(self.vms)]
        ports.append({"name": "uplink", "device": self._device(len(self.vms), self.inet.host_if,
                                                               self.inet.driver),
                      "uplink": True})
        cfg = {
            "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                    "--file-prefix", f"sgfwe2e{self.pid}{self.tag}{self.starts}",
                    "--log-level=lib.*:error"],
            "ports": ports,
            "workers": self.workers,
            "policy": "policy.yaml",
            "control_socket": os.path.join(self.tmp, "run", "sgfwd.sock"),  # a directory sgfwd creates
        }
        if self.flows_cfg:
            cfg["flows"] = self.flows_cfg
        cfg_path = os.path.join(self.tmp, f"sgfwd-{self.starts}.yaml")
        with open(cfg_path, "w") as f:
            f.write(e2e.to_yaml(cfg) + "\n")
        self.daemon = e2e.Daemon(cfg_path, os.path.join(self.tmp, f"sgfwd-{self.starts}.log"),
                                 cfg["control_socket"])
        t0 = time.monotonic()
        self.daemon.start()
        e2e.log(f"sgfwd running ({len(ports)} ports, {self.workers} workers, flows: "
                f"{self.flows_cfg or 'defaults'}) in {time.monotonic() - t0:.1f}s")

    def restart(self, flows=None, security_groups=None):
        """Stop sgfwd (it must exit 0) and start a fresh one (empty connection table)."""
        rc = self.daemon.stop()
        if rc != 0:
            raise HarnessError(f"sgfwd did not exit cleanly: {rc}")
        self.daemon = None
        self.start(self.groups if security_groups is None else security_groups, self.subnets,
                   flows=flows)

    # --- sgfwctl
    def ctl(self, *args, ok=True):
        r = subprocess.run([e2e.SGFWCTL, "--socket", self.daemon.socket, "--json", *args],
                           capture_output=True, text=True, timeout=10)
        if ok and r.returncode != 0:
            raise HarnessError(f"sgfwctl {' '.join(args)}: exit {r.returncode}: "
                               f"{(r.stderr or r.stdout).strip()}")
        return json.loads(r.stdout) if r.stdout.strip() else None

    def status(self):
        return self.ctl("status")

    def flows(self, vm=None):
        j = self.ctl("flows", *(["--vm", vm] if vm else []))
        check(j["total"] == len(j["flows"]), f"flows: total {j['total']} != {len(j['flows'])} listed")
        return j["flows"]

    def flush(self, vm=None):
        return self.ctl("flows", "flush", *(["--vm", vm] if vm else []))["removed"]

    def reload(self, security_groups):
        """Replace the policy (same VMs, these groups) through `sgfwctl reload --policy`."""
        self.groups = list(security_groups)
        path = os.path.join(self.tmp, f"policy-reload-{time.monotonic_ns()}.yaml")
        with open(path, "w") as f:
            f.write(self.policy(security_groups, self.subnets))
        return self.ctl("reload", "--policy", path)

    # --- a routed network behind the internet namespace
    def add_far_network(self, mtu=1280, far_advmss=None):
        """The internet namespace becomes a router: a second link (both ends MTU `mtu`)
        to a new namespace `far` (FAR_IP; FAR_ROUTER_IP on the router's side), IPv4
        forwarding on. VMs get a route to FAR_NET via the internet namespace with
        route_far(). far_advmss: the MSS the far host advertises (route advmss), so a
        sender starts with segments larger than the far link takes and has to learn
        the path MTU from the router's ICMP fragmentation-needed."""
        ns = f"{e2e.NS_PREFIX}{self.pid}-{self.tag}-far"
        sh("ip", "netns", "add", ns)
        self._namespaces.append(ns)
        sh("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        inet = self.inet.ns
        sh("ip", "-n", inet, "link", "add", "far0", "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", ns=inet)
        for n, dev in ((inet, "far0"), (ns, "eth0")):
            sh("ip", "-n", n, "link", "set", dev, "mtu", str(mtu))
            sh("ethtool", "-K", dev, "tx", "off", ns=n)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "address", FAR_MAC)
        sh("ip", "-n", inet, "addr", "add", f"{FAR_ROUTER_IP}/24", "dev", "far0")
        sh("ip", "-n", ns, "addr", "add", f"{FAR_IP}/24", "dev", "eth0")
        sh("ip", "-n", inet, "link", "set", "far0", "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        for net in ("10.0.0.0/16", "203.0.113.0/24"):
            extra = ["advmss", str(far_advmss)] if far_advmss else []
            sh("ip", "-n", ns, "route", "add", net, "via", FAR_ROUTER_IP, *extra)
        self.far = e2e.Host(self, "far", ns, None, FAR_MAC, [FAR_IP], None)
        return self.far

    def route_far(self, vm):
        sh("ip", "-n", vm.ns, "route", "add", FAR_NET, "via", e2e.INET_IP)


# ------------------------------------------------------------------------------ TCP

class HoldServer:
    """TCP server in a host's namespace. Every accepted connection is kept open until
    the peer closes it (no idle timeout). mode "echo": echoes what it reads; "sink":
    counts the bytes and, at the peer's EOF, answers with the count (ASCII) and closes."""

    def __init__(self, host, port, mode="echo", addr="0.0.0.0"):
        """addr "::": an IPv6 (v6-only) server."""
        self.host, self.port, self.mode = host, port, mode
        self.sock = host.socket(e2e.family(addr), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if e2e.is_ipv6(addr):
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        self.sock.bind((addr, port))
        self.sock.listen(128)
        self.lock = threading.Lock()
        self.accepted = []   # (peer, conn)
        self.totals = []     # sink: bytes per finished connection
        self.stop_event = threading.Event()
        host.topo._servers.append(self)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop_event.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.1)
                if not r:
                    continue
                conn, peer = self.sock.accept()
            except (OSError, ValueError):
                if self.stop_event.is_set():
                    return
                continue
            with self.lock:
                self.accepted.append((peer, conn))
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        total = 0
        try:
            while not self.stop_event.is_set():
                r, _, _ = select.select([conn], [], [], 0.2)
                if not r:
                    continue
                data = conn.recv(65536)
                if not data:
                    break
                total += len(data)
                if self.mode == "echo":
                    conn.sendall(data)
            if self.mode == "sink" and not self.stop_event.is_set():
                conn.sendall(str(total).encode())
                with self.lock:
                    self.totals.append(total)
        except (OSError, ValueError):
            pass
        finally:
            if self.stop_event.is_set():
                abort(conn)  # stopped: RST, never a FIN that could be retransmitted later
            else:
                try:
                    conn.close()
                except OSError:
                    pass

    def count(self):
        with self.lock:
            return len(self.accepted)

    def close(self):
        """Stops serving; the open connections are aborted (RST, see Conn.abort)."""
        with self.lock:
            for _, c in self.accepted:
                abort(c)
        self.stop_event.set()
        self.thread.join(1)
        try:
            self.sock.close()
        except OSError:
            pass


class Conn:
    """A TCP client socket in a host's namespace, driven step by step."""

    def __init__(self, host, dst, port, timeout=2.0, sport=0):
        self.host = host
        self.sock = host.socket(e2e.family(dst), socket.SOCK_STREAM)  # IPv4 or IPv6 by dst
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sport:
            self.sock.bind((e2e.any_addr(dst), sport))
        self.sock.settimeout(timeout)
        try:
            self.sock.connect((dst, port))
        except OSError:
            self.sock.close()  # else the kernel keeps retransmitting the SYN
            raise
        self.sport = self.sock.getsockname()[1]

    def echo(self, payload=None, timeout=2.0):
        """Send a token, read it back. True iff it came back whole."""
        payload = payload or e2e.marker("echo")
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(payload)
            got = b""
            while len(got) < len(payload):
                data = self.sock.recv(65536)
                if not data:
                    return False
                got += data
            return got == payload
        except OSError:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close with a RST (SO_LINGER 0): nothing of this connection is retransmitted
        later, when another case (or another sgfwd) counts drops."""
        abort(self.sock)


def abort(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def try_connect(host, dst, port, timeout=0.7):
    """One connection attempt; with timeout < 1 s an unanswered attempt sends exactly one
    SYN (Linux's first SYN retransmission is at 1 s). Returns the Conn or None."""
    try:
        return Conn(host, dst, port, timeout=timeout)
    except OSError:
        return None


def wait_for(pred, timeout=3.0, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def flow_of(flows, proto, src, sport=None, dst=None, dport=None):
    """The flows matching (originator src[:sport] -> dst[:dport])."""
    return [f for f in flows if f["proto"] == proto and f["src"] == src and
            (sport is None or f["sport"] == sport) and (dst is None or f["dst"] == dst) and
            (dport is None or f["dport"] == dport)]
