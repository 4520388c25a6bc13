/**
 * Per-site progress of a sync: on a terminal one live line with every running site's phase and
 * percentage; otherwise timestamped lines (start, each quarter of the transfer, end), which CI
 * logs keep readable. Both end with a summary table.
 */
import { formatSize } from "../../cache/units.ts";
import { formatDuration } from "./format.ts";
import type { SiteResult, SyncEvent } from "../../distribute/model.ts";
import { CLEAR_LINE } from "../../util/terminal-text.ts";

const PLAIN_STEP_PERCENT = 25;

export interface SyncView {
  readonly emit: (event: SyncEvent) => void;
  /** Clears the live line and prints the summary table. */
  readonly finish: (results: readonly SiteResult[]) => void;
}

export function createSyncView(mode: "tty" | "plain", write: (text: string) => void): SyncView {
  if (mode === "plain") {
    const reported = new Map<string, number>();
    return {
      emit(event) {
        const line = plainLine(event, reported);
        if (line) write(`${event.at}  ${line}\n`);
      },
      finish: (results) => write(`\n${syncSummaryTable(results)}`),
    };
  }
  const live = new Map<string, string>();
  const draw = () => write(`${CLEAR_LINE}> ${[...live.entries()].map(([site, state]) => `${site} ${state}`).join(" | ")}`);
  return {
    emit(event) {
      if (event.type === "site-start") live.set(event.site, "check");
      else if (event.type === "site-progress") live.set(event.site, `${event.phase} ${percent(event.done, event.total)}%`);
      else {
        live.delete(event.result.site);
        write(`${CLEAR_LINE}${endLine(event.result)}\n`);
      }
      if (live.size > 0) draw();
    },
    finish: (results) => write(`${CLEAR_LINE}\n${syncSummaryTable(results)}`),
  };
}

function percent(done: number, total: number): number {
  return total > 0 ? Math.floor((100 * Math.min(done, total)) / total) : 100;
}

function plainLine(event: SyncEvent, reported: Map<string, number>): string | undefined {
  switch (event.type) {
    case "site-start":
      return `${event.site}: checking`;
    case "site-progress": {
      // Phases of unknown or instant length get one line when they start.
      if (event.phase !== "transfer" && event.phase !== "index") return event.done === 0 ? `${event.site}: ${event.phase}` : undefined;
      const step = Math.floor(percent(event.done, event.total) / PLAIN_STEP_PERCENT) * PLAIN_STEP_PERCENT;
      const key = `${event.site}/${event.phase}`;
      if ((reported.get(key) ?? -1) >= step) return undefined;
      reported.set(key, step);
      return `${event.site}: ${event.phase} ${step}%`;
    }
    case "site-end":
      return endLine(event.result);
  }
}

function endLine(r: SiteResult): string {
  if (r.status === "failed") return `${r.site}: FAILED ${r.error?.name}: ${r.error?.message}`;
  if (r.status === "skipped") return `${r.site}: ${r.vdisk} already there (name, size and sha256 match), skipped`;
  const from = r.base ? ` from ${r.base}` : "";
  return `${r.site}: ${r.status}${from}, sent ${formatSize(r.sentBytes)}, copied ${formatSize(r.localBytes)} inside the site in ${formatDuration(r.durationMs)}`;
}

/** SITE STATUS SENT LOCAL BASE DURATION. */
export function syncSummaryTable(results: readonly SiteResult[]): string {
  const rows = [
    ["SITE", "STATUS", "SENT", "LOCAL", "BASE", "DURATION"],
    ...results.map((r) => [r.site, r.status, formatSize(r.sentBytes), formatSize(r.localBytes), r.base ?? "-", formatDuration(r.durationMs)]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ")).join("\n") + "\n";
}
