import { test } from "node:test";
import assert from "node:assert/strict";
import { createReporter, type ProgressMode } from "../../src/cli/progress/reporter.ts";
import type { BuildEvent } from "../../src/runner/events.ts";

const at = "2026-01-01T00:00:00.000Z";
const events: BuildEvent[] = [
  { type: "build-start", at, recipe: "demo", buildId: "b1", steps: [{ id: "01-os", title: "Install" }, { id: "capture", title: "Capture" }] },
  { type: "step-start", at, step: "01-os", title: "Install" },
  { type: "step-end", at, step: "01-os", status: "cached", cached: true, durationMs: 3 },
  { type: "step-start", at, step: "capture", title: "Capture" },
  { type: "progress", at, step: "capture", done: 10, total: 100 },
  { type: "progress", at, step: "capture", done: 60, total: 100 },
  { type: "step-end", at, step: "capture", status: "ok", cached: false, durationMs: 61_500 },
  { type: "build-end", at, status: "ok", durationMs: 62_000 },
];

function render(mode: ProgressMode): string {
  let out = "";
  const reporter = createReporter({ mode, write: (t) => (out += t), now: () => 0 });
  events.forEach(reporter.emit);
  reporter.finish();
  return out;
}

test("--json prints one parseable event per line", () => {
  const lines = render("json").trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => JSON.parse(l)), events);
});

test("plain output is timestamped lines with coarse progress and a summary table", () => {
  const out = render("plain");
  assert.match(out, /^2026-01-01T00:00:00.000Z  build b1 of demo: 2 steps$/m);
  assert.match(out, /\[01-os\] cached \(from cache\) in 3 ms/);
  assert.match(out, /\[capture\] 50% \(60 of 100 bytes\)/);
  assert.doesNotMatch(out, /\x1b\[/, "no terminal escapes in plain output");
  assert.match(out, /STEP\s+STATUS\s+CACHED\s+DURATION\n01-os\s+cached\s+yes\s+3 ms\ncapture\s+ok\s+no\s+1m01s/);
});

test("the TTY view draws a live line with elapsed time and a bar for known-size work", () => {
  const out = render("tty");
  assert.match(out, /> capture {2}Capture {2}00:00 {2}\[#{14}-{10}\] {2}60%/);
  assert.match(out, /ok {6}capture {2}1m01s/);
  assert.match(out, /capture\s+ok\s+no\s+1m01s/);
});

test("the VM console shows on the live TTY line, and in plain output at most every 30 s per step", () => {
  const consoleEvents: BuildEvent[] = [
    { type: "step-start", at: "2026-01-01T00:00:00.000Z", step: "01-os", title: "Install" },
    { type: "console", at: "2026-01-01T00:00:01.000Z", step: "01-os", line: "rebake-testos: installer started" },
    { type: "console", at: "2026-01-01T00:00:20.000Z", step: "01-os", line: "rebake-testos: partitioning /dev/vda" },
    { type: "console", at: "2026-01-01T00:00:31.000Z", step: "01-os", line: "rebake-testos: unpacking the system" },
  ];
  let plain = "";
  const p = createReporter({ mode: "plain", write: (t) => (plain += t), now: () => 0 });
  consoleEvents.forEach(p.emit);
  assert.deepEqual(plain.split("\n").filter((l) => l.includes("console:")), [
    "2026-01-01T00:00:01.000Z  [01-os] console: rebake-testos: installer started",
    "2026-01-01T00:00:31.000Z  [01-os] console: rebake-testos: unpacking the system",
  ]);
  let tty = "";
  const t = createReporter({ mode: "tty", write: (text) => (tty += text), now: () => 0, tickMs: 60_000 });
  consoleEvents.forEach(t.emit);
  t.finish();
  assert.match(tty, /> 01-os {2}Install {2}\S+ {2}\| rebake-testos: unpacking the system$/m);
});
