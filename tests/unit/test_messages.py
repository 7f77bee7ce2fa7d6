#!/usr/bin/env python3
"""Messages an operator meets without a daemon (issue 16), through the real binaries:
each names the cause and the remedy.

- sgfwctl against a path that is a directory, a regular file, nothing, or a socket
  nobody listens on: exit 3 and what is at the path / what to do;
- a file that cannot be opened: "cannot open FILE: No such file or directory" (errno
  text, no fake file:1:1 location) from sgfwctl check, explain --policy and sgfwd;
- explain --batch skips blank and '#' lines, numbers and echoes a bad line;
- check --config: a VM port not in the daemon configuration is reported at the VM's
  `port` token with the configured ports;
- sgfw-bench traffic refuses an unknown --scenario by name."""
import os
import socket
import subprocess
import sys
import tempfile

BUILD = os.environ.get("SGFW_BUILD_DIR", "build")
SOURCE = os.environ.get("SGFW_SOURCE_DIR", ".")
SGFWCTL = os.path.join(BUILD, "app", "sgfwctl", "sgfwctl")
SGFWD = os.path.join(BUILD, "app", "sgfwd", "sgfwd")
SGFW_BENCH = os.path.join(BUILD, "app", "sgfw-bench", "sgfw-bench")
failures = []


def run(*argv, stdin=None):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, input=stdin)


def expect(name, cond, detail):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"\n     {detail}"), flush=True)
    if not cond:
        failures.append(name)


with tempfile.TemporaryDirectory(prefix="sgfw-messages-") as d:
    r = run(SGFWCTL, "--socket", d, "status")
    expect("socket path is a directory", r.returncode == 3 and "is a directory, not a socket" in r.stderr
           and "--socket " + d + "/sgfwd.sock" in r.stderr, r)
    f = os.path.join(d, "file")
    open(f, "w").close()
    r = run(SGFWCTL, "--socket", f, "status")
    expect("socket path is a regular file", r.returncode == 3 and "is a regular file" in r.stderr
           and "control_socket" in r.stderr, r)
    r = run(SGFWCTL, "--socket", os.path.join(d, "none.sock"), "status")
    expect("no socket at the path", r.returncode == 3 and "is sgfwd running?" in r.stderr
           and "--socket PATH" in r.stderr, r)
    stale = os.path.join(d, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    r = run(SGFWCTL, "--socket", stale, "status")
    expect("stale socket nobody listens on", r.returncode == 3 and "nobody listens" in r.stderr, r)

    missing = os.path.join(d, "nosuchfile.yaml")
    for argv in ([SGFWCTL, "check", missing], [SGFWCTL, "explain", "--policy", missing, "tcp", "10.0.0.1", "10.0.0.2:80"],
                 [SGFWD, "--config", missing, "--check"]):
        r = run(*argv)
        expect(f"unreadable file: {' '.join(argv[1:3])}", r.returncode == 1 and
               f"cannot open {missing}: No such file or directory" in r.stderr and ":1:1:" not in r.stderr, r)

    policy = os.path.join(SOURCE, "conf", "policy.yaml")
    r = run(SGFWCTL, "explain", "--policy", policy, "--batch", "-",
            stdin="# a comment\n\ntcp 10.0.0.10:1 10.0.1.10:8080\n   \nbogus line\n")
    lines = r.stdout.splitlines()
    expect("batch: blank and # lines skipped, a bad line numbered and echoed",
           r.returncode == 1 and len(lines) == 2 and '"verdict":"allow"' in lines[0]
           and '"line":5' in lines[1] and '"input":"bogus line"' in lines[1], r)

    with open(policy) as fh:
        text = fh.read().replace("port: vm-app1", "port: vm-api")
    bad_policy = os.path.join(d, "p.yaml")
    with open(bad_policy, "w") as fh:
        fh.write(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "port: vm-api" in l)
    col = text.splitlines()[line - 1].index("vm-api") + 1
    r = run(SGFWCTL, "check", bad_policy, "--config", os.path.join(SOURCE, "conf", "sgfwd.yaml"))
    expect("check --config: unknown VM port with location and configured ports",
           r.returncode == 1 and f"{bad_policy}:{line}:{col}: VM 'app-1': unknown port 'vm-api'" in r.stderr
           and "vm-web1, vm-app1" in r.stderr, r)

# sgfwd --check finds what the start would: tx queues below workers, a missing
# interface, a policy over the limits (no root: nothing is probed).
with tempfile.TemporaryDirectory(prefix="sgfw-check-") as d:
    def daemon_check(ports, extra="", policy="vms: []\n"):
        with open(os.path.join(d, "p.yaml"), "w") as fh:
            fh.write(policy)
        cfg = os.path.join(d, "d.yaml")
        with open(cfg, "w") as fh:
            fh.write("ports:\n" + "".join(f"  - {{name: {n}, device: \"{dev}\"{', uplink: true' if up else ''}}}\n"
                                          for n, dev, up in ports) + "policy: p.yaml\n" + extra)
        return run(SGFWD, "--config", cfg, "--check")

    r = daemon_check([("vm-a", "net_af_packet0,iface=lo", False), ("uplink", "net_null0", True)], "workers: 2\n")
    expect("--check: tx queues below workers", r.returncode == 1 and "offers 1 tx queue but workers is 2" in r.stderr
           and "add qpairs=2 to the device" in r.stderr, r)
    r = daemon_check([("vm-a", "net_af_xdp0,iface=lo,queue_count=2", False), ("uplink", "net_null0", True)],
                     "workers: 2\n")
    expect("--check: af_xdp queue_count enough for the workers", "tx queue" not in r.stderr, r)
    r = daemon_check([("vm-a", "net_af_xdp0,iface=sgnosuch0", False), ("uplink", "net_null0", True)])
    expect("--check: interface that does not exist", r.returncode == 1 and "interface 'sgnosuch0'" in r.stderr
           and "does not exist" in r.stderr and "ip -br link" in r.stderr, r)
    two = ("vms:\n  - {name: a, port: vm-a, mac: 02:00:00:00:00:01, ips: [10.0.0.1]}\n"
           "  - {name: b, port: vm-a, mac: 02:00:00:00:00:02, ips: [10.0.0.2]}\n")
    r = daemon_check([("vm-a", "net_null1", False), ("uplink", "net_null0", True)],
                     "limits: {local_vms: 1}\n", two)
    expect("--check: limits exceeded", r.returncode == 1 and "limits.local_vms is 1" in r.stderr, r)

# A mistyped scenario is refused before anything runs (it used to measure `established`).
r = run(SGFW_BENCH, "traffic", "--scenario", "deny", "--scenario", "deny-scna")
expect("sgfw-bench: unknown scenario", r.returncode != 0 and "unknown scenario 'deny-scna'" in r.stderr
       and "deny-scan" in r.stderr, r)

print(f"{len(failures)} failed" if failures else "all passed")
sys.exit(1 if failures else 0)
