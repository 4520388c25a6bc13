/**
 * The runner's eyes on a running VM. Every wait on the guest (the unattended install, a boot until
 * the agent answers, a clean shutdown, the verify boot) runs under `guard` with a stall window:
 * when the console, the disk writes and the CPU time all stand still for the whole window, the
 * wait fails at once with the console tail instead of waiting out its time limit. Any other work
 * on the VM runs under `guard` without a window, so a VM that dies (OOM kill, crash, a signal) fails
 * the step at once. The console is copied as it arrives to the current step's log, and its last
 * line feeds the live progress view.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import { VmStoppedError, type VmActivity, type VmMonitor, type VmStop } from "../hypervisors/driver.ts";
import { CONSOLE_TAIL_LINES, GuestStallError, VmDiedError } from "./errors.ts";
import { raceAbort } from "./run-steps.ts";

/** How long nothing may move before a wait counts as stalled: a Windows install has long quiet phases. */
export const DEFAULT_STALL_WINDOW_MS = 10 * 60_000;
/** How often the console is read and the counters sampled. */
export const WATCH_INTERVAL_MS = 2_000;
/**
 * CPU time below this share of the wall time between two samples is not progress: an idle or
 * paused QEMU still ticks its own timers.
 */
export const MIN_CPU_SHARE = 0.02;
/** Console lines searched for markers are bounded; a guest could print forever. */
const MAX_CONSOLE_LINE = 4096;
/** How many marker-like lines (`WORD: ...`) are kept to search; older ones are dropped. */
const MAX_MARKER_LINES = 1000;

/** Time, injected so tests drive the watch without waiting. */
export interface WatchTimers {
  now(): number;
  /** Resolves after `ms`, or rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realTimers: WatchTimers = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};

export interface VmWatchOptions {
  readonly monitor: VmMonitor;
  /** @default DEFAULT_STALL_WINDOW_MS */
  readonly stallWindowMs?: number;
  /** @default WATCH_INTERVAL_MS */
  readonly intervalMs?: number;
  /** @default realTimers */
  readonly timers?: WatchTimers;
  /** Console text as it arrives: the current step's log. */
  readonly onConsole?: (text: string) => void;
  /** Each complete console line, for the live progress view. */
  readonly onLine?: (line: string) => void;
}

export interface GuardOptions {
  /** Turns stall detection on: what the step is waiting for ("the unattended OS install"). */
  readonly waitingFor?: string;
  /** The guest powering the VM off is the expected end of this work, not a failure. */
  readonly powerOffExpected?: boolean;
}

export class VmWatch {
  readonly #monitor: VmMonitor;
  readonly #window: number;
  readonly #interval: number;
  readonly #timers: WatchTimers;
  #onConsole: ((text: string) => void) | undefined;
  readonly #onLine: ((line: string) => void) | undefined;
  #offset = 0;
  #partial = "";
  readonly #tail: string[] = [];
  readonly #seen: string[] = [];
  #firstSample: VmActivity | undefined;
  #reading: Promise<void> = Promise.resolve();

  constructor(options: VmWatchOptions) {
    this.#monitor = options.monitor;
    this.#window = options.stallWindowMs ?? DEFAULT_STALL_WINDOW_MS;
    this.#interval = options.intervalMs ?? WATCH_INTERVAL_MS;
    this.#timers = options.timers ?? realTimers;
    this.#onConsole = options.onConsole;
    this.#onLine = options.onLine;
  }

  get accelerator(): string {
    return this.#monitor.accelerator;
  }

  /** Sends the console to another step's log from now on. */
  logTo(onConsole: ((text: string) => void) | undefined): void {
    this.#onConsole = onConsole;
  }

  /** The last console lines, oldest first. */
  consoleTail(): string[] {
    return this.#partial ? [...this.#tail, this.#partial].slice(-CONSOLE_TAIL_LINES) : [...this.#tail];
  }

  /** The first console line so far (complete or not) that `pattern` matches. */
  async findLine(pattern: RegExp): Promise<string | undefined> {
    await this.readConsole();
    return [...this.#seen, this.#partial].find((line) => pattern.test(line));
  }

  /** Reads what the console printed since the last read. One read at a time, in order. */
  readConsole(): Promise<void> {
    this.#reading = this.#reading.then(async () => {
      for (;;) {
        const { text, offset } = await this.#monitor.readConsole(this.#offset);
        if (offset === this.#offset) return;
        this.#offset = offset;
        this.#onConsole?.(text);
        this.#addText(text);
      }
    });
    return this.#reading;
  }

  #addText(text: string): void {
    const lines = (this.#partial + text).split("\n");
    this.#partial = (lines.pop() ?? "").slice(-MAX_CONSOLE_LINE);
    for (const raw of lines) {
      const line = printable(raw).slice(0, MAX_CONSOLE_LINE);
      if (!line) continue;
      this.#tail.push(line);
      if (this.#tail.length > CONSOLE_TAIL_LINES) this.#tail.shift();
      // Markers (install success) are searched in what the guest printed; keep only marker-like lines.
      if (/^[A-Z][A-Z0-9-]+:/.test(line)) {
        this.#seen.push(line);
        // Installers print their report last: the newest marker lines are the ones that matter.
        if (this.#seen.length > MAX_MARKER_LINES) this.#seen.shift();
      }
      this.#onLine?.(line);
    }
  }

  /**
   * Runs `work` until it settles, failing it at once when the VM stops unexpectedly, or, with
   * `waitingFor`, when nothing moves for the stall window.
   */
  async guard<T>(stepId: string, signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>, options: GuardOptions = {}): Promise<T> {
    const failed = new AbortController();
    const finished = new AbortController();
    const combined = AbortSignal.any([signal, failed.signal]);
    const fail = (error: Error) => {
      if (!failed.signal.aborted) failed.abort(error);
    };
    this.#firstSample ??= await this.#sample();
    const watching = this.#watch(stepId, options.waitingFor, AbortSignal.any([combined, finished.signal]), fail);
    void this.#monitor.stopped.then(async (stop: VmStop) => {
      if (finished.signal.aborted || stop.requestedByDriver || (options.powerOffExpected && stop.requestedByGuest)) return;
      await this.readConsole().catch(() => undefined);
      fail(new VmDiedError(stepId, stop.description, this.consoleTail()));
    });
    try {
      return await raceAbort(work(combined), combined);
    } catch (error) {
      if (failed.signal.aborted && !signal.aborted) throw failed.signal.reason as Error;
      // The driver saw the VM stop before the watch did: the same failure, told with the console.
      if (error instanceof VmStoppedError && !signal.aborted) {
        await this.readConsole().catch(() => undefined);
        throw new VmDiedError(stepId, error.stop.description, this.consoleTail());
      }
      throw error;
    } finally {
      finished.abort();
      await watching;
      await this.readConsole().catch(() => undefined);
    }
  }

  async #watch(stepId: string, waitingFor: string | undefined, signal: AbortSignal, fail: (error: Error) => void): Promise<void> {
    let last = await this.#sample();
    let lastMove = this.#timers.now();
    while (!signal.aborted) {
      try {
        await this.#timers.sleep(this.#interval, signal);
      } catch {
        return;
      }
      await this.readConsole().catch(() => undefined);
      if (!waitingFor) continue;
      const now = this.#timers.now();
      const sample = await this.#sample();
      if (moved(last, sample, now - lastMove)) {
        last = sample;
        lastMove = now;
      } else if (now - lastMove >= this.#window) {
        const written = sample.diskWrittenBytes - (this.#firstSample?.diskWrittenBytes ?? 0);
        fail(new GuestStallError(stepId, waitingFor, this.#monitor.accelerator, now - lastMove, written, this.consoleTail()));
        return;
      }
    }
  }

  async #sample(): Promise<VmActivity> {
    return this.#monitor.activity().catch(() => ({ consoleBytes: 0, diskWrittenBytes: 0, cpuMs: 0 }));
  }
}

/** Any of the three counters moved since `last`; CPU only counts above the idle share. */
function moved(last: VmActivity, now: VmActivity, elapsedMs: number): boolean {
  return (
    now.consoleBytes !== last.consoleBytes ||
    now.diskWrittenBytes !== last.diskWrittenBytes ||
    now.cpuMs - last.cpuMs > Math.max(elapsedMs, 1) * MIN_CPU_SHARE
  );
}

/** A console line fit for a terminal: escape sequences and control characters removed. */
function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x00-\x08\x0b-\x1f\x7f]/g, "").trimEnd();
}
