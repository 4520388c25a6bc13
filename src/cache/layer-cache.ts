/**
 * The layer cache: after each guest step the VM's disk layer is frozen (a qcow2 copy-on-write
 * file) and kept as `<dir>/<cumulative-step-hash>.qcow2`. A layer counts only once its commit
 * marker `<hash>.json` exists, written atomically after the step succeeded; a layer file without a
 * marker is the leftover of a failed or interrupted step and is removed. A rebuild starts from the
 * longest committed prefix of the plan's step hashes.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, rm, stat, writeFile as fsWriteFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { CacheFullError, isDiskFull } from "./errors.ts";

export const LAYER_EXTENSION = ".qcow2";
const MARKER_EXTENSION = ".json";

/** The commit marker of a layer. */
export interface LayerMarker {
  readonly hash: string;
  readonly stepId: string;
  /** ISO timestamp of the commit. */
  readonly created: string;
  /** Bytes of the layer file (its own blocks, not the chain below it). */
  readonly size: number;
  /** The layer below it, or null for the first layer (the installed OS). */
  readonly parent: string | null;
}

export interface LayerCacheOptions {
  readonly clock?: () => Date;
  /** Replaceable so the disk-full path is testable. */
  readonly writeFile?: typeof fsWriteFile;
}

export class LayerCache {
  readonly #clock: () => Date;
  readonly #writeFile: typeof fsWriteFile;

  constructor(
    readonly dir: string,
    options: LayerCacheOptions = {},
  ) {
    this.#clock = options.clock ?? (() => new Date());
    this.#writeFile = options.writeFile ?? fsWriteFile;
  }

  layerPath(hash: string): string {
    return join(this.dir, `${hash}${LAYER_EXTENSION}`);
  }

  markerPath(hash: string): string {
    return join(this.dir, `${hash}${MARKER_EXTENSION}`);
  }

  async ensureDir(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      if (isDiskFull(error)) throw new CacheFullError(this.dir, "creating the layer cache");
      throw error;
    }
  }

  /** The marker when the layer is committed and its file is there, else undefined. */
  async committed(hash: string): Promise<LayerMarker | undefined> {
    const marker = await readFile(this.markerPath(hash), "utf8").then((text) => JSON.parse(text) as LayerMarker, () => undefined);
    if (!marker || marker.hash !== hash) return undefined;
    const present = await stat(this.layerPath(hash)).then(() => true, () => false);
    return present ? marker : undefined;
  }

  /**
   * How many leading steps have a committed layer whose parent is the step before: a rebuild
   * starts the VM from the layer of step `n - 1` and runs step `n` onwards.
   */
  async longestPrefix(hashes: readonly string[]): Promise<number> {
    let parent: string | null = null;
    for (let i = 0; i < hashes.length; i++) {
      const marker = await this.committed(hashes[i]!);
      if (!marker || marker.parent !== parent) return i;
      parent = marker.hash;
    }
    return hashes.length;
  }

  /** Writes the commit marker atomically; call it only after the step succeeded and its layer is frozen. */
  async commit(hash: string, info: { readonly stepId: string; readonly parent: string | null }): Promise<LayerMarker> {
    const size = (await stat(this.layerPath(hash))).size;
    const marker: LayerMarker = { hash, stepId: info.stepId, created: this.#clock().toISOString(), size, parent: info.parent };
    const temp = `${this.markerPath(hash)}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await this.#writeFile(temp, `${JSON.stringify(marker, null, 2)}\n`);
      await rename(temp, this.markerPath(hash));
    } catch (error) {
      await rm(temp, { force: true });
      if (isDiskFull(error)) throw new CacheFullError(this.dir, `committing the layer of step ${info.stepId}`);
      throw error;
    }
    return marker;
  }

  /** Removes a layer file that was never committed (the step failed or was interrupted). */
  async discardUncommitted(hash: string): Promise<void> {
    if (await this.committed(hash)) return;
    await rm(this.layerPath(hash), { force: true });
    await rm(this.markerPath(hash), { force: true });
  }

  /** Removes a committed layer: the marker first, so a half-removed layer is never trusted. */
  async remove(hash: string): Promise<void> {
    await rm(this.markerPath(hash), { force: true });
    await rm(this.layerPath(hash), { force: true });
  }

  /** Committed layers, newest first. */
  async list(): Promise<LayerMarker[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const layers: LayerMarker[] = [];
    for (const name of names.filter((n) => n.endsWith(MARKER_EXTENSION))) {
      const marker = await this.committed(name.slice(0, -MARKER_EXTENSION.length));
      if (marker) layers.push({ ...marker, size: (await stat(this.layerPath(marker.hash))).size });
    }
    return layers.sort((a, b) => b.created.localeCompare(a.created));
  }

  /** Layer files without a commit marker, with their age: leftovers of killed builds. */
  async uncommitted(): Promise<{ readonly path: string; readonly size: number; readonly modified: Date }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const found: { path: string; size: number; modified: Date }[] = [];
    for (const name of names.filter((n) => n.endsWith(LAYER_EXTENSION))) {
      const hash = name.slice(0, -LAYER_EXTENSION.length);
      if (await this.committed(hash)) continue;
      const s = await stat(join(this.dir, name));
      found.push({ path: join(this.dir, name), size: s.size, modified: s.mtime });
    }
    return found;
  }
}
