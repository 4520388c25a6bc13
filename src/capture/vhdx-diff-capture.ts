/**
 * A PVS vDisk version: a differencing VHDX holding only what differs from its parent vDisk
 * ([MS-VHDX] differencing disk: HasParent, a parent locator, NOT_PRESENT blocks read from the
 * parent, PARTIALLY_PRESENT blocks with a sector bitmap). Which blocks may differ comes from the
 * layer chain when the parent is a previous build of the same recipe (only blocks written by a
 * layer above the last one both builds share), from the whole disk otherwise; each candidate is
 * then compared with the parent sector by sector, so the file stores exactly the changed sectors.
 *
 * Two passes: the first decides every block (so the BAT can be written first), the second writes
 * the file front to back, hashed while written, under a temp name renamed when complete.
 */
import { randomBytes } from "node:crypto";
import type { Exec } from "../util/exec.ts";
import { readAllocationMap, readLayers, type AllocationMap, type DiskSource } from "./allocation-map.ts";
import { planBlocks, type PlannedBlock } from "./block-plan.ts";
import { openBlockReader } from "./block-reader.ts";
import { writeHashedFile } from "./hashed-output.ts";
import type { CaptureOptions, CaptureResult } from "./vhdx-capture.ts";
import {
  LOGICAL_SECTOR_SIZE,
  PAYLOAD_BLOCK_FULLY_PRESENT,
  PAYLOAD_BLOCK_PARTIALLY_PRESENT,
  SECTOR_BITMAP_BLOCK_SIZE,
  bitmapOffsetOfBlock,
  encodeDifferencingBat,
  encodeHeaderSection,
  encodeLog,
  encodeMetadataRegion,
  guidToBytes,
  placeDifferencing,
  randomGuid,
  vhdxLayout,
  type DifferencingBlock,
  type VhdxIdentity,
} from "./vhdx-format.ts";
import { VhdxChain } from "./vhdx-reader.ts";

const CREATOR = "rebake";

/** The vDisk a version is written against. */
export interface ParentVdisk {
  /** The parent's file here; its own parents are found beside it by their relative paths. */
  readonly path: string;
  /** The parent as the version file will find it at a site, relative to the version's directory. */
  readonly relativePath: string;
  /** The parent's full Windows path at a site, when the store's path is known. */
  readonly absoluteWin32Path?: string;
}

/** Where the changed blocks come from. */
export type ChangeSource =
  /** The parent was captured from `previous`, an earlier build of the same recipe sharing base layers. */
  | { readonly kind: "layers"; readonly previous: DiskSource }
  | { readonly kind: "content" };

export interface DifferencingOptions extends CaptureOptions {
  /** @default { kind: "content" } */
  readonly changes?: ChangeSource;
}

export interface DifferencingResult extends CaptureResult {
  /** `{...}`: the parent's DataWriteGuid written as parent_linkage. */
  readonly parentLinkage: string;
  /** How candidate blocks were found, and why that way. */
  readonly method: "layers" | "content";
  readonly methodReason: string;
  /** Blocks compared with the parent. */
  readonly candidateBlocks: number;
  readonly fullBlocks: number;
  readonly partialBlocks: number;
  /** Bytes of sectors that differ from the parent: what the version really carries. */
  readonly changedBytes: number;
}

/** The new disk cannot be a version of that parent. */
export class DifferencingMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

interface Decision {
  readonly block: number;
  /** Present sectors, one bit each (LSB first, as the sector bitmap stores them); undefined: all. */
  readonly bitmap?: Buffer;
}

/** Blocks written by a layer above the last one the two chains share; or why there are none to trust. */
async function blocksChangedByLayers(exec: Exec, current: AllocationMap, previous: DiskSource, blockSize: number, signal?: AbortSignal): Promise<{ blocks: Set<number> } | { reason: string }> {
  const before = await readLayers(exec, previous, signal);
  const a = [...current.layers].reverse();
  const b = [...before.layers].reverse();
  let common = 0;
  while (common < a.length && common < b.length && a[common]!.path === b[common]!.path) common++;
  if (common === 0) return { reason: "the new build and the parent's build share no layer" };
  const upper = [...current.layers.slice(0, current.layers.length - common), ...before.layers.slice(0, before.layers.length - common)];
  const odd = upper.find((layer) => layer.format !== "qcow2");
  if (odd) return { reason: `layer ${odd.path} is ${odd.format}, not qcow2, so its own allocation cannot be mapped` };
  const blocks = new Set<number>();
  for (const layer of upper) {
    // The layer alone (backing null): "present" ranges are what this layer wrote, zeroes included.
    const spec = JSON.stringify({ driver: "qcow2", backing: null, file: { driver: "file", filename: layer.path } });
    const { stdout } = await exec("qemu-img", ["map", "--output=json", `json:${spec}`], signal ? { signal } : {});
    for (const entry of JSON.parse(stdout) as { start: number; length: number; present?: boolean; data?: boolean; zero?: boolean }[]) {
      if (!(entry.present ?? entry.data) || entry.length === 0) continue;
      for (let block = Math.floor(entry.start / blockSize); block * blockSize < entry.start + entry.length; block++) blocks.add(block);
    }
  }
  return { blocks };
}

/** Per-sector comparison: undefined when equal, the bitmap of differing sectors otherwise. */
function differingSectors(next: Buffer, parent: Buffer): { bitmap: Buffer; count: number } | undefined {
  if (next.equals(parent)) return undefined;
  const sectors = next.length / LOGICAL_SECTOR_SIZE;
  const bitmap = Buffer.alloc(sectors / 8);
  let count = 0;
  for (let s = 0; s < sectors; s++) {
    const start = s * LOGICAL_SECTOR_SIZE;
    if (next.compare(parent, start, start + LOGICAL_SECTOR_SIZE, start, start + LOGICAL_SECTOR_SIZE) !== 0) {
      bitmap[s >> 3]! |= 1 << (s & 7);
      count++;
    }
  }
  return { bitmap, count };
}

/**
 * Writes `outPath` as a differencing VHDX of `source` against `parent`. The parent's block size
 * and virtual disk identity are kept, so the guest sees the same disk in every version.
 */
export async function captureDifferencingVhdx(source: DiskSource, parent: ParentVdisk, outPath: string, options: DifferencingOptions): Promise<DifferencingResult> {
  const { exec, signal, onProgress } = options;
  const random = options.random ?? randomBytes;
  signal?.throwIfAborted();
  const map = await readAllocationMap(exec, source, signal);
  const chain = await VhdxChain.open(parent.path);
  try {
    const top = chain.files[0]!;
    const blockSize = top.layout.blockSize;
    if (top.layout.virtualSize !== map.virtualSize) {
      throw new DifferencingMismatchError(`the new build's disk is ${map.virtualSize} bytes, the parent vDisk ${parent.path} ${top.layout.virtualSize}: a version keeps its disk's size, so publish a full vDisk instead`);
    }
    const layout = vhdxLayout(map.virtualSize, blockSize, true);
    const planned = new Map<number, PlannedBlock>(planBlocks(map, blockSize).map((block) => [block.index, block]));

    let method: DifferencingResult["method"] = "content";
    let methodReason = "no previous build of the same recipe was given";
    let candidates: number[];
    const fromLayers = options.changes?.kind === "layers" ? await blocksChangedByLayers(exec, map, options.changes.previous, blockSize, signal) : undefined;
    if (fromLayers && "blocks" in fromLayers) {
      method = "layers";
      methodReason = "the parent is a previous build of the same recipe: only blocks written above their shared layers can differ";
      candidates = [...fromLayers.blocks].sort((x, y) => x - y);
    } else {
      if (fromLayers) methodReason = fromLayers.reason;
      // Blocks no side stores read as zeros on both: nothing to compare.
      candidates = [];
      for (let block = 0; block < layout.payloadBlocks; block++) {
        if (planned.has(block) || chain.holdsData(block * blockSize, Math.min(blockSize, map.virtualSize - block * blockSize))) candidates.push(block);
      }
    }

    const reader = await openBlockReader(exec, map, [...planned.values()], signal);
    try {
      const readNew = async (block: number, buffer: Buffer) => {
        const plan = planned.get(block);
        return plan ? reader.read(plan, buffer) : buffer.fill(0);
      };
      const next = Buffer.alloc(blockSize);
      const old = Buffer.alloc(blockSize);
      const decisions: Decision[] = [];
      let changedBytes = 0;
      for (const block of candidates) {
        signal?.throwIfAborted();
        const length = Math.min(blockSize, map.virtualSize - block * blockSize);
        // The tail of a last, short block lies beyond the disk: equal zeros on both sides.
        await readNew(block, next);
        next.fill(0, length);
        old.fill(0, length);
        await chain.read(old.subarray(0, length), block * blockSize);
        const diff = differingSectors(next, old);
        if (!diff) continue;
        changedBytes += diff.count * LOGICAL_SECTOR_SIZE;
        decisions.push(diff.count === blockSize / LOGICAL_SECTOR_SIZE ? { block } : { block, bitmap: diff.bitmap });
      }

      const entries: DifferencingBlock[] = decisions.map((d) => ({ block: d.block, state: d.bitmap ? PAYLOAD_BLOCK_PARTIALLY_PRESENT : PAYLOAD_BLOCK_FULLY_PRESENT }));
      const placement = placeDifferencing(layout, entries);
      const identity: VhdxIdentity = {
        fileWriteGuid: randomGuid(random(16)),
        dataWriteGuid: randomGuid(random(16)),
        virtualDiskId: guidToBytes(top.virtualDiskId),
      };
      const locator = {
        parentLinkage: guidToBytes(top.dataWriteGuid),
        relativePath: parent.relativePath,
        ...(parent.absoluteWin32Path ? { absoluteWin32Path: parent.absoluteWin32Path } : {}),
      };
      const bytesTotal = placement.fileSize;
      const { size, sha256 } = await writeHashedFile(
        outPath,
        async (writer) => {
          await writer.write(encodeHeaderSection(layout, identity, CREATOR));
          await writer.write(encodeLog());
          await writer.write(encodeMetadataRegion(layout, identity, locator));
          await writer.write(encodeDifferencingBat(layout, entries));
          for (const chunk of placement.bitmapChunks) {
            const bitmap = Buffer.alloc(SECTOR_BITMAP_BLOCK_SIZE);
            for (const d of decisions) if (d.bitmap && Math.floor(d.block / layout.chunkRatio) === chunk) d.bitmap.copy(bitmap, bitmapOffsetOfBlock(d.block, layout));
            await writer.write(bitmap);
          }
          for (const d of decisions) {
            signal?.throwIfAborted();
            const data = await readNew(d.block, Buffer.alloc(blockSize));
            data.fill(0, Math.min(blockSize, map.virtualSize - d.block * blockSize));
            // Sectors the parent already has are zeroed: the spec ignores them, and zeros ship as holes.
            if (d.bitmap) for (let s = 0; s < blockSize / LOGICAL_SECTOR_SIZE; s++) if (!((d.bitmap[s >> 3]! >> (s & 7)) & 1)) data.fill(0, s * LOGICAL_SECTOR_SIZE, (s + 1) * LOGICAL_SECTOR_SIZE);
            await writer.write(data);
          }
        },
        (bytesDone) => onProgress?.({ bytesDone, bytesTotal }),
      );
      return {
        path: outPath,
        size,
        sha256,
        blockSize,
        allocatedBlocks: decisions.length,
        virtualSize: map.virtualSize,
        parentLinkage: top.dataWriteGuid,
        method,
        methodReason,
        candidateBlocks: candidates.length,
        fullBlocks: entries.filter((e) => e.state === PAYLOAD_BLOCK_FULLY_PRESENT).length,
        partialBlocks: entries.filter((e) => e.state === PAYLOAD_BLOCK_PARTIALLY_PRESENT).length,
        changedBytes,
      };
    } finally {
      await reader.close();
    }
  } finally {
    await chain.close();
  }
}
