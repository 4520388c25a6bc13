#!/usr/bin/env bash
# The whole test suite: installs what it needs, type-checks, checks schema drift, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/ensure-node-deps.sh
echo "== typecheck"; npx tsc -p . --noEmit
echo "== schemas";   npx tsx scripts/generate-schemas.ts --check
[ -f scripts/build-testos.sh ] && { echo "== test OS"; bash scripts/build-testos.sh; }
echo "== tests"
mapfile -t files < <(find test -name '*.test.ts' | sort)
# The spec report for people, a TAP copy to check: a skipped test is a promise the suite did not
# keep, so any skip fails the run (node prints "# skipped N" in the TAP summary).
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
node --import tsx --test --test-concurrency=2 --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "$@" "${files[@]}"
skipped=$(sed -n 's/^# skipped \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)
if [ "${skipped:-0}" -gt 0 ]; then
  echo "== $skipped test(s) skipped; the suite fails on any skip:" >&2
  grep -E '# SKIP' "$tap" >&2 || true
  exit 1
fi
