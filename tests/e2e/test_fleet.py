#!/usr/bin/env python3
"""Issue 14 end to end: two sgfwd appliances follow one policy in a real 3-member etcd
cluster (docs/fleet.md; docs/testing.md, "The fleet test").

Topology: edge-1 hosts a1 (group client) and a2 (group other), edge-2 hosts b1 (group
server: TCP 5000 and ICMP from group client only). The two uplinks share one bridge
(fleet_rig.join_uplinks), so a1 reaches b1 through both firewalls, and b1's ingress on
edge-2 knows a1 as a member of client only through etcd.

1. `sgfwctl policy push` of a fleet file (every VM with its `appliance`): 6 puts; both
   appliances reach its revision; a1 -> b1 ping and TCP pass, a2 -> b1 is dropped at
   edge-2 (no-rule, exact counts).
2. `sgfwctl vm set-groups a1 other` on edge-1 (its reply means enforced on edge-1)
   cuts a1 -> b1 at edge-2; set-groups back to client restores it.
3. 50 changes (25 new groups written to etcd, 25 set-groups of a2 through edge-1) with
   the etcd leader killed after 25, while a1 pings b1 every 50 ms: both appliances end
   at etcd's final revision, their `etcd: applied revision` lines strictly increase
   (nothing twice), each has exactly 25 more groups (nothing lost), a2's last groups
   are enforced, and no echo request is lost (tolerance 0).
4. All etcd members stopped: both show connected false and keep enforcing; edge-2's
   sgfwd restarted comes up on its persisted copy at the last revision; etcd started
   again: both reconnect, and a set-groups written then is enforced on edge-2.
5. edge-2 SIGSTOPped, its etcd member killed, changes written and compacted: after
   SIGCONT edge-2 logs the compaction and a full reload, and converges.
6. An unknown group on a VM and a bad subnet CIDR written straight into etcd: both
   appliances refuse the revision naming the key, count it, keep serving.

Exit 77 only without root/namespaces (sgfw_e2e) or without the etcd binary.
"""
import json
import re
import signal
import sys
import time

import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group
import etcd_cluster
import fleet_rig as fr
from fleet_rig import Edge

PREFIX = "/sgfw/"
NET = "10.0.0.0/16"
GROUPS = [
    group("client", rule("Egress", "All", cidr=NET, name="out"), rule("Ingress", "All", cidr=NET, name="in")),
    group("other", rule("Egress", "All", cidr=NET, name="out"), rule("Ingress", "All", cidr=NET, name="in")),
    group("server", rule("Ingress", "TCP", port=5000, group="client", name="tcp-from-client"),
          rule("Ingress", "ICMP", group="client", name="icmp-from-client"),
          rule("Egress", "All", cidr=NET, name="replies")),
]
STREAM = 50


def start_both(edges, urls):
    """Both sgfwd launched at once (from this thread: fleet_rig.Daemon), then awaited."""
    for e in edges:
        e.start_etcd(urls, PREFIX, wait=False)
    for e in edges:
        e.daemon.wait_running(40)


def reaches(a1, b1, e2_):
    """a1 -> b1 passes: 3 of 3 echo replies and one TCP round trip, whose close has
    finished on b1's side."""
    got = a1.ping(b1.ip, count=3, interval=0.1)
    check(got == 3, f"{a1.name} -> {b1.name}: {got} of 3 echo replies")
    check(a1.tcp_echo(b1.ip, 5000), f"{a1.name} -> {b1.name}:5000 TCP round trip failed")
    closed_at(b1, 5000)


def closed_at(server, port, timeout=5.0):
    """Waits until `server` holds no connection on `port` but its listener. b1 closes
    the echo connection second (LAST-ACK until a1's final ACK): until that ACK is in,
    its kernel may retransmit its FIN, and a FIN that reaches an edge-2 restarted or
    paused since would be counted there as no-connection in a later case's quiet check."""
    deadline = time.monotonic() + timeout
    while True:
        r = server.run("ss", "-Htan", f"sport = :{port}")
        left = [l for l in r.stdout.splitlines() if l.split() and l.split()[0] not in ("LISTEN", "TIME-WAIT")]
        if not left:
            return
        check(time.monotonic() < deadline, f"{server.name}: connections on port {port} not closed: {left}")
        time.sleep(0.05)


def denied_at_edge2(src, b1, edge2):
    """src -> b1 dropped by b1's rules on edge-2: 3 echo requests, 0 replies, exactly
    3 no-rule drops on b1 there."""
    before = edge2.stats()
    got = src.ping(b1.ip, count=3, interval=0.1, wait=0.3)
    check(got == 0, f"{src.name} -> {b1.name}: {got} echo replies, want 0")
    edge2.expect(before, {("vm", "b1", "no-rule"): 3}, quiet=[("vm", "b1")])


def applied_revisions(edge):
    return [int(m.group(1)) for l in edge.log_lines(r"etcd: applied revision \d+")
            for m in [re.search(r"etcd: applied revision (\d+)", l)]]


def set_groups(edge, vm, *groups, attempts=3):
    """sgfwctl vm set-groups through `edge` (the daemon writes etcd); retried (and said)
    only if the daemon reports an error, e.g. while etcd elects a leader."""
    for i in range(attempts):
        r = fr.ctl(edge, "vm", "set-groups", vm, ",".join(groups) or "-", check=False)
        if r.returncode == 0:
            return i
        e2e.log(f"     set-groups {vm} attempt {i + 1}: exit {r.returncode}: {r.stderr.strip()}")
        time.sleep(0.2)
    raise AssertionError(f"set-groups {vm} failed {attempts} times: {r.stderr.strip()}")


def ping_stream(host, dst):
    return host.spawn("ping", "-n", "-i", "0.05", "-W", "1", dst, log_name="stream-ping")


def stream_loss(proc, seconds):
    """Stops the continuous ping with SIGINT; the echo sequence numbers that got no
    reply among 1..the last one answered, and that last one."""
    proc.proc.send_signal(signal.SIGINT)
    proc.stop()
    seqs = sorted({int(m) for m in re.findall(r"icmp_seq=(\d+) ttl", proc.output())})
    last = seqs[-1] if seqs else 0
    check(last >= seconds / 0.05 * 0.5, f"the stream ping got only {last} replies in {seconds:.1f}s")
    return sorted(set(range(1, last + 1)) - set(seqs)), last


def scenario():
    if not etcd_cluster.have_etcd():
        e2e.log("SKIP: no etcd binary (Debian etcd-server; scripts/deps.sh installs it)")
        sys.exit(e2e.SKIP)
    with etcd_cluster.EtcdCluster(3) as cluster, Edge("edge-1", 1) as e1:
        e2 = Edge("edge-2", 2)
        e2.failures = e1.failures  # one list: edge-2's exit problems count, its files are kept on failure
        try:
            with e2:
                run(cluster, e1, e2)
        finally:
            if e1.failures:
                e2e.log("etcd members (last lines):\n" + cluster.logs(8))
    return e1


def run(cluster, e1, e2):
    a1 = e1.vm("a1", "10.0.1.10", groups=["client"])
    a2 = e1.vm("a2", "10.0.1.20", groups=["other"])
    b1 = e2.vm("b1", "10.0.2.10", groups=["server"])
    fr.join_uplinks([e1, e2])
    start_both([e1, e2], cluster.urls)
    edges = [e1, e2]
    b1.tcp_server(5000)
    t = e1  # the cases are recorded on edge-1's topology

    with t.case("1: policy push of a fleet file; a1 -> b1 across both appliances by group reference"):
        path = f"{e1.tmp}/fleet.yaml"
        with open(path, "w") as f:
            f.write(fr.fleet_policy(edges, GROUPS))
        out = fr.ctl(e1, "policy", "push", path).stdout
        m = re.search(r"pushed to /sgfw/ at revision (\d+): (\d+) puts, (\d+) deletes, (\d+) unchanged", out)
        check(m, f"push printed: {out!r}")
        rev = int(m.group(1))
        check(m.group(2, 3, 4) == ("6", "0", "0"), f"push: {m.group(0)} (want 6 puts: 3 groups, 3 VMs)")
        check(rev == cluster.revision(), f"push revision {rev}, etcd at {cluster.revision()}")
        got = fr.wait_revision(edges, rev)
        for a, ps in got.items():
            check(ps["kind"] == "etcd" and ps["prefix"] == PREFIX and ps["connected"] is True
                  and ps["appliance"] == a and ps["refused"] == 0, f"{a}: policy_source {ps}")
        reaches(a1, b1, e2)
        denied_at_edge2(a2, b1, e2)

    with t.case("2: set-groups a1 other on edge-1 cuts a1 -> b1 at edge-2; back to client restores it"):
        set_groups(e1, "a1", "other")
        rev = cluster.revision()
        check(fr.source(e1)["revision"] == rev, "edge-1 replied before enforcing the change")
        fr.wait_revision([e2], rev)
        denied_at_edge2(a1, b1, e2)
        set_groups(e1, "a1", "client")
        fr.wait_revision(edges, cluster.revision())
        reaches(a1, b1, e2)

    with t.case(f"3: {STREAM} changes, the etcd leader killed after {STREAM // 2}: none lost, none twice, no echo lost"):
        before_rev = cluster.revision()
        seen = {e.appliance: len(applied_revisions(e)) for e in edges}
        groups0 = {e.appliance: fr.call(e, "status")["limits"]["groups_used"] for e in edges}
        ping = ping_stream(a1, b1.ip)
        t0 = time.monotonic()
        added, retries, killed = [], 0, None
        for i in range(STREAM):
            if i == STREAM // 2:
                killed = cluster.leader()
                cluster.kill(killed)
                e2e.log(f"     killed the etcd leader {killed} after {i} changes")
            if i % 2 == 0:
                name = f"s-{i:02d}"
                put_rev = cluster.put(f"{PREFIX}groups/{name}", json.dumps(
                    {"name": name, "rules": [{"direction": "Ingress", "protocol": "TCP", "port": 7000 + i,
                                              "remote": {"address": {"IPAddressOrCIDR": NET}}}]}))
                added.append(name)
            else:  # set-groups checks the groups against edge-1's running policy: it must have the new one
                fr.wait_revision([e1], put_rev)
                retries += set_groups(e1, "a2", "other", *added)
        final = cluster.revision()
        got = fr.wait_revision(edges, final, timeout=20)
        time.sleep(0.5)
        missing, last = stream_loss(ping, time.monotonic() - t0)
        e2e.log(f"     {final - before_rev} revisions, set-groups retries {retries}, "
                f"stream ping: {last} replies, missing {missing}")
        for a, ps in got.items():
            check(ps["revision"] == final, f"{a}: revision {ps['revision']}, etcd at {final}")
        for e in edges:
            revs = applied_revisions(e)[seen[e.appliance]:]
            check(revs and revs == sorted(set(revs)) and revs[0] > before_rev and revs[-1] == final,
                  f"{e.appliance}: applied revisions not strictly increasing up to {final}: {revs}")
            n = fr.call(e, "status")["limits"]["groups_used"] - groups0[e.appliance]
            check(n == len(added), f"{e.appliance}: {n} more groups, want {len(added)}")
        value, _ = cluster.get(f"{PREFIX}vms/a2")
        check(json.loads(value)["securityGroups"] == ["other"] + added, f"a2 in etcd: {value}")
        a2.tcp_server(7048)
        check(a1.tcp_echo(a2.ip, 7048), "a2's last groups (s-48) not enforced on edge-1")
        check(not missing, f"the allowed stream lost echo requests {missing} (tolerance 0)")
        cluster.start_member(killed)

    with t.case("4: etcd stopped: both keep enforcing; edge-2 restarts on its persisted copy; both catch up"):
        rev = cluster.revision()
        cluster.stop_all()
        fr.wait_source(edges, lambda ps: ps["connected"] is False, "connected: false", timeout=15)
        reaches(a1, b1, e2)
        denied_at_edge2(a2, b1, e2)
        e2.restart()
        line = e2.wait_log(r"etcd: unreachable at start; serving the persisted copy", timeout=1)
        check(line and e2.policy_path in line[0] and f"(revision {rev})" in line[0],
              f"edge-2 after a restart without etcd: {line or e2.daemon.tail(10)}")
        ps = fr.source(e2)
        check(ps["revision"] == rev and ps["connected"] is False, f"edge-2: {ps}")
        reaches(a1, b1, e2)
        denied_at_edge2(a2, b1, e2)
        cluster.start()
        # The watch's backoff is capped at 2 s (docs/design/etcd-client.md): 15 s is ample.
        fr.wait_source(edges, lambda ps: ps["connected"] is True, "connected again", timeout=15)
        set_groups(e1, "a2", "client")  # a2 -> b1 now allowed: enforced on the restarted edge-2?
        fr.wait_revision(edges, cluster.revision())
        reaches(a2, b1, e2)
        set_groups(e1, "a2", "other")
        fr.wait_revision(edges, cluster.revision())
        denied_at_edge2(a2, b1, e2)

    def settled():
        """Both connected and at etcd's revision: each later case starts from there even
        if an earlier one failed half-way."""
        fr.wait_source(edges, lambda ps: ps["connected"] is True, "connected", timeout=60)
        fr.wait_revision(edges, cluster.revision())

    with t.case("5: a compacted revision forces a full reload on edge-2"):
        settled()
        url = e2.log_lines(r"etcd: connected to ")[-1].split("etcd: connected to ")[1].split()[0]
        member = next(m for m in cluster.members if m.url == url)
        e2.pause()
        cluster.kill(member)
        for i in range(3):
            cluster.put(f"{PREFIX}groups/c-{i}", json.dumps({"name": f"c-{i}"}))
        rev = cluster.revision()
        fr.wait_revision([e1], rev)
        cluster.compact(rev)
        e2.resume()
        line = e2.wait_log(r"etcd: revision \d+ was compacted; full reload", timeout=15)
        check(line, "edge-2 did not log the compaction: " + e2.daemon.tail(10))
        loaded = e2.wait_log(rf"etcd: loaded revision {rev} \(", timeout=10)
        check(loaded, f"edge-2 did not load revision {rev} after the compaction")
        fr.wait_revision(edges, rev)
        cluster.start_member(member)
        reaches(a1, b1, e2)

    with t.case("6: invalid changes written into etcd are refused by both, naming the key"):
        settled()
        refused0 = {e.appliance: fr.source(e)["refused"] for e in edges}
        for n, (key, value, msg) in enumerate([
                (f"{PREFIX}vms/bad-1", {"name": "bad-1", "ips": ["10.0.9.1"], "securityGroups": ["nope"]},
                 "unknown security group 'nope'"),
                (f"{PREFIX}subnets/bad-net", {"name": "bad-net", "cidr": "10.0.0.0/33"},
                 "invalid subnet cidr")], start=1):
            rev = cluster.put(key, json.dumps(value))
            for e in edges:
                line = e.wait_log(rf"etcd: refused revision {rev}: {re.escape(key)}: ", timeout=10)
                check(line and msg in line[0], f"{e.appliance}: refusal of {key}: {line}")
            got = fr.wait_source(edges, lambda ps: ps["refused"] == refused0[ps["appliance"]] + n,
                                 f"refused {n}")
            for a, ps in got.items():
                check(ps["refused"] == refused0[a] + n and ps["revision"] == rev - 1
                      and (ps["last_error"] or "").startswith(f"{key}: "), f"{a}: {ps}")
            reaches(a1, b1, e2)
            denied_at_edge2(a2, b1, e2)
            fr.wait_revision(edges, cluster.delete(key))


if __name__ == "__main__":
    e2e.main(scenario)
