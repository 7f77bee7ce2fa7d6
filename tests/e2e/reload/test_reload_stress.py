#!/usr/bin/env python3
"""Hot reload stress: for 30 s one thread sends random changes (valid and invalid
`reload --policy`, valid and invalid `vm set-groups`) while three other threads call
`stats`, `status`, `flows` and `explain` in a loop, and two UDP streams run:

- every valid change is accepted (exit 0) with the next generation, every invalid one
  rejected with exit 1 and `{"ok": false}` (policy errors located `file:line:col`);
- readers never fail, see generations that never go back, and `explain` always gives
  the invariant verdicts (every valid policy allows UDP a -> b:7000, none allows
  a -> c:7999);
- the stream a -> b:7000 (one tracked connection, revalidated at every generation)
  loses nothing; every datagram of a -> c:7999 is a `no-rule` drop;
- at the end the daemon is up, status's generation is 1 + the number accepted and its
  policy.sha256 is that of the last accepted content (and of the file on disk), and the
  live verdicts equal the offline ones on that file.

SGFW_E2E_SEED=<n> replays a run (the seed is printed)."""
import os
import random
import re
import threading
import time

import reload_common as rc
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group

DURATION = float(os.environ.get("SGFW_E2E_STRESS_S", "30"))
GROUP_POOL = ["g-alpha", "g-beta", "g-gamma", "g-delta", "g-eps", "g-zeta"]
BUILTIN = ["default-allow-egress", "default-allow-ssh", "default-allow-web-protocols"]
INVARIANT = [
    group("inv-out", rule("Egress", "UDP", port=7000, cidr="10.0.1.20/32", name="to-b")),
    group("inv-in", rule("Ingress", "UDP", port=7000, cidr="10.0.1.10/32", name="from-a")),
]
# Probes for explain: (line, verdict) true in every valid policy.
PROBES = [("udp 10.0.1.10:5555 10.0.1.20:7000", "allow"), ("udp 10.0.1.10:5555 10.0.1.30:7999", "deny")]


class Gen:
    """Random valid policies over the topology's VMs, and invalid variants."""

    def __init__(self, t, rng):
        self.t, self.rng = t, rng

    def rule(self, names, subnets):
        rng = self.rng
        direction = rng.choice(["Ingress", "Egress"])
        protos = ["TCP", "UDP", "ICMP"] + (["All"] if direction == "Egress" else [])
        proto = rng.choice(protos)
        kw = {}
        # Ingress TCP/UDP rules always have ports below 7000: no valid policy opens c's 7999.
        if proto in ("TCP", "UDP") and (direction == "Ingress" or rng.random() < 0.8):
            if rng.random() < 0.6:
                kw["port"] = rng.randrange(1000, 7000)
            else:
                lo = rng.randrange(1000, 6900)
                kw["port_range"] = (lo, lo + rng.randrange(0, 99))
        r = rng.random()
        if r < 0.4:
            bits = rng.choice([8, 16, 24, 32])
            addr = rng.getrandbits(32) & (0xffffffff << (32 - bits)) & 0xffffffff
            kw["cidr"] = ".".join(str(addr >> s & 255) for s in (24, 16, 8, 0)) + f"/{bits}"
        elif r < 0.6 and subnets:
            kw["subnet"] = rng.choice(subnets)[0]
        else:
            kw["group"] = rng.choice(names + BUILTIN)
        return rule(direction, proto, **kw)

    def valid(self):
        """(policy text, {vm: groups}, [group names])."""
        rng = self.rng
        names = sorted(rng.sample(GROUP_POOL, rng.randrange(1, len(GROUP_POOL) + 1)))
        subnets = [(f"net-{i}", f"10.{i}.0.0/16") for i in range(rng.randrange(0, 3))]
        groups = []
        for n in names:
            rules = []
            for i in range(rng.randrange(0, 5)):
                r = self.rule(names, subnets)
                if rng.random() < 0.5:
                    r = dict(name=f"r{i}", **r)
                rules.append(r)
            g = group(n, *rules)
            if rng.random() < 0.3:
                g["description"] = f"random group {n}"
            groups.append(g)
        member = {
            "a": ["inv-out"] + self.pick(names),
            "b": ["inv-in"] + self.pick(names),
            "c": self.pick(names),
            "r": self.pick(names),
        }
        for k in member:
            rng.shuffle(member[k])
        return self.t.policy_with(INVARIANT + groups, member, subnets), member, names + ["inv-out", "inv-in"]

    def pick(self, names):
        pool = names + BUILTIN
        return self.rng.sample(pool, self.rng.randrange(0, min(3, len(pool)) + 1))

    def invalid(self):
        """(text, description, expected error regex or None for 'located')."""
        text, member, names = self.valid()
        orig = text
        lines = text.splitlines(keepends=True)
        kind = self.rng.choice(["unknown-group", "unknown-ref", "icmp-port", "range", "host-bits", "dup-group",
                                "unknown-key", "syntax", "vm-port", "reserved", "dup-address", "bad-name"])
        if kind == "unknown-group":
            text = text.replace('securityGroups: ["', 'securityGroups: ["no-such-group", "', 1)
        elif kind == "unknown-ref":
            text = text.replace('address:\n            IPAddressOrCIDR: "10.0.1.20/32"',
                                'securityGroupRef:\n            name: "no-such-group"', 1)
        elif kind == "icmp-port":
            text = text.replace('protocol: "UDP"\n        port: 7000', 'protocol: "ICMP"\n        port: 7000', 1)
        elif kind == "range":
            text = text.replace('port: 7000', 'portRange: "7000-6000"', 1)
        elif kind == "host-bits":
            text = text.replace('"10.0.1.20/32"', '"10.0.1.20/24"', 1)
        elif kind == "dup-group":
            text = text.replace('- name: "inv-in"', '- name: "inv-out"', 1)
        elif kind == "unknown-key":
            text = text.replace('direction: "Egress"', 'direction: "Egress"\n        remtoe: 1', 1)
        elif kind == "syntax":
            i = self.rng.randrange(1, len(lines))
            text = "".join(lines[:i]) + "  - name: [unclosed\n" + "".join(lines[i:])
        elif kind == "vm-port":
            text = text.replace('"vm-c"', '"vm-nosuch"', 1)
            assert text != orig, "test bug: mutation vm-port changed nothing"
            return text, kind, re.compile(r"unknown port 'vm-nosuch'")
        elif kind == "reserved":
            text = text.replace('- name: "inv-in"', '- name: "default-allow-ssh"', 1)
        elif kind == "dup-address":
            text = text.replace('"10.0.1.30"', '"10.0.1.20"', 1)
        elif kind == "bad-name":
            text = text.replace('- name: "inv-in"', '- name: "Inv_In"', 1)
        assert text != orig, f"test bug: mutation {kind} changed nothing"
        return text, kind, None


def scenario():
    seed = int(os.environ.get("SGFW_E2E_SEED", random.randrange(1 << 32)))
    e2e.log(f"seed {seed} (SGFW_E2E_SEED={seed} replays)")
    rng = random.Random(seed)
    with rc.Topology("rl-stress") as t:
        a = t.vm("a", "10.0.1.10", groups=["inv-out"])
        b = t.vm("b", "10.0.1.20", groups=["inv-in"])
        c = t.vm("c", "10.0.1.30", groups=[])
        t.remote_vm("r", "10.0.9.9")
        t.start(security_groups=INVARIANT)
        rc.pin_neighbours((a, b), (a, c))
        gen = Gen(t, rng)
        t0_text = open(t.policy_path).read()

        with t.case(f"{DURATION:.0f} s of random changes with concurrent stats/status/flows/explain and traffic"):
            stop = threading.Event()
            reader_errors = []
            reader_calls = [0, 0, 0]

            def reader(idx, calls):
                last_gen = 0
                while not stop.is_set():
                    for args, want_rc in calls:
                        r = rc.ctl(t, *args)
                        reader_calls[idx] += 1
                        if r.rc != want_rc:
                            reader_errors.append(f"{args}: {r}")
                            continue
                        j = r.json or {}
                        g = j.get("generation")
                        if g is not None:
                            if g < last_gen:
                                reader_errors.append(f"{args}: generation went back {last_gen} -> {g}")
                            last_gen = g
                        if args[0] == "explain":
                            want = "allow" if want_rc == 0 else "deny"
                            if j.get("verdict") != want:
                                reader_errors.append(f"{args}: {j}")
                        if args[0] == "flows" and not isinstance(j.get("flows"), list):
                            reader_errors.append(f"{args}: {j}")

            readers = [
                threading.Thread(target=reader, args=(0, [(("stats",), 0)]), daemon=True),
                threading.Thread(target=reader, args=(1, [(("status",), 0), (("flows", "--limit", "10"), 0)]),
                                 daemon=True),
                threading.Thread(target=reader, args=(2, [(("explain",) + tuple(PROBES[0][0].split()), 0),
                                                           (("explain",) + tuple(PROBES[1][0].split()), 1)]),
                                 daemon=True),
            ]
            before = t.stats()
            ok_stream = rc.UdpStream(a, b, 7000, interval=0.002, label="ok").start()
            deny_stream = rc.UdpStream(a, c, 7999, interval=0.002, label="deny").start()
            for th in readers:
                th.start()
            counts = {"reload": 0, "reload-invalid": 0, "set-groups": 0, "set-groups-invalid": 0}
            kinds = {}
            accepted, problems = 0, []
            last_text = t0_text
            current = {"a": ["inv-out"], "b": ["inv-in"], "c": [], "r": None}
            current_names = ["inv-out", "inv-in"]
            expect_gen = 1
            n = 0
            deadline = time.monotonic() + DURATION
            try:
                while time.monotonic() < deadline:
                    n += 1
                    x = rng.random()
                    if x < 0.4:
                        text, member, names = gen.valid()
                        path = t.write(f"valid-{n % 4}.yaml", text)
                        r = rc.ctl(t, "reload", "--policy", path)
                        counts["reload"] += 1
                        if r.rc == 0 and r.json and r.json.get("generation") == expect_gen + 1:
                            accepted += 1
                            expect_gen += 1
                            last_text, current, current_names = text, member, names
                        else:
                            problems.append(f"valid reload #{n} not accepted: {r}")
                            break
                    elif x < 0.7:
                        text, kind, want = gen.invalid()
                        path = t.write(f"invalid-{n % 4}.yaml", text)
                        r = rc.ctl(t, "reload", "--policy", path)
                        counts["reload-invalid"] += 1
                        kinds[kind] = kinds.get(kind, 0) + 1
                        err = (r.json or {}).get("error", "")
                        located = want is None and re.match(re.escape(path) + r":\d+:\d+: \S", err)
                        if r.rc != 1 or not r.json or r.json.get("ok") is not False or \
                                not (located or (want is not None and want.search(err))):
                            problems.append(f"invalid reload #{n} ({kind}): {r}")
                    elif x < 0.9:
                        vm = rng.choice(["a", "b", "c"])
                        pool = current_names + BUILTIN
                        groups = rng.sample(pool, rng.randrange(0, min(3, len(pool)) + 1))
                        keep = {"a": "inv-out", "b": "inv-in"}.get(vm)
                        if keep and keep not in groups:
                            groups.append(keep)
                        if vm == "c":
                            groups = [g for g in groups if g != "inv-in"]
                        r = rc.ctl(t, "vm", "set-groups", vm, ",".join(groups) if groups else "-")
                        counts["set-groups"] += 1
                        if r.rc == 0 and r.json and r.json.get("generation") == expect_gen + 1:
                            accepted += 1
                            expect_gen += 1
                            current[vm] = groups
                            last_text = None  # rewritten by the daemon
                        else:
                            problems.append(f"valid set-groups #{n} not accepted: {r}")
                            break
                    else:
                        vm = rng.choice(["a", "b", "c", "ghost"])
                        if vm == "ghost":
                            groups, want = ["inv-in"], "unknown VM 'ghost'"
                        elif rng.random() < 0.5:
                            groups, want = ["inv-in", "no-such-group"], "unknown security group 'no-such-group'"
                        else:
                            groups, want = ["inv-in", "inv-in"], "security group 'inv-in' listed twice"
                        r = rc.ctl(t, "vm", "set-groups", vm, ",".join(groups))
                        counts["set-groups-invalid"] += 1
                        if r.rc != 1 or (r.json or {}).get("error") != want:
                            problems.append(f"invalid set-groups #{n}: {r}, want {want!r}")
                    if n % 5 == 0:  # the file on disk is what runs
                        st = rc.status(t)
                        disk = rc.sha256_file(t.policy_path)
                        if st["generation"] != expect_gen or st["policy"]["sha256"] != disk:
                            problems.append(f"after #{n}: status generation {st['generation']} (want {expect_gen}), "
                                            f"sha256 {st['policy']['sha256']} (disk {disk})")
                    if len(problems) > 10:
                        break
                # Finish on a valid reload whose content we know.
                text, member, names = gen.valid()
                path = t.write("final.yaml", text)
                r = rc.ctl(t, "reload", "--policy", path)
                if r.rc == 0 and r.json.get("generation") == expect_gen + 1:
                    accepted += 1
                    expect_gen += 1
                    last_text = text
                    counts["reload"] += 1
                else:
                    problems.append(f"final reload not accepted: {r}")
                time.sleep(0.3)
            finally:
                stop.set()
                for th in readers:
                    th.join(30)
                ok_stream.stop()
                deny_stream.stop()
            e2e.log(f"  {n + 1} changes: {counts}; invalid reload kinds: {dict(sorted(kinds.items()))}")
            e2e.log(f"  accepted {accepted}; reader calls: stats {reader_calls[0]}, status+flows {reader_calls[1]}, "
                    f"explain {reader_calls[2]}")
            for p in problems[:10]:
                e2e.log("  problem: " + p)
            check(not problems, f"{len(problems)} changes misjudged")
            for p in reader_errors[:5]:
                e2e.log("  reader error: " + p)
            check(not reader_errors, f"{len(reader_errors)} reader calls failed")
            check(min(counts.values()) > 0, f"some change kind never ran: {counts}")
            t.assert_alive()

            st = rc.status(t)
            check(st["generation"] == 1 + accepted, f"status generation {st['generation']}, want 1 + {accepted}")
            check(st["policy"]["sha256"] == rc.sha256_text(last_text),
                  f"status sha256 {st['policy']['sha256']} is not the last accepted content's {rc.sha256_text(last_text)}")
            check(rc.sha256_file(t.policy_path) == rc.sha256_text(last_text), "the file on disk is not the last accepted")

            # Traffic: the invariant stream lost nothing, the denied one never passed.
            sent_ok, got_ok = ok_stream.n_sent(), ok_stream.n_received()
            sent_no, got_no = deny_stream.n_sent(), deny_stream.n_received()
            e2e.log(f"  streams: a->b:7000 {got_ok}/{sent_ok} delivered, a->c:7999 {got_no}/{sent_no} delivered")
            check(got_ok == sent_ok and sent_ok > 0, f"a->b:7000: {got_ok} of {sent_ok} delivered")
            check(got_no == 0 and sent_no > 0, f"a->c:7999: {got_no} of {sent_no} delivered")
            d = t.expect(before, {("port", "vm-a", "rx"): sent_ok + sent_no, ("port", "vm-b", "tx"): sent_ok,
                                  ("port", "vm-a", "dropped"): sent_no, ("port", "vm-a", "no-rule"): sent_no,
                                  ("port", "vm-c", "tx"): 0}).delta(before)
            check(d.get(("vm", "b", "dropped"), 0) == 0, f"b dropped: {d}")

        with t.case("the live verdicts are those of the last accepted file (explain live == explain --policy)"):
            probes = []
            for src in ("10.0.1.10", "10.0.1.20", "10.0.1.30", "10.0.9.9", "10.1.2.3", "203.0.113.7"):
                for dst in ("10.0.1.10", "10.0.1.20", "10.0.1.30", "10.0.9.9"):
                    if src == dst:
                        continue
                    for p in ("tcp", "udp"):
                        for port in (22, 80, 443, 1500, 3000, 5000, 6500, 7000, 7999):
                            probes.append(f"{p} {src}:4000 {dst}:{port}")
                    probes.append(f"icmp {src} {dst}")
                    probes.append(f"47 {src} {dst}")
            stdin = "\n".join(probes) + "\n"
            live = rc.ctl(t, "explain", "--batch", "-", json_out=False, stdin=stdin)
            offline = rc.ctl(t, "explain", "--policy", t.policy_path, "--batch", "-", json_out=False, stdin=stdin)
            check(live.rc == 0 and offline.rc == 0, f"live {live}, offline {offline}")
            ll, ol = live.out.splitlines(), offline.out.splitlines()
            check(len(ll) == len(probes) == len(ol), f"{len(ll)} / {len(ol)} answers for {len(probes)} probes")
            diff = [(p, x, y) for p, x, y in zip(probes, ll, ol) if x != y]
            check(not diff, f"{len(diff)} verdicts differ, first: {diff[:2]}")
            allowed = sum('"verdict":"allow"' in x.replace(" ", "") for x in ll)
            e2e.log(f"  {len(probes)} probes agree ({allowed} allowed)")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
