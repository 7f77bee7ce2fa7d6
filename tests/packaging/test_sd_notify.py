#!/usr/bin/env python3
"""sgfwd's systemd readiness (docs/packaging.md): with NOTIFY_SOCKET set, sgfwd sends
READY=1 only after it printed "sgfwd: running" (first policy compiled, ports started,
control socket open: a status request answers at once), and STOPPING=1 after SIGTERM.
Runs sgfwd with null ports and --no-huge (eal suite). Exits 77 (skipped) when sgfwd was
built without libsystemd."""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(os.environ.get("SGFW_BUILD_DIR", "build"))
SGFWD = os.path.join(BUILD, "app", "sgfwd", "sgfwd")
SGFWCTL = os.path.join(BUILD, "app", "sgfwctl", "sgfwctl")
failures = []


def expect(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"\n     {detail}"), flush=True)
    if not cond:
        failures.append(name)


def built_with_systemd():
    info = os.path.join(BUILD, "meson-info", "intro-dependencies.json")
    try:
        import json
        return any(d.get("name") == "libsystemd" for d in json.load(open(info)))
    except (OSError, ValueError):
        return True


if not built_with_systemd():
    print("SKIP: sgfwd built without libsystemd")
    sys.exit(77)

with tempfile.TemporaryDirectory(prefix="sgfw-notify-") as d:
    with open(os.path.join(d, "p.yaml"), "w") as fh:
        fh.write("vms: []\n")
    ctl = os.path.join(d, "run", "sgfwd.sock")
    cfg = os.path.join(d, "d.yaml")
    with open(cfg, "w") as fh:
        fh.write('eal: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", "sgfw-notify-%d"]\n'
                 % os.getpid() + "ports:\n  - {name: uplink, device: \"net_null0,no-rx=1\", uplink: true}\n"
                 "workers: 1\nmbufs: 2048\nflows: {capacity: 4096, per_vm_limit: 1024}\npolicy: p.yaml\n"
                 "control_socket: " + ctl + "\n")
    notify_path = os.path.join(d, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(notify_path)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, SGFW_LOCK_DIR=d)
    out = open(os.path.join(d, "out"), "w+")
    proc = subprocess.Popen([SGFWD, "--config", cfg], stdout=out, stderr=subprocess.STDOUT, env=env)
    messages = []

    def receive(timeout):
        """The next notification, or None after timeout (or once sgfwd exited)."""
        end = time.time() + timeout
        while time.time() < end:
            if select.select([sock], [], [], 0.2)[0]:
                msg = sock.recv(4096).decode()
                messages.append(msg)
                return msg
            if proc.poll() is not None and not select.select([sock], [], [], 0)[0]:
                return None
        return None

    try:
        ready = receive(60)
        out.flush()
        log = open(os.path.join(d, "out")).read()
        expect("READY=1 sent", ready is not None and "READY=1" in ready, f"{ready!r}; output:\n{log}")
        expect("READY=1 after 'sgfwd: running'", "sgfwd: running" in log, log)
        r = subprocess.run([SGFWCTL, "--socket", ctl, "status"], capture_output=True, text=True, timeout=30)
        expect("the control socket answers once ready", r.returncode == 0, r.stdout + r.stderr)
        proc.send_signal(signal.SIGTERM)
        stopping = receive(30)
        expect("STOPPING=1 after SIGTERM", stopping is not None and "STOPPING=1" in stopping, repr(stopping))
        expect("sgfwd exits 0", proc.wait(timeout=60) == 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
