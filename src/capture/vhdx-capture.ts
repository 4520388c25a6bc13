/**
 * PVS capture: a disk (a qcow2 layer chain or a raw file) becomes a dynamic VHDX vDisk whose
 * sha256 is computed while it is written. The allocation map comes from qemu-img without reading
 * data; the VHDX is then written strictly front to back, every output byte hashed on its way to
 * the file, every source data byte read exactly once and unallocated ranges never read. Data is
 * read straight from the layer files (plain qcow2 clusters, raw files); what has no plain file
 * offset (compressed clusters, other formats in the chain) is read through a qemu-nbd export.
 */
import { createHash, randomBytes } from "node:crypto";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import type { Exec } from "../util/exec.ts";
import { readAllocationMap, type DiskSource } from "./allocation-map.ts";
import { planBlocks, type PlannedBlock } from "./block-plan.ts";
import type { NbdClient } from "./nbd-client.ts";
import { startNbdExport, type NbdExport } from "./nbd-export.ts";
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
/** How many bytes of blocks may be read ahead of the writer: enough to keep both busy. */
const READ_AHEAD_BYTES = 64 * MIB;
const MIN_READ_AHEAD_BLOCKS = 2;
export const PARTIAL_SUFFIX = ".partial";
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

/** The source file ended before an extent qemu-img map promised. */
export class SourceReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Writes at increasing offsets, hashing each buffer before it is handed to the file. */
class HashingWriter {
  private readonly hash = createHash("sha256");
  private position = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: FileHandle,
    private readonly onWritten: (bytesDone: number) => void,
  ) {}

  /**
   * Hashes `data` and queues its write; resolves once the previous write is done, so at most
   * two writes are outstanding. `release` runs when `data` may be reused.
   */
  async write(data: Buffer, release?: () => void): Promise<void> {
    this.hash.update(data);
    const at = this.position;
    this.position += data.length;
    const previous = this.pending;
    this.pending = previous.then(async () => {
      await writeFully(this.file, data, at);
      release?.();
      this.onWritten(at + data.length);
    });
    this.pending.catch(() => undefined); // awaited by the next write or by finish()
    await previous;
  }

  async finish(): Promise<{ size: number; sha256: string }> {
    await this.pending;
    return { size: this.position, sha256: this.hash.digest("hex") };
  }

  /** Waits for the outstanding write without caring how it ended, before the file is closed. */
  async settle(): Promise<void> {
    await this.pending.catch(() => undefined);
  }
}

async function writeFully(file: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

async function readFully(file: FileHandle, into: Buffer, at: number, length: number, position: number, name: string): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(into, at + done, length - done, position + done);
    if (bytesRead === 0) {
      throw new SourceReadError(`${name} ended at ${position + done} bytes, but qemu-img map places data up to ${position + length}`);
    }
    done += bytesRead;
  }
}

/** Where block bytes come from: open layer files by chain depth, and the export if one was needed. */
interface Sources {
  readonly layers: readonly ({ readonly file: FileHandle; readonly path: string } | undefined)[];
  readonly nbd: NbdClient | undefined;
}

/** Fills `buffer` with the block's bytes: pieces from the layer files or the export, zeros between them. */
async function readBlock(block: PlannedBlock, buffer: Buffer, sources: Sources): Promise<Buffer> {
  let cursor = 0;
  const reads: Promise<void>[] = [];
  for (const piece of block.pieces) {
    if (piece.offsetInBlock > cursor) buffer.fill(0, cursor, piece.offsetInBlock);
    const layer = sources.layers[piece.layer];
    if (piece.fileOffset !== undefined && layer) {
      reads.push(readFully(layer.file, buffer, piece.offsetInBlock, piece.length, piece.fileOffset, layer.path));
    } else {
      const guestOffset = block.index * buffer.length + piece.offsetInBlock;
      reads.push(sources.nbd!.read(buffer, piece.offsetInBlock, piece.length, guestOffset));
    }
    cursor = piece.offsetInBlock + piece.length;
  }
  buffer.fill(0, cursor);
  await Promise.all(reads);
  return buffer;
}

/** Reads planned blocks ahead of the writer, in order, reusing buffers the writer released. */
async function copyBlocks(
  blocks: readonly PlannedBlock[],
  blockSize: number,
  sources: Sources,
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
      const read = readBlock(blocks[next++]!, free.pop() ?? Buffer.allocUnsafe(blockSize), sources);
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

  const layers: ({ file: FileHandle; path: string } | undefined)[] = [];
  let nbdExport: NbdExport | undefined;
  const partialPath = outPath + PARTIAL_SUFFIX;
  let output: FileHandle | undefined;
  try {
    for (const layer of map.layers) layers.push(layer.direct ? { file: await open(layer.path, "r"), path: layer.path } : undefined);
    if (blocks.some((block) => block.pieces.some((piece) => piece.fileOffset === undefined))) {
      nbdExport = await startNbdExport(exec, map.layers[0]!, signal);
    }
    output = await open(partialPath, "w");
    const writer = new HashingWriter(output, (bytesDone) => onProgress?.({ bytesDone, bytesTotal }));
    try {
      await writer.write(encodeHeaderSection(layout, identity, CREATOR));
      await writer.write(encodeLog());
      await writer.write(encodeMetadataRegion(layout, identity));
      await writer.write(encodeBat(layout, blocks.map((block) => block.index)));
      await copyBlocks(blocks, blockSize, { layers, nbd: nbdExport?.client }, writer, signal);
      const { size, sha256 } = await writer.finish();
      // Flushed before the rename so a crash never leaves a truncated file under the final name.
      await output.sync();
      await output.close();
      output = undefined;
      await rename(partialPath, outPath);
      return { path: outPath, size, sha256, blockSize, allocatedBlocks: blocks.length, virtualSize: map.virtualSize };
    } finally {
      await writer.settle();
    }
  } catch (error) {
    await output?.close().catch(() => undefined);
    await rm(partialPath, { force: true });
    throw error;
  } finally {
    await nbdExport?.close();
    await Promise.allSettled(layers.map((layer) => layer?.file.close()));
  }
}
