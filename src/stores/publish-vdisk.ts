/**
 * Puts one vDisk into one PVS store, the logic behind the vDisk dynamic provider. The contract:
 * a failed publish leaves nothing behind under the vDisk's names; a failed removal leaves the
 * vDisk in place. Concurrent publishes of the same vDisk serialise on a lock file.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { ChecksumMismatchError, VdiskBusyError, VdiskConflictError, VdiskLockedError } from "./errors.ts";
import type { VdiskStore } from "./store.ts";
import { formatSidecar, parseSidecarContent, SIDECAR_SUFFIX, type VdiskProperties } from "./vdisk-sidecar.ts";

/** How long a second publish of the same vDisk waits for the first by default. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60 * 1000;
const LOCK_POLL_MS = 200;
const PARTIAL_SUFFIX = ".partial";

export interface VdiskRequest {
  /** vDisk name without extension: the store holds `<name>.vhdx`. */
  readonly name: string;
  /** The captured VHDX on the publishing machine. */
  readonly source: string;
  /** sha256 from the build manifest. */
  readonly sha256: string;
  readonly size: number;
  readonly properties: VdiskProperties;
}

export interface PublishOptions {
  /** @default DEFAULT_LOCK_TIMEOUT_MS */
  readonly lockTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface PublishedVdisk {
  readonly name: string;
  readonly location: string;
  readonly sha256: string;
  readonly size: number;
  /** True when the same vDisk was already in the store and nothing was copied. */
  readonly skipped: boolean;
}

export const vdiskFile = (name: string) => `${name}.vhdx`;
export const pvsLockFile = (name: string) => `${name}.lok`;
export const publishLockFile = (name: string) => `${name}.rebake-lock`;
export const sidecarFile = (name: string) => `${name}${SIDECAR_SUFFIX}`;

export async function publishVdisk(store: VdiskStore, request: VdiskRequest, options: PublishOptions = {}): Promise<PublishedVdisk> {
  await store.probe();
  return withPublishLock(store, request.name, options, async () => {
    await refuseLocked(store, request.name);
    const vhdx = vdiskFile(request.name);
    // A crash of an earlier run may have left a partial copy; nobody else writes it while we hold the lock.
    for (const name of await store.list()) {
      if (name.startsWith(`.${vhdx}.`) && name.endsWith(PARTIAL_SUFFIX)) await store.remove(name);
    }
    const existing = await store.stat(vhdx);
    const sidecarText = formatSidecar(request.name, { sha256: request.sha256, size: request.size, properties: request.properties });
    if (existing) {
      const recorded = parseSidecarContent((await store.readText(sidecarFile(request.name))) ?? "");
      const sha256 = recorded && recorded.size === existing.size ? recorded.sha256 : await store.sha256(vhdx);
      if (sha256 !== request.sha256) {
        throw new VdiskConflictError(
          `the store ${store.location} already holds ${vhdx} with sha256 ${sha256}, not ${request.sha256}; publish under a new vDisk name (a new version), or remove the old vDisk from PVS first`,
          store.location,
        );
      }
      if ((await store.readText(sidecarFile(request.name))) !== sidecarText) await store.writeText(sidecarFile(request.name), sidecarText);
      return { name: request.name, location: store.location, sha256, size: existing.size, skipped: true };
    }
    const temp = `.${vhdx}.${randomBytes(4).toString("hex")}${PARTIAL_SUFFIX}`;
    const created: string[] = [];
    try {
      await store.upload(request.source, temp, options.signal);
      created.push(temp);
      const copied = await store.sha256(temp);
      if (copied !== request.sha256) {
        throw new ChecksumMismatchError(
          `the copy of ${request.source} in ${store.location} has sha256 ${copied}, the manifest says ${request.sha256}; the source changed since the build or the store corrupts writes: rebuild, or check the store`,
          store.location,
        );
      }
      await store.rename(temp, vhdx);
      created.splice(0, 1, vhdx);
      await store.writeText(sidecarFile(request.name), sidecarText);
      created.push(sidecarFile(request.name));
      return { name: request.name, location: store.location, sha256: copied, size: request.size, skipped: false };
    } catch (error) {
      for (const name of created.reverse()) await store.remove(name).catch(() => undefined);
      throw error;
    }
  });
}

/** Removes the vDisk and its sidecar; refuses while PVS holds it, leaving everything in place. */
export async function removeVdisk(store: VdiskStore, name: string, options: PublishOptions = {}): Promise<void> {
  await store.probe();
  await withPublishLock(store, name, options, async () => {
    await refuseLocked(store, name);
    // The vDisk goes first: if that fails, the resource still fully exists.
    await store.remove(vdiskFile(name));
    await store.remove(sidecarFile(name));
  });
}

/** What the store holds for a vDisk, from the sidecar (no reread). */
export async function readVdisk(store: VdiskStore, name: string): Promise<{ readonly sha256: string; readonly size: number } | undefined> {
  const entry = await store.stat(vdiskFile(name));
  if (!entry) return undefined;
  const recorded = parseSidecarContent((await store.readText(sidecarFile(name))) ?? "");
  return recorded && recorded.size === entry.size ? recorded : { sha256: await store.sha256(vdiskFile(name)), size: entry.size };
}

async function refuseLocked(store: VdiskStore, name: string): Promise<void> {
  if (await store.stat(pvsLockFile(name))) {
    throw new VdiskLockedError(
      `${vdiskFile(name)} in ${store.location} is locked by PVS (${pvsLockFile(name)} exists): a device or a maintenance session has it open; shut the devices down or close the maintenance version, or remove a stale lock in the PVS console (Manage Locks), then publish again`,
      store.location,
    );
  }
}

async function withPublishLock<T>(store: VdiskStore, name: string, options: PublishOptions, body: () => Promise<T>): Promise<T> {
  const lock = publishLockFile(name);
  const timeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const owner = `${hostname()} pid ${process.pid} at ${new Date().toISOString()}\n`;
  while (!(await store.createExclusive(lock, owner))) {
    if (Date.now() >= deadline) {
      const holder = (await store.readText(lock))?.trim() ?? "unknown";
      throw new VdiskBusyError(
        `another publish of ${vdiskFile(name)} into ${store.location} holds ${lock} (${holder}) and did not finish within ${timeoutMs} ms; wait for it, or remove ${lock} if that publish is dead`,
        store.location,
      );
    }
    await sleep(LOCK_POLL_MS, undefined, options.signal ? { signal: options.signal } : {});
  }
  try {
    return await body();
  } finally {
    await store.remove(lock);
  }
}
