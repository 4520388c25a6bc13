/**
 * Ships a PVS vDisk version to a site: the `.avhdx` alone when the site holds its parent, sent as
 * its non-zero pages, verified by sha256 at the site and renamed into place; otherwise (parent
 * missing or replaced, or a version too large to be worth it) the full vDisk of the same build
 * through the ordinary sync. Every result says which route it took and why.
 *
 * The parent is checked by what PVS itself would check: the DataWriteGuid in the parent's header
 * must be the version's parent_linkage ([MS-VHDX] parent locator). Stores reached through
 * smbclient cannot read a header in place, so there the parent's sidecar sha256 decides.
 */
import { open } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { readVhdxInfo } from "../capture/vhdx-reader.ts";
import { FilesystemStore } from "../stores/filesystem-store.ts";
import { sidecarFile } from "../stores/publish-vdisk.ts";
import type { VdiskStore } from "../stores/store.ts";
import { SIDECAR_SUFFIX, parseSidecarContent } from "../stores/vdisk-sidecar.ts";
import type { SiteResult, SyncSite, SyncSource } from "./model.ts";
import { sparseCopy } from "./sparse-copy.ts";
import { openSiteStore, syncSite, withLock, type SiteSyncOptions } from "./sync-site.ts";
import { forEachSite, siteOptions, type SyncOptions } from "./sync.ts";
import type { VersionRecord } from "./version-record.ts";
import { chooseRoute, type ParentAtSite } from "./version-route.ts";

/** A vDisk version to distribute, and the full vDisk of the same build to fall back to. */
export interface VersionSource {
  /** The `.avhdx` on this machine. */
  readonly path: string;
  /** Its name at the sites: `<vdisk>.<n>.avhdx`. */
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
  /** The parent's name at the sites (the version's relative_path). */
  readonly parentFile: string;
  /** `{...}`: the parent's DataWriteGuid. */
  readonly parentLinkage: string;
  /** The parent's sha256, for stores where its header cannot be read in place. */
  readonly parentSha256: string;
  readonly full: FullVdisk;
}

/** The full vDisk of the same build, for sites that cannot take the version. */
export interface FullVdisk {
  /** Its name at the sites, without `.vhdx`; its publish lock is the version's too. */
  readonly vdisk: string;
  /** Bytes, which the route compares the version with. */
  readonly size: number;
  /** Called only for sites that need the full vDisk: indexing reads the whole file, which shipping the version never needs. */
  readonly index: () => Promise<SyncSource>;
}

/** A full vDisk already indexed. */
export function indexedFullVdisk(source: SyncSource): FullVdisk {
  return { vdisk: source.vdisk, size: source.blockmap.size, index: async () => source };
}

export interface VersionSiteResult {
  readonly site: string;
  readonly location: string;
  readonly file: string;
  readonly status: "version" | "skipped" | "full" | "failed";
  readonly reason: string;
  /** Bytes that crossed the link (the full vDisk's when it fell back). */
  readonly sentBytes: number;
  readonly durationMs: number;
  /** The full vDisk's sync when the site fell back to it. */
  readonly full?: SiteResult;
  readonly error?: { readonly name: string; readonly message: string };
}

export interface VersionSyncOptions extends SiteSyncOptions {
  /** @default DEFAULT_MAX_DELTA_FRACTION */
  readonly maxDeltaFraction?: number;
}

const partialName = (file: string) => `.${file}.sync-partial`;
const versionSidecar = (file: string) => `${file}${SIDECAR_SUFFIX}`;

async function parentAtSite(store: VdiskStore, source: VersionSource): Promise<ParentAtSite> {
  if (!(await store.stat(source.parentFile))) return { kind: "missing" };
  if (store instanceof FilesystemStore) {
    const handle = await open(join(store.location, source.parentFile), "r");
    try {
      const { dataWriteGuid } = await readVhdxInfo(handle, source.parentFile);
      return dataWriteGuid === source.parentLinkage.toLowerCase() ? { kind: "present" } : { kind: "other", found: `DataWriteGuid ${dataWriteGuid}, the version needs ${source.parentLinkage}` };
    } finally {
      await handle.close();
    }
  }
  const sidecar = source.parentFile.endsWith(".vhdx") ? sidecarFile(source.parentFile.slice(0, -5)) : versionSidecar(source.parentFile);
  const recorded = parseSidecarContent((await store.readText(sidecar)) ?? "");
  return recorded?.sha256 === source.parentSha256 ? { kind: "present" } : { kind: "other", found: recorded ? `sha256 ${recorded.sha256}` : `no ${sidecar} recording its sha256` };
}

export async function syncVersionToSite(site: SyncSite, source: VersionSource, options: VersionSyncOptions): Promise<VersionSiteResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const result = (fields: Omit<VersionSiteResult, "site" | "location" | "file" | "durationMs">): VersionSiteResult => ({ site: site.name, location: site.location, file: source.file, durationMs: now() - started, ...fields });
  try {
    const store = openSiteStore(site, options.exec);
    await store.probe();
    const recorded = parseSidecarContent((await store.readText(versionSidecar(source.file))) ?? "");
    if (recorded?.sha256 === source.sha256 && (await store.stat(source.file))?.size === source.size) {
      return result({ status: "skipped", reason: `${source.file} is already there (size and recorded sha256 match)`, sentBytes: 0 });
    }
    const route = chooseRoute({
      parentFile: source.parentFile,
      parent: await parentAtSite(store, source),
      versionSize: source.size,
      fullSize: source.full.size,
      ...(options.maxDeltaFraction === undefined ? {} : { maxDeltaFraction: options.maxDeltaFraction }),
    });
    if (route.kind === "full") {
      const full = await syncSite(site, await source.full.index(), options);
      return result({ status: full.status === "failed" ? "failed" : "full", reason: route.reason, sentBytes: full.sentBytes, full, ...(full.error ? { error: full.error } : {}) });
    }
    const sentBytes = await withLock(store, source.full.vdisk, async () => {
      const partial = partialName(source.file);
      let sent: number;
      if (store instanceof FilesystemStore) {
        sent = (await sparseCopy(source.path, join(store.location, partial), options.throttle, options.signal, (done, total) => options.onProgress?.("transfer", done, total))).sentBytes;
      } else {
        await store.upload(source.path, partial, options.signal);
        sent = source.size;
      }
      options.onProgress?.("verify", 0, source.size);
      const copied = await store.sha256(partial);
      if (copied !== source.sha256) {
        await store.remove(partial);
        throw new VersionCopyError(`the copy of ${source.file} at ${site.location} hashed to ${copied}, not ${source.sha256}; the store corrupts writes or the source changed: check the store, then rerun`);
      }
      await store.rename(partial, source.file);
      await store.writeText(versionSidecar(source.file), `; written by rebake sync for ${source.file}\r\n[Content]\r\nSha256=${source.sha256}\r\nSize=${source.size}\r\n`);
      return sent;
    });
    return result({ status: "version", reason: route.reason, sentBytes });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const e = error as Error;
    return result({ status: "failed", reason: "the sync failed", sentBytes: 0, error: { name: e.name, message: e.message } });
  }
}

export class VersionCopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The version a build's `version.json` describes, falling back to the build's full vDisk, indexed at most once however many sites need it. */
export function versionSourceOf(record: VersionRecord, manifestPath: string, full: FullVdisk): VersionSource {
  const dir = dirname(manifestPath);
  let indexed: Promise<SyncSource> | undefined;
  return {
    path: isAbsolute(record.path) ? record.path : join(dir, record.path),
    file: `${record.vdisk}.${record.number}.avhdx`,
    sha256: record.sha256,
    size: record.size,
    parentFile: record.parentFile,
    parentLinkage: record.parentLinkage,
    parentSha256: record.parentSha256,
    full: { ...full, index: () => (indexed ??= full.index()) },
  };
}

/** Every site, `concurrency` at once; each runs to its own end. */
export async function syncVersionAll(source: VersionSource, sites: readonly SyncSite[], options: SyncOptions & { readonly maxDeltaFraction?: number } = {}): Promise<VersionSiteResult[]> {
  const now = options.now ?? Date.now;
  return forEachSite(sites, options.concurrency, options.signal, (site) =>
    syncVersionToSite(site, source, { ...siteOptions(options, now, site), ...(options.maxDeltaFraction === undefined ? {} : { maxDeltaFraction: options.maxDeltaFraction }) }),
  );
}
