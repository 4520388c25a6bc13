#!/usr/bin/env bash
# The main job end to end on the local default (QEMU): installs what it needs, builds the test OS
# installer ISO, then builds, captures and verifies the Linux demo image from it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/ensure-node-deps.sh
bash scripts/build-testos.sh
exec node bin/rebake.js build recipes/linux-demo.yaml --out build/demo "$@"
