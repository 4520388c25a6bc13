/**
 * Copies a file into a directory store sending only its non-zero pages: the target is sized first
 * (a sparse file), so pages left out read as zeros. A VHDX version is mostly zeros outside its
 * changed sectors (log, metadata padding, BAT, sector bitmaps, sectors the parent already has),
 * so what crosses the link is close to the changed data itself.
 *
 * Each run of consecutive non-zero pages inside a chunk is one write (not one per page: a version's
 * payload is long runs, and a write per 4 KiB page cost more than the data itself), and the next
 * chunk is read while the current one is written.
 */
import { open } from "node:fs/promises";
import { readFully } from "./blockmap.ts";
import type { Throttle } from "./token-bucket.ts";

/** Filesystem holes are page-sized: a finer zero run saves no space and costs a run record. */
export const PAGE_SIZE = 4096;
/** Read size, and the longest single write. */
export const CHUNK = 4 * 1024 * 1024;
/** What a non-zero run costs on the wire besides its data: its offset and length. */
export const RUN_HEADER_BYTES = 16;

export interface SparseCopyStats {
  /** Data bytes sent plus RUN_HEADER_BYTES per run. */
  readonly sentBytes: number;
  readonly runs: number;
}

export interface PageRun {
  /** Offset inside the chunk. */
  readonly start: number;
  readonly length: number;
}

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);

/** The runs of non-zero pages in `data`, in order; the last page may be short. */
export function nonZeroRuns(data: Buffer): PageRun[] {
  const runs: PageRun[] = [];
  let start = -1;
  for (let page = 0; page < data.length; page += PAGE_SIZE) {
    const end = Math.min(page + PAGE_SIZE, data.length);
    const zero = data.compare(ZERO_PAGE, 0, end - page, page, end) === 0;
    if (zero && start >= 0) {
      runs.push({ start, length: page - start });
      start = -1;
    } else if (!zero && start < 0) start = page;
  }
  if (start >= 0) runs.push({ start, length: data.length - start });
  return runs;
}

export async function sparseCopy(from: string, to: string, throttle: Throttle, signal?: AbortSignal, onProgress?: (done: number, total: number) => void): Promise<SparseCopyStats> {
  const source = await open(from, "r");
  const target = await open(to, "w");
  let reading: Promise<Buffer> | undefined;
  try {
    const size = (await source.stat()).size;
    await target.truncate(size);
    const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    const read = (offset: number, index: number) => readFully(source, buffers[index % 2]!, Math.min(CHUNK, size - offset), offset);
    let sentBytes = 0;
    let runs = 0;
    /** Whether the previous chunk ended inside a run: a run across chunks is one run on the wire. */
    let runOpen = false;
    reading = size > 0 ? read(0, 0) : undefined;
    for (let offset = 0, index = 0; offset < size; offset += CHUNK, index++) {
      signal?.throwIfAborted();
      const data = await reading!;
      reading = offset + CHUNK < size ? read(offset + CHUNK, index + 1) : undefined;
      for (const run of nonZeroRuns(data)) {
        if (!(runOpen && run.start === 0)) {
          runs++;
          sentBytes += RUN_HEADER_BYTES;
        }
        await throttle.take(run.length, signal);
        for (let written = 0; written < run.length; ) written += (await target.write(data, run.start + written, run.length - written, offset + run.start + written)).bytesWritten;
        sentBytes += run.length;
      }
      const last = data.length - PAGE_SIZE;
      runOpen = data.length === CHUNK && data.compare(ZERO_PAGE, 0, PAGE_SIZE, last, data.length) !== 0;
      onProgress?.(offset + data.length, size);
    }
    await target.sync();
    return { sentBytes, runs };
  } finally {
    await reading?.catch(() => undefined);
    await target.close();
    await source.close();
  }
}
