/**
 * Runs a list of steps in order and unwinds the cleanup stack in reverse in `finally`: after
 * success, after a failure and after SIGINT / SIGTERM or the build's time limit. The first error
 * is thrown after cleanup, classified as interruption or build timeout when the signal says so.
 */
import { CleanupStack, releaseKept, type UnwindResult } from "../util/cleanup-stack.ts";
import { BuildInterruptedError, BuildTimeoutError } from "./errors.ts";
import { systemClock, type Clock, type EmitEvent, type StepStatus } from "./events.ts";
import { timeoutSignal } from "./timeout-signal.ts";
import { keepDecision, type OnErrorPolicy } from "./on-error.ts";
import type { Step } from "./step.ts";

export interface RunStepsOptions {
  /** The CLI's signal (SIGINT / SIGTERM). */
  readonly signal: AbortSignal;
  readonly emit: EmitEvent;
  /**
   * What to do with the VM after a failure.
   * @default "cleanup"
   */
  readonly onError?: OnErrorPolicy;
  /** The whole build's time limit; unlimited when absent. */
  readonly timeoutMs?: number;
  /**
   * Called after a failure with the keep policy, before the runner throws, with what was kept and
   * how to release it later.
   */
  readonly onKept?: (kept: readonly string[], release: () => Promise<void>) => void;
  readonly clock?: Clock;
  /** Shared with the caller when it acquires things before the steps run. */
  readonly cleanup?: CleanupStack;
}

export interface StepRecord {
  readonly id: string;
  readonly title: string;
  readonly status: StepStatus;
  readonly cached: boolean;
  /** Why the step was cached or skipped. */
  readonly why?: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
}

export interface RunStepsResult {
  readonly steps: readonly StepRecord[];
  readonly unwind: UnwindResult;
}

/** Thrown by `runSteps` around the step's own error, with what ran and how cleanup went. */
export class StepsFailedError extends Error {
  constructor(
    readonly error: Error,
    readonly steps: readonly StepRecord[],
    readonly unwind: UnwindResult,
  ) {
    super(error.message);
    this.name = error.name;
  }
}

export async function runSteps<S>(steps: readonly Step<S>[], state: S, options: RunStepsOptions): Promise<RunStepsResult> {
  const clock = options.clock ?? systemClock;
  const cleanup = options.cleanup ?? new CleanupStack();
  const limit = options.timeoutMs !== undefined ? timeoutSignal(options.timeoutMs) : undefined;
  const timeout = limit?.signal;
  const signal = timeout ? AbortSignal.any([options.signal, timeout]) : options.signal;
  const records: StepRecord[] = [];
  let current: string | undefined;
  let failure: Error | undefined;

  const classify = (error: unknown): Error => {
    if (timeout?.aborted && options.timeoutMs !== undefined) return new BuildTimeoutError(options.timeoutMs, current);
    if (options.signal.aborted) return new BuildInterruptedError(reasonText(options.signal.reason), current);
    return error instanceof Error ? error : new Error(String(error));
  };

  try {
    for (const step of steps) {
      if (signal.aborted) throw signal.reason;
      current = step.name;
      if (step.cleanup) cleanup.push(`cleanup of ${step.name}`, () => step.cleanup!(state));
      const started = clock();
      options.emit({ type: "step-start", at: started.toISOString(), step: step.name, title: step.title });
      let status: StepStatus = "ok";
      let why: string | undefined;
      try {
        const outcome = await raceAbort(step.run({ signal, cleanup, emit: options.emit, stepId: step.name }, state), signal);
        if (outcome) {
          status = outcome.outcome;
          why = outcome.why;
        }
      } catch (error) {
        failure = classify(error);
        status = failure instanceof BuildInterruptedError ? "interrupted" : "failed";
        throw failure;
      } finally {
        const ended = clock();
        const record: StepRecord = {
          id: step.name,
          title: step.title,
          status,
          cached: status === "cached",
          ...(why !== undefined ? { why } : {}),
          startedAt: started.toISOString(),
          endedAt: ended.toISOString(),
          durationMs: ended.getTime() - started.getTime(),
        };
        records.push(record);
        options.emit({
          type: "step-end",
          at: record.endedAt,
          step: step.name,
          status,
          cached: record.cached,
          ...(why !== undefined ? { why } : {}),
          durationMs: record.durationMs,
          ...(status !== "ok" && status !== "cached" && failure ? { error: failure.message } : {}),
        });
      }
    }
    current = undefined;
  } catch (error) {
    failure ??= classify(error);
  }
  // Every path (success, failure, abort) reaches here: the catch above takes any error.
  limit?.clear();
  const interrupted = failure instanceof BuildInterruptedError;
  const unwind = await cleanup.unwind(keepDecision(options.onError ?? "cleanup", failure !== undefined, interrupted));
  for (const e of unwind.errors) {
    options.emit({ type: "log", at: clock().toISOString(), message: `cleanup '${e.name}' failed: ${e.error.message}` });
  }
  if (unwind.kept.length > 0) options.onKept?.(unwind.kept.map((e) => e.name), () => releaseKept(unwind.kept));
  if (failure) throw new StepsFailedError(failure, records, unwind);
  return { steps: records, unwind };
}

/** Rejects as soon as the signal aborts, even if the step ignores its signal. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return typeof reason === "string" ? reason : "aborted";
}
