/**
 * The create / diff / update / delete behind the PVS vDisk dynamic provider, kept here so tests
 * call it directly against real stores. Credentials reach it as secret references, resolved from
 * the environment of the process that runs it: no secret value enters the Pulumi state.
 */
import { environmentSecretSources, resolveSecret } from "../recipe/secrets.ts";
import { createExec, type Exec } from "../util/exec.ts";
import { openStore } from "./open-store.ts";
import { publishVdisk, readVdisk, removeVdisk, vdiskFile } from "./publish-vdisk.ts";
import type { VdiskStore } from "./store.ts";
import type { VdiskProperties } from "./vdisk-sidecar.ts";

export interface VdiskInputs {
  /** Store location: a path or `smb://host[:port]/share[/dir]`. */
  readonly store: string;
  readonly username?: string;
  /** Secret reference (`env:NAME`, or `pulumi:key` as publish hands it in) for an SMB store's password. */
  readonly passwordRef?: string;
  readonly name: string;
  readonly source: string;
  readonly sha256: string;
  readonly size: number;
  readonly properties: VdiskProperties;
  readonly lockTimeoutMs?: number;
}

export interface VdiskOutputs extends VdiskInputs {
  /** Whether the last create found the vDisk already in place. */
  readonly skipped: boolean;
}

export interface VdiskDiff {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
}

export interface VdiskEnvironment {
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default createExec() */
  readonly exec?: Exec;
}

/** Inputs whose change means a different file in the store. */
const REPLACING_KEYS = ["store", "name", "sha256", "size"] as const;

export function vdiskId(inputs: Pick<VdiskInputs, "store" | "name">): string {
  return `${inputs.store.replace(/[\\/]+$/, "")}/${vdiskFile(inputs.name)}`;
}

function storeOf(inputs: VdiskInputs, environment: VdiskEnvironment): VdiskStore {
  const env = environment.env ?? process.env;
  const credentials = inputs.username && inputs.passwordRef ? { username: inputs.username, password: resolveSecret(inputs.passwordRef, environmentSecretSources(env)) } : undefined;
  return openStore(inputs.store, { exec: environment.exec ?? createExec(), ...(credentials ? { credentials } : {}) });
}

export async function createVdisk(inputs: VdiskInputs, environment: VdiskEnvironment = {}): Promise<{ id: string; outs: VdiskOutputs }> {
  const published = await publishVdisk(storeOf(inputs, environment), inputs, inputs.lockTimeoutMs ? { lockTimeoutMs: inputs.lockTimeoutMs } : {});
  return { id: vdiskId(inputs), outs: { ...inputs, skipped: published.skipped } };
}

export function diffVdisk(olds: VdiskOutputs, news: VdiskInputs): VdiskDiff {
  const replaces = REPLACING_KEYS.filter((key) => olds[key] !== news[key]);
  const changes = replaces.length > 0 || JSON.stringify(olds.properties) !== JSON.stringify(news.properties) || olds.username !== news.username || olds.passwordRef !== news.passwordRef;
  // Same file name with new content: the old one must go before the new one can take its name.
  const sameFile = olds.store === news.store && olds.name === news.name;
  return { changes, replaces: [...replaces], deleteBeforeReplace: replaces.length > 0 && sameFile };
}

/** Only the properties changed: the content is the same, so publishing again rewrites the sidecar. */
export async function updateVdisk(_id: string, _olds: VdiskOutputs, news: VdiskInputs, environment: VdiskEnvironment = {}): Promise<{ outs: VdiskOutputs }> {
  return { outs: (await createVdisk(news, environment)).outs };
}

export async function deleteVdisk(_id: string, olds: VdiskOutputs, environment: VdiskEnvironment = {}): Promise<void> {
  await removeVdisk(storeOf(olds, environment), olds.name, olds.lockTimeoutMs ? { lockTimeoutMs: olds.lockTimeoutMs } : {});
}

/** Refreshes from the store: gone when the file is gone, a different sha256 when it changed. */
export async function readVdiskResource(id: string, olds: VdiskOutputs, environment: VdiskEnvironment = {}): Promise<{ id?: string; props?: VdiskOutputs }> {
  const found = await readVdisk(storeOf(olds, environment), olds.name);
  if (!found) return {};
  return { id, props: { ...olds, sha256: found.sha256, size: found.size } };
}
