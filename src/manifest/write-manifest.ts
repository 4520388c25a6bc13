/** Reads and writes manifests; writes go to a temp name and are renamed, so a reader never sees half a file. */
import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { maskSecrets } from "../recipe/secret-patterns.ts";
import { InputFileError, readInputFile } from "../util/read-input.ts";
import type { BuildManifest } from "./model.ts";

export const MANIFEST_FILE = "manifest.json";
/** A manifest lists inputs, steps and outputs: tens of KiB. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Writes any JSON document atomically, with anything that looks like a credential masked. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, maskSecrets(`${JSON.stringify(value, null, 2)}\n`));
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

export async function writeManifest(path: string, manifest: BuildManifest): Promise<void> {
  await writeJsonAtomic(path, manifest);
}

export async function readManifest(path: string): Promise<BuildManifest> {
  let text: string;
  try {
    text = readInputFile(path, MAX_MANIFEST_BYTES).toString("utf8");
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    throw new ManifestError(`cannot read the build manifest ${path}: ${error.message}; pass the manifest.json a build wrote into its --out directory`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${path} is not JSON (${(error as Error).message}); pass the manifest.json a build wrote`);
  }
  const manifest = value as Partial<BuildManifest>;
  if (manifest.manifestVersion !== 1 || !manifest.recipe || !Array.isArray(manifest.outputs)) {
    throw new ManifestError(`${path} is not a rebake build manifest (manifestVersion 1 with recipe and outputs); pass the manifest.json a build wrote`);
  }
  return manifest as BuildManifest;
}
