#!/usr/bin/env python3
"""set-groups is durable when it is acknowledged (docs/design/update-protocol.md, "The
change journal"), with the real sgfwd on net_null ports (no namespaces, no traffic):

1. set-groups, then SIGKILL sgfwd right after the reply; the restart runs the change
   (explain answers by it), replayed from the journal.
2. a journal whose middle record is damaged: sgfwd refuses to start, naming the file,
   the line and the bad checksum, and leaves the policy file alone.
3. a journal whose last record is cut short: sgfwd starts without it, with a note.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

import sgfw_e2e as e2e

POLICY = """securityGroups:
  - name: web
    rules:
      - {name: http, direction: Ingress, protocol: TCP, port: 80, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
  - name: ops
    rules:
      - {name: ssh, direction: Ingress, protocol: TCP, port: 22, remote: {address: {IPAddressOrCIDR: 0.0.0.0/0}}}
vms:
  - {name: a, port: vm-a, mac: '02:00:00:00:00:0a', ips: [10.0.0.10], securityGroups: [web]}
  - {name: b, port: vm-b, mac: '02:00:00:00:00:0b', ips: [10.0.0.11], securityGroups: [web]}
"""
SSH_TO_B = "tcp 203.0.113.7:40000 10.0.0.11:22"


def call(sock_path, cmd, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall((json.dumps({"cmd": cmd, "args": args}) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


def ssh_allowed(sock_path):
    r = call(sock_path, "explain", {"packets": [SSH_TO_B]})
    e2e.check(r.get("ok"), f"explain failed: {r}")
    res = r["result"]["results"][0]
    return res.get("allowed", res.get("verdict") == "allow")


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    return c ^ 0xFFFFFFFF


def record(vm, groups):
    body = f"set-groups {vm} {','.join(groups) or '-'}"
    return f"{body} {crc32c(body.encode()):08x}\n"


def main():
    if os.geteuid() != 0:
        e2e.log("SKIP: needs root (sgfwd's device locks under /run/sgfw)")
        sys.exit(e2e.SKIP)
    tmp = tempfile.mkdtemp(prefix="sgfw-journal-e2e.")
    policy = os.path.join(tmp, "policy.yaml")
    journal = policy + ".journal"
    sock = os.path.join(tmp, "run", "sgfwd.sock")  # a directory sgfwd makes its own
    cfg = os.path.join(tmp, "sgfwd.yaml")
    tag = f"sgj{os.getpid()}"
    with open(cfg, "w") as f:
        f.write(f'eal: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", "{tag}", '
                f'"--log-level=lib.*:error"]\n'
                f'ports:\n  - {{name: vm-a, device: "net_null0,no-rx=1"}}\n'
                f'  - {{name: vm-b, device: "net_null1,no-rx=1"}}\n'
                f'  - {{name: uplink, device: "net_null2,no-rx=1", uplink: true}}\n'
                f'workers: 1\npolicy: policy.yaml\ncontrol_socket: {sock}\nflows: {{capacity: 4096}}\n')
    with open(policy, "w") as f:
        f.write(POLICY)
    failures = 0

    def case(name, fn):
        nonlocal failures
        try:
            fn()
            e2e.log(f"PASS {name}")
        except Exception as ex:  # noqa: BLE001
            failures += 1
            e2e.log(f"FAIL {name}: {ex}")

    def start():
        d = e2e.Daemon(cfg, os.path.join(tmp, f"sgfwd-{time.monotonic_ns()}.log"), sock)
        d.start()
        return d

    def killed_after_reply():
        d = start()
        try:
            e2e.check(not ssh_allowed(sock), "ssh to b allowed before the change")
            r = call(sock, "set-groups", {"vm": "b", "groups": ["web", "ops"]})
            os.kill(d.proc.pid, signal.SIGKILL)  # right after the reply
            e2e.check(r.get("ok"), f"set-groups rejected: {r}")
        finally:
            d.stop()
        with open(policy) as f:
            e2e.check(f.read() == POLICY, "the policy file was rewritten by set-groups")
        d = start()
        try:
            e2e.check(ssh_allowed(sock), "after the restart, ssh to b is not allowed: the change was lost")
            e2e.check(any("1 journaled change(s) replayed" in l for l in d.lines), d.tail())
            with open(journal) as f:
                e2e.check(f.read() == f"sgfw-journal 1 {hashlib.sha256(POLICY.encode()).hexdigest()}\n"
                          + record("b", ["web", "ops"]), "the journal does not hold exactly the change")
        finally:
            d.stop()

    def damaged_middle_refused():
        with open(policy) as f:
            text = f.read()
        sha = hashlib.sha256(text.encode()).hexdigest()
        bad = record("b", ["web"]).replace(" web ", " wxb ")  # checksum no longer matches
        with open(journal, "w") as f:
            f.write(f"sgfw-journal 1 {sha}\n" + record("a", ["ops"]) + bad + record("a", ["web"]))
        d = e2e.Daemon(cfg, os.path.join(tmp, "refused.log"), sock)
        try:
            d.start(timeout=20)
            raise AssertionError("sgfwd started from a damaged journal")
        except e2e.HarnessError:
            pass
        finally:
            d.stop()
        e2e.check(d.returncode not in (0, None), f"exit {d.returncode}")
        e2e.check(any(f"{journal}: line 3: bad checksum" in l for l in d.lines), d.tail())
        with open(policy) as f:
            e2e.check(f.read() == text, "the policy file changed")

    def torn_tail_left_out():
        with open(policy) as f:
            text = f.read()
        sha = hashlib.sha256(text.encode()).hexdigest()
        with open(journal, "w") as f:
            f.write(f"sgfw-journal 1 {sha}\n" + record("b", ["web"]) + record("b", ["web", "ops"])[:-9])
        d = start()
        try:
            e2e.check(not ssh_allowed(sock), "the torn record was applied")
            e2e.check(any("line 3 is cut short" in l for l in d.lines), d.tail())
        finally:
            d.stop()

    case("set-groups, SIGKILL after the reply, restart: the change is in force", killed_after_reply)
    case("a damaged middle record: sgfwd refuses to start with file, line and reason", damaged_middle_refused)
    case("a torn last record: left out with a note", torn_tail_left_out)
    shutil.rmtree(tmp, ignore_errors=True)
    e2e.log(f"{3 - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
