/**
 * Which VHDX payload blocks a capture stores and where each byte of them comes from, decided
 * from the allocation map before any data is read, so the BAT can be written first and the file
 * strictly front to back.
 */
import type { AllocationMap } from "./allocation-map.ts";

/**
 * A run of a block's bytes held by one layer; the rest of the block is zeros. With `fileOffset`
 * it is read from the layer's file, without it through qemu at its guest offset.
 */
export interface BlockPiece {
  readonly offsetInBlock: number;
  readonly length: number;
  readonly layer: number;
  readonly fileOffset?: number;
}

export interface PlannedBlock {
  /** The payload block's index in the virtual disk. */
  readonly index: number;
  readonly pieces: readonly BlockPiece[];
}

/** The blocks holding any data, ascending; blocks not listed read as zeros. */
export function planBlocks(map: AllocationMap, blockSize: number): PlannedBlock[] {
  const blocks: { index: number; pieces: BlockPiece[] }[] = [];
  for (const extent of map.extents) {
    if (extent.kind !== "data") continue;
    let start = extent.start;
    const end = extent.start + extent.length;
    while (start < end) {
      const index = Math.floor(start / blockSize);
      const blockEnd = Math.min((index + 1) * blockSize, end);
      let block = blocks.at(-1);
      if (block?.index !== index) {
        block = { index, pieces: [] };
        blocks.push(block);
      }
      block.pieces.push({
        offsetInBlock: start - index * blockSize,
        length: blockEnd - start,
        layer: extent.layer,
        ...(extent.fileOffset === undefined ? {} : { fileOffset: extent.fileOffset + (start - extent.start) }),
      });
      start = blockEnd;
    }
  }
  return blocks;
}
