#!/usr/bin/env python3
"""A new operator's traps and messages (issue 16), against a running sgfwd:

- checksum offload: with TX checksum offload on in a VM's namespace, `sgfwd --check`
  and a starting sgfwd warn, naming the namespace, the interface and the command that
  turns it off; with it off (the harness's setting) nothing is said;
- one daemon per interface: `sgfwd --check` names the running daemon that holds the
  interfaces; a second sgfwd on the same interfaces with another control
  socket exits non-zero saying the interface is used by another sgfwd (pid, lock file,
  remedy); the first keeps forwarding; the lock directory comes from SGFW_LOCK_DIR;
- a port whose interface does not exist: `sgfwd --check` and a start both say so and
  how to list/create interfaces (not "Operation not permitted");
- set-groups: "", ",", "a,,b" are errors on the client (exit 2) and, sent raw over the
  socket, on the daemon; the VM keeps its groups; " g1, g2" is trimmed and accepted;
- reload --policy with a VM on a port the daemon lacks: the file's line and column
  and the configured VM ports;
- stats --vm of an unknown VM and a "limit" that is not a non-negative integer are
  errors; --limit -5 is a usage error;
- status says where the running policy is persisted; persisting keeps the file's mode;
- flows: a table for people (no raw JSON, rounded durations, VMs at both ends, rule
  names); after a reload that keeps the rule, connections decided by the previous
  generation still show the rule's name, not "generation N rule #id";
- explain takes VM names and TYPE/CODE on the command line, and says "no rule ...
  allows it" instead of "rule: null"; --batch skips blank and '#' lines and numbers and
  echoes a bad one;
- sgfwctl run by a user outside control_group is told how to get in."""
import json
import re
import os
import socket
import stat
import subprocess
import time

import yaml

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group


def ctl(t, *args, json_out=False, prefix=(), stdin=None):
    argv = list(prefix) + [e2e.SGFWCTL, "--socket", t.daemon.socket] + (["--json"] if json_out else []) + \
        [str(a) for a in args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30, input=stdin)
    return r


def raw(t, obj):
    """One request over the control socket, without sgfwctl's own checks."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.connect(t.daemon.socket)
        s.sendall((json.dumps(obj) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        return json.loads(buf.split(b"\n")[0])
    finally:
        s.close()


def groups_of(t, vm):
    with open(os.path.join(t.tmp, "policy.yaml")) as f:
        doc = yaml.safe_load(f)
    for v in doc.get("vms", []):
        if v["name"] == vm:
            return v.get("securityGroups", [])
    raise AssertionError(f"VM {vm} not in the persisted policy")


def scenario():
    with e2e.Topology("operator") as t:
        os.environ["SGFW_LOCK_DIR"] = os.path.join(t.tmp, "locks")
        a = t.vm("a", "10.0.1.10", groups=["web", "ssh-in"])
        b = t.vm("b", "10.0.1.11", groups=["app"])
        sgs = [group("web", rule("Egress", "All", cidr="0.0.0.0/0", name="out")),
               group("ssh-in", rule("Ingress", "TCP", port=22, cidr="0.0.0.0/0", name="ssh")),
               group("app", rule("Ingress", "TCP", port=8080, group="web", name="http-from-web"),
                     rule("Ingress", "UDP", port=9000, group="web", name="udp-from-web"),
                     rule("Egress", "All", cidr="0.0.0.0/0", name="out"))]
        t.start(security_groups=sgs)
        cfg_path = t.daemon.config_path
        policy_path = os.path.join(t.tmp, "policy.yaml")
        srv = b.tcp_server(8080)
        usrv = b.udp_server(9000)

        with t.case("no checksum warning when TX checksum offload is off in the namespaces"):
            started = "\n".join(t.daemon.lines)
            check("checksum" not in started, f"start-up output: {started}")
            check("note: control_group is not set in" in started, f"missing control_group not logged: {started}")
            r = subprocess.run([e2e.SGFWD, "--config", cfg_path, "--check"], capture_output=True, text=True, timeout=60)
            check(r.returncode == 0 and "checksum" not in r.stdout + r.stderr, f"--check: {r}")
            check(f"is in use by sgfwd pid {t.daemon.proc.pid}" in r.stdout, f"--check did not name the running daemon: {r}")

        e2e.sh("ethtool", "-K", "eth0", "tx", "on", ns=a.ns)
        with t.case("TX checksum offload on in VM a's namespace: sgfwd --check warns with the fix"):
            r = subprocess.run([e2e.SGFWD, "--config", cfg_path, "--check"], capture_output=True, text=True, timeout=60)
            out = r.stdout + r.stderr
            check(r.returncode == 0, f"--check: {r}")
            check("warning: port 'vm-a': TX checksum offload is on for 'eth0' in network namespace" in out, out)
            check(f"ip netns exec {a.ns} ethtool -K eth0 tx off" in out, out)
            check("receiver drops" in out, out)
            check("warning: port 'vm-b'" not in out, f"warned about b too: {out}")
            # The same for net_af_xdp ports (the recommended type): --check reads the devargs only.
            with open(cfg_path) as f:
                xdp = yaml.safe_load(f)
            for i, p in enumerate(xdp["ports"]):
                iface = p["device"].split("iface=")[1].split(",")[0]
                p["device"] = f"net_af_xdp{i},iface={iface}"
            xdp_cfg = os.path.join(t.tmp, "xdp.yaml")
            xdp["policy"] = policy_path
            with open(xdp_cfg, "w") as f:
                yaml.safe_dump(xdp, f)
            r = subprocess.run([e2e.SGFWD, "--config", xdp_cfg, "--check"], capture_output=True, text=True, timeout=60)
            check(r.returncode == 0 and "warning: port 'vm-a': TX checksum offload is on" in r.stdout, f"af_xdp: {r}")

        second_cfg = os.path.join(t.tmp, "second.yaml")
        with open(cfg_path) as f:
            doc = yaml.safe_load(f)
        doc["control_socket"] = os.path.join(t.tmp, "second.sock")
        doc["eal"] = [x if not x.startswith("sgfwe2e") else x + "b" for x in doc["eal"]]
        doc["policy"] = policy_path
        with open(second_cfg, "w") as f:
            yaml.safe_dump(doc, f)
        with t.case("a second sgfwd on the same interfaces refuses to start; the first keeps forwarding"):
            r = subprocess.run([e2e.SGFWD, "--config", second_cfg], capture_output=True, text=True, timeout=60)
            out = r.stdout + r.stderr
            check(r.returncode != 0, f"second sgfwd exit {r.returncode}: {out}")
            check("is already used by another sgfwd (pid " + str(t.daemon.proc.pid) + ")" in out, out)
            check("Stop the other sgfwd first" in out, out)
            check(os.path.join(t.tmp, "locks", "dev-iface-") in out, f"lock dir not from SGFW_LOCK_DIR: {out}")
            check("TX checksum offload is on" in out, f"start-up did not warn: {out}")
            check(not os.path.exists(doc["control_socket"]), "second daemon left a socket")
            t.assert_alive()
        e2e.sh("ethtool", "-K", "eth0", "tx", "off", ns=a.ns)
        with t.case("the first daemon still forwards TCP"):
            check(a.tcp_echo(b.ip, 8080, timeout=3.0), "TCP a -> b:8080 failed")

        with t.case("a port on an interface that does not exist: --check and start say so, with the remedy"):
            doc2 = dict(doc)
            doc2["ports"] = [dict(p) for p in doc["ports"]]
            doc2["ports"][0]["device"] = "net_af_packet9,iface=sgnosuch0"
            bad = os.path.join(t.tmp, "nosuch.yaml")
            with open(bad, "w") as f:
                yaml.safe_dump(doc2, f)
            for argv in ([e2e.SGFWD, "--config", bad, "--check"], [e2e.SGFWD, "--config", bad]):
                r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
                out = r.stdout + r.stderr
                check(r.returncode == 1, f"{argv}: exit {r.returncode}: {out}")
                check("interface 'sgnosuch0'" in out and "does not exist" in out and "ip -br link" in out, out)
                check("Operation not permitted" not in out, out)

        with t.case("set-groups with an empty or malformed list is refused (client and daemon); the VM keeps its groups"):
            for bad in ("", ",", "a,,b", "web,"):
                r = ctl(t, "vm", "set-groups", "a", bad)
                check(r.returncode == 2 and "'-'" in r.stderr, f"set-groups {bad!r}: {r}")
            for groups in ([""], ["web", ""], [" "]):
                j = raw(t, {"cmd": "set-groups", "args": {"vm": "a", "groups": groups}})
                check(not j["ok"] and "empty security group name" in j["error"], f"daemon took {groups}: {j}")
            check(groups_of(t, "a") == ["web", "ssh-in"], f"groups now {groups_of(t, 'a')}")

        with t.case("set-groups ' web, ssh-in' is trimmed and accepted; the policy file keeps its mode"):
            os.chmod(policy_path, 0o644)
            r = ctl(t, "vm", "set-groups", "a", " web, ssh-in")
            check(r.returncode == 0 and "ms" in r.stdout, f"{r}")
            check(groups_of(t, "a") == ["web", "ssh-in"], f"groups now {groups_of(t, 'a')}")
            mode = stat.S_IMODE(os.stat(policy_path).st_mode)
            check(mode == 0o644, f"policy mode {oct(mode)}")

        with t.case("reload --policy with a VM on an unknown port: file:line:col and the configured ports"):
            with open(policy_path) as f:
                text = f.read()
            bad = os.path.join(t.tmp, "edited.yaml")
            with open(bad, "w") as f:
                f.write(text.replace("vm-b", "vm-nope"))
            line = next(i for i, l in enumerate(text.replace("vm-b", "vm-nope").splitlines(), 1) if "vm-nope" in l)
            r = ctl(t, "reload", "--policy", bad)
            check(r.returncode == 1 and f"{bad}:{line}:" in r.stderr and "unknown port 'vm-nope'" in r.stderr
                  and "VM ports of" in r.stderr and "vm-a, vm-b" in r.stderr, f"{r}")

        with t.case("stats --vm nope and a bad limit are errors"):
            r = ctl(t, "stats", "--vm", "nope")
            check(r.returncode == 1 and "unknown VM 'nope'" in r.stderr, f"{r}")
            r = ctl(t, "flows", "--limit", "-5")
            check(r.returncode == 2, f"{r}")
            for lim in ("x", -5, 1.5):
                j = raw(t, {"cmd": "flows", "args": {"limit": lim}})
                check(not j["ok"] and "limit" in j["error"], f"limit {lim!r}: {j}")

        with t.case("status says where the running policy is persisted"):
            r = ctl(t, "status", json_out=True)
            j = json.loads(r.stdout)
            check(j["policy"]["persisted_to"] == policy_path, f"{j['policy']}")
            r = ctl(t, "status")
            check(f"persisted to {policy_path}" in r.stdout, r.stdout)
            e2e.log("  sgfwctl status:\n" + "\n".join("    " + l for l in r.stdout.splitlines()))
            check("% of the time" in r.stdout, r.stdout)
            check(re.search(r"rule checks from the cache \d+ of \d+", r.stdout) is not None, r.stdout)

        with t.case("flows: a table with rule names, also after a reload that keeps the rule"):
            check(a.udp_echo(b.ip, 9000, timeout=2.0), "UDP a -> b:9000 failed")
            r = ctl(t, "reload")
            check(r.returncode == 0, f"reload: {r}")
            r = ctl(t, "flows")
            out = r.stdout
            e2e.log("  sgfwctl flows:\n" + "\n".join("    " + l for l in out.splitlines()))
            check(r.returncode == 0 and "{" not in out, out)
            check("generation" not in out and "rule #" not in out, f"rule not resolved:\n{out}")
            check("app/udp-from-web" in out and "web/out" in out, out)
            check("SRC VM" in out and " a " in out.replace("\n", " ") + " ", out)
            j = json.loads(ctl(t, "flows", json_out=True).stdout)
            udp = [f for f in j["flows"] if f["proto"] == 17 and f["dport"] == 9000]
            check(udp and udp[0]["ingress_rule"] == "app/udp-from-web" and udp[0]["dst_vm"] == "b", f"{udp}")
            check(len(str(udp[0]["age_s"]).split(".")[-1]) <= 3, f"age_s {udp[0]['age_s']}")

        with t.case("explain takes VM names and TYPE/CODE; no 'rule: null'"):
            r = ctl(t, "explain", "tcp", "a:40000", "b:8080")
            check(r.returncode == 0 and "app/http-from-web" in r.stdout, f"{r}")
            r = ctl(t, "explain", "tcp", "b:40000", "a:8080")
            check(r.returncode == 1 and "null" not in r.stdout and "no rule" in r.stdout, f"{r}")
            r = ctl(t, "explain", "icmp", "b", "a", "3/4", json_out=True)
            check(r.returncode == 1 and json.loads(r.stdout)["verdict"] == "deny", f"{r}")
            r = ctl(t, "explain", "tcp", "nope:1", "a:22")
            check(r.returncode == 2 and "unknown VM 'nope'" in r.stderr, f"{r}")
            r = ctl(t, "explain", "--batch", "-", stdin="# live batch\n\ntcp a:1 b:8080\nicmp b a 3/4\nnonsense\n")
            lines = [json.loads(l) for l in r.stdout.splitlines()]
            check(r.returncode == 1 and len(lines) == 3 and lines[0]["verdict"] == "allow"
                  and lines[1]["verdict"] == "deny" and lines[2]["line"] == 5 and lines[2]["input"] == "nonsense"
                  and lines[2]["error"].startswith("line 5: "), f"{r}")

        with t.case("a user outside control_group is told how to get in"):
            r = ctl(t, "status", prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
            check(r.returncode == 3, f"{r}")
            check("Permission denied" in r.stderr and "only root and members of" in r.stderr
                  and "usermod -aG" in r.stderr, r.stderr)
    return t


if __name__ == "__main__":
    e2e.main(scenario)
