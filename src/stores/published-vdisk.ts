/**
 * What a build manifest publishes as a PVS vDisk: its name in every store and the properties
 * recorded beside it. Shared by publish (which registers it) and sync (which distributes it).
 */
import { basename } from "node:path";
import type { VdiskProperties, WriteCacheType } from "./vdisk-sidecar.ts";
import type { BuildManifest, SnapshotOutput, VhdxOutput } from "../manifest/model.ts";

/** PVS's recommended cache for streamed servers, when the recipe names none. */
export const DEFAULT_WRITE_CACHE = { type: "device-ram-with-overflow-on-disk", sizeMiB: 4096 } as const;

export function vhdxOf(manifest: BuildManifest): VhdxOutput | undefined {
  return manifest.outputs.find((o): o is VhdxOutput => o.kind === "vhdx");
}

export function snapshotOf(manifest: BuildManifest): SnapshotOutput | undefined {
  return manifest.outputs.find((o): o is SnapshotOutput => o.kind === "snapshot");
}

/** The vDisk's name in every store: `<artifact name>-<recipe version>`; sync finds it by the same name. */
export function publishedVdiskName(manifest: BuildManifest, vhdx: VhdxOutput): string {
  return `${basename(vhdx.path, ".vhdx")}-${manifest.recipe.version}`;
}

/** The vDisk properties of a build, as publish registers them and sync records them beside the vDisk. */
export function vdiskPropertiesOf(manifest: BuildManifest, writeCache: { readonly type: WriteCacheType; readonly sizeMiB: number }): VdiskProperties {
  return {
    description: `${manifest.recipe.name} ${manifest.recipe.version} (build ${manifest.buildId})`,
    writeCacheType: writeCache.type,
    writeCacheSizeMiB: writeCache.sizeMiB,
    recipe: manifest.recipe.name,
    version: manifest.recipe.version,
    recipeHash: manifest.recipe.hash,
    buildId: manifest.buildId,
  };
}
