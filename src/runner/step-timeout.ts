/**
 * A time limit around one piece of a step. The work gets a signal that aborts at the limit (and
 * with the build), and a timeout, however the work reports it, becomes a StepTimeoutError naming
 * the step.
 */
import { GuestTimeoutError } from "../guest/channel.ts";
import { StepTimeoutError } from "./errors.ts";
import { raceAbort } from "./run-steps.ts";
import { timeoutSignal } from "./timeout-signal.ts";

export async function withStepTimeout<T>(
  stepId: string,
  timeoutMs: number,
  what: string,
  signal: AbortSignal,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const limit = timeoutSignal(timeoutMs);
  const combined = AbortSignal.any([signal, limit.signal]);
  try {
    return await raceAbort(work(combined), combined);
  } catch (error) {
    if (signal.aborted) throw error;
    if (limit.signal.aborted || error instanceof GuestTimeoutError) throw new StepTimeoutError(stepId, timeoutMs, what);
    throw error;
  } finally {
    limit.clear();
  }
}
