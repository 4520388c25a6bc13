/**
 * How a new vDisk gets the blocks it keeps from its base at a site. Where the kernel can copy
 * without moving the bytes (a reflink on btrfs/XFS, a server-side copy on an SMB or NFS mount),
 * the whole base is copied with copyFile and checked afterwards. On a local filesystem without
 * reflinks (ext4, tmpfs) copy_file_range is a page-cache copy like any other: there the kept blocks
 * are copied one by one and each is reread from the new file and its sha256 checked as soon as it
 * is written, so the hashing (CPU) runs while the copy is written back (disk) instead of after it,
 * and the blocks the site will overwrite anyway are not copied at all.
 */
import { open, statfs } from "node:fs/promises";
import { digestHex, readFully, type Blockmap } from "./blockmap.ts";
import type { DeltaPlan } from "./delta-plan.ts";

export type KeptBlockCopy = "kernel" | "blocks";

/**
 * Filesystems whose copy_file_range is a plain page-cache copy (include/uapi/linux/magic.h:
 * EXT4_SUPER_MAGIC, also ext2/ext3; TMPFS_MAGIC). Anything else keeps the kernel copy.
 */
const PAGE_CACHE_COPY_FILESYSTEMS: ReadonlySet<number> = new Set([0xef53, 0x01021994]);

export async function keptBlockCopyFor(dir: string): Promise<KeptBlockCopy> {
  try {
    return PAGE_CACHE_COPY_FILESYSTEMS.has((await statfs(dir)).type) ? "blocks" : "kernel";
  } catch {
    return "kernel";
  }
}

/** Blocks copied at once: each holds two block buffers, and keeps a read, a write or a hash busy. */
const BLOCKS_IN_FLIGHT = 4;

/**
 * Copies every "keep" block of `plan` from `basePath` to the same offset of the open `partialPath`,
 * rereads it and compares its sha256 with `target`'s. Returns the blocks that matched: the caller
 * need not read them again. A block that did not match is left for the caller's check to report.
 */
export async function copyKeptBlocks(basePath: string, partialPath: string, plan: DeltaPlan, target: Blockmap, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<Set<number>> {
  const kept = plan.actions.flatMap((action, index) => (action.kind === "keep" ? [index] : []));
  const checked = new Set<number>();
  const base = await open(basePath, "r");
  const out = await open(partialPath, "r+");
  try {
    let next = 0;
    let done = 0;
    let failed = false;
    const worker = async () => {
      const data = Buffer.allocUnsafe(target.blockSize);
      const back = Buffer.allocUnsafe(target.blockSize);
      while (next < kept.length && !failed) {
        signal?.throwIfAborted();
        const index = kept[next++]!;
        const offset = index * target.blockSize;
        // "keep" blocks are whole blocks inside both files (planDelta).
        await readFully(base, data, target.blockSize, offset);
        for (let written = 0; written < target.blockSize; ) written += (await out.write(data, written, target.blockSize - written, offset + written)).bytesWritten;
        // Reread into another buffer: what the file holds now, not what was handed to write.
        if ((await digestHex(await readFully(out, back, target.blockSize, offset))) === target.blocks[index]) checked.add(index);
        onProgress?.(++done * target.blockSize, kept.length * target.blockSize);
      }
    };
    // Every worker ends before the files close, even when one fails.
    const ends = await Promise.allSettled(Array.from({ length: Math.min(BLOCKS_IN_FLIGHT, kept.length) }, () => worker().catch((error: unknown) => {
      failed = true;
      throw error;
    })));
    const failure = ends.find((end): end is PromiseRejectedResult => end.status === "rejected");
    if (failure) throw failure.reason;
    return checked;
  } finally {
    await out.close();
    await base.close();
  }
}
