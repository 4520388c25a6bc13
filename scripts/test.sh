#!/usr/bin/env bash
# The whole test suite: installs what it needs, type-checks, checks schema drift, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/ensure-node-deps.sh
bash scripts/install-powershell.sh
echo "== typecheck"; npx tsc -p . --noEmit
echo "== schemas";   npx tsx scripts/generate-schemas.ts --check
[ -f scripts/build-testos.sh ] && { echo "== test OS"; bash scripts/build-testos.sh; }
echo "== tests"
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=2 "$@" "${files[@]}"
