/**
 * Which full vDisk versions a stack keeps in its PVS stores. Its own: the one it pins and the
 * newest ones it published before, up to `keepVersions`, so a rollback needs no copy (revoked
 * versions are not kept for rollbacks: nothing may pin them again). And every version a stack
 * sharing one of its stores keeps: deleting those would pull a disk from under that stack's
 * devices or rollbacks. A version leaves a store only when no stack sharing it keeps it; the
 * program then no longer declares it and Pulumi removes it.
 */
export interface RetentionRequest {
  readonly pinned: string;
  /** Versions published to this stack, newest first. */
  readonly published: readonly string[];
  readonly keepVersions: number;
  readonly isRevoked: (version: string) => boolean;
}

export interface KeptVersion {
  readonly version: string;
  /** pinned / rollback: this stack's own (it registers them); kept by: another stack's, file only. */
  readonly why: "pinned" | "rollback" | `kept by ${string}`;
}

/** The versions a stack keeps for itself. */
export function ownRetention(request: RetentionRequest): KeptVersion[] {
  const kept: KeptVersion[] = [{ version: request.pinned, why: "pinned" }];
  for (const version of request.published) {
    if (kept.length >= request.keepVersions) break;
    if (!kept.some((k) => k.version === version) && !request.isRevoked(version)) kept.push({ version, why: "rollback" });
  }
  return kept;
}

/** Its own versions, then those of the stacks sharing a store with it that it does not keep already. */
export function withSharedRetention(own: readonly KeptVersion[], sharing: ReadonlyArray<{ readonly stack: string; readonly kept: readonly KeptVersion[] }>): KeptVersion[] {
  const kept = [...own];
  for (const { stack, kept: theirs } of sharing) {
    for (const { version } of theirs) if (!kept.some((k) => k.version === version)) kept.push({ version, why: `kept by ${stack}` });
  }
  return kept;
}
