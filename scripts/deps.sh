#!/usr/bin/env bash
# Installs (with apt-get) the Debian packages sgfw needs to build, test and demo.
# Idempotent: does nothing when everything is present. Needs root to install.
set -euo pipefail

SGFW_PACKAGES=(
  # build
  meson ninja-build pkg-config g++
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  libdpdk-dev dpdk libyaml-cpp-dev libyaml-dev libcli11-dev libboost-test-dev nlohmann-json3-dev libssl-dev
  # the etcd v3 client (lib/etcd, docs/dependencies.md): gRPC, protobuf and their code generators
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # sd_notify readiness (sgfwd.service); the packaging suite: systemd-analyze, man pages
  libsystemd-dev systemd groff-base man-db
  # GET /metrics: an HTTP server (docs/dependencies.md)
  libcpp-httplib-dev
  # e2e_prometheus: a real Prometheus server scrapes sgfwd (docs/metrics.md)
  prometheus
  # e2e_telemetry: DPDK's own client, dpdk-telemetry.py, against sgfwd (docs/metrics.md)
  dpdk-dev
  # tests and demo: namespaces, traffic, crafted packets
  iproute2 iputils-ping ethtool python3 python3-scapy python3-yaml netcat-openbsd procps
  # link services (e2e): a DHCP server and client, IPv6 router advertisements
  dnsmasq-base isc-dhcp-client radvd
  # sgfwctl capture (e2e): the capture file read back by tcpdump (docs/capture.md)
  tcpdump
  # lib/etcd against a real etcd (tests/etcd): a single member and a 3-member cluster
  etcd-server
  # etcdctl: e2e_fleet_push reads back what was pushed; test_fleet_follow writes keys and compacts
  etcd-client
)

missing=()
for p in "${SGFW_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps: need root to install packages (run as root or install them by hand)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
