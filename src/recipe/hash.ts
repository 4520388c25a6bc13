/**
 * Content addresses. The recipe hash names everything that determines the image; each step's
 * cumulative hash chains its own content to every step before it, so it is the layer-cache key:
 * change the last app and only the hashes from that app's step on change.
 */
import { createHash } from "node:crypto";
import { sha256File } from "../util/hash-file.ts";
import { canonicalJson } from "./canonical-json.ts";
import type { App } from "./model.ts";
import { normalizeApp, type NormalizedRecipe } from "./normalize.ts";
import type { GuestCommand, PlanInput, PlanStep } from "./plan-model.ts";

/** Bumped when what goes into a hash changes, so old cache entries stop matching. */
export const HASH_FORMAT = "rebake-hash-v1";

/** Computes the sha256 of a local file; injected so tests and `diff --base` can supply their own. */
export type HashFile = (path: string) => Promise<string>;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Streams the file, so a multi-GiB ISO never sits in memory. */
export const hashFileSha256: HashFile = (path) => sha256File(path);

/** The cumulative hash of a step: its content chained to the cumulative hash before it. */
export function chainHash(previous: string, contentHash: string): string {
  return sha256Hex(previous + contentHash);
}

/** What identifies an input: its checksum, or its URL marked unpinned when it has none. */
export function inputIdentity(input: PlanInput): { readonly sha256: string } | { readonly url: string; readonly unpinned: true } {
  if (input.sha256) return { sha256: input.sha256 };
  return { url: input.source.url ?? input.source.path ?? input.name, unpinned: true };
}

/** The parts of a step that decide what it does to the disk. */
export interface StepContent {
  readonly kind: PlanStep["kind"];
  readonly installs?: PlanStep["installs"];
  readonly reboot: PlanStep["reboot"];
  readonly inputs: readonly PlanInput[];
  readonly commands: readonly GuestCommand[];
  readonly uploadDir: string;
  /** Settings the runner applies itself (os-install, shutdown), which no command shows. */
  readonly settings?: unknown;
}

const UPLOAD_DIR_TOKEN = "<upload-dir>";

/**
 * The hash of a step's own content. The upload directory is named after the step id, which
 * carries the step's position; it is replaced by a token so a step that only moved keeps its
 * content hash (its cumulative hash still changes, as it must).
 */
export function stepContentHash(step: StepContent): string {
  // Commands and inputs are built by the planner with a fixed field order, so plain
  // JSON.stringify is canonical for them (and much cheaper on long scripts); user-shaped parts
  // (installs, settings) go through canonicalJson.
  const commands = step.commands.map((c) => [
    c.shell,
    c.command.split(step.uploadDir).join(UPLOAD_DIR_TOKEN),
    c.successCodes,
    c.rebootCodes,
    c.timeoutSeconds,
    c.rerunCodes ?? null,
    c.maxRuns ?? null,
    c.secretEnv ? canonicalJson(c.secretEnv) : null,
  ]);
  const inputs = step.inputs.map((input) => (input.sha256 ? input.sha256 : `${input.source.url ?? input.source.path ?? input.name} unpinned`));
  return sha256Hex(
    JSON.stringify([HASH_FORMAT, step.kind, step.reboot, canonicalJson(step.installs ?? null), canonicalJson(step.settings ?? null), inputs, commands]),
  );
}

/** The recipe as it shapes the image: description and owners are for people, not the disk. */
export function imageRecipe(recipe: NormalizedRecipe): NormalizedRecipe {
  const { description: _description, owners: _owners, ...metadata } = recipe.metadata;
  return { ...recipe, metadata };
}

/**
 * Digests of app definitions. The same definition objects come back for every recipe of a
 * project, so `rebake validate`/`plan` over hundreds of recipes serialises each app once.
 */
const appDigests = new WeakMap<App, string>();

export function appDigest(app: App): string {
  let digest = appDigests.get(app);
  if (digest === undefined) {
    const { description: _description, ...definition } = normalizeApp(app);
    digest = sha256Hex(canonicalJson(definition));
    appDigests.set(app, digest);
  }
  return digest;
}

/** The content address of the whole image: recipe, resolved apps, every input checksum, every step. */
export function recipeHash(recipe: NormalizedRecipe, apps: readonly App[], steps: readonly PlanStep[]): string {
  return sha256Hex(
    canonicalJson({
      format: HASH_FORMAT,
      recipe: imageRecipe(recipe),
      apps: apps.map(appDigest),
      inputs: steps.flatMap((step) => step.inputs.map(inputIdentity)),
      steps: steps.map((step) => step.hash),
    }),
  );
}
