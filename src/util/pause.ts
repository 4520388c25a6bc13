/** A poll interval that ends early on abort, with the abort's reason (what SIGINT set), not a generic AbortError. */
import { setTimeout as sleep } from "node:timers/promises";

export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}
