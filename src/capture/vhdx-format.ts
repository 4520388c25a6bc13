/**
 * The on-disk structures of a dynamic VHDX file ([MS-VHDX] v1 "Virtual Hard Disk v2"), encoded so
 * a writer can emit the whole file front to back: header section, log, metadata region, BAT, then
 * the payload blocks in BAT order. Pure functions: no I/O, no clock, no randomness.
 *
 * File layout produced here (every structure 1 MiB aligned, as the spec requires):
 *   0 MiB  header section: file type identifier, header 1, header 2, region table 1 and 2
 *   1 MiB  log (empty: LogGuid is zero, so nothing is ever replayed)
 *   2 MiB  metadata region
 *   3 MiB  BAT, rounded up to whole MiB
 *   then   payload blocks, consecutive, in virtual order
 */
import { crc32c } from "./crc32c.ts";

export const KIB = 1024;
export const MIB = 1024 * KIB;

/** 512-byte logical sectors: what Windows and PVS targets expect from a VHDX boot disk. */
export const LOGICAL_SECTOR_SIZE = 512;
/** 4 KiB physical sectors: aligns guest I/O with the host's pages and VHDX's 1 MiB structures. */
export const PHYSICAL_SECTOR_SIZE = 4096;

export const MIN_BLOCK_SIZE = 1 * MIB;
export const MAX_BLOCK_SIZE = 256 * MIB;
/** The largest virtual disk the spec allows: 64 TiB. */
export const MAX_VIRTUAL_SIZE = 64 * 1024 * 1024 * MIB;

const STRUCTURE_ALIGNMENT = MIB;
const HEADER_SECTION_SIZE = MIB;
const HEADER_SLOT_SIZE = 64 * KIB;
const HEADER_SIZE = 4 * KIB;
const REGION_TABLE_SIZE = 64 * KIB;
const METADATA_TABLE_SIZE = 64 * KIB;
const CREATOR_FIELD_SIZE = 512;

const HEADER_1_OFFSET = 1 * HEADER_SLOT_SIZE;
const HEADER_2_OFFSET = 2 * HEADER_SLOT_SIZE;
const REGION_TABLE_1_OFFSET = 3 * HEADER_SLOT_SIZE;
const REGION_TABLE_2_OFFSET = 4 * HEADER_SLOT_SIZE;

export const LOG_OFFSET = 1 * MIB;
export const LOG_LENGTH = 1 * MIB;
export const METADATA_OFFSET = 2 * MIB;
export const METADATA_LENGTH = 1 * MIB;
export const BAT_OFFSET = 3 * MIB;

/** Sectors one sector-bitmap block describes (2^23): with the sector size it fixes the chunk ratio. */
const SECTORS_PER_BITMAP_BLOCK = 2 ** 23;

const VHDX_VERSION = 1;
const LOG_VERSION = 0;

/** Payload BAT entry states ([MS-VHDX] 2.5.1.1). Sector-bitmap entries of a dynamic disk stay 0. */
export const PAYLOAD_BLOCK_NOT_PRESENT = 0;
export const PAYLOAD_BLOCK_UNDEFINED = 1;
export const PAYLOAD_BLOCK_ZERO = 2;
export const PAYLOAD_BLOCK_UNMAPPED = 3;
export const PAYLOAD_BLOCK_FULLY_PRESENT = 6;
/** Differencing disks only: the block's sector bitmap says which sectors this file holds ([MS-VHDX] 2.5.1.1). */
export const PAYLOAD_BLOCK_PARTIALLY_PRESENT = 7;
/** Sector bitmap BAT entry states ([MS-VHDX] 2.5.1.2). */
export const SB_BLOCK_NOT_PRESENT = 0;
export const SB_BLOCK_PRESENT = 6;
/** A sector bitmap block is 1 MiB, one bit per logical sector of chunkRatio payload blocks ([MS-VHDX] 2.4.2). */
export const SECTOR_BITMAP_BLOCK_SIZE = MIB;
/** BAT entry: State in bits 0..2, FileOffsetMB in bits 20..63 ([MS-VHDX] 2.5.1). */
export const BAT_STATE_MASK = 7n;
export const BAT_OFFSET_MASK = ~((1n << 20n) - 1n) & ((1n << 64n) - 1n);

const METADATA_IS_VIRTUAL_DISK = 1 << 1;
const METADATA_IS_REQUIRED = 1 << 2;
/** File Parameters flags ([MS-VHDX] 2.6.2.1): bit 0 LeaveBlocksAllocated, bit 1 HasParent. */
export const FILE_PARAMETERS_HAS_PARENT = 1 << 1;

/** Known GUIDs, in the spec's textual form. */
export const GUID = {
  batRegion: "2DC27766-F623-4200-9D64-115E9BFD4A08",
  metadataRegion: "8B7CA206-4790-4B9A-B8FE-575F050F886E",
  fileParameters: "CAA16737-FA36-4D43-B3B6-33F0AA44E76B",
  virtualDiskSize: "2FA54224-CD1B-4876-B211-5DBED83BF4B8",
  virtualDiskId: "BECA12AB-B2E6-4523-93EF-C309E000C746",
  logicalSectorSize: "8141BF1D-A96F-4709-BA47-F233A8FAAB5F",
  physicalSectorSize: "CDA348C7-445D-4471-9CC9-E9885251C556",
  /** Metadata item of a differencing disk ([MS-VHDX] 2.6.2.6). */
  parentLocator: "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C",
  /** LocatorType of the VHDX parent locator ([MS-VHDX] 2.6.2.6.3). */
  vhdxParentLocatorType: "B04AEFB7-D19E-4A81-B789-25B8E9445913",
} as const;

export class VhdxParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A GUID in the binary form VHDX stores: Data1, Data2, Data3 little-endian, Data4 as bytes.
 */
export function guidToBytes(text: string): Buffer {
  const hex = text.replace(/[{}-]/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new VhdxParameterError(`not a GUID: '${text}'`);
  const bytes = Buffer.from(hex, "hex");
  const out = Buffer.alloc(16);
  out.writeUInt32LE(bytes.readUInt32BE(0), 0);
  out.writeUInt16LE(bytes.readUInt16BE(4), 4);
  out.writeUInt16LE(bytes.readUInt16BE(6), 6);
  bytes.copy(out, 8, 8, 16);
  return out;
}

/** The spec's textual form of a binary GUID, braced and lower case: `{xxxxxxxx-xxxx-...}`. */
export function guidToText(bytes: Buffer): string {
  if (bytes.length !== 16) throw new VhdxParameterError(`a GUID has 16 bytes, got ${bytes.length}`);
  const hex = (value: number, digits: number) => value.toString(16).padStart(digits, "0");
  const tail = bytes.subarray(8, 16).toString("hex");
  return `{${hex(bytes.readUInt32LE(0), 8)}-${hex(bytes.readUInt16LE(4), 4)}-${hex(bytes.readUInt16LE(6), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}}`;
}

/** A random (version 4) GUID in binary form, from 16 bytes of the caller's random source. */
export function randomGuid(random: Buffer): Buffer {
  if (random.length !== 16) throw new VhdxParameterError(`a GUID needs 16 random bytes, got ${random.length}`);
  const out = Buffer.from(random);
  // Data3 is stored little-endian, so its version nibble is the high nibble of byte 7.
  out[7] = (out[7]! & 0x0f) | 0x40;
  out[8] = (out[8]! & 0x3f) | 0x80;
  return out;
}

/** The identifiers a new VHDX file carries; the writer draws them from an injected random source. */
export interface VhdxIdentity {
  readonly fileWriteGuid: Buffer;
  readonly dataWriteGuid: Buffer;
  /** The page 83 identity the virtual disk presents to its guest. */
  readonly virtualDiskId: Buffer;
}

export interface VhdxLayout {
  readonly virtualSize: number;
  readonly blockSize: number;
  /** Payload blocks per sector-bitmap block. */
  readonly chunkRatio: number;
  readonly payloadBlocks: number;
  readonly batEntries: number;
  readonly batOffset: number;
  readonly batLength: number;
  /** Where the first payload block goes. */
  readonly payloadOffset: number;
  /** A differencing disk: every chunk, the last one too, has its sector bitmap entry. */
  readonly differencing: boolean;
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

export function vhdxLayout(virtualSize: number, blockSize: number, differencing = false): VhdxLayout {
  if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize % LOGICAL_SECTOR_SIZE !== 0) {
    throw new VhdxParameterError(
      `the virtual disk size must be a positive multiple of ${LOGICAL_SECTOR_SIZE} bytes, got ${virtualSize}: resize the source with qemu-img resize`,
    );
  }
  if (virtualSize > MAX_VIRTUAL_SIZE) {
    throw new VhdxParameterError(`a VHDX virtual disk holds at most 64 TiB, got ${virtualSize} bytes`);
  }
  const isPowerOfTwo = (blockSize & (blockSize - 1)) === 0;
  if (!Number.isInteger(blockSize) || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || !isPowerOfTwo) {
    throw new VhdxParameterError(`the VHDX block size must be a power of two from 1 MiB to 256 MiB, got ${blockSize} bytes`);
  }
  const chunkRatio = (SECTORS_PER_BITMAP_BLOCK * LOGICAL_SECTOR_SIZE) / blockSize;
  const payloadBlocks = Math.ceil(virtualSize / blockSize);
  // Dynamic disks: a sector-bitmap entry after every chunkRatio payload entries, none after the last;
  // differencing disks: one after every chunk, the last partial chunk included ([MS-VHDX] 2.5).
  const batEntries = differencing
    ? Math.ceil(payloadBlocks / chunkRatio) * (chunkRatio + 1)
    : payloadBlocks + Math.floor((payloadBlocks - 1) / chunkRatio);
  const batLength = roundUp(batEntries * 8, STRUCTURE_ALIGNMENT);
  return {
    virtualSize,
    blockSize,
    chunkRatio,
    payloadBlocks,
    batEntries,
    batOffset: BAT_OFFSET,
    batLength,
    payloadOffset: BAT_OFFSET + batLength,
    differencing,
  };
}

/** Where payload block `block`'s entry sits in the BAT, counting the interleaved bitmap entries. */
export function batIndexOfBlock(block: number, chunkRatio: number): number {
  return block + Math.floor(block / chunkRatio);
}

function writeHeader(out: Buffer, at: number, sequenceNumber: bigint, identity: VhdxIdentity): void {
  const header = Buffer.alloc(HEADER_SIZE);
  header.write("head", 0, "latin1");
  header.writeBigUInt64LE(sequenceNumber, 8);
  identity.fileWriteGuid.copy(header, 16);
  identity.dataWriteGuid.copy(header, 32);
  // LogGuid (48..63) stays zero: the log is empty and must not be replayed.
  header.writeUInt16LE(LOG_VERSION, 64);
  header.writeUInt16LE(VHDX_VERSION, 66);
  header.writeUInt32LE(LOG_LENGTH, 68);
  header.writeBigUInt64LE(BigInt(LOG_OFFSET), 72);
  header.writeUInt32LE(crc32c(header), 4);
  header.copy(out, at);
}

function writeRegionTable(out: Buffer, at: number, layout: VhdxLayout): void {
  const table = Buffer.alloc(REGION_TABLE_SIZE);
  table.write("regi", 0, "latin1");
  const regions = [
    { guid: GUID.batRegion, offset: layout.batOffset, length: layout.batLength },
    { guid: GUID.metadataRegion, offset: METADATA_OFFSET, length: METADATA_LENGTH },
  ];
  table.writeUInt32LE(regions.length, 8);
  regions.forEach((region, i) => {
    const entry = 16 + i * 32;
    guidToBytes(region.guid).copy(table, entry);
    table.writeBigUInt64LE(BigInt(region.offset), entry + 16);
    table.writeUInt32LE(region.length, entry + 24);
    table.writeUInt32LE(1, entry + 28); // required
  });
  table.writeUInt32LE(crc32c(table), 4);
  table.copy(out, at);
}

/**
 * The first MiB: file type identifier, both headers and both region tables. Both headers are
 * valid and identical but for the sequence number, so either survives a torn sector.
 */
export function encodeHeaderSection(layout: VhdxLayout, identity: VhdxIdentity, creator: string): Buffer {
  const out = Buffer.alloc(HEADER_SECTION_SIZE);
  out.write("vhdxfile", 0, "latin1");
  const creatorBytes = Buffer.from(creator, "utf16le").subarray(0, CREATOR_FIELD_SIZE - 2);
  creatorBytes.copy(out, 8);
  writeHeader(out, HEADER_1_OFFSET, 1n, identity);
  writeHeader(out, HEADER_2_OFFSET, 2n, identity);
  writeRegionTable(out, REGION_TABLE_1_OFFSET, layout);
  writeRegionTable(out, REGION_TABLE_2_OFFSET, layout);
  return out;
}

/** The empty log region. */
export function encodeLog(): Buffer {
  return Buffer.alloc(LOG_LENGTH);
}

/** Where a differencing disk's parent is: the keys of the VHDX parent locator ([MS-VHDX] 2.6.2.6.3). */
export interface ParentLocator {
  /** The parent's DataWriteGuid, binary: a reader refuses a parent whose data changed since. */
  readonly parentLinkage: Buffer;
  /** The parent's path relative to this file's directory, `\\`-separated as Windows reads it. */
  readonly relativePath: string;
  /** The parent's full Windows path, when known (e.g. `D:\\Store\\ws2022.vhdx`). */
  readonly absoluteWin32Path?: string;
}

/**
 * The parent locator item: header (LocatorType, Reserved, KeyValueCount; [MS-VHDX] 2.6.2.6.1),
 * one 12-byte entry per pair (KeyOffset, ValueOffset relative to the item, KeyLength,
 * ValueLength; 2.6.2.6.2), then the keys and values as UTF-16LE without terminators.
 */
export function encodeParentLocator(parent: ParentLocator): Buffer {
  const pairs: [string, string][] = [
    ["parent_linkage", guidToText(parent.parentLinkage)],
    ["relative_path", parent.relativePath],
    ...(parent.absoluteWin32Path ? [["absolute_win32_path", parent.absoluteWin32Path] as [string, string]] : []),
  ];
  const headerSize = 20 + pairs.length * 12;
  const strings = pairs.flatMap(([key, value]) => [Buffer.from(key, "utf16le"), Buffer.from(value, "utf16le")]);
  const out = Buffer.alloc(headerSize + strings.reduce((sum, b) => sum + b.length, 0));
  guidToBytes(GUID.vhdxParentLocatorType).copy(out, 0);
  out.writeUInt16LE(pairs.length, 18);
  let at = headerSize;
  pairs.forEach((_, i) => {
    const key = strings[2 * i]!;
    const value = strings[2 * i + 1]!;
    const entry = 20 + i * 12;
    out.writeUInt32LE(at, entry);
    key.copy(out, at);
    at += key.length;
    out.writeUInt32LE(at, entry + 4);
    value.copy(out, at);
    at += value.length;
    out.writeUInt16LE(key.length, entry + 8);
    out.writeUInt16LE(value.length, entry + 10);
  });
  return out;
}

/**
 * The metadata region: table, then the five required items of a dynamic disk, and for a
 * differencing disk (`parent` given) the HasParent flag and the parent locator item.
 */
export function encodeMetadataRegion(layout: VhdxLayout, identity: VhdxIdentity, parent?: ParentLocator): Buffer {
  if (Boolean(parent) !== layout.differencing) throw new VhdxParameterError("a differencing layout needs a parent locator, and only it");
  const out = Buffer.alloc(METADATA_LENGTH);
  const fileParameters = Buffer.alloc(8);
  fileParameters.writeUInt32LE(layout.blockSize, 0);
  // LeaveBlocksAllocated stays 0 (dynamic); HasParent only for a differencing disk.
  fileParameters.writeUInt32LE(parent ? FILE_PARAMETERS_HAS_PARENT : 0, 4);
  const virtualDiskSize = Buffer.alloc(8);
  virtualDiskSize.writeBigUInt64LE(BigInt(layout.virtualSize), 0);
  const logicalSectorSize = Buffer.alloc(4);
  logicalSectorSize.writeUInt32LE(LOGICAL_SECTOR_SIZE, 0);
  const physicalSectorSize = Buffer.alloc(4);
  physicalSectorSize.writeUInt32LE(PHYSICAL_SECTOR_SIZE, 0);
  const items = [
    { guid: GUID.fileParameters, data: fileParameters, flags: METADATA_IS_REQUIRED },
    { guid: GUID.virtualDiskSize, data: virtualDiskSize, flags: METADATA_IS_VIRTUAL_DISK | METADATA_IS_REQUIRED },
    { guid: GUID.virtualDiskId, data: identity.virtualDiskId, flags: METADATA_IS_VIRTUAL_DISK | METADATA_IS_REQUIRED },
    { guid: GUID.logicalSectorSize, data: logicalSectorSize, flags: METADATA_IS_VIRTUAL_DISK | METADATA_IS_REQUIRED },
    { guid: GUID.physicalSectorSize, data: physicalSectorSize, flags: METADATA_IS_VIRTUAL_DISK | METADATA_IS_REQUIRED },
    // The parent locator describes the file, not the virtual disk: IsRequired only (2.6.2.6).
    ...(parent ? [{ guid: GUID.parentLocator, data: encodeParentLocator(parent), flags: METADATA_IS_REQUIRED }] : []),
  ];
  out.write("metadata", 0, "latin1");
  out.writeUInt16LE(items.length, 10);
  let itemOffset = METADATA_TABLE_SIZE;
  items.forEach((item, i) => {
    const entry = 32 + i * 32;
    guidToBytes(item.guid).copy(out, entry);
    out.writeUInt32LE(itemOffset, entry + 16);
    out.writeUInt32LE(item.data.length, entry + 20);
    out.writeUInt32LE(item.flags, entry + 24);
    item.data.copy(out, itemOffset);
    itemOffset += item.data.length;
  });
  return out;
}

/**
 * The BAT. `presentBlocks` lists the payload blocks stored in the file, in ascending order; they
 * occupy consecutive blocks from `layout.payloadOffset`. Every other block is PAYLOAD_BLOCK_ZERO,
 * not NOT_PRESENT, because the spec lets a reader return arbitrary data for NOT_PRESENT blocks of
 * a dynamic disk.
 */
export function encodeBat(layout: VhdxLayout, presentBlocks: readonly number[]): Buffer {
  const out = Buffer.alloc(layout.batLength);
  const zero = BigInt(PAYLOAD_BLOCK_ZERO);
  for (let block = 0; block < layout.payloadBlocks; block++) {
    out.writeBigUInt64LE(zero, batIndexOfBlock(block, layout.chunkRatio) * 8);
  }
  let previous = -1;
  presentBlocks.forEach((block, i) => {
    if (!Number.isInteger(block) || block <= previous || block >= layout.payloadBlocks) {
      throw new VhdxParameterError(`present blocks must ascend within 0..${layout.payloadBlocks - 1}, got ${block} after ${previous}`);
    }
    previous = block;
    // FileOffsetMB sits in bits 20..63, so a MiB-aligned byte offset is already the shifted field.
    const fileOffset = BigInt(layout.payloadOffset + i * layout.blockSize);
    out.writeBigUInt64LE(fileOffset | BigInt(PAYLOAD_BLOCK_FULLY_PRESENT), batIndexOfBlock(block, layout.chunkRatio) * 8);
  });
  return out;
}

/** The file's size once every present block is written. */
export function vhdxFileSize(layout: VhdxLayout, presentBlockCount: number): number {
  return layout.payloadOffset + presentBlockCount * layout.blockSize;
}

/** Where a differencing file stores one payload block: fully, or the sectors its bitmap marks. */
export interface DifferencingBlock {
  readonly block: number;
  readonly state: typeof PAYLOAD_BLOCK_FULLY_PRESENT | typeof PAYLOAD_BLOCK_PARTIALLY_PRESENT;
}

/** Where a differencing file's sector bitmap blocks and payload blocks go: bitmaps first, then payload. */
export interface DifferencingPlacement {
  /** Chunks that hold a partially present block, ascending: each gets one bitmap block. */
  readonly bitmapChunks: readonly number[];
  readonly bitmapOffset: (chunk: number) => number;
  readonly payloadOffset: (index: number) => number;
  readonly fileSize: number;
}

export function placeDifferencing(layout: VhdxLayout, blocks: readonly DifferencingBlock[]): DifferencingPlacement {
  const bitmapChunks = [...new Set(blocks.filter((b) => b.state === PAYLOAD_BLOCK_PARTIALLY_PRESENT).map((b) => Math.floor(b.block / layout.chunkRatio)))].sort((a, b) => a - b);
  const firstPayload = layout.payloadOffset + bitmapChunks.length * SECTOR_BITMAP_BLOCK_SIZE;
  return {
    bitmapChunks,
    bitmapOffset: (chunk) => layout.payloadOffset + bitmapChunks.indexOf(chunk) * SECTOR_BITMAP_BLOCK_SIZE,
    payloadOffset: (index) => firstPayload + index * layout.blockSize,
    fileSize: firstPayload + blocks.length * layout.blockSize,
  };
}

/**
 * The BAT of a differencing disk: blocks not listed are NOT_PRESENT (read from the parent), listed
 * ones point at consecutive payload blocks; chunks with a partially present block point at their
 * sector bitmap block (SB_BLOCK_PRESENT), the others stay SB_BLOCK_NOT_PRESENT ([MS-VHDX] 2.5.1.2).
 */
export function encodeDifferencingBat(layout: VhdxLayout, blocks: readonly DifferencingBlock[]): Buffer {
  if (!layout.differencing) throw new VhdxParameterError("encodeDifferencingBat needs a differencing layout");
  const out = Buffer.alloc(layout.batLength);
  const placement = placeDifferencing(layout, blocks);
  let previous = -1;
  blocks.forEach((entry, i) => {
    if (!Number.isInteger(entry.block) || entry.block <= previous || entry.block >= layout.payloadBlocks) {
      throw new VhdxParameterError(`present blocks must ascend within 0..${layout.payloadBlocks - 1}, got ${entry.block} after ${previous}`);
    }
    previous = entry.block;
    out.writeBigUInt64LE(BigInt(placement.payloadOffset(i)) | BigInt(entry.state), batIndexOfBlock(entry.block, layout.chunkRatio) * 8);
  });
  for (const chunk of placement.bitmapChunks) {
    const index = chunk * (layout.chunkRatio + 1) + layout.chunkRatio;
    out.writeBigUInt64LE(BigInt(placement.bitmapOffset(chunk)) | BigInt(SB_BLOCK_PRESENT), index * 8);
  }
  return out;
}

/** Byte offset of a payload block's bits inside its chunk's sector bitmap block. */
export function bitmapOffsetOfBlock(block: number, layout: VhdxLayout): number {
  return (block % layout.chunkRatio) * (layout.blockSize / LOGICAL_SECTOR_SIZE / 8);
}
