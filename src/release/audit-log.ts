/**
 * The release audit log, `releases/audit.jsonl` in the repository: one JSON object per line for
 * every publish, promote, rollback, revoke and un-revoke, appended and never rewritten, so each
 * release change is a reviewable diff in the pull request that makes it. The release state
 * (what was published where, what is revoked) is read back from it.
 */
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export const AUDIT_LOG = "releases/audit.jsonl";

export type AuditAction = "publish" | "promote" | "rollback" | "revoke" | "unrevoke";

/** A release rule the release manager overrode, with the reason in `reason`. */
export type RuleOverride = "out-of-order" | "downgrade";

export interface AuditEntry {
  readonly action: AuditAction;
  /** ISO timestamp. */
  readonly at: string;
  /** Who ran it: the CI actor or the git identity. */
  readonly who: string;
  /** The commit the repository was at (HEAD), `+dirty` when the work tree had changes. */
  readonly commit: string;
  readonly image: string;
  /** The version published, now pinned, revoked or un-revoked. */
  readonly version: string;
  /** What the stack pinned before (promote, rollback). */
  readonly previous?: string;
  readonly stacks: readonly string[];
  readonly reason?: string;
  readonly overrides?: readonly RuleOverride[];
  /** publish: the recipe hash of the published build. */
  readonly recipeHash?: string;
  /** publish: site or catalog -> vDisk name or image path. */
  readonly published?: Readonly<Record<string, string>>;
}

export class AuditLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

const ACTIONS: readonly AuditAction[] = ["publish", "promote", "rollback", "revoke", "unrevoke"];

/** Every entry, oldest first. */
export async function readAuditLog(root: string): Promise<AuditEntry[]> {
  let text: string;
  try {
    text = await readFile(join(root, AUDIT_LOG), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return parseAuditLog(text);
}

export function parseAuditLog(text: string): AuditEntry[] {
  const entries: AuditEntry[] = [];
  text.split("\n").forEach((line, index) => {
    if (!line.trim()) return;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line) as AuditEntry;
    } catch {
      throw new AuditLogError(`${AUDIT_LOG}:${index + 1}: not a JSON object; restore the line from git (the log is append-only)`);
    }
    if (!ACTIONS.includes(entry.action) || typeof entry.image !== "string" || typeof entry.version !== "string" || !Array.isArray(entry.stacks)) {
      throw new AuditLogError(`${AUDIT_LOG}:${index + 1}: not an audit entry (needs action, image, version, stacks); restore the line from git`);
    }
    entries.push(entry);
  });
  return entries;
}

/** Appends one line, keys in a fixed order so entries read alike in a diff; returns the entry as written. */
export async function appendAuditEntry(root: string, entry: AuditEntry): Promise<AuditEntry> {
  const path = join(root, AUDIT_LOG);
  await mkdir(dirname(path), { recursive: true });
  const ordered: AuditEntry = {
    action: entry.action, at: entry.at, who: entry.who, commit: entry.commit, image: entry.image, version: entry.version,
    ...(entry.previous !== undefined ? { previous: entry.previous } : {}),
    stacks: entry.stacks,
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.overrides?.length ? { overrides: entry.overrides } : {}),
    ...(entry.recipeHash !== undefined ? { recipeHash: entry.recipeHash } : {}),
    ...(entry.published !== undefined ? { published: entry.published } : {}),
  };
  await appendFile(path, `${JSON.stringify(ordered)}\n`);
  return ordered;
}
