#!/usr/bin/env python3
"""Hot reload under traffic: 100 reloads (`sgfwctl reload --policy`), alternating two
valid policies A and B, while two UDP floods run into the same server VM:

- the allowed flood, cli-a -> srv:7000, which both policies allow (rule flood/udp-7000,
  same name in both): it must never lose a packet to the firewall;
- the denied flood, cli-b -> srv:7001, which both policies deny: it must never pass.

A and B differ elsewhere, and in ways that change srv's compiled ingress rules and the
address classes behind its allowing rule (other groups on srv, including a near miss
that opens 7001 to other sources, another local VM and a VM hosted elsewhere joining and
leaving the referenced group), so each reload rebuilds srv's context and every live
connection of the allowed flood is revalidated against the new generation.

Frames are crafted (scapy template, UDP checksum 0) and sent paced from raw sockets.
The allowed flood alternates a new source port (30,000 of them: each a first packet that
opens a connection and hits the rules once) with one of 100 repeating source ports
(tracked packets of live connections, revalidated at every generation); the denied
flood's packets all have distinct source ports and are all first packets (a denied
packet creates no connection). The ports see nothing else (no ARP: the server never answers,
the clients' kernels send nothing), so per-port counters are exact:

- denied: the sink on srv:7001 got 0; cli-b's port: every packet received is a
  `no-rule` drop (and srv's no-rule counter has exactly those); no connection created;
- allowed: cli-a's port dropped 0 (any reason), srv's port transmitted every packet
  cli-a's port received, the sink got them all; rule hits == connections == distinct
  source ports delivered; the repeating connections carry the last generation;
- packets lost before sgfwd (sent by the namespace - received by sgfwd's port: kernel,
  af_packet ring) are counted apart and reported for both floods."""
import struct
import time

import reload_common as rc
import sgfw_e2e as e2e
from sgfw_e2e import check, rule, group

NEW = 30000       # source ports that each open a connection (allowed) / are each a first packet (denied)
TRACKED = 100     # source ports that repeat all along (allowed)
RELOADS = 100

GROUPS = [
    group("clients", rule("Egress", "All", cidr="0.0.0.0/0", name="out")),
    group("flood", rule("Ingress", "UDP", port=7000, group="clients", name="udp-7000")),
    group("extra-a", rule("Ingress", "TCP", port=22, cidr="0.0.0.0/0", name="ssh"),
          rule("Ingress", "UDP", port=7001, cidr="10.0.2.0/24", name="near-miss")),
    group("extra-b", rule("Ingress", "UDP", port_range=(7000, 7002), cidr="203.0.113.0/24", name="inet-range"),
          rule("Ingress", "ICMP", group="clients", name="ping"),
          rule("Ingress", "UDP", port=7001, subnet="far-net", name="from-far")),
]
SUBNETS = [("far-net", "10.0.9.0/24")]


def flood_frames(src, dst, dport, sports, label):
    """One UDP frame per source port (UDP checksum 0: none, valid in IPv4), payload
    RLFLOOD-<label>-<index>."""
    from scapy.layers.inet import UDP
    magic = f"RLFLOOD-{label}-".encode()
    template = bytearray(bytes(e2e.eth_ip(src, dst) / UDP(sport=1, dport=dport, chksum=0) /
                               (magic + b"\0" * 22)))
    check(template[40:42] == b"\0\0", "test bug: UDP checksum not 0")
    frames = []
    for i, sp in enumerate(sports):
        f = bytearray(template)
        f[34:36] = struct.pack("!H", sp)
        f[42 + len(magic):46 + len(magic)] = struct.pack("!I", i)
        frames.append(bytes(f))
    return frames


def veth_rx(h):
    """Packets the host side of h's veth received (what reached sgfwd's af_packet socket
    or was lost in its ring)."""
    with open(f"/sys/class/net/{h.host_if}/statistics/rx_packets") as f:
        return int(f.read())


def scenario():
    with rc.Topology("rl-floods") as t:
        cli_a = t.vm("cli-a", "10.0.1.10", groups=["clients"])
        cli_b = t.vm("cli-b", "10.0.1.11", groups=["clients"])
        srv = t.vm("srv", "10.0.1.20", groups=["flood", "extra-a"])
        other = t.vm("other", "10.0.1.30", groups=["clients"])
        t.remote_vm("far", "10.0.9.9", groups=["clients"])
        policy_a = t.policy_with(GROUPS, {}, SUBNETS)
        # The allowed flood opens 30,000 connections to srv that are never answered: room
        # for all of them in srv's inbound half-open budget (default a quarter of the
        # quota), so none is recycled and every hit is one source port.
        t.start(policy_text=policy_a, extra={"flows": {"per_vm_inbound_half_open": 65536}})
        policy_b = t.policy_with(GROUPS, {"srv": ["extra-b", "flood"], "other": ["extra-a"], "far": ["extra-b"]},
                                 SUBNETS)
        check(policy_a != policy_b, "test bug: A == B")
        path_a = t.write("policy-a.yaml", policy_a)
        path_b = t.write("policy-b.yaml", policy_b)
        del other

        # Allowed: new source ports (first packets) interleaved with TRACKED ports that
        # repeat (packets of live connections, revalidated at every generation).
        sports_a = []
        for i in range(NEW):
            sports_a += [20000 + i, 10000 + i % TRACKED]
        allowed_frames = flood_frames(cli_a, srv, 7000, sports_a, "A")
        denied_frames = flood_frames(cli_b, srv, 7001, range(20000, 20000 + NEW), "D")

        with t.case(f"{RELOADS} reloads alternating two policies under an allowed and a denied UDP flood"):
            st0 = rc.status(t)
            gen0 = st0["generation"]
            veth0 = {h.name: veth_rx(h) for h in (cli_a, cli_b)}
            before = t.stats()
            sink_a = rc.Sink(srv, 7000, b"RLFLOOD-A-")
            sink_d = rc.Sink(srv, 7001, b"RLFLOOD-D-")
            fa = rc.RawFlood(cli_a, allowed_frames, burst=16).start()
            fd = rc.RawFlood(cli_b, denied_frames, burst=16).start()
            replies = []
            try:
                time.sleep(0.5)
                t_start = time.perf_counter()
                for i in range(RELOADS):
                    r = rc.ctl(t, "reload", "--policy", path_b if i % 2 == 0 else path_a)
                    replies.append(r)
                    if r.rc != 0:
                        break
                t_end = time.perf_counter()
                time.sleep(0.5)
            finally:
                sent_a, sent_d = fa.stop(), fd.stop()
                time.sleep(0.5)
                sink_a.close()
                sink_d.close()
            for i, r in enumerate(replies):
                check(r.rc == 0 and r.json and r.json.get("generation") == gen0 + i + 1,
                      f"reload #{i + 1}: {r}")
            check(len(replies) == RELOADS, f"only {len(replies)} reloads ran")
            took = t_end - t_start
            walls = [r.wall_ms for r in replies]
            enforced = [r.json["enforced_ms"] for r in replies]
            rebuilt = [r.json["contexts_rebuilt"] for r in replies]
            e2e.log(f"  {RELOADS} reloads in {took:.2f} s: sgfwctl wall p50 {rc.pct(walls, 50):.1f} ms, "
                    f"max {max(walls):.1f} ms; enforced_ms p50 {rc.pct(enforced, 50):.2f}, max {max(enforced):.2f}; "
                    f"contexts rebuilt per reload min {min(rebuilt)}, max {max(rebuilt)}")
            check(min(rebuilt) >= 1, "a reload rebuilt no context: the policies do not differ for the data plane")

            s = t.stats()
            d = s.delta(before)
            veth = {h.name: veth_rx(h) - veth0[h.name] for h in (cli_a, cli_b)}
            rx_a, rx_d = d.get(("port", "vm-cli-a", "rx"), 0), d.get(("port", "vm-cli-b", "rx"), 0)
            got_a, got_d = sink_a.count(), sink_d.count()
            lost_a, lost_d = sent_a - rx_a, sent_d - rx_d
            e2e.log(f"  losses before sgfwd: allowed flood {lost_a} = {sent_a - veth['cli-a']} on the veth + "
                    f"{veth['cli-a'] - rx_a} in sgfwd's af_packet ring; denied flood {lost_d} = "
                    f"{sent_d - veth['cli-b']} on the veth + {veth['cli-b'] - rx_d} in the ring")
            e2e.log(f"  allowed flood: {sent_a} sent, {rx_a} received by sgfwd (lost before sgfwd: {lost_a}), "
                    f"{d.get(('port', 'vm-srv', 'tx'), 0)} forwarded, {got_a} delivered; "
                    f"dropped by sgfwd: {d.get(('port', 'vm-cli-a', 'dropped'), 0)}")
            e2e.log(f"  denied flood: {sent_d} sent, {rx_d} received by sgfwd (lost before sgfwd: {lost_d}), "
                    f"{d.get(('port', 'vm-cli-b', 'no-rule'), 0)} no-rule, {got_d} delivered")
            check(rx_a > 10000 and rx_d > 10000, f"floods too small: {rx_a}, {rx_d} packets")
            check(lost_a >= 0 and lost_d >= 0, f"sgfwd received more than was sent: {lost_a}, {lost_d}")

            # The denied flood: never passed; every packet sgfwd got is one no-rule drop.
            check(got_d == 0, f"{got_d} packets of the denied flood were delivered")
            check(d.get(("port", "vm-cli-b", "dropped"), 0) == rx_d and d.get(("port", "vm-cli-b", "no-rule"), 0) == rx_d,
                  f"cli-b's port: rx {rx_d}, drops {s.json['ports']}")
            check(d.get(("port", "vm-cli-b", "tx"), 0) == 0, "something was sent to cli-b")
            check(d.get(("vm", "srv", "no-rule"), 0) == rx_d and d.get(("vm", "srv", "dropped"), 0) == rx_d,
                  f"srv's drops {d.get(('vm', 'srv', 'dropped'), 0)} (no-rule {d.get(('vm', 'srv', 'no-rule'), 0)}) "
                  f"!= the denied flood's {rx_d}")
            check(d.get(("vm", "cli-b", "allowed"), 0) == 0 and d.get(("vm", "cli-b", "dropped"), 0) == 0,
                  f"cli-b counted: {d}")

            # The allowed flood: no firewall drop, everything forwarded and delivered.
            check(d.get(("port", "vm-cli-a", "dropped"), 0) == 0,
                  f"cli-a's port dropped {d.get(('port', 'vm-cli-a', 'dropped'), 0)}: {d}")
            check(d.get(("vm", "cli-a", "dropped"), 0) == 0 and d.get(("vm", "srv", "revoked"), 0) == 0,
                  f"allowed-flood drops: {d}")
            check(d.get(("port", "vm-srv", "tx"), 0) == rx_a,
                  f"srv's port sent {d.get(('port', 'vm-srv', 'tx'), 0)}, cli-a's port received {rx_a}")
            check(d.get(("vm", "cli-a", "allowed"), 0) == rx_a and d.get(("vm", "srv", "allowed"), 0) == rx_a,
                  f"allowed counters: {d}")
            check(got_a == rx_a, f"the sink got {got_a} of the {rx_a} packets sgfwd forwarded")
            # One connection (and one hit on each deciding rule) per distinct source port.
            K = len({sports_a[struct.unpack("!I", data[10:14])[0]] for data, _ in sink_a.got})
            check(d.get(("rule", "flood/udp-7000"), 0) == K and d.get(("rule", "clients/out"), 0) == K,
                  f"rule hits: flood/udp-7000 {d.get(('rule', 'flood/udp-7000'), 0)}, "
                  f"clients/out {d.get(('rule', 'clients/out'), 0)}, want {K} each (one per source port delivered)")
            check(K > TRACKED, f"only {K} connections")
            firsts = [i for i in range(0, len(sports_a), 2) if i < sent_a]
            e2e.log(f"  allowed flood: {K} connections ({min(len(firsts), NEW)} new source ports sent; {TRACKED} "
                    f"repeating), each admitted once and revalidated")
            nothing_else = {k: v for k, v in d.items() if k[0] == "port" and k[1] in ("uplink", "vm-other") or
                            k[0] == "port" and k[1] == "vm-srv" and k[2] != "tx"}
            check(not nothing_else, f"unexpected counters: {nothing_else}")

            # Connections: the allowed flood's K, none for the denied flood.
            fl = rc.ctl(t, "flows", "--vm", "cli-b", "--limit", "0")
            check(fl.rc == 0 and fl.json["total"] == 0, f"flows of cli-b: {fl}")
            fl = rc.ctl(t, "flows", "--vm", "cli-a")
            # A reply lists at most 10,000 connections (docs/control.md); total counts them all.
            listed = min(K, 10000)
            check(fl.rc == 0 and fl.json["total"] == K and len(fl.json["flows"]) == listed,
                  f"flows of cli-a (want total {K}, {listed} listed): {str(fl)[:400]}")
            tracked = [f for f in fl.json["flows"] if 10000 <= f["sport"] < 10000 + TRACKED]
            check(len(tracked) == TRACKED if K <= 10000 else 0 < len(tracked) <= TRACKED,
                  f"{len(tracked)} of the {TRACKED} repeating connections listed (of {K}, {listed} listed)")
            gens = {f["generation"] for f in tracked}
            check(gens == {gen0 + RELOADS}, f"repeating connections not revalidated to the last generation: {gens}")
            bad = [f for f in fl.json["flows"] if (f["src"], f["dst"], f["dport"], f["proto"], f["ingress_rule"]) !=
                   (cli_a.ip, srv.ip, 7000, 17, "flood/udp-7000") and f["generation"] == gen0 + RELOADS]
            check(not bad, f"unexpected connections: {bad[:3]}")
            e2e.log(f"  result: denied flood delivered 0, allowed flood dropped by sgfwd 0; losses before sgfwd: "
                    f"allowed {lost_a} of {sent_a}, denied {lost_d} of {sent_d}")

        with t.case("after the reloads: status shows policy A (the last one), generation 1 + 100"):
            st = rc.status(t)
            check(st["generation"] == 1 + RELOADS, f"generation {st['generation']}")
            check(st["policy"]["sha256"] == rc.sha256_text(policy_a) == rc.sha256_file(t.policy_path),
                  "status/disk sha256 is not policy A's")
        t.assert_alive()
    return t


if __name__ == "__main__":
    e2e.main(scenario)
