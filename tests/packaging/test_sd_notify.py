#!/usr/bin/env python3
"""What `systemctl start` and `systemctl reload` of sgfwd.service do, emulated where
systemd is not PID 1 (docs/packaging.md, "Checked without systemd"):

- the unit's ExecStart= command line (binaries of the build directory in place of the
  installed ones) on the example configuration conf/sgfwd.yaml and conf/policy.yaml,
  its ports turned into net_null devices (no interfaces needed), with NOTIFY_SOCKET on
  a socket the test reads, and WATCHDOG_USEC/WATCHDOG_PID as systemd sets them for
  WatchdogSec= (2 s here, so the test is short);
- READY=1 comes after "sgfwd: running" (first policy compiled, ports started, control
  socket open: a status request answers at once);
- WATCHDOG=1 arrives every second (half of WATCHDOG_USEC) while the workers run;
- the unit's ExecReload= line (sgfwctl reload, with --socket for the test's socket)
  after a change of the policy file: exit 0, generation 2; after a broken policy file:
  non-zero exit, generation still 2;
- STOPPING=1 after SIGTERM (systemctl stop), exit 0.

Runs sgfwd with null ports and --no-huge (eal suite). Exits 77 (skipped) when sgfwd was
built without libsystemd."""
import json
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

import yaml

BUILD = os.path.abspath(os.environ.get("SGFW_BUILD_DIR", "build"))
SOURCE = os.path.abspath(os.environ.get("SGFW_SOURCE_DIR", "."))
SGFWD = os.path.join(BUILD, "app", "sgfwd", "sgfwd")
SGFWCTL = os.path.join(BUILD, "app", "sgfwctl", "sgfwctl")
WATCHDOG_USEC = 2_000_000
failures = []


def expect(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"\n     {detail}"), flush=True)
    if not cond:
        failures.append(name)


def built_with_systemd():
    info = os.path.join(BUILD, "meson-info", "intro-dependencies.json")
    try:
        return any(d.get("name") == "libsystemd" for d in json.load(open(info)))
    except (OSError, ValueError):
        return True


def unit_lines():
    """ExecStart= and ExecReload= of the unit, as argv lists."""
    text = open(os.path.join(SOURCE, "systemd", "sgfwd.service")).read()
    out = {}
    for key in ("ExecStart", "ExecReload"):
        m = re.search(rf"^{key}=(.*)$", text, re.M)
        out[key] = shlex.split(m.group(1)) if m else None
    return out


def example_config(d):
    """conf/sgfwd.yaml with null ports, a private EAL prefix and control socket."""
    cfg = yaml.safe_load(open(os.path.join(SOURCE, "conf", "sgfwd.yaml")))
    for i, p in enumerate(cfg["ports"]):
        p["device"] = f"net_null{i},no-rx=1"
    eal = cfg["eal"]
    eal[eal.index("--file-prefix") + 1] = f"sgfw-notify-{os.getpid()}"
    cfg["flows"]["capacity"] = 4096  # the example's 1M entries need more than -m 512
    cfg["flows"]["per_vm_limit"] = 1024
    cfg["control_socket"] = os.path.join(d, "run", "sgfwd.sock")
    with open(os.path.join(d, "policy.yaml"), "w") as fh:
        fh.write(open(os.path.join(SOURCE, "conf", "policy.yaml")).read())
    path = os.path.join(d, "sgfwd.yaml")
    with open(path, "w") as fh:
        yaml.safe_dump(cfg, fh)
    return path, cfg["control_socket"]


if not built_with_systemd():
    print("SKIP: sgfwd built without libsystemd")
    sys.exit(77)

unit = unit_lines()
expect("the unit has ExecStart= and ExecReload=", unit["ExecStart"] and unit["ExecReload"], unit)
if failures:
    sys.exit(1)

with tempfile.TemporaryDirectory(prefix="sgfw-notify-") as d:
    cfg, ctl = example_config(d)
    installed = {"/usr/sbin/sgfwd": SGFWD, "/usr/bin/sgfwctl": SGFWCTL, "/etc/sgfw/sgfwd.yaml": cfg}
    start = [installed.get(a, a) for a in unit["ExecStart"]]
    reload_cmd = [installed.get(a, a) for a in unit["ExecReload"]]
    reload_cmd[1:1] = ["--socket", ctl]  # the unit relies on the default socket path
    expect("ExecStart runs the build's sgfwd on the example config", start[0] == SGFWD and cfg in start, start)
    notify_path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    # The device locks and the control socket share one directory that does not exist yet,
    # as /run/sgfw does on a fresh machine with the example configuration (the locks made
    # it 0755 and the socket server refused it, before b1ade88).
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, SGFW_LOCK_DIR=os.path.dirname(ctl),
               WATCHDOG_USEC=str(WATCHDOG_USEC))
    out = open(os.path.join(d, "out"), "w+")
    # WATCHDOG_PID: the process systemd started, i.e. sgfwd after the exec.
    proc = subprocess.Popen(["/bin/sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh"] + start, stdout=out,
                            stderr=subprocess.STDOUT, env=env)
    messages = []

    def receive(timeout, want):
        """The next notification holding `want` (others are kept in messages), or None."""
        end = time.time() + timeout
        while time.time() < end:
            if select.select([sock], [], [], 0.2)[0]:
                msg = sock.recv(4096).decode()
                messages.append((time.monotonic(), msg))
                if want in msg:
                    return msg
            elif proc.poll() is not None:
                return None
        return None

    def log():
        out.flush()
        return open(os.path.join(d, "out")).read()

    def ctl_run(*argv):
        return subprocess.run([SGFWCTL, "--socket", ctl] + list(argv), capture_output=True, text=True, timeout=60)

    def generation():
        r = ctl_run("--json", "status")
        return json.loads(r.stdout)["generation"] if r.returncode == 0 else None

    try:
        ready = receive(120, "READY=1")
        expect("READY=1 sent", ready is not None, f"{messages!r}; output:\n{log()}")
        expect("READY=1 after 'sgfwd: running'", "sgfwd: running" in log(), log())
        expect("the control socket answers once ready", generation() == 1, log())
        # Pings every WATCHDOG_USEC/2 = 1 s; count those of a 6 s window.
        t0 = time.monotonic()
        while time.monotonic() - t0 < 6.0:
            receive(6.0 - (time.monotonic() - t0), "WATCHDOG=1")
        pings = [t for t, m in messages if "WATCHDOG=1" in m and t >= t0]
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        expect("WATCHDOG=1 about every second while the workers run (5 to 7 in 6 s)", 5 <= len(pings) <= 7,
               f"{len(pings)} pings, gaps {gaps}; output:\n{log()}")
        expect("no two pings closer than 0.9 s", all(g >= 0.9 for g in gaps), gaps)
        expect("sgfwd says it pings", "sgfwd: watchdog: WATCHDOG=1 every 1000 ms" in log(), log())
        # systemctl reload: ExecReload= after an edit of the policy file.
        policy = os.path.join(d, "policy.yaml")
        text = open(policy).read()
        expect("the example policy has port 8080", "port: 8080" in text)
        with open(policy, "w") as fh:
            fh.write(text.replace("port: 8080", "port: 8081"))
        r = subprocess.run(reload_cmd, capture_output=True, text=True, timeout=120)
        expect("ExecReload (sgfwctl reload) exits 0", r.returncode == 0, r.stdout + r.stderr)
        expect("the change applies: generation 2", generation() == 2, log())
        with open(policy, "w") as fh:
            fh.write("securityGroups: [{name: x, rules: [{direction: Sideways}]}]\n")
        r = subprocess.run(reload_cmd, capture_output=True, text=True, timeout=120)
        expect("ExecReload of a broken policy fails (systemctl reload reports it)", r.returncode != 0,
               r.stdout + r.stderr)
        expect("the running policy stays: generation 2", generation() == 2, log())
        proc.send_signal(signal.SIGTERM)
        stopping = receive(30, "STOPPING=1")
        expect("STOPPING=1 after SIGTERM", stopping is not None, repr(messages[-3:]))
        expect("sgfwd exits 0", proc.wait(timeout=60) == 0, log())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
