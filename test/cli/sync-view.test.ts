import { test } from "node:test";
import assert from "node:assert/strict";
import type { SiteResult, SyncEvent } from "../../src/distribute/model.ts";
import { createSyncView, syncSummaryTable } from "../../src/cli/progress/sync-view.ts";

const AT = "2026-01-01T00:00:00.000Z";
const done = (site: string, status: SiteResult["status"], extra: Partial<SiteResult> = {}): SiteResult => ({ site, location: `/s/${site}`, vdisk: "ws-1.0.0", status, sentBytes: 0, localBytes: 0, resumedBytes: 0, attempts: 1, durationMs: 1500, ...extra });
const events: SyncEvent[] = [
  { type: "site-start", site: "hq", at: AT },
  ...[0, 10, 30, 60, 99, 100].map((done): SyncEvent => ({ type: "site-progress", site: "hq", phase: "transfer", done, total: 100, at: AT })),
  { type: "site-progress", site: "hq", phase: "verify", done: 0, total: 100, at: AT },
  { type: "site-end", at: AT, result: done("hq", "delta", { sentBytes: 3 * 1024 * 1024, base: "ws-0.9.0" }) },
  { type: "site-start", site: "lyon", at: AT },
  { type: "site-end", at: AT, result: done("lyon", "failed", { error: { name: "StoreUnreachableError", message: "gone" } }) },
];

test("plain progress prints timestamped lines at each quarter, the end of each site, and the table", () => {
  let out = "";
  const view = createSyncView("plain", (t) => (out += t));
  events.forEach(view.emit);
  view.finish(events.flatMap((e) => (e.type === "site-end" ? [e.result] : [])));
  const lines = out.split("\n");
  assert.deepEqual(lines.slice(0, 9), [
    `${AT}  hq: checking`,
    `${AT}  hq: transfer 0%`,
    `${AT}  hq: transfer 25%`,
    `${AT}  hq: transfer 50%`,
    `${AT}  hq: transfer 75%`,
    `${AT}  hq: transfer 100%`,
    `${AT}  hq: verify`,
    `${AT}  hq: delta from ws-0.9.0, sent 3.0M, copied 0B inside the site in 1.5 s`,
    `${AT}  lyon: checking`,
  ]);
  assert.match(out, /lyon: FAILED StoreUnreachableError: gone/);
  assert.match(out, /SITE\s+STATUS\s+SENT\s+LOCAL\s+BASE\s+DURATION\nhq\s+delta\s+3\.0M/);
});

test("the TTY view keeps one live line of running sites and scrolls finished ones above it", () => {
  let out = "";
  const view = createSyncView("tty", (t) => (out += t));
  events.slice(0, 3).forEach(view.emit);
  assert.match(out, /\r\x1b\[2K> hq transfer 10%$/);
  events.slice(3).forEach(view.emit);
  assert.match(out, /\r\x1b\[2Khq: delta from ws-0\.9\.0/);
});

test("the summary table has one row per site", () => {
  assert.equal(syncSummaryTable([done("a", "skipped"), done("b", "full")]).trim().split("\n").length, 3);
});
