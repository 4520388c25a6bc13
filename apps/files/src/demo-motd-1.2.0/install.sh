#!/bin/sh
# Installs demo-motd into /opt/demo-motd and writes /etc/motd. Needs demo-sysinfo (dependsOn).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH=/usr/local/bin:$PATH
command -v sysinfo > /dev/null || { echo "demo-motd needs demo-sysinfo, which is not installed" >&2; exit 1; }
prefix=/opt/demo-motd
mkdir -p "$prefix/bin" /usr/local/bin
cp "$here/bin/motd-refresh" "$prefix/bin/motd-refresh"
cp "$here/banner.txt" "$prefix/banner.txt"
chmod 0755 "$prefix/bin/motd-refresh"
ln -sf "$prefix/bin/motd-refresh" /usr/local/bin/motd-refresh
"$prefix/bin/motd-refresh"
echo "demo-motd installed in $prefix; /etc/motd written"
