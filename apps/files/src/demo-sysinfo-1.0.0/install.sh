#!/bin/sh
# Installs demo-sysinfo into /opt/demo-sysinfo, its config into /etc (kept when already there).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/demo-sysinfo
mkdir -p "$prefix/bin" /usr/local/bin
cp "$here/bin/sysinfo" "$prefix/bin/sysinfo"
chmod 0755 "$prefix/bin/sysinfo"
ln -sf "$prefix/bin/sysinfo" /usr/local/bin/sysinfo
[ -e /etc/demo-sysinfo.conf ] || cp "$here/etc/demo-sysinfo.conf" /etc/demo-sysinfo.conf
"$prefix/bin/sysinfo" > /dev/null
echo "demo-sysinfo installed in $prefix"
