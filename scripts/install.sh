#!/usr/bin/env bash
# Builds the Debian package of sgfw from this tree and installs it (docs/packaging.md).
# Needs root (apt-get). The package build takes as long as a full build plus the unit
# suite; DEB_BUILD_OPTIONS=nocheck leaves the suite out.
#   scripts/install.sh            build ../sgfw_<version>_amd64.deb, install it
#   SGFW_NO_INSTALL=1 scripts/install.sh   build (and lintian) only
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "install: needs root (apt-get install)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The package-build tools, then the Build-Depends of debian/control.
tools=(dpkg-dev debhelper fakeroot lintian)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
apt-get build-dep -y -qq --no-install-recommends ./ >/dev/null

dpkg-buildpackage -b -us -uc
version=$(dpkg-parsechangelog -S Version)
deb=../sgfw_${version}_amd64.deb
echo "install: built $deb"
lintian "$deb" || true
if [[ -z ${SGFW_NO_INSTALL:-} ]]; then
  apt-get install -y --no-install-recommends "$(realpath "$deb")"
  echo "install: done; configure /etc/sgfw/sgfwd.yaml, then: systemctl enable --now sgfwd"
fi
