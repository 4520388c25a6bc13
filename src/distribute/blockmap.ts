/**
 * The block-hash index rebake keeps beside every vDisk (`<name>.blockmap`): the sha256 of each
 * fixed-size block and of the whole file. A site compares it with the source's to find the blocks
 * it already has, without reading either file.
 *
 * Fixed blocks aligned to the VHDX payload block size, not content-defined chunks: a VHDX is a
 * block-device image whose payload blocks sit at block-aligned file offsets, so a change never
 * shifts the bytes after it by an odd amount; a block that moves (capture writes payload blocks in
 * virtual order) moves by whole blocks and is still found by its hash. Measured on this machine
 * (2 MiB blocks, 256 MiB of data): sha256 1.8 GiB/s per core with SHA-NI, while a gear-hash CDC
 * scan in JavaScript runs at 0.96 GiB/s before any hashing, halving the indexing speed for no gain.
 */
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { DEFAULT_BLOCK_SIZE_MIB } from "../capture/vhdx-capture.ts";
import { MIB } from "../capture/vhdx-format.ts";

/** The VHDX payload block size src/capture writes by default. */
export const DEFAULT_BLOCKMAP_BLOCK_SIZE = DEFAULT_BLOCK_SIZE_MIB * MIB;
export const BLOCKMAP_FORMAT = "rebake-blockmap/1";
export const BLOCKMAP_SUFFIX = ".blockmap";

export interface Blockmap {
  readonly format: typeof BLOCKMAP_FORMAT;
  readonly blockSize: number;
  readonly size: number;
  /** sha256 of the whole file. */
  readonly sha256: string;
  /** sha256 of each block, in file order; the last block may be short. */
  readonly blocks: readonly string[];
}

export class BlockmapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `ws2022-3.2.0.vhdx` -> `ws2022-3.2.0.blockmap`. */
export function blockmapName(vhdxName: string): string {
  return `${vhdxName.replace(/\.vhdx$/i, "")}${BLOCKMAP_SUFFIX}`;
}

export function blockCount(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize);
}

export interface ComputeOptions {
  /** @default DEFAULT_BLOCKMAP_BLOCK_SIZE */
  readonly blockSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Reads the file once, hashing each block and the whole file in the same pass. */
export async function computeBlockmap(path: string, options: ComputeOptions = {}): Promise<Blockmap> {
  const blockSize = options.blockSize ?? DEFAULT_BLOCKMAP_BLOCK_SIZE;
  const handle = await open(path, "r");
  try {
    const size = (await handle.stat()).size;
    const whole = createHash("sha256");
    const blocks: string[] = [];
    const buffer = Buffer.allocUnsafe(blockSize);
    for (let offset = 0; offset < size; offset += blockSize) {
      options.signal?.throwIfAborted();
      const data = await readFully(handle, buffer, Math.min(blockSize, size - offset), offset);
      whole.update(data);
      blocks.push(createHash("sha256").update(data).digest("hex"));
      options.onProgress?.(offset + data.length, size);
    }
    return { format: BLOCKMAP_FORMAT, blockSize, size, sha256: whole.digest("hex"), blocks };
  } finally {
    await handle.close();
  }
}

/** Reads exactly `length` bytes at `position` (short reads happen on network filesystems). */
export async function readFully(handle: import("node:fs/promises").FileHandle, buffer: Buffer, length: number, position: number): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new BlockmapError(`unexpected end of file at byte ${position + done}, expected ${length - done} more bytes; the file changed while it was read`);
    done += bytesRead;
  }
  return buffer.subarray(0, length);
}

/** One line per block after a JSON header: small, diffable, and streamable by any tool. */
export function formatBlockmap(map: Blockmap): string {
  const header = JSON.stringify({ format: map.format, blockSize: map.blockSize, size: map.size, sha256: map.sha256, blocks: map.blocks.length });
  return `${header}\n${map.blocks.join("\n")}\n`;
}

export function parseBlockmap(text: string, name: string): Blockmap {
  const [first = "", ...rest] = text.split("\n");
  let header: { format?: unknown; blockSize?: unknown; size?: unknown; sha256?: unknown; blocks?: unknown };
  try {
    header = JSON.parse(first) as typeof header;
  } catch {
    throw new BlockmapError(`${name} is not a rebake blockmap (its first line is not JSON); delete it and rerun to rebuild it`);
  }
  const blocks = rest.filter((line) => line !== "");
  const { format, blockSize, size, sha256 } = header;
  if (format !== BLOCKMAP_FORMAT || typeof blockSize !== "number" || blockSize <= 0 || typeof size !== "number" || typeof sha256 !== "string") {
    throw new BlockmapError(`${name} has an unknown header (format ${String(format)}, expected ${BLOCKMAP_FORMAT}); delete it and rerun to rebuild it`);
  }
  if (blocks.length !== blockCount(size, blockSize) || header.blocks !== blocks.length || !blocks.every((b) => /^[0-9a-f]{64}$/.test(b))) {
    throw new BlockmapError(`${name} is truncated or damaged (${blocks.length} block hashes for ${size} bytes in ${blockSize}-byte blocks); delete it and rerun to rebuild it`);
  }
  return { format: BLOCKMAP_FORMAT, blockSize, size, sha256, blocks };
}
