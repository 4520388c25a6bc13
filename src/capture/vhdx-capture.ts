/**
 * PVS capture: a disk (a qcow2 layer chain or a raw file) becomes a dynamic VHDX vDisk whose
 * sha256 is computed while it is written. The allocation map comes from qemu-img without reading
 * data; the VHDX is then written strictly front to back, every output byte hashed on its way to
 * the file, every source data byte read exactly once and unallocated ranges never read. Data is
 * read straight from the layer files (plain qcow2 clusters, raw files); what has no plain file
 * offset (compressed clusters, other formats in the chain) is read through a qemu-nbd export.
 */
import { randomBytes } from "node:crypto";
import type { Exec } from "../util/exec.ts";
import { readAllocationMap, type DiskSource } from "./allocation-map.ts";
import { planBlocks, type PlannedBlock } from "./block-plan.ts";
import { openBlockReader, type BlockReader } from "./block-reader.ts";
import { writeHashedFile, type HashingWriter } from "./hashed-output.ts";
import {
  MIB,
  encodeBat,
  encodeHeaderSection,
  encodeLog,
  encodeMetadataRegion,
  randomGuid,
  vhdxFileSize,
  vhdxLayout,
  type VhdxIdentity,
} from "./vhdx-format.ts";

/**
 * 2 MiB blocks: a scattered guest write costs at most 2 MiB of vDisk, so sparse images stay small
 * and capture writes less; PVS serves VHDX files of any legal block size.
 */
export const DEFAULT_BLOCK_SIZE_MIB = 2;
/**
 * How many bytes of blocks may be read ahead of the writer: enough to keep both busy. Each buffer
 * is new memory the first time it is filled, so more read-ahead costs page faults, not speed:
 * measured (bench/capture.ts and the demo's 60 MB vDisk), 8 MiB captures the 4 GiB disks as fast
 * as 64 MiB did and the demo's vDisk in 0.37-0.45 s instead of 0.67-0.81 s.
 */
const READ_AHEAD_BYTES = 8 * MIB;
const MIN_READ_AHEAD_BLOCKS = 2;
export { PARTIAL_SUFFIX } from "./hashed-output.ts";
export { SourceReadError } from "./block-reader.ts";
const CREATOR = "rebake";

export interface CaptureProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface CaptureOptions {
  readonly exec: Exec;
  readonly signal?: AbortSignal;
  /** Called after every write with the bytes of the output file written so far. */
  readonly onProgress?: (progress: CaptureProgress) => void;
  /** VHDX payload block size in MiB, a power of two from 1 to 256. @default DEFAULT_BLOCK_SIZE_MIB */
  readonly blockSizeMiB?: number;
  /** Source of the file's GUIDs; tests pass a seeded one for reproducible files. @default crypto.randomBytes */
  readonly random?: (size: number) => Buffer;
}

export interface CaptureResult {
  readonly path: string;
  /** Bytes of the VHDX file. */
  readonly size: number;
  /** Hex sha256 of the VHDX file. */
  readonly sha256: string;
  readonly blockSize: number;
  readonly allocatedBlocks: number;
  readonly virtualSize: number;
}

/** Reads planned blocks ahead of the writer, in order, reusing buffers the writer released. */
async function copyBlocks(
  blocks: readonly PlannedBlock[],
  blockSize: number,
  reader: BlockReader,
  writer: HashingWriter,
  signal: AbortSignal | undefined,
): Promise<void> {
  const readAhead = Math.max(MIN_READ_AHEAD_BLOCKS, Math.floor(READ_AHEAD_BYTES / blockSize));
  const free: Buffer[] = [];
  const reads: Promise<Buffer>[] = [];
  const all: Promise<unknown>[] = [];
  let next = 0;
  const fill = () => {
    while (next < blocks.length && reads.length < readAhead) {
      const read = reader.read(blocks[next++]!, free.pop() ?? Buffer.allocUnsafe(blockSize));
      read.catch(() => undefined); // a failed read ahead is reported when its turn comes
      reads.push(read);
      all.push(read);
    }
  };
  try {
    fill();
    while (reads.length > 0) {
      const buffer = await reads.shift()!;
      signal?.throwIfAborted();
      await writer.write(buffer, () => free.push(buffer));
      fill();
    }
  } finally {
    // Layer files and the export are closed by the caller: no read may still be running then.
    await Promise.allSettled(all);
  }
}

/**
 * Captures `source` into a dynamic VHDX at `outPath`. The file is written as `<outPath>.partial`
 * and renamed only once complete and flushed; on error or abort the partial file is removed and
 * nothing appears under `outPath`.
 */
export async function captureVhdx(source: DiskSource, outPath: string, options: CaptureOptions): Promise<CaptureResult> {
  const { exec, signal, onProgress } = options;
  const random = options.random ?? randomBytes;
  signal?.throwIfAborted();
  const blockSize = (options.blockSizeMiB ?? DEFAULT_BLOCK_SIZE_MIB) * MIB;
  const map = await readAllocationMap(exec, source, signal);
  const layout = vhdxLayout(map.virtualSize, blockSize);
  const blocks = planBlocks(map, blockSize);
  const identity: VhdxIdentity = {
    fileWriteGuid: randomGuid(random(16)),
    dataWriteGuid: randomGuid(random(16)),
    virtualDiskId: randomGuid(random(16)),
  };
  const bytesTotal = vhdxFileSize(layout, blocks.length);
  signal?.throwIfAborted();

  const reader = await openBlockReader(exec, map, blocks, signal);
  try {
    const { size, sha256 } = await writeHashedFile(
      outPath,
      async (writer) => {
        await writer.write(encodeHeaderSection(layout, identity, CREATOR));
        await writer.write(encodeLog());
        await writer.write(encodeMetadataRegion(layout, identity));
        await writer.write(encodeBat(layout, blocks.map((block) => block.index)));
        await copyBlocks(blocks, blockSize, reader, writer, signal);
      },
      (bytesDone) => onProgress?.({ bytesDone, bytesTotal }),
    );
    return { path: outPath, size, sha256, blockSize, allocatedBlocks: blocks.length, virtualSize: map.virtualSize };
  } finally {
    await reader.close();
  }
}
