/**
 * One source to N sites with bounded concurrency. Every site runs to its own end: one failing
 * site never stops the others; the caller turns the results into an exit code.
 */
import type { Exec } from "../util/exec.ts";
import type { SiteResult, SyncEvent, SyncSite, SyncSource } from "./model.ts";
import { syncSite, type SiteSyncOptions } from "./sync-site.ts";
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
  return forEachSite(sites, options.concurrency, options.signal, async (site) => {
    options.onEvent?.({ type: "site-start", site: site.name, at: at() });
    const result = await syncSite(site, source, siteOptions(options, now, site));
    options.onEvent?.({ type: "site-end", at: at(), result });
    return result;
  });
}

/** What every site's sync gets from the run's options. */
export function siteOptions(options: SyncOptions, now: () => number, site: SyncSite): SiteSyncOptions {
  const at = () => new Date(now()).toISOString();
  return {
    throttle: options.throttle ?? UNLIMITED,
    ...(options.verify ? { verify: true } : {}),
    ...(options.exec ? { exec: options.exec } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    now,
    onProgress: (phase, done, total) => options.onEvent?.({ type: "site-progress", site: site.name, phase, done, total, at: at() }),
  };
}

/** Runs `each` for every site, `concurrency` at once; results in the sites' order. */
export async function forEachSite<R>(sites: readonly SyncSite[], concurrency: number | undefined, signal: AbortSignal | undefined, each: (site: SyncSite) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(sites.length);
  let next = 0;
  const worker = async () => {
    while (next < sites.length) {
      const index = next++;
      signal?.throwIfAborted();
      results[index] = await each(sites[index]!);
    }
  };
  const width = Math.max(1, Math.min(concurrency ?? DEFAULT_CONCURRENCY, sites.length));
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}
