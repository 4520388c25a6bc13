#!/bin/sh
# Installs the PVS target-device STAND-IN (not Citrix software): a marker and a status script.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p /etc/rebake /usr/local/sbin
cp "$here/bin/pvs-target-device-status" /usr/local/sbin/pvs-target-device-status
chmod 0755 /usr/local/sbin/pvs-target-device-status
printf 'stand-in for the Citrix PVS target device, version 0.1.0\ninstalled after %s\n' \
  "$(ls /opt 2>/dev/null | tr '\n' ' ')" > /etc/rebake/pvs-target-device-standin
echo "PVS target-device stand-in installed (marker /etc/rebake/pvs-target-device-standin)"
