/**
 * The sync source and sites of a stack: the vDisk of the pinned version's build manifest (or the
 * same file in an HQ store directory) and every PVS site's store. The vDisk name and properties are
 * the ones the publish program gives it (publishedVdiskName, vdiskPropertiesOf).
 */
import { access, readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import { readManifest } from "../manifest/write-manifest.ts";
import type { BuildManifest } from "../manifest/model.ts";
import { DEFAULT_WRITE_CACHE, publishedVdiskName, vdiskPropertiesOf, vhdxOf } from "../stores/published-vdisk.ts";
import type { StackConfig } from "../stacks/model.ts";
import type { WriteCacheType } from "../stores/vdisk-sidecar.ts";
import { blockmapName, computeBlockmap, formatBlockmap, parseBlockmap, type Blockmap } from "./blockmap.ts";
import type { SyncSite, SyncSource } from "./model.ts";

export class SyncSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function vdiskNameOf(manifest: BuildManifest): { readonly vdisk: string; readonly family: string } {
  const vhdx = vhdxOf(manifest);
  if (!vhdx) throw new SyncSourceError(`the manifest of ${manifest.recipe.name} ${manifest.recipe.version} has no vhdx output; only PVS builds produce a vDisk to sync`);
  return { vdisk: publishedVdiskName(manifest, vhdx), family: basename(vhdx.path, ".vhdx") };
}

export interface ResolveOptions {
  /** An HQ store directory holding `<vdisk>.vhdx`, instead of the build's artifact. */
  readonly from?: string;
  readonly signal?: AbortSignal;
  readonly onIndexProgress?: (done: number, total: number) => void;
  /** Secrets named `env:NAME` are read from here. */
  readonly env?: NodeJS.ProcessEnv;
}

/** The vDisk to sync, found and named, before its blockmap is read. */
export interface LocatedSyncSource extends Omit<SyncSource, "blockmap" | "manifestPath"> {
  readonly manifestPath: string;
  /** What the manifest recorded for the file. */
  readonly expected: { readonly sha256: string; readonly size: number };
}

/** Loads the manifest and finds the file; reads none of it. */
export async function locateSyncSource(root: string, stack: StackConfig, options: Pick<ResolveOptions, "from"> = {}): Promise<LocatedSyncSource> {
  const manifestPath = isAbsolute(stack.image.manifest) ? stack.image.manifest : join(root, stack.image.manifest);
  const manifest = await readManifest(manifestPath);
  const vhdx = vhdxOf(manifest)!;
  const { vdisk, family } = vdiskNameOf(manifest);
  const path = options.from ? join(options.from, `${vdisk}.vhdx`) : join(dirname(manifestPath), vhdx.path);
  try {
    await access(path);
  } catch {
    throw new SyncSourceError(`the vDisk to sync is not at ${path}; ${options.from ? `copy ${vdisk}.vhdx into ${options.from} or drop --from` : `rebuild ${manifest.recipe.name} ${manifest.recipe.version} or point rebake:image.manifest at its manifest`}`);
  }
  const writeCache = await writeCacheOf(manifest.recipe.file);
  const properties = vdiskPropertiesOf(manifest, writeCache);
  return { path, vdisk, family, properties, manifestPath, expected: { sha256: vhdx.sha256, size: vhdx.size } };
}

/**
 * Reads (or builds once, and saves) the located file's blockmap and checks it against the
 * manifest. A sync that ships a vDisk version calls this only for sites that need the full vDisk:
 * indexing reads the whole file.
 */
export async function indexSyncSource(located: LocatedSyncSource, options: ResolveOptions = {}): Promise<SyncSource> {
  const { expected, ...source } = located;
  const blockmap = await sourceBlockmap(located.path, options);
  if (blockmap.sha256 !== expected.sha256 || blockmap.size !== expected.size) {
    throw new SyncSourceError(`${located.path} hashes to ${blockmap.sha256} (${blockmap.size} bytes) but the manifest says ${expected.sha256} (${expected.size} bytes); the file changed since the build: rebuild, or restore the file`);
  }
  return { ...source, blockmap };
}

/** The blockmap beside the source; computed in one read and saved when missing or stale. */
async function sourceBlockmap(path: string, options: ResolveOptions): Promise<Blockmap> {
  const file = join(dirname(path), blockmapName(basename(path)));
  try {
    const map = parseBlockmap(await readFile(file, "utf8"), file);
    const { stat } = await import("node:fs/promises");
    if (map.size === (await stat(path)).size) return map;
  } catch {
    // Absent or damaged: rebuilt below.
  }
  const map = await computeBlockmap(path, { ...(options.signal ? { signal: options.signal } : {}), ...(options.onIndexProgress ? { onProgress: options.onIndexProgress } : {}) });
  const { writeFile, rename } = await import("node:fs/promises");
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, formatBlockmap(map));
    await rename(temp, file);
  } catch {
    // A read-only artifact directory: the map is still used for this run.
  }
  return map;
}

async function writeCacheOf(recipeFile: string): Promise<{ type: WriteCacheType; sizeMiB: number }> {
  try {
    const recipe = parse(await readFile(recipeFile, "utf8")) as { target?: { writeCache?: WriteCacheType; ramCacheMiB?: number } };
    return recipe.target?.writeCache ? { type: recipe.target.writeCache, sizeMiB: recipe.target.ramCacheMiB ?? 0 } : DEFAULT_WRITE_CACHE;
  } catch {
    return DEFAULT_WRITE_CACHE;
  }
}

export class SyncSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Resolves `pulumi:key` references (src/stacks/pulumi-secrets.ts readPulumiSecrets). */
export type PulumiSecretLookup = (key: string) => string | undefined;

/** The PVS sites of the stack, with SMB passwords resolved from `env:NAME` or `pulumi:key`. */
export function sitesOf(stack: StackConfig, env: NodeJS.ProcessEnv = process.env, pulumiSecret: PulumiSecretLookup = () => undefined): SyncSite[] {
  if (!stack.pvs) throw new SyncSourceError(`${stack.file} has no rebake:pvs section; sync distributes PVS vDisks to the stores of its sites`);
  return stack.pvs.sites.map((site) => {
    const { username, password } = site.store;
    if (!username) return { name: site.name, location: site.store.location };
    return { name: site.name, location: site.store.location, credentials: { username, password: password ? secret(password, env, pulumiSecret, site.name, stack.stack) : "" } };
  });
}

function secret(ref: string, env: NodeJS.ProcessEnv, pulumiSecret: PulumiSecretLookup, site: string, stack: string): string {
  const value = ref.startsWith("env:") ? env[ref.slice(4)] : ref.startsWith("pulumi:") ? pulumiSecret(ref.slice(7)) : undefined;
  if (value !== undefined) return value;
  const fix = ref.startsWith("env:") ? `export ${ref.slice(4)}` : `set it with pulumi config set ${ref.slice(7)} --secret --stack ${stack} (it prompts for the value)`;
  throw new SyncSecretError(`site ${site}: the store password ${ref} is not set; ${fix} before running rebake sync`);
}
