"""End-to-end harness for sgfwd: network namespaces, veth pairs, real traffic.

A test builds a Topology (a context manager): one network namespace per VM, each joined
to sgfwd by a veth pair whose host side is an af_xdp port (the documented default for
kernel interfaces; SGFW_E2E_DRIVER=af_packet runs the suite on af_packet ports), plus an "internet"
namespace on the uplink port (203.0.113.7/24, routes 10.0.0.0/16 back). It then starts
sgfwd on a policy built from the VMs it declared and drives traffic:

- ping (iputils) via `ip netns exec`;
- TCP/UDP with Python sockets created *inside* a namespace (setns(2) on the calling
  thread, then back: a socket keeps the namespace it was made in), so every client and
  server is exact and costs no process start;
- crafted frames (scapy builds the bytes) sent and sniffed with raw AF_PACKET sockets
  made the same way.

Counters come from read_stats() (sgfwctl stats --json over the daemon's control
socket, or SIGUSR1). Tests assert exact deltas in ways that hold with and without
connection tracking (see docs/testing.md).

Everything a Topology creates is removed in __exit__, also on failure: sgfwd is stopped
by PID (SIGTERM, then SIGKILL), sockets closed, namespaces and host veths deleted. Names
carry the test's PID (namespaces) or a random tag (veths), so tests could run in
parallel; leftovers of a killed run (dead PID) are swept at the next start.

Exit codes (meson): 0 pass, 1 fail, 77 skip (only: not root, or namespaces/veths cannot
be made).
"""

import contextlib
import ctypes
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77


def _ensure_scapy():
    """scapy comes from Debian's python3-scapy: re-run under /usr/bin/python3 if the
    interpreter we were started with (e.g. a pyenv shim) cannot import it."""
    try:
        import scapy  # noqa: F401
        return
    except ImportError:
        pass
    system = "/usr/bin/python3"
    if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system) \
            and not os.environ.get("SGFW_E2E_REEXEC"):
        os.environ["SGFW_E2E_REEXEC"] = "1"
        os.execv(system, [system] + sys.argv)
    print("e2e: python3-scapy is not installed (scripts/deps.sh installs it)", flush=True)
    sys.exit(1)


_ensure_scapy()

SOURCE_DIR = os.environ.get("SGFW_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("SGFW_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
SGFWD = os.path.join(BUILD_DIR, "app", "sgfwd", "sgfwd")
SGFWCTL = os.path.join(BUILD_DIR, "app", "sgfwctl", "sgfwctl")

INET_IP = "203.0.113.7"
INET_MAC = "02:e2:e0:00:ff:01"
VM_PREFIX = 16          # VMs: <ip>/16 on eth0 (10.0.0.0/16 is one L2 segment)
# IPv6 (opt-in: Topology(ipv6=True), t.vm(..., ipv6=True)): the VMs' segment is
# VM6_NET (first IPv6 address /64 on eth0, further ones /128), the internet namespace
# has INET6_IP/64 and a route to VM6_NET; VMs get a route to INET6_NET.
VM6_NET = "2001:db8:1::/64"
INET6_IP = "2001:db8:ff::7"
INET6_NET = "2001:db8:ff::/64"
NS_PREFIX = "sgfwe2e-"  # + <pid>-<tag>-<role>
# Microseconds an idle worker sleeps between polls (sgfwd's worker_idle_sleep_us);
# SGFW_E2E_IDLE_SLEEP_US=0 runs the suite with busy-polling workers.
IDLE_SLEEP_US = int(os.environ.get("SGFW_E2E_IDLE_SLEEP_US", "200"))

# The port type of veth-attached hosts: net_af_xdp (default; fragments reach sgfwd as
# sent), net_af_packet (the kernel reassembles IPv4 fragments for it) or net_pcap.
DEFAULT_DRIVER = os.environ.get("SGFW_E2E_DRIVER", "af_xdp")

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


class HarnessError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def is_ipv6(addr):
    return ":" in addr


def family(addr):
    return socket.AF_INET6 if is_ipv6(addr) else socket.AF_INET


def any_addr(addr):
    """The wildcard address of `addr`'s family."""
    return "::" if is_ipv6(addr) else "0.0.0.0"


def eui64(mac, prefix="fe80::"):
    """The SLAAC (addr_gen_mode eui64) address of `mac` in the /64 `prefix`."""
    import ipaddress
    b = bytearray(int(x, 16) for x in mac.split(":"))
    b[0] ^= 0x02
    iid = bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])
    net = ipaddress.IPv6Network(prefix.split("/")[0] + "/64", strict=False)
    return str(ipaddress.IPv6Address(int(net.network_address) | int.from_bytes(iid, "big")))


# ---------------------------------------------------------------------------- commands

def sh(*argv, ns=None, check=True, timeout=15):
    if ns:
        argv = ("ip", "netns", "exec", ns) + tuple(argv)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"timed out after {timeout}s: {' '.join(argv)}")
    if check and r.returncode != 0:
        raise HarnessError(f"{' '.join(argv)}: exit {r.returncode}: {(r.stderr or r.stdout).strip()}")
    return r


@contextlib.contextmanager
def in_netns(name):
    """Run the body with the calling thread in network namespace `name`."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise OSError(e, f"setns({name}): {os.strerror(e)}")
            try:
                yield
            finally:
                if _libc.setns(own, CLONE_NEWNET) != 0:  # cannot go on in a foreign netns
                    os.write(2, b"e2e: setns back to the own namespace failed\n")
                    os._exit(1)
        finally:
            os.close(target)
    finally:
        os.close(own)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_leftovers():
    """Delete namespaces left by e2e runs whose process is gone (killed by a timeout)."""
    r = sh("ip", "netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(re.escape(NS_PREFIX) + r"(\d+)-", name)
        if m and not _pid_alive(int(m.group(1))):
            sh("ip", "netns", "del", name, check=False)


def require_environment():
    """Exit 77 (meson: skipped) when e2e cannot run here; say why."""
    if os.geteuid() != 0:
        log("SKIP: the e2e suite needs root (network namespaces, veth pairs, raw sockets)")
        sys.exit(SKIP)
    if shutil.which("ip") is None:
        log("SKIP: iproute2 ('ip') is not installed: cannot make network namespaces")
        sys.exit(SKIP)
    probe = f"{NS_PREFIX}{os.getpid()}-probe"
    veth = f"sgp{random.randrange(16**6):06x}"
    r = sh("ip", "netns", "add", probe, check=False)
    if r.returncode != 0:
        log(f"SKIP: cannot create a network namespace here: {r.stderr.strip()}")
        sys.exit(SKIP)
    try:
        r = sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", probe,
               check=False)
        if r.returncode != 0:
            log(f"SKIP: cannot create a veth pair into a namespace here: {r.stderr.strip()}")
            sys.exit(SKIP)
    finally:
        sh("ip", "link", "del", veth, check=False)
        sh("ip", "netns", "del", probe, check=False)
    if not os.access(SGFWD, os.X_OK):
        raise HarnessError(f"{SGFWD} not found: build first (SGFW_BUILD_DIR={BUILD_DIR})")


# -------------------------------------------------------------------------- policy YAML

def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a YAML double-quoted scalar


def to_yaml(obj, indent=0):
    pad = " " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                out.append(f"{pad}{k}:")
                out.append(to_yaml(v, indent + 2))
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                out.append(f"{pad}{k}:")
                out.append(to_yaml(v, indent + 2))
            elif isinstance(v, list):
                out.append(f"{pad}{k}: [{', '.join(_scalar(x) for x in v)}]")
            else:
                out.append(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(obj, list):
        for item in obj:
            body = to_yaml(item, indent + 2).splitlines()
            out.append(f"{pad}- {body[0].lstrip()}")
            out.extend(body[1:])
    return "\n".join(out)


def rule(direction, protocol, *, cidr=None, subnet=None, group=None, port=None,
         port_range=None, name=None):
    """One policy rule. Exactly one of cidr/subnet/group."""
    r = {}
    if name:
        r["name"] = name
    r["direction"] = direction
    r["protocol"] = protocol
    if port is not None:
        r["port"] = port
    if port_range is not None:
        r["portRange"] = f"{port_range[0]}-{port_range[1]}"
    if cidr is not None:
        r["remote"] = {"address": {"IPAddressOrCIDR": cidr}}
    elif subnet is not None:
        r["remote"] = {"subnetRef": {"name": subnet}}
    elif group is not None:
        r["remote"] = {"securityGroupRef": {"name": group}}
    else:
        raise ValueError("rule needs a remote")
    return r


def group(name, *rules):
    g = {"name": name}
    if rules:
        g["rules"] = list(rules)
    return g


# ------------------------------------------------------------------------------- stats

class Stats:
    """One stats reading, flattened to {key: int}:
    ("port", name, "rx"|"tx"|"dropped"|reason), ("vm", name, "allowed"|"dropped"|reason),
    ("rule", "group/rule"), ("worker", index, "packets")."""

    def __init__(self, j):
        self.json = j
        f = {}
        for p in j.get("ports", []):
            for k in ("rx", "tx", "dropped"):
                f[("port", p["name"], k)] = p[k]
            for r, n in p["drops"].items():
                f[("port", p["name"], r)] = n
        for v in j.get("vms", []):
            for k in ("allowed", "dropped"):
                f[("vm", v["name"], k)] = v[k]
            for r, n in v["drops"].items():
                f[("vm", v["name"], r)] = n
        for r in j.get("rules", []):
            f[("rule", r["rule"])] = r["hits"]
        for w in j.get("workers", []):
            f[("worker", w["worker"], "packets")] = w["packets"]
        self.flat = f

    def __getitem__(self, key):
        return self.flat.get(key, 0)

    def reasons(self):
        return sorted({k[2] for k in self.flat if k[0] == "port"} - {"rx", "tx", "dropped"})

    def delta(self, before):
        return {k: v - before.flat.get(k, 0) for k, v in self.flat.items() if v != before.flat.get(k, 0)}


def read_stats(daemon, timeout=5.0):
    """The one place that reads sgfwd's counters: `sgfwctl stats --json` over the
    daemon's control socket, or, where there is none (or SGFW_E2E_STATS=signal),
    SIGUSR1 and the `stats: {json}` line sgfwd prints. Both give the same document.
    SGFW_E2E_STATS=sgfwctl insists on the socket."""
    how = os.environ.get("SGFW_E2E_STATS", "auto")
    if not daemon.alive():
        raise HarnessError(f"sgfwd is not running (exit {daemon.proc.returncode}):\n" + daemon.tail())
    if how != "signal" and os.path.exists(daemon.socket) and os.access(SGFWCTL, os.X_OK):
        r = subprocess.run([SGFWCTL, "--socket", daemon.socket, "--json", "stats"],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise HarnessError(f"sgfwctl stats: exit {r.returncode}: {r.stderr.strip()}")
        return Stats(json.loads(r.stdout))
    if how == "sgfwctl":
        raise HarnessError(f"no control socket at {daemon.socket} (SGFW_E2E_STATS=sgfwctl)")
    return Stats(daemon.signal_stats(timeout))


# ------------------------------------------------------------------------------ daemon

def _pdeathsig():
    PR_SET_PDEATHSIG = 1
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Daemon:
    def __init__(self, config_path, log_path, socket_path):
        self.config_path = config_path
        self.socket = socket_path
        self.log_path = log_path
        self.proc = None
        self.lines = []
        self.stats_lines = []
        self.cond = threading.Condition()
        self.running = False
        self.returncode = None

    def start(self, timeout=30.0):
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([SGFWD, "--config", self.config_path], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_pdeathsig)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.running:
                if self.proc.poll() is not None:
                    self.cond.wait(0.2)  # let the reader drain the output
                    raise HarnessError(f"sgfwd exited with {self.proc.returncode} before running:\n"
                                       + self.tail())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError("sgfwd did not report 'running' in time:\n" + self.tail())
                self.cond.wait(min(left, 0.1))

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self._log.write(line + "\n")
            self._log.flush()
            with self.cond:
                self.lines.append(line)
                if line.startswith("sgfwd: running"):
                    self.running = True
                if line.startswith("stats: "):
                    try:
                        self.stats_lines.append(json.loads(line[len("stats: "):]))
                    except ValueError:
                        self.stats_lines.append(None)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal_stats(self, timeout):
        with self.cond:
            n = len(self.stats_lines)
            if not self.alive():
                raise HarnessError(f"sgfwd is not running (exit {self.proc.returncode}):\n" + self.tail())
            os.kill(self.proc.pid, signal.SIGUSR1)
            deadline = time.monotonic() + timeout
            while len(self.stats_lines) <= n:
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    raise HarnessError("no stats line from sgfwd:\n" + self.tail())
                self.cond.wait(min(left, 0.1))
            j = self.stats_lines[n]
        if j is None:
            raise HarnessError("sgfwd printed a stats line that is not JSON")
        return j

    def stop(self, timeout=15.0):
        """SIGTERM by PID, SIGKILL if it hangs. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                self.returncode = "hung on SIGTERM (killed)"
        if self.returncode is None:
            self.returncode = self.proc.returncode
        self._reader.join(5)
        self._log.close()
        return self.returncode

    def tail(self, n=40):
        with self.cond:
            return "\n".join("    | " + l for l in self.lines[-n:])


# ------------------------------------------------------------------------------- hosts

def _v6only(sock):
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)


class EchoServer:
    """TCP or UDP echo server in a namespace; records what it received."""

    def __init__(self, host, proto, port, addr="0.0.0.0", echo=True):
        """addr "::" (or any IPv6 address): an IPv6 server (v6 only)."""
        self.host, self.proto, self.port, self.echo = host, proto, port, echo
        self.received = []      # UDP: (peer, bytes); TCP: (peer, bytes) per connection
        self.connections = []   # TCP peers accepted
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        if proto == "tcp":
            self.sock = host.socket(family(addr), socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _v6only(self.sock)
            self.sock.bind((addr, port))
            self.sock.listen(64)
        else:
            self.sock = host.socket(family(addr), socket.SOCK_DGRAM)
            _v6only(self.sock)
            self.sock.bind((addr, port))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop_event.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.1)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                if self.proto == "udp":
                    data, peer = self.sock.recvfrom(65535)
                    with self.lock:
                        self.received.append((peer, data))
                    if self.echo:
                        self.sock.sendto(data, peer)
                else:
                    conn, peer = self.sock.accept()
                    with self.lock:
                        self.connections.append(peer)
                    threading.Thread(target=self._echo, args=(conn, peer), daemon=True).start()
            except OSError:
                continue

    def _echo(self, conn, peer):
        conn.settimeout(3.0)
        got = b""
        try:
            while True:
                data = conn.recv(65535)
                if not data:
                    break
                got += data
                conn.sendall(data)
        except OSError:
            pass
        finally:
            conn.close()
            with self.lock:
                self.received.append((peer, got))

    def count(self, payload=None):
        with self.lock:
            return sum(1 for _, d in self.received if payload is None or payload in d)

    def peers(self):
        with self.lock:
            return [p for p, _ in self.received] + list(self.connections)

    def close(self):
        self.stop_event.set()
        self.thread.join(1)
        self.sock.close()


class Sniffer:
    """Raw AF_PACKET capture on a namespace's eth0 (incoming frames only; outgoing=True:
    the frames the namespace sends instead, i.e. what sgfwd is offered)."""

    def __init__(self, host, outgoing=False):
        self.host = host
        self.outgoing = outgoing
        self.sock = host.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)  # SO_RCVBUFFORCE
        self.sock.bind(("eth0", 0))
        self.frames = []
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
                    data, addr = self.sock.recvfrom(65535, socket.MSG_DONTWAIT)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    return
                if (addr[2] == PACKET_OUTGOING) != self.outgoing:
                    continue
                with self.lock:
                    self.frames.append(data)

    def matching(self, pred=None):
        with self.lock:
            return [f for f in self.frames if pred is None or pred(f)]

    def count(self, marker=None):
        return len(self.matching(None if marker is None else (lambda f: marker in f)))

    def wait_count(self, marker, n, timeout=3.0):
        deadline = time.monotonic() + timeout
        while self.count(marker) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.count(marker)

    def clear(self):
        with self.lock:
            self.frames.clear()

    def close(self):
        self.stop_event.set()
        self.thread.join(1)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Host:
    """A namespace with eth0 behind an sgfwd port: a local VM or the internet side."""

    def __init__(self, topo, name, ns, host_if, mac, ips, port, groups=None, driver=None, ipv6=False):
        self.topo, self.name, self.ns, self.host_if = topo, name, ns, host_if
        self.mac, self.ips, self.port, self.groups = mac, list(ips), port, groups
        self.driver = driver  # None: the topology's default (_device)
        self.ipv6 = ipv6      # IPv6 on in the namespace (else its IPv6 addresses are policy-only)

    @property
    def ip(self):
        return self.ips[0]

    @property
    def ip4(self):
        return next((a for a in self.ips if not is_ipv6(a)), None)

    @property
    def ip6(self):
        return next((a for a in self.ips if is_ipv6(a)), None)

    @property
    def link_local(self):
        """The EUI-64 link-local address of the host's MAC (the kernel's, addr_gen_mode 0)."""
        return eui64(self.mac)

    def enable_ipv6(self):
        """Turn IPv6 on for eth0 now (a `slaac` host starts with it off, so its DAD,
        router solicitations and SLAAC happen once sgfwd runs)."""
        sh("sysctl", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=0", ns=self.ns)
        self.ipv6 = True

    def addrs6(self, scope="global"):
        """The IPv6 addresses on eth0 of `scope` that are no longer tentative."""
        r = self.run("ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", scope)
        return [l.split()[3].split("/")[0] for l in r.stdout.splitlines()
                if "tentative" not in l and "dadfailed" not in l]

    def __repr__(self):
        return f"{self.name}({self.ip})"

    def run(self, *argv, check=False, timeout=15):
        return sh(*argv, ns=self.ns, check=check, timeout=timeout)

    def socket(self, *args):
        with in_netns(self.ns):
            s = socket.socket(*args)
        self.topo._sockets.append(s)
        return s

    # --- ping
    def ping(self, dst, count=3, interval=0.2, wait=0.5):
        """Sends exactly `count` echo requests; returns how many replies came back."""
        r = self.run("ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-W", str(wait), dst,
                     timeout=count * interval + wait + 10)
        m = re.search(r"(\d+) packets transmitted, (\d+) (packets )?received", r.stdout)
        if not m:
            raise HarnessError(f"cannot read ping output: {r.stdout!r} {r.stderr!r}")
        if int(m.group(1)) != count:
            raise HarnessError(f"ping sent {m.group(1)} requests, not {count}")
        return int(m.group(2))

    # --- servers
    def tcp_server(self, port, addr="0.0.0.0"):
        s = EchoServer(self, "tcp", port, addr)
        self.topo._servers.append(s)
        return s

    def udp_server(self, port, addr="0.0.0.0", echo=True):
        s = EchoServer(self, "udp", port, addr, echo)
        self.topo._servers.append(s)
        return s

    # --- clients
    def tcp_echo(self, dst, port, src=None, timeout=2.0, payload=None):
        """Connect, send a token, read it back. True iff the round trip completed.
        A refused connection attempt with timeout < 1 s sends exactly one SYN (the
        kernel's first retransmission is at 1 s)."""
        payload = payload or f"sgfw-e2e-{random.getrandbits(48):012x}".encode()
        s = self.socket(family(dst), socket.SOCK_STREAM)
        try:
            s.settimeout(timeout)
            if src:
                s.bind((src, 0))
            s.connect((dst, port))
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                data = s.recv(4096)
                if not data:
                    break
                got += data
            return got == payload
        except OSError:
            return False
        finally:
            s.close()

    def udp_echo(self, dst, port, src=None, timeout=1.0, payload=None):
        """Send one datagram, wait for its echo. True iff it came back."""
        payload = payload or f"sgfw-e2e-{random.getrandbits(48):012x}".encode()
        s = self.socket(family(dst), socket.SOCK_DGRAM)
        try:
            if src:
                s.bind((src, 0))
            s.settimeout(timeout)
            s.sendto(payload, (dst, port))
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                s.settimeout(left)
                data, _ = s.recvfrom(65535)
                if data == payload:
                    return True
        except OSError:
            return False
        finally:
            s.close()

    def udp_send(self, dst, port, payload, src=None, count=1, separate=False):
        """Send `count` datagrams from one socket, or (separate) each from a socket of
        its own: a fresh source port, i.e. a new connection for connection tracking."""
        for _ in range(count if separate else 1):
            s = self.socket(family(dst), socket.SOCK_DGRAM)
            try:
                if src:
                    s.bind((src, 0))
                for _ in range(1 if separate else count):
                    s.sendto(payload, (dst, port))
            finally:
                s.close()

    # --- raw frames
    def raw_socket(self):
        s = self.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind(("eth0", 0))
        s.setsockopt(socket.SOL_SOCKET, 32, 16 << 20)  # SO_SNDBUFFORCE
        return s

    def send_frames(self, frames, sock=None, burst=0, pause=0.0):
        """Send raw Ethernet frames (bytes) out of eth0. Returns the number sent.
        burst/pause: sleep `pause` seconds after every `burst` frames (pacing)."""
        own = sock is None
        s = sock or self.raw_socket()
        sent = 0
        try:
            for f in frames:
                if burst and sent and sent % burst == 0:
                    time.sleep(pause)
                while True:
                    try:
                        s.send(f)
                        sent += 1
                        break
                    except (BlockingIOError, InterruptedError):
                        time.sleep(0.0005)
                    except OSError as e:
                        if e.errno == 105:  # ENOBUFS: the device queue is full, wait
                            time.sleep(0.0005)
                            continue
                        raise
        finally:
            if own:
                s.close()
        return sent

    def sniffer(self, outgoing=False):
        return Sniffer(self, outgoing)

    def spawn(self, *argv, log_name=None):
        """Start a program in this namespace (a real server or client: dnsmasq,
        dhclient, radvd). The topology stops it by PID when it ends; stop() earlier."""
        return self.topo.spawn(self.ns, argv, log_name)


class Process:
    """A program started in a namespace; stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(self, ns, argv, log_path):
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(("ip", "netns", "exec", ns) + tuple(argv), stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=_pdeathsig)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=5.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


# ---------------------------------------------------------------------------- topology

class Topology:
    """VM namespaces + internet namespace + sgfwd. Use as a context manager."""

    def __init__(self, name, workers=1, qpairs=None, null_ports=0, ipv6=False):
        """ipv6: the internet namespace keeps IPv6 on (INET6_IP/64, a route to VM6_NET,
        forwarding on: it is the VMs' IPv6 router); default off, as every host."""
        self.name = name
        self.ipv6 = ipv6
        self.workers = workers
        self.qpairs = qpairs if qpairs is not None else (workers if workers > 1 else None)
        self.null_ports = null_ports
        self.pid = os.getpid()
        self.tag = f"{random.randrange(16**5):05x}"
        self.vms = []
        self.remote_vms = []
        self.inet = None
        self.daemon = None
        self.failures = []
        self.cases = 0
        self._sockets = []
        self._servers = []
        self._procs = []
        self._namespaces = []
        self._links = []
        self._if_index = 0
        self.tmp = None

    # --- lifecycle
    def __enter__(self):
        sweep_leftovers()
        self.tmp = tempfile.mkdtemp(prefix=f"sgfw-e2e-{self.name}-")
        try:
            self.inet = self._make_host("inet", [INET_IP] + ([INET6_IP] if self.ipv6 else []), INET_MAC,
                                        "uplink", prefix=24, routes=["10.0.0.0/16"], ipv6=self.ipv6,
                                        routes6=[VM6_NET], router=True)
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        problems = []
        if self.daemon is not None:
            rc = self.stop_daemon()
            if rc != 0:
                problems.append(f"sgfwd did not exit cleanly: {rc}")
        for p in self._procs:
            with contextlib.suppress(Exception):
                p.stop()
        for s in self._servers:
            with contextlib.suppress(Exception):
                s.close()
        for s in self._sockets:
            with contextlib.suppress(Exception):
                s.close()
        for ns in reversed(self._namespaces):
            sh("ip", "netns", "del", ns, check=False)
        for link in self._links:  # normally gone with its namespace's peer
            if os.path.exists(f"/sys/class/net/{link}"):
                sh("ip", "link", "del", link, check=False)
        if self.tmp and not (exc_type or self.failures or problems):
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            if self.daemon is not None:
                log("sgfwd output (last lines):\n" + self.daemon.tail(30))
            log(f"(config, policy and sgfwd's log kept in {self.tmp})")
        if problems:
            self.failures.extend(problems)
            for p in problems:
                log(f"FAIL {p}")
        return False

    # --- building
    def _next_if(self):
        while True:
            self._if_index += 1
            name = f"sg{self.tag}{self._if_index:02d}"  # <= 15 chars
            if not os.path.exists(f"/sys/class/net/{name}"):
                return name

    def _make_host(self, role, ips, mac, port, prefix=VM_PREFIX, routes=(), groups=None,
                   driver=None, silent=False, ipv6=False, slaac=False, routes6=(), router=False):
        ns = f"{NS_PREFIX}{self.pid}-{self.tag}-{role}"
        host_if = self._next_if()
        sh("ip", "netns", "add", ns)
        self._namespaces.append(ns)
        sh("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1", ns=ns)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", ns)
        self._links.append(host_if)
        sh("sysctl", "-q", "-w", f"net.ipv6.conf.{host_if}.disable_ipv6=1")
        sh("sysctl", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=1", ns=ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "address", mac)
        if ipv6:
            self._ipv6_sysctls(ns, slaac, router)
        first4 = first6 = True
        for ip in () if silent else ips:
            if is_ipv6(ip):
                if ipv6 and not slaac:  # else: in the policy only (IPv6 is off in the namespace)
                    sh("ip", "-n", ns, "-6", "addr", "add", f"{ip}/{64 if first6 else 128}", "dev", "eth0",
                       "nodad")
                first6 = False
            else:
                sh("ip", "-n", ns, "addr", "add", f"{ip}/{prefix if first4 else 32}", "dev", "eth0")
                first4 = False
        sh("ethtool", "-K", "eth0", "tx", "off", ns=ns)  # else TCP/UDP checksums stay partial
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        for r in () if silent else routes:
            sh("ip", "-n", ns, "route", "add", r, "dev", "eth0")
        for r in () if silent or not ipv6 or slaac else routes6:
            sh("ip", "-n", ns, "-6", "route", "add", r, "dev", "eth0")
        return Host(self, role, ns, host_if, mac, ips, port, groups, driver, ipv6=ipv6 and not slaac)

    @staticmethod
    def _ipv6_sysctls(ns, slaac, router):
        """IPv6 on for eth0 of an opt-in host, quiet: no DAD, router solicitations or
        RA processing unless `slaac` (then IPv6 stays off until Host.enable_ipv6(), so
        DAD, RS and SLAAC happen while sgfwd runs), MLD reports retransmitted at once
        (before sgfwd starts). `router`: forwarding on (the internet namespace)."""
        c = "net.ipv6.conf.eth0."
        args = [c + "addr_gen_mode=0", c + "mldv1_unsolicited_report_interval=10",
                c + "mldv2_unsolicited_report_interval=10"]
        if router:
            args += ["net.ipv6.conf.all.forwarding=1"]
        if slaac:
            args += [c + "accept_ra=2", c + "autoconf=1", c + "accept_dad=1", c + "dad_transmits=1"]
        else:
            args += [c + "accept_ra=0", c + "autoconf=0", c + "accept_dad=0", c + "dad_transmits=0",
                     c + "router_solicitations=0", c + "disable_ipv6=0"]
        sh("sysctl", "-q", "-w", *args, ns=ns)

    def vm(self, name, ips, groups=None, driver=None, silent=False, pairs=None, ipv6=False, slaac=False):
        """A local VM: its own namespace and port `vm-<name>`; its first address is
        ip/16 on eth0, further ones /32. groups=None: the policy omits securityGroups
        (=> default-allow-egress). silent: the addresses are in the policy only, not on
        eth0, so the VM's kernel never answers (a sniffer still sees what arrives); for
        exact counts with crafted packets. driver: "af_xdp" (default), "af_packet" (its
        sockets join a PACKET_FANOUT group with FLAG_DEFRAG: the kernel reassembles IPv4
        fragments, and holds or drops incomplete trains, before sgfwd sees them) or
        "pcap".
        ipv6 (default off, as for every host: IPv6 frames then never leave the VM's
        stack): IPv6 stays on for eth0, the VM's IPv6 `ips` are configured (the first
        /64, further ones /128, no DAD) with a route to INET6_NET; no RS, DAD or RA
        processing. slaac (implies ipv6): no IPv6 address configured; accept_ra and
        autoconf on, EUI-64 addresses, IPv6 off until Host.enable_ipv6(). With ipv6 off,
        IPv6 `ips` are in the policy only (a silent IPv6 receiver for crafted frames)."""
        if isinstance(ips, str):
            ips = [ips]
        n = len(self.vms) + 1
        mac = f"02:e2:e0:00:{n // 256:02x}:{n % 256:02x}"
        ipv6 = ipv6 or slaac
        h = self._make_host(name, ips, mac, f"vm-{name}", routes=[f"{INET_IP.rsplit('.', 1)[0]}.0/24"],
                            groups=groups, driver=driver, silent=silent, ipv6=ipv6, slaac=slaac,
                            routes6=[INET6_NET])
        h.pairs = pairs  # allowedAddressPairs: [{"ip": ..., "mac": ...}] or None
        self.vms.append(h)
        return h

    def remote_vm(self, name, ips, groups=None):
        """A VM hosted elsewhere (no port). Its addresses are added to the internet
        namespace, so it is reached over the uplink."""
        if isinstance(ips, str):
            ips = [ips]
        for ip in ips:
            sh("ip", "-n", self.inet.ns, "addr", "add", f"{ip}/{128 if is_ipv6(ip) else 32}", "dev", "eth0",
               *(["nodad"] if is_ipv6(ip) else []))
            self.inet.ips.append(ip)
        self.remote_vms.append((name, ips, groups))

    def spawn(self, ns, argv, log_name=None):
        name = log_name or os.path.basename(argv[0])
        p = Process(ns, argv, os.path.join(self.tmp, f"{name}-{len(self._procs)}.log"))
        self._procs.append(p)
        return p

    # --- policy and daemon
    def policy(self, security_groups=(), subnets=()):
        doc = {}
        if subnets:
            doc["subnets"] = [{"name": n, "cidr": c} for n, c in subnets]
        if security_groups:
            doc["securityGroups"] = list(security_groups)
        vms = []
        for h in self.vms:
            v = {"name": h.name, "port": h.port, "mac": h.mac, "ips": h.ips}
            if h.groups is not None:
                v["securityGroups"] = h.groups
            if getattr(h, "pairs", None):
                v["allowedAddressPairs"] = h.pairs
            vms.append(v)
        for name, ips, groups in self.remote_vms:
            v = {"name": name, "ips": ips}
            if groups is not None:
                v["securityGroups"] = groups
            vms.append(v)
        doc["vms"] = vms
        return to_yaml(doc) + "\n"

    def _device(self, index, host_if, driver=None):
        # Several workers need several queues: the harness's veths have one, so
        # multi-worker topologies default to af_packet (qpairs).
        driver = driver or ("af_packet" if self.workers > 1 else DEFAULT_DRIVER)
        if driver == "pcap":
            if self.workers > 1:
                raise HarnessError("net_pcap ports have one queue: use af_packet with workers > 1")
            return f"net_pcap{index},rx_iface_in={host_if},tx_iface={host_if}"
        if driver == "af_xdp":
            if self.workers > 1:
                raise HarnessError("the harness's veths have one queue: use af_packet with workers > 1")
            return f"net_af_xdp{index},iface={host_if}"
        d = f"net_af_packet{index},iface={host_if}"
        if self.qpairs:
            d += f",qpairs={self.qpairs}"
        return d

    def start(self, security_groups=(), subnets=(), policy_text=None, extra_config=None):
        policy_path = os.path.join(self.tmp, "policy.yaml")
        with open(policy_path, "w") as f:
            f.write(policy_text if policy_text is not None else self.policy(security_groups, subnets))
        ports = [{"name": h.port, "device": self._device(i, h.host_if, h.driver)}
                 for i, h in enumerate(self.vms)]
        for i in range(self.null_ports):
            d = f"net_null{i},no-rx=1"
            ports.append({"name": f"spare-{i}", "device": d})
        ports.append({"name": "uplink", "device": self._device(len(self.vms), self.inet.host_if),
                      "uplink": True})
        cfg = {
            "eal": ["--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                    "--file-prefix", f"sgfwe2e{self.pid}{self.tag}", "--log-level=lib.*:error"],
            "ports": ports,
            "workers": self.workers,
            # Idle workers sleep between polls, so the suite's daemons leave the CPU to
            # the tests and the background sanitizer build (docs/testing.md, "CI time").
            "worker_idle_sleep_us": IDLE_SLEEP_US,
            "policy": "policy.yaml",
            "control_socket": os.path.join(self.tmp, "run", "sgfwd.sock"),  # a directory sgfwd creates
        }
        cfg.update(extra_config or {})  # further top-level keys, e.g. metrics
        cfg_path = os.path.join(self.tmp, "sgfwd.yaml")
        with open(cfg_path, "w") as f:
            f.write(to_yaml(cfg) + "\n")
        self.daemon = Daemon(cfg_path, os.path.join(self.tmp, "sgfwd.log"), cfg["control_socket"])
        t0 = time.monotonic()
        self.daemon.start()
        log(f"sgfwd running ({len(ports)} ports, {self.workers} workers) in "
            f"{time.monotonic() - t0:.1f}s")

    def stop_daemon(self):
        rc = self.daemon.stop()
        return rc

    def stats(self):
        return read_stats(self.daemon)

    def assert_alive(self):
        if not self.daemon.alive():
            raise AssertionError(f"sgfwd died (exit {self.daemon.proc.returncode}):\n" + self.daemon.tail())

    # --- checking
    @contextlib.contextmanager
    def case(self, name):
        """One named check: failures are recorded and the next case still runs."""
        self.cases += 1
        t0 = time.monotonic()
        try:
            yield
        except (AssertionError, HarnessError) as e:
            self.failures.append(name)
            log(f"FAIL {name}: {e}")
            if self.daemon is not None and not self.daemon.alive():
                log("sgfwd is gone:\n" + self.daemon.tail())
                raise
        except Exception:
            self.failures.append(name)
            log(f"FAIL {name}: unexpected error\n{traceback.format_exc()}")
        else:
            log(f"ok   {name} ({time.monotonic() - t0:.1f}s)")

    def expect(self, before, expected, quiet=(), timeout=5.0, settle=0.3):
        """Wait until every counter in `expected` ({key: delta}) has moved by at least
        its delta since `before`, let the data plane settle, then assert the deltas are
        exact. `quiet`: ("port", name) / ("vm", name) entities on which no other drop
        reason may have moved. Returns the final Stats."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.stats()
            d = now.delta(before)
            if all(d.get(k, 0) >= v for k, v in expected.items()) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        time.sleep(settle)
        now = self.stats()
        d = now.delta(before)
        wrong = {k: (d.get(k, 0), v) for k, v in expected.items() if d.get(k, 0) != v}
        for kind, name in quiet:
            for r in now.reasons():
                k = (kind, name, r)
                if k not in expected and d.get(k, 0) != 0:
                    wrong[k] = (d[k], 0)
        if wrong:
            lines = [f"    {k}: got {got}, want {want}" for k, (got, want) in sorted(wrong.items(), key=str)]
            raise AssertionError("counter deltas:\n" + "\n".join(lines) +
                                 f"\n    all deltas: {dict(sorted(d.items(), key=str))}")
        return now


def eth_ip(src, dst, src_ip=None, dst_ip=None, src_mac=None, dst_mac=None, **ip_fields):
    """scapy Ether/IP from host `src` to host `dst` (their MACs and first addresses,
    each overridable)."""
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP
    return (Ether(src=src_mac or src.mac, dst=dst_mac or dst.mac) /
            IP(src=src_ip or src.ip, dst=dst_ip or dst.ip, **ip_fields))


def eth_ip6(src, dst, src_ip=None, dst_ip=None, src_mac=None, dst_mac=None, **ip_fields):
    """scapy Ether/IPv6 from host `src` to host `dst` (their MACs and first IPv6
    addresses, each overridable)."""
    from scapy.layers.l2 import Ether
    from scapy.layers.inet6 import IPv6
    return (Ether(src=src_mac or src.mac, dst=dst_mac or dst.mac) /
            IPv6(src=src_ip or src.ip6, dst=dst_ip or dst.ip6, **ip_fields))


def marker(label):
    """A payload unique to this run, to find crafted frames in a capture."""
    return f"SGFWE2E-{label}-{random.getrandbits(32):08x}".encode()


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main(scenario):
    """Entry point of a test file: scenario() builds its Topology and runs its cases."""
    require_environment()

    def on_term(signum, frame):
        raise SystemExit(f"killed by signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    try:
        topo = scenario()
    except SystemExit:
        raise
    except BaseException:
        log(f"FAIL (harness): {traceback.format_exc()}")
        sys.exit(1)
    took = time.monotonic() - t0
    if topo.failures:
        log(f"{len(topo.failures)} of {topo.cases} cases failed ({took:.1f}s): {', '.join(topo.failures)}")
        sys.exit(1)
    log(f"all {topo.cases} cases passed ({took:.1f}s)")
    sys.exit(0)
