#!/usr/bin/env python3
"""Fail closed across start and restart (docs/daemon.md, "Start-up order (fail
closed)"; catalogue R07): sgfwd compiles and publishes the policy before any port
starts, so no frame passes unjudged.

A flood runs from the internet namespace before sgfwd starts and on through the cases:
crafted UDP frames to a denied port of the VM (each carrying one marker) and TCP SYNs
to its allowed port 80 (another marker), every 2 ms. A sniffer in the VM's namespace
counts what arrives.
1. sgfwd starts during the flood: no denied frame ever arrives; allowed SYNs do once it
   runs, and the uplink counts the denied ones as `no-rule`.
2. sgfwd is killed (SIGKILL) and started again during the flood: still none.
3. sgfwd is started on an invalid policy during the flood: it exits non-zero, naming
   the bad key, and nothing at all arrives meanwhile (no allowed SYN either).
4. the policy fixed, sgfwd starts again during the flood: allowed SYNs pass, denied
   frames still never.
"""
import os
import signal
import threading
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group

DENIED_PORT = 7001


class Flood:
    """Crafted frames from the internet namespace to the VM, alternating a denied UDP
    datagram and an allowed TCP SYN (from a fresh source port), until stopped."""

    def __init__(self, inet, vm):
        from scapy.layers.inet import TCP, UDP
        from scapy.packet import Raw
        self.denied = e2e.marker("denied")
        self.allowed = e2e.marker("allowed")
        self.udp = bytes(e2e.eth_ip(inet, vm) / UDP(sport=40000, dport=DENIED_PORT) / Raw(self.denied))
        self.syns = [bytes(e2e.eth_ip(inet, vm) / TCP(sport=20000 + i, dport=80, flags="S") / Raw(self.allowed))
                     for i in range(4000)]
        self.sock = inet.raw_socket()
        self.sent = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        i = 0
        while not self.stop_event.is_set():
            self.sock.send(self.udp)
            self.sock.send(self.syns[i % len(self.syns)])
            i += 1
            self.sent = i
            time.sleep(0.002)

    def stop(self):
        self.stop_event.set()
        self.thread.join(2)
        self.sock.close()


def restart(t, log_name):
    """A new sgfwd on the topology's configuration (the old one already gone)."""
    t.daemon.stop()
    d = e2e.Daemon(t.daemon.config_path, os.path.join(t.tmp, log_name), t.daemon.socket)
    t.daemon = d
    return d


def scenario():
    with e2e.Topology("startup") as t:
        vm = t.vm("a", "10.0.1.10", groups=["web"], silent=True)  # the sniffer sees; no stack answers
        inet = t.inet
        with vm.sniffer() as snif:
            flood = Flood(inet, vm)
            try:
                time.sleep(0.5)  # the flood runs before sgfwd does
                with t.case("start during a flood: no denied frame passes, allowed ones do once running"):
                    t.start(security_groups=[group("web", rule("Ingress", "TCP", cidr="0.0.0.0/0", port=80))])
                    time.sleep(1.0)
                    check(snif.count(flood.denied) == 0, f"{snif.count(flood.denied)} denied frames arrived")
                    check(snif.count(flood.allowed) > 0, "no allowed SYN arrived: the flood or the sniffer is broken")
                    s = t.stats()
                    check(s[("port", "uplink", "no-rule")] > 0, "no denied frame was judged while running")

                with t.case("killed and started again during the flood: still no denied frame"):
                    os.kill(t.daemon.proc.pid, signal.SIGKILL)
                    t.daemon.proc.wait(5)
                    restart(t, "sgfwd-restarted.log").start()
                    before = snif.count(flood.allowed)
                    time.sleep(1.0)
                    check(snif.count(flood.denied) == 0, f"{snif.count(flood.denied)} denied frames arrived")
                    check(snif.count(flood.allowed) > before, "no allowed SYN after the restart")

                policy_path = os.path.join(t.tmp, "policy.yaml")
                with open(policy_path) as f:
                    valid = f.read()
                with t.case("an invalid policy during the flood: sgfwd exits non-zero, nothing passes"):
                    t.daemon.stop()
                    with open(policy_path, "a") as f:
                        f.write("typo: true\n")  # an unknown top-level key
                    time.sleep(0.3)
                    before_allowed, before_denied = snif.count(flood.allowed), snif.count(flood.denied)
                    d = restart(t, "sgfwd-invalid.log")
                    try:
                        d.start(timeout=30.0)
                        check(False, "sgfwd ran on an invalid policy")
                    except e2e.HarnessError as e:
                        check("exited with" in str(e) and d.proc.returncode != 0, f"unexpected: {e}")
                        check("typo" in str(e), f"the error does not name the key:\n{e}")
                    time.sleep(0.5)
                    check(snif.count(flood.allowed) == before_allowed and snif.count(flood.denied) == before_denied,
                          "frames arrived while sgfwd refused its policy")

                with t.case("the policy fixed: sgfwd starts during the flood, allowed frames pass again"):
                    with open(policy_path, "w") as f:
                        f.write(valid)
                    before = snif.count(flood.allowed)
                    restart(t, "sgfwd-fixed.log").start()
                    time.sleep(1.0)
                    check(snif.count(flood.denied) == 0, f"{snif.count(flood.denied)} denied frames arrived")
                    check(snif.count(flood.allowed) > before, "no allowed SYN after the fix")
            finally:
                flood.stop()
        check(flood.sent > 500, f"the flood sent only {flood.sent} pairs")
    return t


if __name__ == "__main__":
    e2e.main(scenario)
