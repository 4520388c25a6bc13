/**
 * Reads a VHDX file and, for a differencing disk, its chain of parents ([MS-VHDX]): the virtual
 * disk's bytes at any offset. Capture uses it to compare a new build with the parent vDisk it is
 * written against; tests and `rebake` checks use it to prove a chain reads as the full disk.
 *
 * What it refuses instead of guessing: a file without a valid header, a non-empty log (it would
 * have to be replayed first), a block state the spec does not define, and a parent whose
 * DataWriteGuid is not the child's parent_linkage (the parent changed after the child was made).
 */
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { crc32c } from "./crc32c.ts";
import {
  BAT_OFFSET_MASK,
  BAT_STATE_MASK,
  FILE_PARAMETERS_HAS_PARENT,
  GUID,
  LOGICAL_SECTOR_SIZE,
  MIB,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_NOT_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  PAYLOAD_BLOCK_UNDEFINED,
  PAYLOAD_BLOCK_UNMAPPED,
  PAYLOAD_BLOCK_ZERO,
  SB_BLOCK_PRESENT,
  batIndexOfBlock,
  bitmapOffsetOfBlock,
  guidToBytes,
  guidToText,
  vhdxLayout,
  type VhdxLayout,
} from "./vhdx-format.ts";

/** A chain deeper than this is a loop or a mistake, not a PVS version chain. */
const MAX_CHAIN_DEPTH = 64;

export class VhdxReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** What one VHDX file says about itself. */
export interface VhdxFileInfo {
  readonly path: string;
  readonly layout: VhdxLayout;
  readonly logicalSectorSize: number;
  /** `{...}` lower case. */
  readonly dataWriteGuid: string;
  readonly virtualDiskId: string;
  /** The parent locator's key/value pairs; absent for a disk without parent. */
  readonly parentLocator?: ReadonlyMap<string, string>;
  /** One 64-bit entry per BAT slot. */
  readonly bat: Buffer;
}

async function readAt(file: FileHandle, position: number, length: number, name: string): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(out, done, length - done, position + done);
    if (bytesRead === 0) throw new VhdxReadError(`${name} ends at ${position + done} bytes, before the structure at ${position} (${length} bytes) it points to`);
    done += bytesRead;
  }
  return out;
}

function checksumOk(block: Buffer): boolean {
  const copy = Buffer.from(block);
  const stored = copy.readUInt32LE(4);
  copy.writeUInt32LE(0, 4);
  return crc32c(copy) === stored;
}

/** The current header: the valid one of the two with the higher SequenceNumber ([MS-VHDX] 2.2.2). */
function currentHeader(section: Buffer, name: string): Buffer {
  const candidates = [64 * 1024, 128 * 1024]
    .map((at) => section.subarray(at, at + 4096))
    .filter((h) => h.toString("latin1", 0, 4) === "head" && checksumOk(h));
  if (candidates.length === 0) throw new VhdxReadError(`${name} has no valid VHDX header (both copies fail their signature or CRC-32C)`);
  return candidates.reduce((a, b) => (b.readBigUInt64LE(8) > a.readBigUInt64LE(8) ? b : a));
}

function parseParentLocator(item: Buffer, name: string): Map<string, string> {
  if (!guidToBytes(GUID.vhdxParentLocatorType).equals(item.subarray(0, 16))) {
    throw new VhdxReadError(`${name} has a parent locator of type ${guidToText(item.subarray(0, 16))}, not the VHDX parent locator`);
  }
  const count = item.readUInt16LE(18);
  const pairs = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const entry = 20 + i * 12;
    const keyOffset = item.readUInt32LE(entry);
    const valueOffset = item.readUInt32LE(entry + 4);
    const key = item.toString("utf16le", keyOffset, keyOffset + item.readUInt16LE(entry + 8));
    const value = item.toString("utf16le", valueOffset, valueOffset + item.readUInt16LE(entry + 10));
    pairs.set(key, value);
  }
  return pairs;
}

/** Parses the header section, region table, metadata and BAT of one file. */
export async function readVhdxInfo(file: FileHandle, name: string): Promise<VhdxFileInfo> {
  const section = await readAt(file, 0, MIB, name);
  if (section.toString("latin1", 0, 8) !== "vhdxfile") throw new VhdxReadError(`${name} is not a VHDX file (no 'vhdxfile' signature)`);
  const header = currentHeader(section, name);
  if (!header.subarray(48, 64).equals(Buffer.alloc(16))) {
    throw new VhdxReadError(`${name} has a non-empty log (LogGuid set): open it once in Hyper-V or qemu-img to replay the log, then read it again`);
  }
  const regions = section.subarray(192 * 1024, 256 * 1024);
  if (regions.toString("latin1", 0, 4) !== "regi" || !checksumOk(regions)) throw new VhdxReadError(`${name} has no valid region table`);
  let bat: { offset: number; length: number } | undefined;
  let metadata: { offset: number; length: number } | undefined;
  for (let i = 0; i < regions.readUInt32LE(8); i++) {
    const entry = 16 + i * 32;
    const guid = regions.subarray(entry, entry + 16);
    const where = { offset: Number(regions.readBigUInt64LE(entry + 16)), length: regions.readUInt32LE(entry + 24) };
    if (guid.equals(guidToBytes(GUID.batRegion))) bat = where;
    else if (guid.equals(guidToBytes(GUID.metadataRegion))) metadata = where;
  }
  if (!bat || !metadata) throw new VhdxReadError(`${name}'s region table lacks the BAT or the metadata region`);
  const meta = await readAt(file, metadata.offset, metadata.length, name);
  if (meta.toString("latin1", 0, 8) !== "metadata") throw new VhdxReadError(`${name} has no metadata table`);
  const items = new Map<string, Buffer>();
  for (let i = 0; i < meta.readUInt16LE(10); i++) {
    const entry = 32 + i * 32;
    const offset = meta.readUInt32LE(entry + 16);
    items.set(guidToText(meta.subarray(entry, entry + 16)), meta.subarray(offset, offset + meta.readUInt32LE(entry + 20)));
  }
  const item = (guid: string) => {
    const found = items.get(guidToText(guidToBytes(guid)));
    if (!found) throw new VhdxReadError(`${name} lacks the required metadata item ${guid}`);
    return found;
  };
  const fileParameters = item(GUID.fileParameters);
  const hasParent = (fileParameters.readUInt32LE(4) & FILE_PARAMETERS_HAS_PARENT) !== 0;
  const logicalSectorSize = item(GUID.logicalSectorSize).readUInt32LE(0);
  if (logicalSectorSize !== LOGICAL_SECTOR_SIZE) throw new VhdxReadError(`${name} has ${logicalSectorSize}-byte logical sectors; rebake reads ${LOGICAL_SECTOR_SIZE}-byte ones only`);
  const layout = vhdxLayout(Number(item(GUID.virtualDiskSize).readBigUInt64LE(0)), fileParameters.readUInt32LE(0), hasParent);
  return {
    path: name,
    layout,
    logicalSectorSize,
    dataWriteGuid: guidToText(header.subarray(32, 48)),
    virtualDiskId: guidToText(item(GUID.virtualDiskId)),
    ...(hasParent ? { parentLocator: parseParentLocator(item(GUID.parentLocator), name) } : {}),
    bat: await readAt(file, bat.offset, layout.batEntries * 8, name),
  };
}

interface Level {
  readonly info: VhdxFileInfo;
  readonly file: FileHandle;
}

/** The virtual disk a chain of VHDX files presents: the child first, then each parent. */
export class VhdxChain {
  private constructor(private readonly levels: readonly Level[]) {}

  /** Files from the child down to the base. */
  get files(): readonly VhdxFileInfo[] {
    return this.levels.map((l) => l.info);
  }

  get virtualSize(): number {
    return this.levels[0]!.info.layout.virtualSize;
  }

  /**
   * Opens `file` and follows parent locators by their relative_path (the key a reader on another
   * machine can use; absolute paths name the machine that wrote them), checking each parent's
   * DataWriteGuid against the child's parent_linkage.
   */
  static async open(file: string): Promise<VhdxChain> {
    const levels: Level[] = [];
    try {
      let next: string | undefined = file;
      while (next) {
        if (levels.length >= MAX_CHAIN_DEPTH) throw new VhdxReadError(`${file}: the parent chain is deeper than ${MAX_CHAIN_DEPTH} files; a parent locator loops`);
        const handle = await open(next, "r").catch((error: NodeJS.ErrnoException) => {
          throw error.code === "ENOENT" && levels.length > 0
            ? new VhdxReadError(`${levels.at(-1)!.info.path} names its parent ${next}, which is missing: copy the parent beside it`)
            : error;
        });
        const level: Level = { file: handle, info: await readVhdxInfo(handle, next).catch(async (error: unknown) => (await handle.close(), Promise.reject(error))) };
        const child = levels.at(-1)?.info;
        const linkage = child?.parentLocator?.get("parent_linkage");
        if (child && linkage?.toLowerCase() !== level.info.dataWriteGuid) {
          await handle.close();
          throw new VhdxReadError(`${child.path} was written against a parent with DataWriteGuid ${linkage}, but ${next} has ${level.info.dataWriteGuid}: that parent changed since, so the chain would read wrong data`);
        }
        if (child && level.info.layout.virtualSize !== child.layout.virtualSize) {
          await handle.close();
          throw new VhdxReadError(`${next} is ${level.info.layout.virtualSize} bytes, its child ${child.path} ${child.layout.virtualSize}: not the same disk`);
        }
        levels.push(level);
        next = parentPath(level.info);
      }
      return new VhdxChain(levels);
    } catch (error) {
      await Promise.allSettled(levels.map((l) => l.file.close()));
      throw error;
    }
  }

  /** Fills `buffer` with the virtual disk's bytes from `offset`. */
  async read(buffer: Buffer, offset: number): Promise<void> {
    if (offset < 0 || offset + buffer.length > this.virtualSize) throw new VhdxReadError(`read of ${buffer.length} bytes at ${offset} is outside the ${this.virtualSize}-byte disk`);
    await this.readLevel(0, buffer, offset);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.levels.map((l) => l.file.close()));
  }

  /** Whether any file of the chain stores data for a byte of the range (reading it would do I/O). */
  holdsData(offset: number, length: number): boolean {
    return this.levels.some(({ info: { layout, bat } }) => {
      for (let block = Math.floor(offset / layout.blockSize); block * layout.blockSize < offset + length; block++) {
        const state = Number(bat.readBigUInt64LE(batIndexOfBlock(block, layout.chunkRatio) * 8) & BAT_STATE_MASK);
        if (state === PAYLOAD_BLOCK_FULLY_PRESENT || state === PAYLOAD_BLOCK_PARTIALLY_PRESENT) return true;
      }
      return false;
    });
  }

  private async readLevel(depth: number, buffer: Buffer, offset: number): Promise<void> {
    const level = this.levels[depth];
    if (!level) return void buffer.fill(0);
    const { layout, bat, path: name } = level.info;
    let done = 0;
    while (done < buffer.length) {
      const at = offset + done;
      const block = Math.floor(at / layout.blockSize);
      const inBlock = at - block * layout.blockSize;
      const length = Math.min(buffer.length - done, layout.blockSize - inBlock);
      const piece = buffer.subarray(done, done + length);
      const entry = bat.readBigUInt64LE(batIndexOfBlock(block, layout.chunkRatio) * 8);
      const state = Number(entry & BAT_STATE_MASK);
      const fileOffset = Number(entry & BAT_OFFSET_MASK);
      if (state === PAYLOAD_BLOCK_FULLY_PRESENT) {
        (await readAt(level.file, fileOffset + inBlock, length, name)).copy(piece);
      } else if (state === PAYLOAD_BLOCK_ZERO || state === PAYLOAD_BLOCK_UNMAPPED) {
        piece.fill(0);
      } else if (state === PAYLOAD_BLOCK_NOT_PRESENT || state === PAYLOAD_BLOCK_UNDEFINED) {
        // A dynamic disk's absent block reads as zeros; a differencing disk's comes from its parent.
        if (layout.differencing) await this.readLevel(depth + 1, piece, at);
        else piece.fill(0);
      } else if (state === PAYLOAD_BLOCK_PARTIALLY_PRESENT && layout.differencing) {
        await this.readPartial(depth, level, block, fileOffset, piece, at);
      } else {
        throw new VhdxReadError(`${name}: block ${block} has BAT state ${state}, which [MS-VHDX] 2.5.1.1 does not define for this kind of disk`);
      }
      done += length;
    }
  }

  /** Sector by sector: runs the bitmap marks come from this file, the others from the parent. */
  private async readPartial(depth: number, level: Level, block: number, fileOffset: number, piece: Buffer, at: number): Promise<void> {
    const { layout, bat, path: name } = level.info;
    const chunk = Math.floor(block / layout.chunkRatio);
    const bitmapEntry = bat.readBigUInt64LE((chunk * (layout.chunkRatio + 1) + layout.chunkRatio) * 8);
    if (Number(bitmapEntry & BAT_STATE_MASK) !== SB_BLOCK_PRESENT) throw new VhdxReadError(`${name}: block ${block} is partially present but its chunk has no sector bitmap`);
    const bitsPerBlock = layout.blockSize / LOGICAL_SECTOR_SIZE;
    const bitmap = await readAt(level.file, Number(bitmapEntry & BAT_OFFSET_MASK) + bitmapOffsetOfBlock(block, layout), bitsPerBlock / 8, name);
    const present = (sector: number) => ((bitmap[sector >> 3]! >> (sector & 7)) & 1) === 1;
    const blockStart = block * layout.blockSize;
    let done = 0;
    while (done < piece.length) {
      const sector = Math.floor((at + done - blockStart) / LOGICAL_SECTOR_SIZE);
      const mine = present(sector);
      let end = sector + 1;
      while (end < bitsPerBlock && end * LOGICAL_SECTOR_SIZE < at - blockStart + piece.length && present(end) === mine) end++;
      const runEnd = Math.min(piece.length, blockStart + end * LOGICAL_SECTOR_SIZE - at);
      const run = piece.subarray(done, runEnd);
      if (mine) (await readAt(level.file, fileOffset + (at + done - blockStart), run.length, name)).copy(run);
      else await this.readLevel(depth + 1, run, at + done);
      done = runEnd;
    }
  }
}

/** The parent's local path from relative_path, which Windows writes with backslashes. */
function parentPath(info: VhdxFileInfo): string | undefined {
  if (!info.parentLocator) return undefined;
  const relative = info.parentLocator.get("relative_path");
  if (!relative) throw new VhdxReadError(`${info.path} is a differencing disk whose parent locator has no relative_path; rebake cannot find its parent`);
  return path.join(path.dirname(info.path), ...relative.replace(/^\.\\/, "").split("\\"));
}
