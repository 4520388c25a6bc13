/**
 * Brings one site store up to date with the source vDisk. Skip when the site holds the same name,
 * size and recorded sha256 (two small reads, no reread of the vDisk unless `verify`). Otherwise
 * build the file under a partial name, resumably, verify it at the site (every block's sha256
 * against the source's blockmap), then rename it.
 *
 * Filesystem stores get a block delta against the newest version at the site, resumable from a
 * journal. smb:// stores go through smbclient, which writes whole files only (`put`; its `reput`
 * is broken, see uploadOverSmb): it cannot write a block at an offset, so the file is sent in full.
 * Mount the share (cifs) and give the mount path to get the delta and resume over SMB.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { ChecksumMismatchError, StoreFullError, VdiskBusyError, VdiskConflictError } from "../stores/errors.ts";
import { FilesystemStore } from "../stores/filesystem-store.ts";
import { publishLockFile, sidecarFile, vdiskFile } from "../stores/publish-vdisk.ts";
import { SmbStore } from "../stores/smb-store.ts";
import type { VdiskStore } from "../stores/store.ts";
import { formatSidecar, parseSidecarContent } from "../stores/vdisk-sidecar.ts";
import { createExec, type Exec } from "../util/exec.ts";
import { blockmapName, computeBlockmap, firstBadBlock, formatBlockmap, parseBlockmap, type Blockmap } from "./blockmap.ts";
import { buildOnFilesystem, type BuildStats, type DeltaBase } from "./filesystem-delta.ts";
import type { SiteResult, SitePhase, SyncSite, SyncSource } from "./model.ts";
import { otherVersions } from "./site-versions.ts";
import type { Throttle } from "./token-bucket.ts";

/** A site whose copy fails its checksum gets one more try, built from the source alone. */
export const MAX_ATTEMPTS = 2;

export const partialFile = (vdisk: string) => `.${vdiskFile(vdisk)}.sync-partial`;
export const journalFile = (vdisk: string) => `.${vdiskFile(vdisk)}.sync-journal`;

export interface SiteSyncOptions {
  readonly throttle: Throttle;
  /** Reread the site's file even when its sidecar matches. */
  readonly verify?: boolean;
  readonly exec?: Exec;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  readonly onProgress?: (phase: SitePhase, done: number, total: number) => void;
}

export function openSiteStore(site: SyncSite, exec: Exec = createExec()): VdiskStore {
  return site.location.startsWith("smb://") ? new SmbStore(site.location, exec, site.credentials) : new FilesystemStore(site.location);
}

export async function syncSite(site: SyncSite, source: SyncSource, options: SiteSyncOptions): Promise<SiteResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const result = (fields: Omit<SiteResult, "site" | "location" | "vdisk" | "durationMs">): SiteResult => ({ site: site.name, location: site.location, vdisk: source.vdisk, durationMs: now() - started, ...fields });
  let attempts = 0;
  try {
    const store = openSiteStore(site, options.exec);
    await store.probe();
    return await withLock(store, source.vdisk, async () => {
      options.onProgress?.("check", 0, 1);
      if (await alreadyThere(store, source, options.verify ?? false)) return result({ status: "skipped", sentBytes: 0, localBytes: 0, resumedBytes: 0, attempts });
      for (;;) {
        attempts++;
        const firstTry = attempts === 1;
        const built = await build(store, source, options, firstTry);
        options.onProgress?.("verify", 0, source.blockmap.size);
        const wrong = await checkCopy(store, source, options.signal);
        if (wrong === undefined) {
          await store.rename(partialFile(source.vdisk), vdiskFile(source.vdisk));
          await store.remove(journalFile(source.vdisk));
          await writeIndex(store, source);
          return result({ status: built.base ? "delta" : "full", ...built.stats, ...(built.base ? { base: built.base } : {}), attempts });
        }
        // A bad partial must not be resumed: the next try starts over.
        await store.remove(partialFile(source.vdisk));
        await store.remove(journalFile(source.vdisk));
        if (attempts >= MAX_ATTEMPTS) {
          throw new ChecksumMismatchError(
            `the copy of ${vdiskFile(source.vdisk)} at ${site.location} failed its check twice (${wrong}); the store corrupts writes or the source changed during the sync: check the store's disk, then rerun`,
            site.location,
          );
        }
      }
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const e = error as Error;
    return result({ status: "failed", sentBytes: 0, localBytes: 0, resumedBytes: 0, attempts, error: { name: e.name, message: e.message } });
  }
}

async function alreadyThere(store: VdiskStore, source: SyncSource, verify: boolean): Promise<boolean> {
  const entry = await store.stat(vdiskFile(source.vdisk));
  if (!entry) return false;
  const recorded = parseSidecarContent((await store.readText(sidecarFile(source.vdisk))) ?? "");
  const { sha256, size } = source.blockmap;
  const sidecarMatches = recorded?.sha256 === sha256 && recorded.size === size && entry.size === size;
  if (sidecarMatches && !verify) return true;
  // No sidecar (copied by hand) or --verify: the file itself decides.
  const actual = entry.size === size ? await store.sha256(vdiskFile(source.vdisk)) : `(size ${entry.size})`;
  if (actual === sha256) {
    if (!sidecarMatches) await writeIndex(store, source);
    return true;
  }
  throw new VdiskConflictError(
    `${store.location} already holds ${vdiskFile(source.vdisk)} but its content is ${actual}, not ${sha256}; a vDisk name is never overwritten (devices may be streaming it): remove it from PVS and the store, then rerun the sync`,
    store.location,
  );
}

/**
 * Undefined when the partial copy holds the source's bytes, else what it holds instead. A
 * filesystem store is checked block by block against the source's blockmap (the blocks hash in
 * parallel); over smbclient the store hashes the file.
 */
async function checkCopy(store: VdiskStore, source: SyncSource, signal?: AbortSignal): Promise<string | undefined> {
  const partial = partialFile(source.vdisk);
  if (store instanceof FilesystemStore) {
    const bad = await firstBadBlock(join(store.location, partial), source.blockmap, signal ? { signal } : {});
    if (!bad) return undefined;
    return bad.index < 0 ? `${bad.actual}, not ${source.blockmap.size}` : `block ${bad.index} hashed to ${bad.actual}, not ${source.blockmap.blocks[bad.index]}`;
  }
  const copied = await store.sha256(partial);
  return copied === source.blockmap.sha256 ? undefined : `it hashed to ${copied}, not ${source.blockmap.sha256}`;
}

/** The blockmap and the sidecar: what lets the next sync skip or delta without rereading. */
async function writeIndex(store: VdiskStore, source: SyncSource): Promise<void> {
  await store.writeText(blockmapName(vdiskFile(source.vdisk)), formatBlockmap(source.blockmap));
  await store.writeText(sidecarFile(source.vdisk), formatSidecar(source.vdisk, { sha256: source.blockmap.sha256, size: source.blockmap.size, properties: source.properties }));
}

async function build(store: VdiskStore, source: SyncSource, options: SiteSyncOptions, useBase: boolean): Promise<{ stats: BuildStats; base?: string }> {
  if (store instanceof SmbStore) return { stats: await uploadOverSmb(store, source, options) };
  const dir = store.location;
  const base = useBase ? await newestBase(store as FilesystemStore, source, options) : undefined;
  const stats = await buildOnFilesystem({
    dir,
    partial: partialFile(source.vdisk),
    journal: journalFile(source.vdisk),
    source,
    ...(base ? { base } : {}),
    throttle: options.throttle,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOSPC" && error.code !== "EDQUOT") throw error;
    throw new StoreFullError(`the PVS store ${dir} is full while writing ${partialFile(source.vdisk)} (${error.code}); free space or remove old vDisk versions, then rerun: the partial file and its journal let the rerun continue`, dir);
  });
  return { stats, ...(base ? { base: base.name } : {}) };
}

/** The newest other version with a usable blockmap; one the site lacks a blockmap for is indexed at the site once. */
async function newestBase(store: FilesystemStore, source: SyncSource, options: SiteSyncOptions): Promise<DeltaBase | undefined> {
  const [newest] = otherVersions(await store.list(), source.family, source.vdisk);
  if (!newest) return undefined;
  const name = blockmapName(vdiskFile(newest));
  const text = await store.readText(name);
  let blockmap: Blockmap | undefined;
  try {
    blockmap = text ? parseBlockmap(text, name) : undefined;
  } catch {
    blockmap = undefined;
  }
  const entry = await store.stat(vdiskFile(newest));
  if (!blockmap || blockmap.size !== entry?.size || blockmap.blockSize !== source.blockmap.blockSize) {
    blockmap = await computeBlockmap(join(store.location, vdiskFile(newest)), {
      blockSize: source.blockmap.blockSize,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (done, total) => options.onProgress?.("index", done, total),
    });
    await store.writeText(name, formatBlockmap(blockmap));
  }
  return { name: newest, blockmap };
}

/**
 * Whole-file upload through smbclient. Not resumable: smbclient 4.17's `reput` sends the rest of
 * the file but writes it at offset 0 and truncates (measured against smbd 4.17), so a stale
 * partial is removed and the copy starts over.
 */
async function uploadOverSmb(store: SmbStore, source: SyncSource, options: SiteSyncOptions): Promise<BuildStats> {
  const partial = partialFile(source.vdisk);
  await store.remove(partial);
  await store.remove(journalFile(source.vdisk));
  options.onProgress?.("transfer", 0, source.blockmap.size);
  // No throttle: smbclient has no rate limit, and sleeping before a full-speed put would only
  // pretend to honour --bwlimit. The sync command says so when both are given.
  await store.upload(source.path, partial, options.signal);
  options.onProgress?.("transfer", source.blockmap.size, source.blockmap.size);
  return { sentBytes: source.blockmap.size, localBytes: 0, resumedBytes: 0 };
}

/**
 * The same lock file as `publishVdisk`, with the same owner text (`<host> pid <pid> at <time>`), so
 * a publish and a sync of one vDisk never interleave. A lock left by a killed run on this host
 * (its pid is gone) is taken over, or an interrupted sync could never resume.
 */
export async function withLock<T>(store: VdiskStore, vdisk: string, body: () => Promise<T>): Promise<T> {
  const lock = publishLockFile(vdisk);
  const owner = `${hostname()} pid ${process.pid} at ${new Date().toISOString()}\n`;
  let acquired = await store.createExclusive(lock, owner);
  if (!acquired) {
    const holder = (await store.readText(lock).catch(() => undefined))?.trim() ?? "";
    if (isDeadLocalOwner(holder)) {
      await store.remove(lock);
      acquired = await store.createExclusive(lock, owner);
    }
    if (!acquired) throw new VdiskBusyError(`${lock} in ${store.location} is held by ${holder || "another publish or sync"}; wait for it to finish, or remove ${lock} if that run is dead`, store.location);
  }
  try {
    return await body();
  } finally {
    await store.remove(lock).catch(() => undefined);
  }
}

function isDeadLocalOwner(holder: string): boolean {
  const match = /^(\S+) pid (\d+) at /.exec(holder);
  if (!match || match[1] !== hostname()) return false;
  try {
    process.kill(Number(match[2]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
