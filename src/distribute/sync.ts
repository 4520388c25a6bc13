/**
 * One source to N sites with bounded concurrency. Every site runs to its own end: one failing
 * site never stops the others; the caller turns the results into an exit code.
 */
import type { Exec } from "../util/exec.ts";
import type { SiteResult, SyncEvent, SyncSite, SyncSource } from "./model.ts";
import { syncSite } from "./sync-site.ts";
import { UNLIMITED, type Throttle } from "./token-bucket.ts";

/** Two sites at once keeps a WAN link busy without splitting it into slivers. */
export const DEFAULT_CONCURRENCY = 2;

export interface SyncOptions {
  /** @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number;
  /** @default UNLIMITED */
  readonly throttle?: Throttle;
  readonly verify?: boolean;
  readonly exec?: Exec;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: SyncEvent) => void;
  readonly now?: () => number;
}

export async function syncAll(source: SyncSource, sites: readonly SyncSite[], options: SyncOptions = {}): Promise<SiteResult[]> {
  const now = options.now ?? Date.now;
  const at = () => new Date(now()).toISOString();
  const results: SiteResult[] = new Array<SiteResult>(sites.length);
  let next = 0;
  const worker = async () => {
    while (next < sites.length) {
      const index = next++;
      const site = sites[index]!;
      options.signal?.throwIfAborted();
      options.onEvent?.({ type: "site-start", site: site.name, at: at() });
      const result = await syncSite(site, source, {
        throttle: options.throttle ?? UNLIMITED,
        ...(options.verify ? { verify: true } : {}),
        ...(options.exec ? { exec: options.exec } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        now,
        onProgress: (phase, done, total) => options.onEvent?.({ type: "site-progress", site: site.name, phase, done, total, at: at() }),
      });
      results[index] = result;
      options.onEvent?.({ type: "site-end", at: at(), result });
    }
  };
  const width = Math.max(1, Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, sites.length));
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}
