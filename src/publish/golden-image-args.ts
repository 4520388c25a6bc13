/**
 * The argument checks of the GoldenImage component, a pure function tested on its own: the
 * manifest must be the pinned version of the pinned recipe, built for the stack's target, verified,
 * with the artifact the target needs.
 */
import type { VersionRecord } from "../distribute/version-record.ts";
import type { BuildManifest } from "../manifest/model.ts";
import { DEFAULT_WRITE_CACHE, publishedVdiskName, snapshotOf, vdiskPropertiesOf, vhdxOf } from "../stores/published-vdisk.ts";
import type { StackConfig } from "../stacks/model.ts";
import type { WriteCacheType } from "../stores/vdisk-sidecar.ts";
import { diskLocatorProblems } from "../pvs/register-script.ts";

export interface GoldenImageArgs {
  readonly stack: StackConfig;
  readonly manifest: BuildManifest;
  /** Directory of the manifest: output paths are relative to it. */
  readonly manifestDir: string;
  /** The build written as a vDisk version (`rebake version`): registered as a version of its chain. */
  readonly version?: VersionRecord;
  /** From the recipe's PVS target. @default DEFAULT_WRITE_CACHE */
  readonly writeCache?: { readonly type: WriteCacheType; readonly sizeMiB: number };
}

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
