/**
 * The layer cache: after each guest step the VM's disk layer is frozen (a qcow2 copy-on-write
 * file) and kept as `<dir>/<cumulative-step-hash>.qcow2`. A layer counts only once its commit
 * marker `<hash>.json` exists, written atomically after the step succeeded; a layer file without a
 * marker is the leftover of a failed or interrupted step and is removed. A rebuild starts from the
 * longest committed prefix of the plan's step hashes.
 *
 * Beside a layer may lie its companions: `<hash>.vmstate`, the running VM's memory and device state
 * at that layer, so a rebuild resumes the guest instead of booting it; `<hash>.uefi-vars`, the
 * VM's UEFI variable store (boot entries, Secure Boot updates), and `<hash>.tpm-state`, its TPM's
 * permanent state (what BitLocker or Windows Hello bound to it), as they were at that layer. A
 * companion belongs to the layer only when the layer's marker lists it (size and sha256); each is
 * optional and removed with its layer.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, rm, stat, writeFile as fsWriteFile, mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { CacheFullError, isDiskFull } from "./errors.ts";
import { sha256File } from "../util/hash-file.ts";

export const LAYER_EXTENSION = ".qcow2";
/** The files that may lie beside a layer (their extensions), by the marker key that lists them. */
const COMPANIONS = { state: ".vmstate", firmwareVars: ".uefi-vars", tpmState: ".tpm-state" } as const;
export type Companion = keyof typeof COMPANIONS;
const COMPANION_KINDS = Object.keys(COMPANIONS) as Companion[];
const MARKER_EXTENSION = ".json";
/** The driver writes a companion under `<path>.<random>.partial` and renames it when complete. */
const PARTIAL_SUFFIX = ".partial";

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
  /** The VM state saved with the layer, when there is one. */
  readonly state?: CompanionFile;
  /** The UEFI variable store saved with the layer, when the VM had one. */
  readonly firmwareVars?: CompanionFile;
  /** The TPM's permanent state saved with the layer, when the VM had a TPM. */
  readonly tpmState?: CompanionFile;
}

export interface ListedLayer extends LayerMarker {
  /** Bytes of the layer file: what the step wrote to the disk. */
  readonly diskBytes: number;
  /** Bytes of the saved VM memory state beside it (0 without one). */
  readonly stateBytes: number;
}

export interface CompanionFile {
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

/** What was saved with a layer and is there; see LayerCache.companions. */
export interface LayerCompanions {
  readonly state?: { readonly path: string; readonly sha256: string };
  readonly firmwareVars?: string;
  readonly tpmState?: string;
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

  /** Where the driver saves a companion (VM state, UEFI variables, TPM state) of the layer of `hash`. */
  companionPath(hash: string, companion: Companion): string {
    return join(this.dir, `${hash}${COMPANIONS[companion]}`);
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

  /**
   * The companions of a committed layer that are there, from one read of its marker; one that does
   * not match its marker is removed (the layer stays: it still boots). The UEFI variables and the
   * TPM state (KiB) are checked against their sha256 here. The memory state (tens of MiB to GiB)
   * is checked by size only and comes with its sha256: whoever loads it checks the digest while
   * the VM's memory is allocated, so a rebuild does not read it twice before the VM starts.
   */
  async companions(hash: string): Promise<LayerCompanions> {
    const marker = await this.committed(hash);
    const state = await this.#present(marker?.state, false);
    const firmwareVars = await this.#present(marker?.firmwareVars, true);
    const tpmState = await this.#present(marker?.tpmState, true);
    return {
      ...(state ? { state: { path: state, sha256: marker!.state!.sha256 } } : {}),
      ...(firmwareVars ? { firmwareVars } : {}),
      ...(tpmState ? { tpmState } : {}),
    };
  }

  async #present(listed: CompanionFile | undefined, checkDigest: boolean): Promise<string | undefined> {
    if (!listed) return undefined;
    const file = join(this.dir, listed.file);
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size === undefined) return undefined;
    if (size === listed.size && (!checkDigest || (await sha256File(file)) === listed.sha256)) return file;
    await rm(file, { force: true });
    return undefined;
  }

  /**
   * Writes the commit marker atomically; call it only after the step succeeded and its layer is
   * frozen. Companions beside it (VM state, UEFI variables, TPM state) are listed in it and so
   * committed too.
   */
  async commit(hash: string, info: { readonly stepId: string; readonly parent: string | null }): Promise<LayerMarker> {
    const size = (await stat(this.layerPath(hash))).size;
    const companions: Partial<Record<Companion, CompanionFile>> = {};
    for (const companion of COMPANION_KINDS) {
      const path = this.companionPath(hash, companion);
      const companionSize = await stat(path).then((s) => s.size, () => undefined);
      if (companionSize !== undefined) companions[companion] = { file: basename(path), size: companionSize, sha256: await sha256File(path) };
    }
    const marker: LayerMarker = { hash, stepId: info.stepId, created: this.#clock().toISOString(), size, parent: info.parent, ...companions };
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
    await this.#removeFiles(hash);
    await rm(this.markerPath(hash), { force: true });
  }

  /** Removes a committed layer: the marker first, so a half-removed layer is never trusted. */
  async remove(hash: string): Promise<void> {
    await rm(this.markerPath(hash), { force: true });
    await this.#removeFiles(hash);
  }

  async #removeFiles(hash: string): Promise<void> {
    await rm(this.layerPath(hash), { force: true });
    for (const companion of COMPANION_KINDS) await rm(this.companionPath(hash, companion), { force: true });
  }

  /**
   * Committed layers, newest first; `size` counts the layer file and its companions, `diskBytes`
   * the layer file alone and `stateBytes` its saved VM memory state.
   */
  async list(): Promise<ListedLayer[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const layers: ListedLayer[] = [];
    for (const name of names.filter((n) => n.endsWith(MARKER_EXTENSION))) {
      const marker = await this.committed(name.slice(0, -MARKER_EXTENSION.length));
      if (!marker) continue;
      const diskBytes = (await stat(this.layerPath(marker.hash))).size;
      let size = diskBytes;
      let stateBytes = 0;
      for (const companion of COMPANION_KINDS) {
        const listed = marker[companion];
        const bytes = listed ? await stat(join(this.dir, listed.file)).then((s) => s.size, () => 0) : 0;
        size += bytes;
        if (companion === "state") stateBytes = bytes;
      }
      layers.push({ ...marker, size, diskBytes, stateBytes });
    }
    return layers.sort((a, b) => b.created.localeCompare(a.created));
  }

  /**
   * Layer and companion files without a commit marker that lists them, with their age: leftovers
   * of killed builds (a companion still being written ends in `.partial`).
   */
  async uncommitted(): Promise<{ readonly path: string; readonly size: number; readonly modified: Date }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const found: { path: string; size: number; modified: Date }[] = [];
    for (const name of names) {
      // Hashes are hex: everything up to the first dot.
      const hash = name.split(".")[0]!;
      const marker = await this.committed(hash);
      if (name.endsWith(LAYER_EXTENSION)) {
        if (marker) continue;
      } else if (name.endsWith(PARTIAL_SUFFIX) || Object.values(COMPANIONS).some((extension) => name.endsWith(extension))) {
        if (marker && COMPANION_KINDS.some((companion) => marker[companion]?.file === name)) continue;
      } else continue;
      const s = await stat(join(this.dir, name));
      found.push({ path: join(this.dir, name), size: s.size, modified: s.mtime });
    }
    return found;
  }
}
