/**
 * The sha256 of local files (an install ISO named by path, an installer beside the recipe),
 * remembered under `<cache>/digests/` by the file's identity: device, inode, size, mtime and
 * ctime. Planning reads such a file on every build, rebuild and `rebake plan`; a Windows ISO is
 * 5 GiB. While the identity is unchanged the remembered digest is used, so a rebuild reads
 * nothing it has read before.
 *
 * ctime changes on every write and on every metadata change, including one that puts the mtime
 * back (`touch -d`), and cannot be set by a user: a changed file never matches its old record. A
 * file changed within the timestamp granularity of its last change could still show the same
 * times, so a file whose ctime is younger than RECENT_MS is hashed and not remembered (what git
 * calls racy files). A file that changes while it is being read is not remembered either.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";

/** Hashes one file (the streaming sha256 of util/hash-file.ts in production). */
export type Digest = (path: string) => Promise<string>;

/** Younger changes than this are not trusted to show in the file's times. */
export const RECENT_MS = 2_000;

interface Identity {
  readonly dev: string;
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

interface DigestRecord extends Identity {
  readonly path: string;
  readonly sha256: string;
}

export interface FileDigestsOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** False: use the digests remembered so far, remember none (for commands that only look). @default true */
  readonly remember?: boolean;
}

async function identity(path: string): Promise<{ readonly id: Identity; readonly ctimeMs: number }> {
  const s = await stat(path, { bigint: true });
  const id = { dev: String(s.dev), ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
  return { id, ctimeMs: Number(s.ctimeNs / 1_000_000n) };
}

const same = (a: Identity, b: Identity) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/**
 * A Digest that answers from `dir` when the file is unchanged since it was last hashed, and
 * otherwise hashes it with `digest` and remembers the answer. A record that cannot be read or
 * written only costs a read of the file: the digest itself never depends on the cache.
 */
export function rememberedDigests(dir: string, digest: Digest, options: FileDigestsOptions = {}): Digest {
  const now = options.now ?? Date.now;
  return async (file) => {
    const path = resolve(file);
    const record = join(dir, `${createHash("sha256").update(path).digest("hex")}.json`);
    const before = await identity(path);
    const known = await readRecord(record);
    if (known?.path === path && same(known, before.id)) return known.sha256;
    const sha256 = await digest(path);
    const after = await identity(path);
    if (options.remember !== false && same(before.id, after.id) && now() - after.ctimeMs >= RECENT_MS) await remember(record, { path, ...after.id, sha256 });
    return sha256;
  };
}

/** A record as written by remember(), or undefined when it is missing or damaged. */
async function readRecord(record: string): Promise<DigestRecord | undefined> {
  const known = await readFile(record, "utf8").then((text) => JSON.parse(text) as Partial<DigestRecord>).catch(() => undefined);
  return typeof known?.path === "string" && typeof known.sha256 === "string" && /^[0-9a-f]{64}$/.test(known.sha256) ? (known as DigestRecord) : undefined;
}

async function remember(record: string, value: DigestRecord): Promise<void> {
  const temp = `${record}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await mkdir(dirname(record), { recursive: true });
    await writeFile(temp, `${JSON.stringify(value)}\n`);
    await rename(temp, record);
  } catch {
    // A cache that cannot be written (read-only, full) only means the next plan reads the file again.
    await rm(temp, { force: true }).catch(() => undefined);
  }
}

/**
 * Removes remembered digests: all of them with `all`, otherwise those whose file is gone or has
 * changed since (they can never answer again). Returns how many were removed.
 */
export async function pruneDigests(dir: string, options: { readonly all: boolean }): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const record = join(dir, name);
    const stale = options.all || !name.endsWith(".json") || !(await stillAnswers(record));
    if (!stale) continue;
    await rm(record, { force: true });
    removed++;
  }
  return removed;
}

async function stillAnswers(record: string): Promise<boolean> {
  const known = await readRecord(record);
  if (!known) return false;
  const current = await identity(known.path).catch(() => undefined);
  return current !== undefined && same(known, current.id);
}
