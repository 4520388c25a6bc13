/**
 * The Pulumi program (Pulumi.yaml `main`): publishes the image version the current stack pins.
 * The stack's settings come from stacks/Pulumi.<stack>.yaml, read and validated by src/stacks/ so
 * errors name the file, line and key; the version's build manifest says what to publish.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { readManifest } from "../manifest/write-manifest.ts";
import { readVersionRecord } from "../distribute/version-record.ts";
import { loadStack } from "../stacks/load-stack.ts";
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

export async function program(options: ProgramOptions = {}) {
  const root = options.root ?? process.cwd();
  const stack = await loadStack(root, options.stack ?? pulumi.getStack());
  const manifestPath = isAbsolute(stack.image.manifest) ? stack.image.manifest : join(root, stack.image.manifest);
  const manifest = await readManifest(manifestPath);
  const writeCache = await writeCacheOf(manifest.recipe.file);
  const version = stack.target === "pvs" ? await readVersionRecord(manifestPath) : undefined;
  const image = new GoldenImage(stack.image.recipe, { stack, manifest, manifestDir: dirname(manifestPath), ...(writeCache ? { writeCache } : {}), ...(version ? { version } : {}) });
  // Issue 6: one PVS target device per row of each site's device manifest (src/devices/).
  if (stack.target === "pvs") await declareStackDevices(root, stack, image.published, { parent: image });
  return { recipe: stack.image.recipe, version: stack.image.version, target: stack.target, published: image.published };
}

export default program;
