/**
 * Renders build events for a person or a program: `json` prints one event per line, `plain` prints
 * timestamped lines (CI logs), `tty` keeps one live line (current step, elapsed, a bar for work of
 * known size) above which finished steps scroll. `plain` and `tty` end with a summary table.
 */
import type { BuildEvent } from "../../runner/events.ts";
import { bar, formatDuration, formatElapsed } from "./format.ts";
import { summaryTable } from "./summary-table.ts";
import { CLEAR_LINE } from "../../util/terminal-text.ts";

export type ProgressMode = "tty" | "plain" | "json";

export interface Reporter {
  readonly emit: (event: BuildEvent) => void;
  /** Stops the live line and prints the summary table. */
  readonly finish: () => void;
}

export interface ReporterOptions {
  readonly mode: ProgressMode;
  readonly write: (text: string) => void;
  readonly now?: () => number;
  /** How often the TTY line redraws its elapsed time. */
  readonly tickMs?: number;
}

/** Plain mode prints progress of known-size work only at these steps, not for every chunk. */
const PLAIN_PROGRESS_STEP_PERCENT = 25;
/** Plain mode shows the VM console at most this often per step: a heartbeat, not the whole log. */
const PLAIN_CONSOLE_INTERVAL_MS = 30_000;
/** The console line on the TTY line is cut to this many characters. */
const TTY_CONSOLE_CHARS = 60;
const DEFAULT_TICK_MS = 1000;

export function createReporter(options: ReporterOptions): Reporter {
  const { write } = options;
  const now = options.now ?? Date.now;
  const ends: Extract<BuildEvent, { type: "step-end" }>[] = [];
  if (options.mode === "json") {
    return { emit: (event) => write(`${JSON.stringify(event)}\n`), finish: () => undefined };
  }
  if (options.mode === "plain") {
    const reported = new Map<string, number>();
    return {
      emit(event) {
        const line = plainLine(event, reported);
        if (event.type === "step-end") ends.push(event);
        if (line) write(`${event.at}  ${line}\n`);
      },
      finish: () => ends.length > 0 && write(`\n${summaryTable(ends)}`),
    };
  }
  let current: { step: string; title: string; started: number; done?: number; total?: number; console?: string } | undefined;
  const draw = () => {
    if (!current) return;
    const known = current.total && current.total > 0 ? `  ${bar(current.done ?? 0, current.total)}` : "";
    const console = current.console ? `  | ${current.console.slice(0, TTY_CONSOLE_CHARS)}` : "";
    write(`${CLEAR_LINE}> ${current.step}  ${current.title}  ${formatElapsed(now() - current.started)}${known}${console}`);
  };
  const ticker = setInterval(draw, options.tickMs ?? DEFAULT_TICK_MS);
  ticker.unref();
  return {
    emit(event) {
      switch (event.type) {
        case "step-start":
          current = { step: event.step, title: event.title, started: now() };
          break;
        case "progress":
          if (current) Object.assign(current, { done: event.done, total: event.total });
          break;
        case "console":
          if (current) current.console = event.line;
          break;
        case "step-end":
          ends.push(event);
          current = undefined;
          write(`${CLEAR_LINE}${event.status === "ok" ? "ok    " : event.status === "cached" ? "cached" : event.status === "skipped" ? "skip  " : "FAILED"}  ${event.step}  ${formatDuration(event.durationMs)}${event.error ? `\n        ${event.error.split("\n")[0]}` : ""}\n`);
          break;
        case "log":
          write(`${CLEAR_LINE}        ${event.message}\n`);
          break;
        case "build-start":
          write(`building ${event.recipe} (build ${event.buildId}), ${event.steps.length} steps\n`);
          break;
        case "build-end":
          break;
      }
      draw();
    },
    finish() {
      clearInterval(ticker);
      write(CLEAR_LINE);
      if (ends.length > 0) write(`\n${summaryTable(ends)}`);
    },
  };
}

function plainLine(event: BuildEvent, reported: Map<string, number>): string | undefined {
  switch (event.type) {
    case "build-start":
      return `build ${event.buildId} of ${event.recipe}: ${event.steps.length} steps`;
    case "step-start":
      return `[${event.step}] start: ${event.title}`;
    case "step-end":
      return `[${event.step}] ${event.status}${event.cached ? " (from cache)" : ""}${event.why ? ` (${event.why})` : ""} in ${formatDuration(event.durationMs)}${event.error ? `: ${event.error.split("\n")[0]}` : ""}`;
    case "progress": {
      if (event.total <= 0) return undefined;
      const percent = Math.floor((event.done / event.total) * 100);
      const bucket = Math.floor(percent / PLAIN_PROGRESS_STEP_PERCENT) * PLAIN_PROGRESS_STEP_PERCENT;
      if ((reported.get(event.step) ?? -1) >= bucket) return undefined;
      reported.set(event.step, bucket);
      return `[${event.step}] ${bucket}% (${event.done} of ${event.total} bytes)`;
    }
    case "log":
      return event.step ? `[${event.step}] ${event.message}` : event.message;
    case "console": {
      const at = Date.parse(event.at);
      const key = `console ${event.step}`;
      if (at - (reported.get(key) ?? -Infinity) < PLAIN_CONSOLE_INTERVAL_MS) return undefined;
      reported.set(key, at);
      return `[${event.step}] console: ${event.line}`;
    }
    case "build-end":
      return `build ${event.status} in ${formatDuration(event.durationMs)}${event.error ? `: ${event.error.split("\n")[0]}` : ""}`;
  }
}
