/**
 * Waiting for a booting guest: channels that connect per call (SSH, WinRM) probe with backoff until
 * the guest answers, both for waitReady and for the new boot after a reboot.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { GuestTimeoutError } from "./channel.ts";

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

/** What a per-call channel lends the reboot wait: how it reads the boot identity and asks for the reboot. */
export interface RebootProbe {
  /** What identifies a boot, for messages: "boot id", "boot time". */
  readonly identity: string;
  /** The longest a single probe may take. */
  readonly probeTimeoutMs: number;
  readBootIdentity(timeoutMs: number, signal: AbortSignal | undefined): Promise<string>;
  /** Accepted when the request returns or the connection drops on the way down. */
  requestReboot(signal: AbortSignal | undefined): Promise<void>;
  /** The guest may come back on another address: drop the one learned before the reboot. */
  forgetAddress(): void;
  poll(deadline: number, signal: AbortSignal | undefined, attempt: (remainingMs: number) => Promise<true | string>): Promise<true | string>;
  where(): string;
}

/** Reboots and waits until the guest answers with another boot identity: an answer from the old boot does not count. */
export async function rebootUntilNewBoot(probe: RebootProbe, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const before = await probe.readBootIdentity(Math.min(probe.probeTimeoutMs, timeoutMs), signal);
  await probe.requestReboot(signal);
  probe.forgetAddress();
  const last = await probe.poll(deadline, signal, async (remaining) => {
    const now = await probe.readBootIdentity(Math.min(probe.probeTimeoutMs, remaining), signal);
    return now !== before ? true : `still ${probe.identity} ${before}`;
  });
  if (last !== true) throw new GuestTimeoutError(`waiting for ${probe.where()} to come back from a reboot with a new ${probe.identity}: not within ${timeoutMs} ms (last: ${last})`);
}
