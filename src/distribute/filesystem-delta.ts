/**
 * Builds a new vDisk in a filesystem store from the site's newest version plus the blocks it
 * lacks. The base is first copied to the partial name with copyFile (a reflink on btrfs/XFS; on a
 * mounted SMB share Linux turns copy_file_range into a server-side copy, so those bytes do not
 * cross the link), then only the blocks that differ are written. The base itself is never touched:
 * PVS devices may be streaming it.
 */
import { constants } from "node:fs";
import { copyFile, open, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { readFully, type Blockmap } from "./blockmap.ts";
import { planDelta } from "./delta-plan.ts";
import { Journal, readJournal, type JournalHeader } from "./journal.ts";
import type { SitePhase, SyncSource } from "./model.ts";
import type { Throttle } from "./token-bucket.ts";

/** Flush data and journal after this many bytes: bounds what a crash makes a rerun redo. */
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;

export interface DeltaBase {
  /** vDisk name without `.vhdx`. */
  readonly name: string;
  readonly blockmap: Blockmap;
}

export interface BuildStats {
  readonly sentBytes: number;
  readonly localBytes: number;
  readonly resumedBytes: number;
}

export interface FilesystemBuildOptions {
  readonly dir: string;
  readonly partial: string;
  readonly journal: string;
  readonly source: SyncSource;
  readonly base?: DeltaBase;
  readonly throttle: Throttle;
  readonly signal?: AbortSignal;
  readonly onProgress?: (phase: SitePhase, done: number, total: number) => void;
}

export async function buildOnFilesystem(options: FilesystemBuildOptions): Promise<BuildStats> {
  const { dir, source, base, throttle, signal } = options;
  const target = source.blockmap;
  const partialPath = join(dir, options.partial);
  const journalPath = join(dir, options.journal);
  const header: JournalHeader = { sha256: target.sha256, size: target.size, blockSize: target.blockSize, base: base?.name ?? "" };
  const state = await readJournal(journalPath, header);
  if (!state) await rm(partialPath, { force: true });
  const journal = await Journal.open(journalPath, header, !state);
  try {
    if (base && !state?.cloned) {
      options.onProgress?.("clone", 0, base.blockmap.size);
      await copyFile(join(dir, `${base.name}.vhdx`), partialPath, constants.COPYFILE_FICLONE);
      // The journal records only what is on disk: a clone still in the page cache is not cloned yet.
      const clone = await open(partialPath, "r+");
      try {
        await clone.datasync();
      } finally {
        await clone.close();
      }
      options.onProgress?.("clone", base.blockmap.size, base.blockmap.size);
      await journal.markCloned();
    } else if (!state) {
      await (await open(partialPath, "w")).close();
    }
    await truncate(partialPath, target.size);
    const plan = planDelta(target, base?.blockmap);
    const done = state?.done ?? new Set<number>();
    const out = await open(partialPath, "r+");
    const from = await open(source.path, "r");
    const old = base ? await open(join(dir, `${base.name}.vhdx`), "r") : undefined;
    let sentBytes = 0;
    let localBytes = 0;
    let resumedBytes = 0;
    try {
      const buffer = Buffer.allocUnsafe(target.blockSize);
      const work = plan.sendBytes + plan.localBytes;
      let pending: number[] = [];
      let unflushed = 0;
      const flush = async () => {
        await out.datasync();
        await journal.markBlocks(pending);
        pending = [];
        unflushed = 0;
      };
      for (const [index, action] of plan.actions.entries()) {
        if (action.kind === "keep") continue;
        const offset = index * target.blockSize;
        const length = Math.min(target.blockSize, target.size - offset);
        if (done.has(index)) {
          resumedBytes += length;
          continue;
        }
        signal?.throwIfAborted();
        let data: Buffer;
        if (action.kind === "local" && old) {
          data = await readFully(old, buffer, length, action.fromOffset);
          localBytes += length;
        } else {
          await throttle.take(length, signal);
          data = await readFully(from, buffer, length, offset);
          sentBytes += length;
        }
        for (let written = 0; written < length; ) written += (await out.write(data, written, length - written, offset + written)).bytesWritten;
        pending.push(index);
        unflushed += length;
        if (unflushed >= FLUSH_EVERY_BYTES) await flush();
        options.onProgress?.("transfer", sentBytes + localBytes + resumedBytes, work);
      }
      await flush();
    } finally {
      await old?.close();
      await from.close();
      await out.close();
    }
    return { sentBytes, localBytes, resumedBytes };
  } finally {
    await journal.close();
  }
}
