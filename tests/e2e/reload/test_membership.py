#!/usr/bin/env python3
"""Hot reload, membership: a VM added to a group (by `sgfwctl reload --policy FILE`, by
`sgfwctl vm set-groups`, by editing the configured file and `sgfwctl reload`) is
reachable at once; a VM removed is cut at once, its live connection too (revalidation:
exactly one `revoked`, then `no-rule`); a client added to a group that a server's rule
references (securityGroupRef) gets in. Every accepted change increments the generation
and is persisted (the policy file on disk is the content sent, or the rewritten policy
for set-groups, and status's sha256 is its hash). Rejected changes (unknown group,
unknown VM, a group twice, bad YAML, an unknown group in a file: `file:line:col`) exit 1
and leave the generation, the file and the traffic untouched.

Traffic: one-way UDP streams, one datagram per millisecond from one socket (one 5-tuple)
in the client's namespace to a sink in the server's; each datagram's send and receive
times are kept. For each change the test asserts that the stream's verdict switched
exactly once (the datagrams delivered are a suffix of the stream, or a prefix for a
cut: one queue, one worker, in order) and that every datagram sent after the command
returned got the new verdict, and prints the latency: from the command's start to the
first datagram delivered (or, for a cut, to the first one sent that was not delivered),
with sgfwctl's wall time and the daemon's own enforced_ms. Counters are exact: the client's port received every
datagram sent (static neighbours: no ARP), every one not delivered is one `no-rule` or
`revoked` on the server VM."""
import os
import re

import yaml

import reload_common as rc
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group

GROUPS = [
    group("clients", rule("Egress", "All", cidr="0.0.0.0/0", name="out")),
    group("base", rule("Ingress", "TCP", port=22, cidr="0.0.0.0/0", name="ssh")),
    group("svc", rule("Ingress", "UDP", port=9000, cidr="0.0.0.0/0", name="udp-9000")),
    group("svc2", rule("Ingress", "UDP", port=9001, group="trusted", name="from-trusted")),
    group("trusted"),  # names members only
]

LATENCIES = []


def run_change(t, streams, *cmd, pre=0.3, post=0.3):
    """Start the streams, let them run `pre` s, run sgfwctl `cmd`, `post` s more, stop."""
    try:
        for s in streams:
            s.start()
        e2e.time.sleep(pre)
        r = rc.ctl(t, *cmd)
        e2e.time.sleep(post)
    finally:
        for s in streams:
            s.stop()
    return r


def account(t, before, sent, delivered, revoked_min=0, hits=None):
    """Exact counters for `sent` datagrams from cli to srv of which `delivered` arrived:
    cli's port received all of them, srv's port sent the delivered ones, every other one
    is one drop on cli's port and on srv (no-rule, or revoked for a connection cut: at
    least `revoked_min` of those, else none), and nothing else moved."""
    dropped = sent - delivered
    exp = {("port", "vm-cli", "rx"): sent, ("port", "vm-srv", "tx"): delivered,
           ("port", "vm-cli", "dropped"): dropped, ("vm", "srv", "dropped"): dropped,
           ("vm", "cli", "dropped"): 0, ("port", "vm-srv", "rx"): 0, ("port", "vm-srv", "dropped"): 0,
           ("port", "vm-cli", "tx"): 0, ("vm", "srv", "allowed"): delivered, ("vm", "cli", "allowed"): delivered}
    exp.update(hits or {})
    after = t.expect(before, exp)
    d = after.delta(before)
    nr, rv = d.get(("vm", "srv", "no-rule"), 0), d.get(("vm", "srv", "revoked"), 0)
    check(nr + rv == dropped, f"srv drops: no-rule {nr} + revoked {rv} != {dropped}: {d}")
    check((d.get(("port", "vm-cli", "no-rule"), 0), d.get(("port", "vm-cli", "revoked"), 0)) == (nr, rv),
          f"port vm-cli reasons differ from srv's: {d}")
    if revoked_min:
        check(rv >= revoked_min, f"revoked {rv}, want >= {revoked_min} (one per live connection cut)")
    else:
        check(rv == 0, f"revoked {rv}, want 0")
    e2e.log(f"  counters: {sent} sent = {delivered} delivered + {nr} no-rule + {rv} revoked")
    return d


def switch_point(s, r, opened):
    """The stream's datagrams go through one queue and one worker in order, and a burst
    is judged by one snapshot: the verdict switches exactly once, at datagram k
    (opened: those from k on are delivered, cut: those before k). Every datagram sent
    after the command returned is past the switch (the reply comes after the grace
    period); the switch is not earlier than 100 ms before the command (the stream
    started 300 ms before it)."""
    n = s.n_sent()
    got = sorted(s.received)
    check(n > 0 and got, f"{len(got)} of {n} delivered")
    if opened:
        k = got[0]
        check(got == list(range(k, n)), f"delivered datagrams are not a suffix of the stream: {len(got)} of {n}, "
              f"first {k}, holes {sorted(set(range(k, n)) - set(got))[:10]}")
    else:
        k = got[-1] + 1
        check(got == list(range(0, k)), f"delivered datagrams are not a prefix of the stream: {len(got)} of {n}, "
              f"last {k - 1}, holes {sorted(set(range(k)) - set(got))[:10]}")
    check(0 < k < n, f"no switch: {len(got)} of {n} delivered")
    late = s.sent_between(r.t1, float("inf"))
    check(late and late[0] >= k, f"datagram {late[0] if late else None}, sent after the command returned, "
          f"got the old verdict (switch at {k})")
    check(s.sent[k] > r.t0 - 0.1, f"the verdict switched {1000 * (r.t0 - s.sent[k]):.1f} ms before the command")
    return k


def assert_opened(s, r, what):
    """The stream's verdict switched once, to delivered, before the command returned;
    print the latency (command start -> first datagram delivered)."""
    k = switch_point(s, r, True)
    msg = (f"{what}: first datagram delivered {1000 * (s.received[k] - r.t0):.2f} ms after the command started "
           f"(sent at {1000 * (s.sent[k] - r.t0):+.2f} ms); sgfwctl took {r.wall_ms:.2f} ms; "
           f"daemon enforced_ms {r.json['enforced_ms']:.3f}, total_ms {r.json['total_ms']:.3f}")
    e2e.log("  latency: " + msg)
    LATENCIES.append(msg)


def assert_cut(s, r, what):
    """The stream's verdict switched once, to dropped, before the command returned;
    print the latency (command start -> first datagram not delivered)."""
    k = switch_point(s, r, False)
    msg = (f"{what}: first datagram not delivered was sent {1000 * (s.sent[k] - r.t0):+.2f} ms after the command "
           f"started (the last delivered at {1000 * (s.sent[k - 1] - r.t0):+.2f} ms); sgfwctl took "
           f"{r.wall_ms:.2f} ms; daemon enforced_ms {r.json['enforced_ms']:.3f}, total_ms {r.json['total_ms']:.3f}")
    e2e.log("  latency: " + msg)
    LATENCIES.append(msg)


def accepted(r, gen):
    check(r.rc == 0 and r.json is not None, f"change not accepted: {r}")
    check(r.json.get("generation") == gen, f"reply generation {r.json.get('generation')}, want {gen}")
    for k in ("enforced_ms", "total_ms", "build_ms", "publish_ms"):
        check(isinstance(r.json.get(k), (int, float)), f"reply lacks {k}: {r.json}")


def apply_journal(doc, path):
    """The set-groups journal next to the policy file applied to its parsed content
    (docs/design/update-protocol.md, "The change journal"): what a restart runs."""
    if not os.path.exists(path + ".journal"):
        return doc
    with open(path + ".journal") as f:
        lines = f.read().splitlines()
    for line in lines[1:]:
        _, vm, groups, _crc = line.split(" ")
        for v in doc["vms"]:
            if v["name"] == vm:
                v["securityGroups"] = [] if groups == "-" else groups.split(",")
    return doc


def assert_persisted(t, gen, text=None):
    """status: generation `gen`; the file on disk is `text` (if given) and status's
    sha256 is the file's hash. Returns the parsed file with its journal applied."""
    st = rc.status(t)
    check(st["generation"] == gen, f"status generation {st['generation']}, want {gen}")
    check(st["policy"]["path"] == t.policy_path, f"status policy path {st['policy']['path']} != {t.policy_path}")
    with open(t.policy_path) as f:
        disk = f.read()
    if text is not None:
        check(disk == text, "the policy file on disk is not the content sent")
    check(st["policy"]["sha256"] == rc.sha256_text(disk),
          f"status sha256 {st['policy']['sha256']} != sha256 of the file on disk {rc.sha256_text(disk)}")
    return apply_journal(yaml.safe_load(disk), t.policy_path)


def vm_groups(doc, name):
    return [v for v in doc["vms"] if v["name"] == name][0].get("securityGroups")


def scenario():
    with rc.Topology("rl-membership") as t:
        cli = t.vm("cli", "10.0.1.10", groups=["clients"])
        srv = t.vm("srv", "10.0.1.20", groups=["base"])
        t.start(security_groups=GROUPS)
        rc.pin_neighbours((cli, srv), (srv, cli))
        gen = rc.status(t)["generation"]
        check(gen == 1, f"start generation {gen}")

        with t.case("reload --policy: srv added to svc is reachable at once, file persisted, generation +1"):
            p1 = t.write("p1.yaml", t.policy_with(GROUPS, {"srv": ["base", "svc"]}))
            with open(p1) as f:
                p1_text = f.read()
            before = t.stats()
            s = rc.UdpStream(cli, srv, 9000, label="add-reload")
            r = run_change(t, [s], "reload", "--policy", p1)
            accepted(r, gen + 1)
            gen += 1
            assert_opened(s, r, "reload --policy (add)")
            account(t, before, s.n_sent(), s.n_received(), hits={("rule", "svc/udp-9000"): 1, ("rule", "clients/out"): 1})
            assert_persisted(t, gen, p1_text)

        with t.case("vm set-groups srv base: cut at once, the live connection revoked, a new one no-rule"):
            before = t.stats()
            s = rc.UdpStream(cli, srv, 9000, label="cut-setgroups")
            r = run_change(t, [s], "vm", "set-groups", "srv", "base")
            accepted(r, gen + 1)
            gen += 1
            assert_cut(s, r, "vm set-groups (remove)")
            with rc.Sink(srv, 9002, b"probe") as probe:
                cli.udp_send(srv.ip, 9002, b"probe-new-connection")  # a fresh socket: a new connection
                account(t, before, s.n_sent() + 1, s.n_received(), revoked_min=1,
                        hits={("rule", "svc/udp-9000"): 1})
            check(probe.count() == 0, "the new connection was delivered")
            doc = assert_persisted(t, gen)
            check(vm_groups(doc, "srv") == ["base"], f"file has srv in {vm_groups(doc, 'srv')}")
            check(vm_groups(doc, "cli") == ["clients"], f"file has cli in {vm_groups(doc, 'cli')}")

        with t.case("vm set-groups srv base,svc,svc2: reachable at once on 9000; 9001 still closed to cli"):
            before = t.stats()
            s = rc.UdpStream(cli, srv, 9000, label="add-setgroups")
            r = run_change(t, [s], "vm", "set-groups", "srv", "base,svc,svc2")
            accepted(r, gen + 1)
            gen += 1
            assert_opened(s, r, "vm set-groups (add)")
            with rc.Sink(srv, 9001, b"probe") as probe:
                cli.udp_send(srv.ip, 9001, b"probe-9001")
                account(t, before, s.n_sent() + 1, s.n_received(), hits={("rule", "svc/udp-9000"): 1})
            check(probe.count() == 0, "UDP 9001 from cli (not in trusted) was delivered")
            doc = assert_persisted(t, gen)
            check(vm_groups(doc, "srv") == ["base", "svc", "svc2"], f"file has srv in {vm_groups(doc, 'srv')}")

        with t.case("vm set-groups cli clients,trusted: the remote side's membership opens srv:9001 at once"):
            before = t.stats()
            s = rc.UdpStream(cli, srv, 9001, label="add-remote")
            r = run_change(t, [s], "vm", "set-groups", "cli", "clients,trusted")
            accepted(r, gen + 1)
            gen += 1
            assert_opened(s, r, "vm set-groups of the client (securityGroupRef remote)")
            account(t, before, s.n_sent(), s.n_received(), hits={("rule", "svc2/from-trusted"): 1})
            doc = assert_persisted(t, gen)
            check(vm_groups(doc, "cli") == ["clients", "trusted"], f"file has cli in {vm_groups(doc, 'cli')}")

        with t.case("rejected changes exit 1 with the reason; generation, file and traffic unchanged"):
            st0 = rc.status(t)
            stat0 = os.stat(t.policy_path)
            with open(t.policy_path) as f:
                disk0 = f.read()
            bad_yaml = t.write("bad-yaml.yaml", "securityGroups:\n  - name: [x\nvms: []\n")
            unknown_text = t.policy_with(GROUPS, {"srv": ["base", "nosuch"], "cli": ["clients", "trusted"]})
            unknown = t.write("unknown-group.yaml", unknown_text)
            lines = unknown_text.splitlines()
            ln = next(i for i, l in enumerate(lines) if '"nosuch"' in l)
            col = lines[ln].index('"nosuch"') + 1
            want_unknown = f"{unknown}:{ln + 1}:{col}: unknown security group 'nosuch'"
            ghost_port = t.write("ghost-port.yaml", t.policy_with(GROUPS).replace('"vm-srv"', '"vm-ghost"'))
            check('"vm-ghost"' in open(ghost_port).read(), "test bug: port not replaced")
            logged0 = len(t.log_lines())
            before = t.stats()
            s1 = rc.UdpStream(cli, srv, 9000, label="rej-9000").start()
            s2 = rc.UdpStream(cli, srv, 9001, label="rej-9001").start()
            e2e.time.sleep(0.2)
            rejected = [
                (("vm", "set-groups", "srv", "base,nosuch"), "unknown security group 'nosuch'"),
                (("vm", "set-groups", "ghost", "base"), "unknown VM 'ghost'"),
                (("vm", "set-groups", "srv", "base,base"), "security group 'base' listed twice"),
                (("reload", "--policy", bad_yaml), re.compile(re.escape(bad_yaml) + r":\d+:\d+: \S")),
                (("reload", "--policy", unknown), want_unknown),
                (("reload", "--policy", ghost_port), re.compile(r"vm-ghost")),
            ]
            for args, want in rejected:
                r = rc.ctl(t, *args)
                err = (r.json or {}).get("error", "")
                check(r.rc == 1 and r.json is not None and r.json.get("ok") is False,
                      f"not rejected with exit 1 and {{ok: false}}: {r}")
                ok = want.search(err) if hasattr(want, "search") else err == want
                check(ok, f"{' '.join(args)}: error {err!r}, want {want if isinstance(want, str) else want.pattern!r}")
                e2e.log(f"  rejected as expected: sgfwctl {' '.join(args[:3])} ...: {err}")
            r = rc.ctl(t, "reload", "--policy", bad_yaml, json_out=False)  # the text form: stderr
            check(r.rc == 1 and re.match(re.escape(bad_yaml) + r":\d+:\d+: ", r.err),
                  f"text form: exit {r.rc}, stderr {r.err!r}")
            r = rc.ctl(t, "reload", "--policy", os.path.join(t.tmp, "does-not-exist.yaml"))
            check(r.rc == 1, f"missing file: {r}")
            e2e.time.sleep(0.2)
            s1.stop()
            s2.stop()
            for s in (s1, s2):
                check(s.n_received() == s.n_sent(), f"stream to {s.port}: {s.n_received()} of {s.n_sent()} delivered")
            n = s1.n_sent() + s2.n_sent()
            account(t, before, n, n)
            st1 = rc.status(t)
            check(st1["generation"] == gen == st0["generation"], f"generation moved: {st0['generation']} -> {st1['generation']}")
            check(st1["policy"] == st0["policy"], f"status policy changed: {st0['policy']} -> {st1['policy']}")
            stat1 = os.stat(t.policy_path)
            with open(t.policy_path) as f:
                check(f.read() == disk0, "the policy file changed")
            check((stat1.st_ino, stat1.st_mtime_ns) == (stat0.st_ino, stat0.st_mtime_ns), "the policy file was rewritten")
            new = t.wait_log(lambda ls: sum("rejected" in l for l in ls) >= 7, logged0)
            logged = sum("rejected" in l for l in new)
            check(logged == 7, f"{logged} rejections logged, want 7: {new}")

        with t.case("reload --policy removing srv from svc and svc2: both live connections revoked, new ones no-rule"):
            p2 = t.write("p2.yaml", t.policy_with(GROUPS, {"srv": ["base"], "cli": ["clients", "trusted"]}))
            with open(p2) as f:
                p2_text = f.read()
            before = t.stats()
            s1 = rc.UdpStream(cli, srv, 9000, label="cut-reload-9000")
            s2 = rc.UdpStream(cli, srv, 9001, label="cut-reload-9001")
            r = run_change(t, [s1, s2], "reload", "--policy", p2)
            accepted(r, gen + 1)
            gen += 1
            assert_cut(s1, r, "reload --policy (remove, port 9000)")
            assert_cut(s2, r, "reload --policy (remove, port 9001)")
            with rc.Sink(srv, 9000, b"probe") as p9000, rc.Sink(srv, 9001, b"probe") as p9001:
                cli.udp_send(srv.ip, 9000, b"probe-9000")
                cli.udp_send(srv.ip, 9001, b"probe-9001")
                account(t, before, s1.n_sent() + s2.n_sent() + 2, s1.n_received() + s2.n_received(), revoked_min=2,
                        hits={("rule", "svc/udp-9000"): 1, ("rule", "svc2/from-trusted"): 1})
            check(p9000.count() == 0 and p9001.count() == 0, "a new connection was delivered")
            assert_persisted(t, gen, p2_text)

        with t.case("reload (no --policy) re-reads the edited configured file: srv back in svc at once"):
            p3_text = t.policy_with(GROUPS, {"srv": ["svc", "base"], "cli": ["clients"]})
            with open(t.policy_path, "w") as f:
                f.write(p3_text)
            before = t.stats()
            s = rc.UdpStream(cli, srv, 9000, label="add-reread")
            r = run_change(t, [s], "reload")
            accepted(r, gen + 1)
            gen += 1
            assert_opened(s, r, "reload of the configured file (add)")
            account(t, before, s.n_sent(), s.n_received(), hits={("rule", "svc/udp-9000"): 1})
            assert_persisted(t, gen, p3_text)

        e2e.log("latency summary (command start -> first packet judged by the new policy):")
        for m in LATENCIES:
            e2e.log("  " + m)
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
