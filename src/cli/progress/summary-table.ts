/** The table printed at the end of a build: step, status, cached, duration. */
import type { BuildEvent } from "../../runner/events.ts";
import { formatDuration } from "./format.ts";

type StepEnd = Extract<BuildEvent, { type: "step-end" }>;

export function summaryTable(ends: readonly StepEnd[]): string {
  const rows = [["STEP", "STATUS", "CACHED", "DURATION"], ...ends.map((e) => [e.step, e.status, e.cached ? "yes" : "no", formatDuration(e.durationMs)])];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join("  ")).join("\n") + "\n";
}
