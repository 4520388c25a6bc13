/**
 * The Pulumi program (run by index.ts, Pulumi.yaml `main`): publishes the image version the current stack pins.
 * The stack's settings come from stacks/Pulumi.<stack>.yaml, read and validated by src/stacks/ so
 * errors name the file, line and key; the version's build manifest says what to publish.
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { readManifest } from "../manifest/write-manifest.ts";
import { readVersionRecord } from "../distribute/version-record.ts";
import { loadStack } from "../stacks/load-stack.ts";
import { listStacks } from "../stacks/list-stacks.ts";
import type { StackConfig } from "../stacks/model.ts";
import { readAuditLog } from "../release/audit-log.ts";
import { loadReleasePolicy } from "../release/release-policy.ts";
import { releaseState } from "../release/release-state.ts";
import { stackRetention } from "../release/stack-retention.ts";
import { manifestPathOf } from "./release.ts";
import { declareStackDevices } from "../devices/stack-devices.ts";
import { GoldenImage } from "./golden-image.ts";
import type { GoldenImageArgs } from "./golden-image-args.ts";

export interface ProgramOptions {
  /** The project root (where Pulumi.yaml is). @default process.cwd() */
  readonly root?: string;
  /** @default pulumi.getStack() */
  readonly stack?: string;
}

/** The recipe's PVS write cache, when the recipe file is at hand. */
async function writeCacheOf(recipeFile: string): Promise<GoldenImageArgs["writeCache"]> {
  try {
    const recipe = parse(await readFile(recipeFile, "utf8")) as { target?: { writeCache?: string; ramCacheMiB?: number } };
    const type = recipe.target?.writeCache;
    return type ? { type: type as NonNullable<GoldenImageArgs["writeCache"]>["type"], sizeMiB: recipe.target?.ramCacheMiB ?? 0 } : undefined;
  } catch {
    return undefined;
  }
}

export class RetainedVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The manifests of the older versions the retention rule keeps in this stack's PVS stores. */
async function retainedManifests(root: string, stack: StackConfig): Promise<NonNullable<GoldenImageArgs["retained"]>> {
  if (stack.target !== "pvs") return [];
  const [policy, entries, names] = await Promise.all([loadReleasePolicy(root), readAuditLog(root), listStacks(root)]);
  const all = await Promise.all(names.map((name) => loadStack(root, name)));
  const kept = stackRetention(stack, all, policy, releaseState(entries, stack.image.recipe)).filter((k) => k.why !== "pinned");
  return Promise.all(kept.map(async ({ version, why }) => {
    const path = manifestPathOf(root, stack, version);
    try {
      return { manifest: await readManifest(path), manifestDir: dirname(path), register: why === "rollback" };
    } catch {
      throw new RetainedVersionError(`${stack.image.recipe} ${version} stays in ${stack.stack}'s stores (${why}) but its manifest ${path} is missing; restore it, or lower keepVersions in Pulumi.yaml`);
    }
  }));
}

export async function program(options: ProgramOptions = {}) {
  const root = options.root ?? process.cwd();
  const stack = await loadStack(root, options.stack ?? pulumi.getStack());
  const manifestPath = manifestPathOf(root, stack);
  const manifest = await readManifest(manifestPath);
  const writeCache = await writeCacheOf(manifest.recipe.file);
  // A PVS vDisk version (rebake version) is a differencing disk in its chain; full vDisks are kept side by side by the retention rule.
  const version = stack.target === "pvs" ? await readVersionRecord(manifestPath) : undefined;
  const retained = version ? [] : await retainedManifests(root, stack);
  const image = new GoldenImage(stack.image.recipe, { stack, manifest, manifestDir: dirname(manifestPath), retained, ...(writeCache ? { writeCache } : {}), ...(version ? { version } : {}) });
  // Issue 6: one PVS target device per row of each site's device manifest (src/devices/).
  if (stack.target === "pvs") await declareStackDevices(root, stack, image.published, { parent: image });
  return { recipe: stack.image.recipe, version: stack.image.version, target: stack.target, published: image.published };
}

