/**
 * Which blocks of the new vDisk a site already has. Pure: two blockmaps in, one action per block
 * out. The site builds the new file from a copy of its newest version (`base`), so a block equal
 * to the base's block at the same position costs nothing, a block found elsewhere in the base is
 * copied inside the site, and only the rest crosses the link.
 */
import type { Blockmap } from "./blockmap.ts";

export type BlockAction =
  /** The copy of the base already holds this block at this position. */
  | { readonly kind: "keep" }
  /** The base holds this block at another offset: copied inside the site. */
  | { readonly kind: "local"; readonly fromOffset: number }
  /** New content: read from the source and sent. */
  | { readonly kind: "send" };

export interface DeltaPlan {
  readonly actions: readonly BlockAction[];
  readonly blockSize: number;
  readonly size: number;
  /** Bytes read from the source and written at the site. */
  readonly sendBytes: number;
  /** Bytes copied from the base at other offsets, inside the site. */
  readonly localBytes: number;
  readonly keepBytes: number;
}

export class DeltaPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Plans the new file `target` against `base` (undefined: the site has no version, send all). */
export function planDelta(target: Blockmap, base?: Blockmap): DeltaPlan {
  if (base && base.blockSize !== target.blockSize) {
    throw new DeltaPlanError(`the site's blockmap uses ${base.blockSize}-byte blocks and the source's ${target.blockSize}-byte blocks; rebuild one of them with the same block size`);
  }
  const { blockSize, size } = target;
  const where = new Map<string, number>();
  base?.blocks.forEach((hash, index) => {
    // Only whole blocks are reusable elsewhere: a short last block hashes a different length.
    if (!where.has(hash) && (index + 1) * blockSize <= base.size) where.set(hash, index);
  });
  let sendBytes = 0;
  let localBytes = 0;
  let keepBytes = 0;
  const actions = target.blocks.map((hash, index): BlockAction => {
    const length = Math.min(blockSize, size - index * blockSize);
    const fullyInsideBase = base !== undefined && (index + 1) * blockSize <= base.size;
    if (fullyInsideBase && base.blocks[index] === hash && length === blockSize) {
      keepBytes += length;
      return { kind: "keep" };
    }
    const found = length === blockSize ? where.get(hash) : undefined;
    if (found !== undefined) {
      localBytes += length;
      return { kind: "local", fromOffset: found * blockSize };
    }
    sendBytes += length;
    return { kind: "send" };
  });
  return { actions, blockSize, size, sendBytes, localBytes, keepBytes };
}
