/**
 * Where a disk's data lives, learned without reading the data: `qemu-img info --backing-chain`
 * names the layers, `qemu-img map` says, for every guest range, whether it reads as zeros or
 * which layer holds it and at which offset of that layer's file. With that, capture reads each
 * data byte once, straight from the layer file where it can (plain qcow2 and raw clusters), and
 * never touches unallocated or zero ranges; ranges without a plain file offset are read through
 * qemu-nbd instead.
 */
import path from "node:path";
import type { Exec } from "../util/exec.ts";

/** Formats whose map offsets are plain offsets into the layer's own file. */
const DIRECT_FORMATS: readonly string[] = ["qcow2", "raw"];

export interface SourceLayer {
  readonly path: string;
  /** As qemu-img names it: qcow2, raw, vmdk, vhdx, ... */
  readonly format: string;
  /** Whether map offsets for this layer are plain offsets into `path` (qcow2 or raw, data in the file). */
  readonly direct: boolean;
}

export type SourceExtent =
  | { readonly kind: "zero"; readonly start: number; readonly length: number }
  | {
      readonly kind: "data";
      readonly start: number;
      readonly length: number;
      /** Index into `AllocationMap.layers`: 0 is the top layer. */
      readonly layer: number;
      /** Byte offset of `start` inside that layer's file; absent when it must be read through qemu. */
      readonly fileOffset?: number;
    };

export interface AllocationMap {
  readonly virtualSize: number;
  /** Top layer first, then its backing files in order. */
  readonly layers: readonly SourceLayer[];
  /** Ascending, contiguous, covering 0..virtualSize. */
  readonly extents: readonly SourceExtent[];
}

export interface DiskSource {
  readonly path: string;
  /** The top layer's format; probed by qemu-img when omitted. */
  readonly format?: string;
}

/** The source is a disk this capture cannot read; the message says how to convert it. */
export class UnsupportedSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** qemu-img printed something this module does not understand. */
export class AllocationMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

interface InfoEntry {
  readonly filename?: unknown;
  readonly format?: unknown;
  readonly "virtual-size"?: unknown;
  readonly encrypted?: unknown;
  readonly "format-specific"?: { readonly data?: { readonly "data-file"?: unknown } };
}

interface MapEntry {
  readonly start?: unknown;
  readonly length?: unknown;
  readonly depth?: unknown;
  readonly zero?: unknown;
  readonly data?: unknown;
  readonly offset?: unknown;
}

const CONVERT_HINT = "convert it first with `qemu-img convert -O qcow2 <source> <plain.qcow2>`";

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AllocationMapError(`${what} printed no valid JSON: ${(error as Error).message}`);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** The layers of the disk, top first. */
export async function readLayers(exec: Exec, source: DiskSource, signal?: AbortSignal): Promise<{ layers: SourceLayer[]; virtualSize: number }> {
  // An absolute path makes qemu-img print absolute backing file names too.
  const top = path.resolve(source.path);
  const args = ["info", "--backing-chain", "--output=json", ...(source.format ? ["-f", source.format] : []), top];
  const result = await exec("qemu-img", args, signal ? { signal } : {});
  const parsed = parseJson(result.stdout, "qemu-img info");
  const entries = (Array.isArray(parsed) ? parsed : [parsed]) as InfoEntry[];
  const layers = entries.map((entry, depth): SourceLayer => {
    const file = entry.filename;
    const format = entry.format;
    if (typeof file !== "string" || typeof format !== "string") {
      throw new AllocationMapError(`qemu-img info gave layer ${depth} of ${top} no filename or format`);
    }
    if (entry.encrypted === true) {
      throw new UnsupportedSourceError(`layer ${depth} of ${top} (${file}) is encrypted, capture has no key for it: ${CONVERT_HINT}`);
    }
    const ownsData = entry["format-specific"]?.data?.["data-file"] === undefined;
    return { path: path.resolve(file), format, direct: DIRECT_FORMATS.includes(format) && ownsData };
  });
  const virtualSize = entries[0]?.["virtual-size"];
  if (!isCount(virtualSize)) throw new AllocationMapError(`qemu-img info gave ${top} no virtual size`);
  return { layers, virtualSize };
}

/**
 * Turns `qemu-img map --output=json` into extents. Ranges that read as zeros (unallocated in the
 * whole chain, or zero clusters) become "zero"; data ranges keep their file offset when the
 * layer is direct and qemu-img gives one (it omits it for compressed clusters).
 */
export function parseMap(text: string, layers: readonly SourceLayer[], virtualSize: number): SourceExtent[] {
  const parsed = parseJson(text, "qemu-img map");
  if (!Array.isArray(parsed)) throw new AllocationMapError("qemu-img map printed no list of extents");
  const extents: SourceExtent[] = [];
  let expected = 0;
  for (const raw of parsed as MapEntry[]) {
    const { start, length, depth, offset } = raw;
    if (!isCount(start) || !isCount(length) || start !== expected) {
      throw new AllocationMapError(`qemu-img map extents are not contiguous at ${expected}: got ${JSON.stringify(raw)}`);
    }
    expected = start + length;
    if (length === 0) continue;
    if (raw.zero === true || raw.data !== true) {
      const last = extents.at(-1);
      if (last?.kind === "zero") extents[extents.length - 1] = { ...last, length: last.length + length };
      else extents.push({ kind: "zero", start, length });
      continue;
    }
    if (!isCount(depth) || depth >= layers.length) {
      throw new AllocationMapError(`qemu-img map names layer ${String(depth)} for ${start}, the chain has ${layers.length}`);
    }
    const direct = layers[depth]!.direct && isCount(offset);
    extents.push({ kind: "data", start, length, layer: depth, ...(direct ? { fileOffset: offset } : {}) });
  }
  if (expected !== virtualSize) {
    throw new AllocationMapError(`qemu-img map covered ${expected} bytes of a ${virtualSize}-byte disk`);
  }
  return extents;
}

export async function readAllocationMap(exec: Exec, source: DiskSource, signal?: AbortSignal): Promise<AllocationMap> {
  const { layers, virtualSize } = await readLayers(exec, source, signal);
  const top = layers[0]!;
  const result = await exec("qemu-img", ["map", "--output=json", "-f", top.format, top.path], signal ? { signal } : {});
  return { virtualSize, layers, extents: parseMap(result.stdout, layers, virtualSize) };
}
