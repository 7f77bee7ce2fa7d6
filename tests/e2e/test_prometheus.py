#!/usr/bin/env python3
"""A real Prometheus server (Debian's `prometheus`) scrapes sgfwd (docs/metrics.md):
after exactly A allowed UDP datagrams, D TCP SYNs denied by policy (`no-rule`) and S
frames with a spoofed source (`spoofed`) from VM a, Prometheus' HTTP API returns those
exact counts (as deltas over what it had scraped before the traffic, and equal to
`sgfwctl stats`), and `up{job="sgfw"}` is 1.

Prometheus runs on loopback with a 1 s scrape interval and its own temporary storage;
the test starts it and stops it by PID (SIGTERM, then SIGKILL), also on failure."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group, eth_ip, marker
from scapy.layers.inet import TCP, UDP

ALLOWED = 5  # UDP datagrams to the allowed port 7000
DENIED = 7   # TCP SYNs to port 7001: no rule
SPOOFED = 3  # frames from an address that is not VM a's
WAIT = 60.0  # seconds for a sample to reach Prometheus on a loaded machine


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Prometheus:
    """prometheus scraping 127.0.0.1:<metrics_port> every second, job "sgfw"."""

    def __init__(self, tmp, metrics_port):
        self.port = free_port()
        self.dir = os.path.join(tmp, "prometheus")
        os.makedirs(os.path.join(self.dir, "data"))
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: sgfw\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{metrics_port}']\n")
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=e2e._pdeathsig)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def tail(self, n=15):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def wait_ready(self, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, f"prometheus exited {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"prometheus not ready after {timeout:.0f}s:\n{self.tail()}")

    def query(self, expr):
        """The instant vector of `expr`: {frozenset(labels): value}."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        check(body.get("status") == "success", f"query {expr}: {body}")
        return {frozenset((k, v) for k, v in s["metric"].items() if k not in ("job", "instance")): float(s["value"][1])
                for s in body["data"]["result"]}

    def value(self, expr):
        """The one sample of `expr`, or None while Prometheus has none."""
        res = self.query(expr)
        check(len(res) <= 1, f"{expr}: {len(res)} series")
        return next(iter(res.values())) if res else None

    def wait_value(self, expr, want, timeout=WAIT):
        """Polls until `expr` is exactly `want`; then two more scrapes must agree."""
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = self.value(expr)
            if got == want:
                time.sleep(2.5)  # two more scrapes: the value must not overshoot
                got = self.value(expr)
                check(got == want, f"{expr}: {got} after it was {want} (overshoot)")
                return
            time.sleep(0.25)
        raise AssertionError(f"{expr}: {got} after {timeout:.0f}s, want {want}")


def scenario():
    if shutil.which("prometheus") is None:
        raise AssertionError("prometheus is not installed (scripts/deps.sh installs Debian's prometheus)")
    metrics_port = free_port()
    with e2e.Topology("prometheus") as t:
        a = t.vm("a", "10.0.1.10", groups=["out7000"])
        inet = t.inet
        t.start(security_groups=[group("out7000", rule("Egress", "UDP", cidr="0.0.0.0/0", port=7000))],
                extra_config={"metrics": {"listen": f"127.0.0.1:{metrics_port}"}})
        prom = Prometheus(t.tmp, metrics_port)
        try:
            with t.case("prometheus scrapes sgfwd: up{job=\"sgfw\"} == 1"):
                prom.wait_ready()
                prom.wait_value('up{job="sgfw"}', 1.0)
                prom.wait_value('sgfw_policy_generation{job="sgfw"}', 1.0)
            allowed_q = 'sgfw_vm_allowed_packets_total{job="sgfw",vm="a"}'
            norule_q = 'sgfw_vm_drops_total{job="sgfw",vm="a",reason="no-rule"}'
            spoofed_q = 'sgfw_port_drops_total{job="sgfw",port="vm-a",reason="spoofed"}'
            with t.case(f"{ALLOWED} allowed, {DENIED} no-rule, {SPOOFED} spoofed: exact in Prometheus"):
                inet.udp_server(7000, echo=False)  # a sink: nothing comes back to a
                base = {}
                for q in (allowed_q, norule_q, spoofed_q):
                    deadline = time.monotonic() + WAIT
                    while (base.get(q) is None) and time.monotonic() < deadline:
                        base[q] = prom.value(q)
                        time.sleep(0.25)
                    check(base[q] is not None, f"no sample of {q} before the traffic")
                before = t.stats()
                m = marker("prom")
                frames = [bytes(eth_ip(a, inet) / UDP(sport=41000 + i, dport=7000) / m) for i in range(ALLOWED)]
                frames += [bytes(eth_ip(a, inet) / TCP(sport=42000 + i, dport=7001, flags="S")) for i in range(DENIED)]
                frames += [bytes(eth_ip(a, inet, src_ip="10.0.9.9") / UDP(sport=43000, dport=7000) / m)
                           for _ in range(SPOOFED)]
                a.send_frames(frames)
                after = t.expect(before, {("vm", "a", "allowed"): ALLOWED, ("vm", "a", "no-rule"): DENIED,
                                          ("port", "vm-a", "no-rule"): DENIED, ("port", "vm-a", "spoofed"): SPOOFED,
                                          ("vm", "a", "spoofed"): SPOOFED},
                                 quiet=[("port", "vm-a"), ("vm", "a")])
                prom.wait_value(allowed_q, base[allowed_q] + ALLOWED)
                prom.wait_value(norule_q, base[norule_q] + DENIED)
                prom.wait_value(spoofed_q, base[spoofed_q] + SPOOFED)
                # The same absolute numbers as sgfwctl stats (nothing else moved: quiet above).
                for q, key in ((allowed_q, ("vm", "a", "allowed")), (norule_q, ("vm", "a", "no-rule")),
                               (spoofed_q, ("port", "vm-a", "spoofed"))):
                    got = prom.value(q)
                    check(got == after[key], f"{q} = {got}, sgfwctl stats says {after[key]}")
                check(prom.value('up{job="sgfw"}') == 1.0, "up went to 0")
        finally:
            prom.stop()
        check(prom.proc.returncode is not None, "prometheus still running")
        return t


if __name__ == "__main__":
    e2e.main(scenario)
