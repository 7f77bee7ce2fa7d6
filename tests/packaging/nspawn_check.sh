#!/usr/bin/env bash
# Manual check (docs/packaging.md, "Checked in a booted Debian 12 container"): installs
# the package into a Debian 12 tree, boots it with systemd-nspawn (systemd as PID 1,
# its own network namespace), and there runs what an operator would: the demo's veth
# interfaces, `systemctl start sgfwd` with the example configuration, `systemctl
# reload sgfwd` after a policy edit, `man sgfwctl`, `systemd-analyze verify`.
# Needs root, systemd-container and a tree made with:
#   debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,man-db bookworm ROOT
# Usage: tests/packaging/nspawn_check.sh ROOT ../sgfw_0.1.0_amd64.deb
# Prints each step; exits non-zero at the first failure. Stops the container (by its
# PID) on exit, also on failure.
set -euo pipefail
root=$(realpath "$1")
deb=$(realpath "$2")
machine=sgfwcheck$$
cp "$deb" "$root/var/tmp/sgfw.deb"  # /tmp is a fresh tmpfs in the container
echo "== install the package (and its dependencies from deb.debian.org) in the tree"
systemd-nspawn -q -D "$root" --register=no --keep-unit --pipe \
  sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /var/tmp/sgfw.deb iproute2 ethtool >/dev/null && dpkg -s sgfw | grep -E "^(Status|Version)"'

if [[ -n ${SGFW_NSPAWN_SGFWD:-} ]]; then
  # A newer sgfwd binary (e.g. build/app/sgfwd/sgfwd) over the package's.
  echo "== /usr/sbin/sgfwd replaced by $SGFW_NSPAWN_SGFWD"
  install -m 0755 "$SGFW_NSPAWN_SGFWD" "$root/usr/sbin/sgfwd"
fi
echo "== boot"
# --bind-ro=/sys/module: a booted nspawn container's /sys lacks it, and DPDK's EAL
# (built with VFIO) refuses to start without it ("Cannot init VFIO").
systemd-nspawn -q -D "$root" --register=no --keep-unit --private-network --bind-ro=/sys/module \
  --machine="$machine" -b \
  </dev/null >/tmp/$machine.console 2>&1 &
nspawn=$!
leader=""
cleanup() {
  if [[ -n $leader ]]; then kill -RTMIN+4 "$leader" 2>/dev/null || true; fi  # systemd: poweroff
  for _ in $(seq 50); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
  kill "$nspawn" 2>/dev/null || true
  wait "$nspawn" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
  leader=$(pgrep -P "$nspawn" -x systemd || true)
  [[ -n $leader ]] && break
  sleep 0.2
done
[[ -n $leader ]] || { echo "no systemd in the container"; cat /tmp/$machine.console; exit 1; }
in_ct() { nsenter -t "$leader" -a -- "$@"; }
for _ in $(seq 150); do
  state=$(in_ct systemctl is-system-running 2>/dev/null || true)
  [[ $state == running || $state == degraded ]] && break
  sleep 0.2
done
echo "system: $state"

echo "== the demo's interfaces (conf/sgfwd.yaml names veth-web1, veth-app1, veth-up)"
for i in web1 app1 up; do
  in_ct ip link add "veth-$i" type veth peer name "peer-$i"
  in_ct ip link set "veth-$i" up
  in_ct ip link set "peer-$i" up
  in_ct ethtool -K "peer-$i" tx off >/dev/null  # docs/daemon.md, "Checksum offload"
done
if [[ $(ulimit -Hl) != unlimited ]]; then
  # The container cannot raise RLIMIT_MEMLOCK past the host's hard limit (no
  # CAP_SYS_RESOURCE); root's CAP_IPC_LOCK makes the limit moot for sgfwd itself.
  echo "== host memlock hard limit $(ulimit -Hl) KiB: drop-in LimitMEMLOCK=$(ulimit -Hl)K"
  in_ct mkdir -p /etc/systemd/system/sgfwd.service.d
  printf '[Service]\nLimitMEMLOCK=%sK\n' "$(ulimit -Hl)" | in_ct tee /etc/systemd/system/sgfwd.service.d/memlock.conf
  in_ct systemctl daemon-reload
fi
if [[ ${SGFW_NSPAWN_DRIVER:-af_packet} == af_packet ]]; then
  # In this container af_xdp cannot make its UMEM (xdp_umem_configure fails under the
  # host's 8 MiB memlock limit, docs/packaging.md): the same ports as af_packet.
  echo "== /etc/sgfw/sgfwd.yaml: net_af_xdp ports -> net_af_packet"
  in_ct sed -i 's/net_af_xdp/net_af_packet/' /etc/sgfw/sgfwd.yaml
fi
echo "== systemctl start sgfwd"
if ! in_ct systemctl start sgfwd; then
  in_ct systemctl status sgfwd --no-pager || true
  in_ct journalctl -u sgfwd --no-pager -o cat | tail -30
  exit 1
fi
in_ct systemctl show sgfwd -p ActiveState -p SubState -p StatusText -p WatchdogUSec -p MainPID
in_ct sgfwctl status | head -3
echo "== systemctl reload sgfwd after an edit of /etc/sgfw/policy.yaml"
in_ct sed -i 's/port: 8080/port: 8081/' /etc/sgfw/policy.yaml
in_ct systemctl reload sgfwd
in_ct sgfwctl status | head -1
in_ct journalctl -u sgfwd --no-pager -o cat | grep -E "reload|running|watchdog" | tail -4
echo "== getent group sgfw; ls /etc/sgfw; man sgfwctl"
in_ct getent group sgfw
in_ct ls /etc/sgfw
in_ct env MANWIDTH=80 man sgfwctl 2>&1 | head -4
echo "== systemd-analyze verify"
in_ct systemd-analyze verify /lib/systemd/system/sgfwd.service && echo "verify: clean"
echo "== systemctl stop sgfwd"
in_ct systemctl stop sgfwd
in_ct systemctl show sgfwd -p ActiveState -p Result
echo "nspawn check: ok"
