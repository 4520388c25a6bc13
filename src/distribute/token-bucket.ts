/**
 * A token bucket shared by every site of one sync: `--bwlimit` caps what leaves this machine in
 * total, which is what a WAN link cares about. A burst of one second's worth is allowed.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface Clock {
  readonly now: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
};

export interface Throttle {
  /** Waits until `bytes` may be sent. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

export const UNLIMITED: Throttle = { take: async () => undefined };

export class TokenBucket implements Throttle {
  private tokens: number;
  private last: number;

  constructor(private readonly bytesPerSecond: number, private readonly clock: Clock = SYSTEM_CLOCK) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`a bandwidth limit must be above 0 bytes per second, got ${bytesPerSecond}`);
    this.tokens = bytesPerSecond;
    this.last = clock.now();
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    // Debt is allowed: a block bigger than the bucket still goes, and the next caller waits it off.
    this.tokens -= bytes;
    if (this.tokens < 0) {
      await this.clock.sleep((-this.tokens / this.bytesPerSecond) * 1000, signal);
      this.refill();
    }
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }
}
