/** Helpers for store tests: a temp VHDX-like source with its sha256, and vDisk properties. */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VdiskRequest } from "../../src/stores/publish-vdisk.ts";
import type { VdiskProperties } from "../../src/stores/vdisk-sidecar.ts";

export const PROPERTIES: VdiskProperties = {
  description: "ws2022-pvs 3.2.0",
  writeCacheType: "device-ram-with-overflow-on-disk",
  writeCacheSizeMiB: 4096,
  recipe: "ws2022-pvs",
  version: "3.2.0",
  recipeHash: "a".repeat(64),
  buildId: "20250101-000000-abcd",
};

export interface TempDirs {
  readonly root: string;
  readonly store: string;
  readonly source: string;
  cleanup(): Promise<void>;
}

export async function tempDirs(): Promise<TempDirs> {
  const root = await mkdtemp(join(tmpdir(), "rebake-store-"));
  const { mkdir } = await import("node:fs/promises");
  await mkdir(join(root, "store"));
  await mkdir(join(root, "source"));
  return { root, store: join(root, "store"), source: join(root, "source"), cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Writes `bytes` of deterministic content and returns the publish request for it. */
export async function sourceVhdx(dir: string, name: string, bytes: number, seed = 1): Promise<VdiskRequest> {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31 + seed * 7) & 0xff;
  const source = join(dir, `${name}-${seed}.vhdx`);
  await writeFile(source, data);
  return { name, source, sha256: createHash("sha256").update(data).digest("hex"), size: bytes, properties: PROPERTIES };
}
