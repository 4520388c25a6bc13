/**
 * Waiting for a booting guest: channels that connect per call (SSH, WinRM) probe with backoff until
 * the guest answers, both for waitReady and for the new boot after a reboot.
 */
import { setTimeout as sleep } from "node:timers/promises";

/** The first wait between attempts, doubled after each one up to `max`. */
export interface Backoff {
  readonly first: number;
  readonly max: number;
}

export interface PollGuestOptions {
  /** Epoch milliseconds after which no attempt starts. */
  readonly deadline: number;
  readonly backoffMs: Backoff;
  /** Failures that go away by themselves while a guest boots; any other failure is thrown. */
  readonly isRetryable: (error: unknown) => boolean;
  readonly signal?: AbortSignal;
}

/**
 * Calls `attempt` (given the milliseconds left) with backoff until it returns true or the deadline
 * passes. Returns true, or the last reason it was not: what `attempt` said, or a retried error's message.
 */
export async function pollGuest(options: PollGuestOptions, attempt: (remainingMs: number) => Promise<true | string>): Promise<true | string> {
  const { deadline, backoffMs, isRetryable, signal } = options;
  let backoff = backoffMs.first;
  let last = "no attempt";
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const outcome = await attempt(deadline - Date.now());
      if (outcome === true) return true;
      last = outcome;
    } catch (error) {
      if (!isRetryable(error)) throw error;
      last = (error as Error).message;
    }
    const wait = Math.min(backoff, deadline - Date.now());
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
    backoff = Math.min(backoff * 2, backoffMs.max);
  }
  return last;
}
