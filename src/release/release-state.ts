/** What the audit log says about an image: where each version was published, and what is revoked. */
import type { AuditEntry } from "./audit-log.ts";

export interface ReleaseState {
  /** Versions published to `stack`, newest publish first, each once. */
  publishedTo(stack: string): string[];
  /** The last publish of `version` to `stack`. */
  lastPublish(stack: string, version: string): AuditEntry | undefined;
  /** The revoke (or rollback) that revoked `version`, unless un-revoked since. */
  revocation(version: string): AuditEntry | undefined;
}

export function releaseState(entries: readonly AuditEntry[], image: string): ReleaseState {
  const mine = entries.filter((e) => e.image === image);
  const revocations = new Map<string, AuditEntry>();
  for (const entry of mine) {
    // A rollback abandons what the stack pinned: that version is revoked with the rollback's reason.
    if (entry.action === "rollback" && entry.previous !== undefined) revocations.set(entry.previous, entry);
    if (entry.action === "revoke") revocations.set(entry.version, entry);
    if (entry.action === "unrevoke") revocations.delete(entry.version);
  }
  const publishes = (stack: string) => mine.filter((e) => e.action === "publish" && e.stacks.includes(stack)).reverse();
  return {
    publishedTo: (stack) => [...new Set(publishes(stack).map((e) => e.version))],
    lastPublish: (stack, version) => publishes(stack).find((e) => e.version === version),
    revocation: (version) => revocations.get(version),
  };
}
