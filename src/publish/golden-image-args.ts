/**
 * The argument checks of the GoldenImage component, a pure function tested on its own: the
 * manifest must be the pinned version of the pinned recipe, built for the stack's target, verified,
 * with the artifact the target needs.
 */
import type { BuildManifest, VhdxOutput, SnapshotOutput } from "../manifest/model.ts";
import type { StackConfig } from "../stacks/model.ts";
import { basename } from "node:path";
import type { VdiskProperties, WriteCacheType } from "../stores/vdisk-sidecar.ts";
import { diskLocatorProblems } from "../pvs/register-script.ts";

export interface GoldenImageArgs {
  readonly stack: StackConfig;
  readonly manifest: BuildManifest;
  /** Directory of the manifest: output paths are relative to it. */
  readonly manifestDir: string;
  /** From the recipe's PVS target. @default DEFAULT_WRITE_CACHE */
  readonly writeCache?: { readonly type: WriteCacheType; readonly sizeMiB: number };
}

/** PVS's recommended cache for streamed servers, when the recipe names none. */
export const DEFAULT_WRITE_CACHE = { type: "device-ram-with-overflow-on-disk", sizeMiB: 4096 } as const;

export class GoldenImageArgsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`cannot publish: ${problems.join("; ")}`);
    this.name = new.target.name;
  }
}

/** Every problem with the arguments; empty when they are fine. */
export function checkGoldenImageArgs(args: GoldenImageArgs): string[] {
  const { stack, manifest } = args;
  const problems: string[] = [];
  const pin = `${stack.image.recipe} ${stack.image.version}`;
  if (manifest.recipe.name !== stack.image.recipe || manifest.recipe.version !== stack.image.version) {
    problems.push(`${stack.file} pins ${pin} but the manifest ${stack.image.manifest} is ${manifest.recipe.name} ${manifest.recipe.version}; point rebake:image.manifest at the pinned version's manifest`);
  }
  if (manifest.target !== stack.target) {
    problems.push(`the manifest was built for ${manifest.target} but ${stack.file} publishes to ${stack.target}; build the ${stack.target} recipe or change rebake:target`);
  }
  if (!manifest.verification) {
    problems.push(`${pin} was never verified; run rebake verify ${stack.image.manifest} before publishing`);
  } else if (!manifest.verification.passed) {
    const failed = manifest.verification.checks.filter((c) => !c.passed).map((c) => c.name);
    problems.push(`${pin} failed verification (${failed.join(", ") || "boot"}); fix the recipe and rebuild`);
  }
  const vhdx = vhdxOf(manifest);
  if (stack.target === "pvs" && !vhdx) problems.push(`the manifest of ${pin} has no vhdx output; a PVS publish needs the captured vDisk`);
  if (stack.target === "pvs" && vhdx) problems.push(...diskLocatorProblems(publishedVdiskName(manifest, vhdx), vdiskPropertiesOf(manifest, DEFAULT_WRITE_CACHE).description));
  if (stack.target === "pvs" && !stack.pvs) problems.push(`${stack.file} has no rebake:pvs section`);
  if (stack.target === "mcs" && !stack.mcs) problems.push(`${stack.file} has no rebake:mcs section`);
  const snapshot = snapshotOf(manifest);
  if (stack.target === "mcs" && snapshot && !snapshot.placement) {
    problems.push(`the snapshot ${snapshot.name} in the manifest of ${pin} does not record its resource pools and snapshot chain, without which MCS would be pointed at the wrong snapshot; rebuild it with this rebake`);
  }
  return problems;
}

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
