/**
 * Temporary directories that say which process owns them. A build killed with SIGKILL cannot
 * clean up, so its work dir (answer ISO, layers of a --no-cache build, VM sockets) would stay in
 * /tmp forever; each one holds `owner.json` naming its process (pid and start time, since pids are
 * reused), and the next build or `cache prune` removes those whose owner is gone.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

export const OWNER_FILE = "owner.json";

interface Owner {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
  readonly startTime: string;
}

export interface OwnedDirOptions {
  /** @default "/proc" */
  readonly procRoot?: string;
  /** @default process.pid */
  readonly pid?: number;
}

/** A new directory `<root>/<prefix>XXXXXX` owned by this process. */
export async function makeOwnedDir(root: string, prefix: string, options: OwnedDirOptions = {}): Promise<string> {
  const dir = await mkdtemp(path.join(root, prefix));
  const pid = options.pid ?? process.pid;
  const owner: Owner = { pid, startTime: (await startTime(pid, options.procRoot)) ?? "" };
  await writeFile(path.join(dir, OWNER_FILE), `${JSON.stringify(owner)}\n`);
  return dir;
}

/**
 * Removes the directories `<root>/<prefix>*` whose owner process is gone (or is another process
 * under a reused pid). Directories without an owner file are left alone: nothing says they are
 * rebake's to remove. Returns what it removed.
 */
export async function removeAbandonedDirs(root: string, prefixes: readonly string[], options: OwnedDirOptions = {}): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!prefixes.some((p) => name.startsWith(p))) continue;
    const dir = path.join(root, name);
    const owner = await readOwner(dir);
    if (!owner) continue;
    const now = await startTime(owner.pid, options.procRoot);
    if (now !== undefined && now === owner.startTime) continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

async function readOwner(dir: string): Promise<Owner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path.join(dir, OWNER_FILE), "utf8")) as Partial<Owner>;
    return typeof parsed.pid === "number" && typeof parsed.startTime === "string" ? (parsed as Owner) : undefined;
  } catch {
    return undefined;
  }
}

/** The process's start time, or undefined when no such process runs. */
async function startTime(pid: number, procRoot = "/proc"): Promise<string | undefined> {
  try {
    const stat = await readFile(`${procRoot}/${pid}/stat`, "utf8");
    // Field 2 (the command) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
