/**
 * Which cache entries `rebake cache prune` removes: a pure decision over layers and downloads.
 * Chains are kept newest first (a chain is a layer without children plus everything below it; a
 * download is a chain of one); a layer is never removed while a kept layer depends on it.
 */
export interface CacheItem {
  readonly id: string;
  readonly size: number;
  readonly created: Date;
  /** The item this one depends on (a layer's parent layer). */
  readonly parent?: string | null;
}

export interface PrunePolicy {
  /** Keep at most this many bytes in total. */
  readonly maxSizeBytes?: number;
  /** Remove chains whose newest entry is older than this. */
  readonly olderThanMs?: number;
  /** Remove everything. */
  readonly all?: boolean;
}

export function selectForPrune(items: readonly CacheItem[], policy: PrunePolicy, now: Date): { readonly keep: readonly string[]; readonly remove: readonly string[] } {
  const byId = new Map(items.map((item) => [item.id, item]));
  if (policy.all) return { keep: [], remove: items.map((i) => i.id) };
  const hasChild = new Set(items.map((i) => i.parent).filter((p): p is string => typeof p === "string"));
  const leaves = items.filter((i) => !hasChild.has(i.id)).sort((a, b) => b.created.getTime() - a.created.getTime());
  const kept = new Set<string>();
  let total = 0;
  for (const leaf of leaves) {
    if (policy.olderThanMs !== undefined && now.getTime() - leaf.created.getTime() > policy.olderThanMs) continue;
    const chain: CacheItem[] = [];
    for (let item: CacheItem | undefined = leaf; item && !kept.has(item.id); item = item.parent ? byId.get(item.parent) : undefined) chain.push(item);
    const added = chain.reduce((sum, i) => sum + i.size, 0);
    // Newest first: once a chain does not fit, older ones do not get its place.
    if (policy.maxSizeBytes !== undefined && total + added > policy.maxSizeBytes) break;
    for (const item of chain) kept.add(item.id);
    total += added;
  }
  return { keep: [...kept], remove: items.filter((i) => !kept.has(i.id)).map((i) => i.id) };
}
