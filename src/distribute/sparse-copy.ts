/**
 * Copies a file into a directory store sending only its non-zero pages: the target is sized first
 * (a sparse file), so pages left out read as zeros. A VHDX version is mostly zeros outside its
 * changed sectors (log, metadata padding, BAT, sector bitmaps, sectors the parent already has),
 * so what crosses the link is close to the changed data itself.
 */
import { open } from "node:fs/promises";
import { readFully } from "./blockmap.ts";
import type { Throttle } from "./token-bucket.ts";

/** Filesystem holes are page-sized: a finer zero run saves no space and costs a run record. */
export const PAGE_SIZE = 4096;
const CHUNK = 1024 * 1024;
/** What a non-zero run costs on the wire besides its data: its offset and length. */
export const RUN_HEADER_BYTES = 16;

export interface SparseCopyStats {
  /** Data bytes sent plus RUN_HEADER_BYTES per run. */
  readonly sentBytes: number;
  readonly runs: number;
}

export async function sparseCopy(from: string, to: string, throttle: Throttle, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<SparseCopyStats> {
  const source = await open(from, "r");
  const target = await open(to, "w");
  try {
    const size = (await source.stat()).size;
    await target.truncate(size);
    const zero = Buffer.alloc(PAGE_SIZE);
    const buffer = Buffer.allocUnsafe(CHUNK);
    let sentBytes = 0;
    let runs = 0;
    let runOpen = false;
    for (let offset = 0; offset < size; offset += CHUNK) {
      signal?.throwIfAborted();
      const data = await readFully(source, buffer, Math.min(CHUNK, size - offset), offset);
      for (let page = 0; page < data.length; page += PAGE_SIZE) {
        const slice = data.subarray(page, Math.min(page + PAGE_SIZE, data.length));
        if (slice.equals(zero.subarray(0, slice.length))) {
          runOpen = false;
          continue;
        }
        if (!runOpen) {
          runs++;
          sentBytes += RUN_HEADER_BYTES;
          runOpen = true;
        }
        await throttle.take(slice.length, signal);
        for (let written = 0; written < slice.length; ) written += (await target.write(slice, written, slice.length - written, offset + page + written)).bytesWritten;
        sentBytes += slice.length;
      }
      onProgress?.(offset + data.length, size);
    }
    await target.sync();
    return { sentBytes, runs };
  } finally {
    await target.close();
    await source.close();
  }
}
