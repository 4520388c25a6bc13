/**
 * Reads planned blocks of a disk source: pieces straight from the layer files where qemu-img map
 * gave a plain file offset, through a qemu-nbd export otherwise (started only when needed), zeros
 * between the pieces.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { Exec } from "../util/exec.ts";
import type { AllocationMap } from "./allocation-map.ts";
import type { PlannedBlock } from "./block-plan.ts";
import type { NbdClient } from "./nbd-client.ts";
import { startNbdExport, type NbdExport } from "./nbd-export.ts";

/** The source file ended before an extent qemu-img map promised. */
export class SourceReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface BlockReader {
  /** Fills `buffer` (one block long) with the block's bytes. */
  read(block: PlannedBlock, buffer: Buffer): Promise<Buffer>;
  close(): Promise<void>;
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

/** Opens the layer files `blocks` read from, and the export if some piece has no file offset. */
export async function openBlockReader(exec: Exec, map: AllocationMap, blocks: readonly PlannedBlock[], signal?: AbortSignal): Promise<BlockReader> {
  const layers: ({ file: FileHandle; path: string } | undefined)[] = [];
  let nbdExport: NbdExport | undefined;
  const close = async () => {
    await nbdExport?.close();
    await Promise.allSettled(layers.map((layer) => layer?.file.close()));
  };
  try {
    for (const layer of map.layers) layers.push(layer.direct ? { file: await open(layer.path, "r"), path: layer.path } : undefined);
    if (blocks.some((block) => block.pieces.some((piece) => piece.fileOffset === undefined))) {
      nbdExport = await startNbdExport(exec, map.layers[0]!, signal);
    }
  } catch (error) {
    await close();
    throw error;
  }
  const nbd: NbdClient | undefined = nbdExport?.client;
  return {
    close,
    async read(block, buffer) {
      let cursor = 0;
      const reads: Promise<void>[] = [];
      for (const piece of block.pieces) {
        if (piece.offsetInBlock > cursor) buffer.fill(0, cursor, piece.offsetInBlock);
        const layer = layers[piece.layer];
        if (piece.fileOffset !== undefined && layer) {
          reads.push(readFully(layer.file, buffer, piece.offsetInBlock, piece.length, piece.fileOffset, layer.path));
        } else {
          const guestOffset = block.index * buffer.length + piece.offsetInBlock;
          reads.push(nbd!.read(buffer, piece.offsetInBlock, piece.length, guestOffset));
        }
        cursor = piece.offsetInBlock + piece.length;
      }
      buffer.fill(0, cursor);
      await Promise.all(reads);
      return buffer;
    },
  };
}
