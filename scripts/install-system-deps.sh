#!/usr/bin/env bash
# Installs the Debian packages that are not installed yet: the ones named as arguments, or with no
# arguments every package listed in scripts/system-packages.txt. Idempotent and quiet when
# everything is present, so every entry point (and the build scripts, for their host tools) can call
# it. apt runs under /tmp/apt.lock, so parallel callers install one after the other.
#
# Usage: scripts/install-system-deps.sh [PACKAGE...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
readonly APT_LOCK=/tmp/apt.lock
if [ $# -gt 0 ]; then
  wanted=("$@")
else
  mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$here/system-packages.txt" | awk 'NF{print $1}')
fi
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo flock "$APT_LOCK" apt-get update -qq
$sudo flock "$APT_LOCK" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
