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
# No test may hang the suite: one that runs longer than this fails (the VM tests have their own,
# shorter bounds that report the guest console).
readonly TEST_TIMEOUT_MS=$((15 * 60 * 1000))
# The spec report for people, a TAP copy to check: a skipped test is a promise the suite did not
# keep, so any skip fails the run (node prints "# skipped N" in the TAP summary).
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
# The runner and every test process it starts (and the VMs they start) form one process group of
# their own, so a SIGTERM or Ctrl-C to this script (or to npm) ends all of them, not only this shell.
set -m
node --import tsx --test --test-concurrency=2 --test-timeout="$TEST_TIMEOUT_MS" --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "$@" "${files[@]}" &
runner=$!
stop_tests() {
  trap - TERM INT HUP
  echo "test.sh: stopping the test run (process group $runner)" >&2
  kill -TERM -- "-$runner" 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$runner" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$runner" 2>/dev/null || true
  exit 143
}
trap stop_tests TERM INT HUP
wait "$runner"
skipped=$(sed -n 's/^# skipped \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)
if [ "${skipped:-0}" -gt 0 ]; then
  echo "== $skipped test(s) skipped; the suite fails on any skip:" >&2
  grep -E '# SKIP' "$tap" >&2 || true
  exit 1
fi
# One plain closing line, read the same way whatever the reporter.
passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)
echo "${passed:-0} passed, ${failed:-0} failed"
