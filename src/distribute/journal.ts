/**
 * The resume journal beside a partial vDisk at a site: a header naming what is being built (so a
 * journal of another version is never trusted), then one line per durable step. Entries are
 * appended only after the data they describe was flushed, so a crash loses at most the unflushed
 * tail, which a rerun writes again.
 */
import { open, readFile, type FileHandle } from "node:fs/promises";

export interface JournalHeader {
  readonly sha256: string;
  readonly size: number;
  readonly blockSize: number;
  /** The base version the partial file was cloned from; empty when built from nothing. */
  readonly base: string;
}

export interface JournalState {
  /** The base was fully copied into the partial file. */
  readonly cloned: boolean;
  readonly done: ReadonlySet<number>;
}

const CLONED = "cloned";

/** The journal's state when it belongs to `header`; undefined when absent or for another build. */
export async function readJournal(path: string, header: JournalHeader): Promise<JournalState | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const [first, ...lines] = text.split("\n");
  if (first !== JSON.stringify(header)) return undefined;
  const done = new Set<number>();
  let cloned = false;
  // A torn last line (crash mid-append) is ignored: it has no trailing newline.
  for (const line of lines.slice(0, -1)) {
    if (line === CLONED) cloned = true;
    else if (/^\d+$/.test(line)) done.add(Number(line));
  }
  return { cloned, done };
}

export class Journal {
  private constructor(private readonly handle: FileHandle) {}

  /** Starts a new journal, or continues one that readJournal accepted. */
  static async open(path: string, header: JournalHeader, fresh: boolean): Promise<Journal> {
    const handle = await open(path, fresh ? "w" : "a");
    if (fresh) {
      await handle.write(`${JSON.stringify(header)}\n`);
      await handle.sync();
    }
    return new Journal(handle);
  }

  async markCloned(): Promise<void> {
    await this.append([CLONED]);
  }

  async markBlocks(indexes: readonly number[]): Promise<void> {
    if (indexes.length) await this.append(indexes.map(String));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async append(lines: readonly string[]): Promise<void> {
    await this.handle.write(`${lines.join("\n")}\n`);
    await this.handle.sync();
  }
}
