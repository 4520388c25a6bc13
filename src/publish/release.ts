/**
 * Promote, roll back and report versions across stacks. A promotion is an edit of the pinned
 * version in the higher stack's file (a reviewable diff); the publish itself runs afterwards.
 */
import { isAbsolute, join } from "node:path";
import type { BuildManifest } from "../manifest/model.ts";
import { readManifest } from "../manifest/write-manifest.ts";
import { defaultManifestPath, type StackConfig } from "../stacks/model.ts";
import { loadStack, stackFile } from "../stacks/load-stack.ts";
import { listStacks } from "../stacks/list-stacks.ts";
import { pinVersion, type PinChange } from "../stacks/pin-version.ts";
import { publishHistory, readPublishRecord, type PublishRecord } from "./publish-record.ts";

export class ReleaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function manifestPathOf(root: string, stack: StackConfig, version = stack.image.version): string {
  // Another version than the pinned one lives at the default place for that version.
  const relative = version === stack.image.version ? stack.image.manifest : defaultManifestPath(stack.image.recipe, version);
  return isAbsolute(relative) ? relative : join(root, relative);
}

async function manifestOrUndefined(path: string): Promise<BuildManifest | undefined> {
  try {
    return await readManifest(path);
  } catch {
    return undefined;
  }
}

export interface PromoteResult {
  readonly change: PinChange;
  readonly older?: BuildManifest;
  readonly newer: BuildManifest;
}

/** Pins in `to` the version `from` runs, if it was published and verified there. */
export async function promote(root: string, image: string, from: string, to: string): Promise<PromoteResult> {
  const lower = await loadStack(root, from);
  const upper = await loadStack(root, to);
  for (const stack of [lower, upper]) {
    if (stack.image.recipe !== image) throw new ReleaseError(`${stack.file} pins the image ${stack.image.recipe}, not ${image}; name the image the stacks publish`);
  }
  const version = lower.image.version;
  const manifestPath = manifestPathOf(root, lower);
  const newer = await manifestOrUndefined(manifestPath);
  if (!newer) throw new ReleaseError(`no build manifest for ${image} ${version} at ${manifestPath}; build it (rebake build) and publish it to ${from} first`);
  if (!newer.verification?.passed) {
    throw new ReleaseError(`${image} ${version} is not verified (${newer.verification ? "its verification failed" : "never verified"}); run rebake verify ${manifestPath} and publish it to ${from} before promoting`);
  }
  const record = await readPublishRecord(manifestPath, from);
  if (!record || record.version !== version || record.recipeHash !== newer.recipe.hash) {
    throw new ReleaseError(`${image} ${version} was not published to ${from} (no publish record beside ${manifestPath}); run rebake publish --stack ${from} first`);
  }
  const older = await manifestOrUndefined(manifestPathOf(root, upper));
  const change = await pinVersion(stackFile(root, to), upper.file, to, version);
  return { change, ...(older ? { older } : {}), newer };
}

/** Pins in `stack` the version it ran before the current one, from its publish records. */
export async function rollback(root: string, stackName: string): Promise<PromoteResult> {
  const stack = await loadStack(root, stackName);
  const history = await publishHistory(manifestPathOf(root, stack), stackName);
  const previous = history.find((record) => record.version !== stack.image.version);
  if (!previous) throw new ReleaseError(`${stack.file}: no earlier version of ${stack.image.recipe} was published to ${stackName}; nothing to roll back to`);
  const newer = await manifestOrUndefined(manifestPathOf(root, stack, previous.version));
  if (!newer) throw new ReleaseError(`the manifest of ${stack.image.recipe} ${previous.version} is gone from ${manifestPathOf(root, stack, previous.version)}; restore it before rolling back`);
  const older = await manifestOrUndefined(manifestPathOf(root, stack));
  const change = await pinVersion(stackFile(root, stackName), stack.file, stackName, previous.version);
  return { change, ...(older ? { older } : {}), newer };
}

export interface StackStatus {
  readonly stack: string;
  readonly image: string;
  readonly version: string;
  readonly built?: string;
  readonly verified: "passed" | "failed" | "never" | "no manifest";
  readonly published?: string;
}

export async function status(root: string): Promise<StackStatus[]> {
  const rows: StackStatus[] = [];
  for (const name of await listStacks(root)) {
    const stack = await loadStack(root, name);
    const path = manifestPathOf(root, stack);
    const manifest = await manifestOrUndefined(path);
    const record: PublishRecord | undefined = manifest ? await readPublishRecord(path, name) : undefined;
    rows.push({
      stack: name,
      image: stack.image.recipe,
      version: stack.image.version,
      ...(manifest ? { built: manifest.finished } : {}),
      verified: !manifest ? "no manifest" : !manifest.verification ? "never" : manifest.verification.passed ? "passed" : "failed",
      ...(record && record.version === stack.image.version ? { published: record.publishedAt } : {}),
    });
  }
  return rows;
}
