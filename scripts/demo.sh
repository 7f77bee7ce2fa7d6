#!/usr/bin/env bash
# The main job: builds sgfw if needed, starts the appliance between network namespaces
# (three VMs and an "internet" host, each on a veth whose peer is an sgfwd port), loads
# conf/demo-policy.yaml, shows which pings and TCP connections pass and which are
# blocked (with `sgfwctl explain` saying why), prints the counters, and tears
# everything down, also on Ctrl-C or failure. Needs root (namespaces, veth).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${SGFW_BUILD_DIR:-build}
POLICY=$ROOT/conf/demo-policy.yaml

scripts/deps.sh
scripts/build.sh >/dev/null
SGFWD=$ROOT/$BUILD_DIR/app/sgfwd/sgfwd
SGFWCTL=$ROOT/$BUILD_DIR/app/sgfwctl/sgfwctl
PEER=$ROOT/scripts/demo_peer.py

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: needs root for network namespaces; showing the offline checks only"
  "$SGFWCTL" check "$POLICY"
  "$SGFWCTL" explain --policy "$POLICY" tcp 203.0.113.7:40000 10.0.0.10:80 || true
  exit 0
fi

TAG=sgd$$
WORK=$(mktemp -d /tmp/sgfw-demo.XXXXXX)
NAMESPACES=()
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# host  (namespace, host-side veth, MAC, address)
add_host() {
  local ns=$TAG-$1 veth=$2 mac=$3 addr=$4
  ip netns add "$ns"; NAMESPACES+=("$ns")
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=1"
  ip link set "$veth" up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 address "$mac"
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" link set eth0 up
  ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
}
add_host web  ${TAG}w 02:00:00:00:00:0a 10.0.0.10/16
add_host app  ${TAG}a 02:00:00:00:01:0a 10.0.1.10/16
add_host db   ${TAG}d 02:00:00:00:01:14 10.0.1.20/16
add_host jump ${TAG}j 02:00:00:00:00:1e 10.0.0.30/16
add_host inet ${TAG}u 02:00:00:00:99:01 203.0.113.7/24
for vm in web app db jump; do ip -n "$TAG-$vm" route add 203.0.113.0/24 dev eth0; done
ip -n "$TAG-inet" route add 10.0.0.0/16 dev eth0

cat > "$WORK/sgfwd.yaml" <<CFG
eal: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", "$TAG", "--log-level=lib.*:error"]
ports:
  - {name: vm-web1, device: "net_af_xdp0,iface=${TAG}w"}
  - {name: vm-app1, device: "net_af_xdp1,iface=${TAG}a"}
  - {name: vm-db1, device: "net_af_xdp2,iface=${TAG}d"}
  - {name: vm-jump1, device: "net_af_xdp3,iface=${TAG}j"}
  - {name: uplink, device: "net_af_xdp4,iface=${TAG}u", uplink: true}
workers: 1
policy: $WORK/policy.yaml
control_socket: $WORK/run/sgfwd.sock
flows: {capacity: 65536}
CFG
cp "$POLICY" "$WORK/policy.yaml"   # sgfwd persists accepted changes to its policy file

echo "== sgfwd --check"
"$SGFWD" --config "$WORK/sgfwd.yaml" --check
"$SGFWD" --config "$WORK/sgfwd.yaml" >"$WORK/sgfwd.log" 2>&1 &
SGFWD_PID=$!
PIDS+=("$SGFWD_PID")
for _ in $(seq 50); do grep -q "running" "$WORK/sgfwd.log" && break; sleep 0.1; done
grep -q "running" "$WORK/sgfwd.log" || { cat "$WORK/sgfwd.log"; echo "demo: sgfwd did not start"; exit 1; }

ip netns exec "$TAG-web" python3 "$PEER" serve 80 22 & PIDS+=($!)
ip netns exec "$TAG-app" python3 "$PEER" serve 8080 22 & PIDS+=($!)
ip netns exec "$TAG-db" python3 "$PEER" serve 5432 & PIDS+=($!)
sleep 0.5

ADDR_inet=203.0.113.7 ADDR_web=10.0.0.10 ADDR_app=10.0.1.10 ADDR_db=10.0.1.20 ADDR_jump=10.0.0.30
addr() { local v=ADDR_$1; echo "${!v}"; }
show() {  # from to kind [port]
  local from=$1 to=$2 kind=$3 port=${4:-} ok why
  if [[ $kind == ping ]]; then
    ip netns exec "$TAG-$from" ping -c 1 -W 1 -q "$(addr "$to")" >/dev/null 2>&1 && ok=1 || ok=0
    why=$("$SGFWCTL" --socket "$WORK/run/sgfwd.sock" explain --json icmp "$(addr "$from")" "$(addr "$to")" || true)
  else
    ip netns exec "$TAG-$from" python3 "$PEER" connect "$(addr "$to")" "$port" && ok=1 || ok=0
    why=$("$SGFWCTL" --socket "$WORK/run/sgfwd.sock" explain --json tcp "$(addr "$from")":40000 "$(addr "$to")":"$port" || true)
  fi
  local rule
  rule=$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print("; ".join("%s %s: %s" % (c["vm"], c["direction"], c["rule"] or "no rule") for c in v["checks"]) or v.get("reason", ""))' "$why")
  printf '  %-5s -> %-5s %-4s %-5s  %-8s (%s)\n' "$from" "$to" "$kind" "$port" "$([[ $ok == 1 ]] && echo PASSED || echo BLOCKED)" "$rule"
}

echo "== traffic through sgfwd (the first packet's checks from the live 'sgfwctl explain')"
show inet web ping
show inet app ping
show inet web tcp 80
show inet web tcp 22
show inet app tcp 22
show web  app tcp 8080
show web  db  tcp 5432
show app  db  tcp 5432
show jump inet ping
show inet jump ping

CTL=("$SGFWCTL" --socket "$WORK/run/sgfwd.sock")
echo "== live connections (sgfwctl flows)"
"${CTL[@]}" flows | sed 's/^/  /'
echo "== hot change: app-1 joins pingable (sgfwctl vm set-groups)"
"${CTL[@]}" vm set-groups app-1 app-sg,default-allow-ssh,pingable | sed 's/^/  /'
show inet app ping

echo "== counters (sgfwctl stats)"
"${CTL[@]}" stats | sed 's/^/  /'
