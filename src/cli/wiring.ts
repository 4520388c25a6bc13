/**
 * The one place commands get their drivers, guest channels and secrets from. Which hypervisor
 * driver a build runs on: `--driver`, else the stack's `rebake:hypervisor` kind,
 * else QEMU. Connection settings come from `--hypervisor-config` or the stack. Every credential is
 * resolved (env:NAME, pulumi:key) here, before the driver exists, so a missing one fails before
 * any VM is created and names what to set; resolved values reach the drivers only through a
 * private copy of the environment, never through arguments or logs.
 */
import { relative, resolve as resolvePath } from "node:path";
import type { HypervisorDriver } from "../hypervisors/driver.ts";
import { createDriver as createHypervisorDriver, HYPERVISOR_NAMES, isHypervisorName, type DriverSettingsByName, type HypervisorName } from "../hypervisors/select.ts";
import type { GuestChannelSettings } from "../guest/guest-channel-settings.ts";
import { UsageError } from "./io.ts";
import type { SecretRef } from "../recipe/model.ts";
import { pulumiSecretVariable, resolveSecret, secretErrors, SecretError, SecretsMissingError, type SecretSources } from "../recipe/secrets.ts";
import type { HypervisorConnection, StackConfig, StackGuestChannel, VsphereConnection, XenOrchestraConnection } from "../stacks/model.ts";
import { loadStack, MAX_STACK_FILE_BYTES, parseHypervisorConfig } from "../stacks/load-stack.ts";
import { pulumiKeys, readPulumiSecrets } from "../stacks/pulumi-secrets.ts";
import type { Exec } from "../util/exec.ts";
import { InputFileError, readInputFile } from "../util/read-input.ts";
import { cacheDirs } from "../cache/cache-dir.ts";
import { rememberedDigests } from "../cache/file-digests.ts";
import { hashFileSha256, type HashFile } from "../recipe/hash.ts";

export const DRIVER_NAMES = HYPERVISOR_NAMES;
export type DriverName = HypervisorName;
export const DEFAULT_DRIVER: DriverName = "qemu";

/**
 * Private environment names the resolved credentials travel under to the drivers, which read
 * credentials by variable name. They live only in the copy of the environment given to the driver.
 */
export const RESOLVED_CREDENTIAL_ENV = {
  vsphereUser: "REBAKE_RESOLVED_VSPHERE_USER",
  vspherePassword: "REBAKE_RESOLVED_VSPHERE_PASSWORD",
  xoToken: "REBAKE_RESOLVED_XO_TOKEN",
  guestUser: "REBAKE_RESOLVED_GUEST_USER",
  guestPassword: "REBAKE_RESOLVED_GUEST_PASSWORD",
} as const;

/** A secret reference (`env:NAME`, `pulumi:key`) as written in stacks. */
const SECRET_REF = /^(env|pulumi):/;

export interface DriverOptions {
  readonly runtimeDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** The driver's notes (accelerator chosen, checkpoints), shown with the build's progress. */
  readonly log: (line: string) => void;
  /** Where the connection settings come from; required for vsphere and xenorchestra. */
  readonly connection?: SelectedConnection;
  /** Pulumi stack secrets, for `pulumi:key` references. @default none (such references fail with a hint) */
  readonly pulumiSecret?: SecretSources["pulumi"];
  /** @default createExec() (inside the drivers) */
  readonly exec?: Exec;
  /** Xen Orchestra's HTTP client. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** The rebake cache dir (the QEMU driver keeps its KVM probe answer there). */
  readonly cacheDir?: string;
}

/** A hypervisor block and where it was written, for messages. */
export interface SelectedConnection {
  readonly hypervisor: HypervisorConnection;
  /** `stacks/Pulumi.dev.yaml` or the `--hypervisor-config` file. */
  readonly source: string;
}

/** A credential the build needs and cannot find; names the stack key and the variable or secret to set. */
export class MissingCredentialError extends Error {
  constructor(
    readonly source: string,
    /** Every credential of the connection that could not be resolved, not only the first. */
    readonly missing: readonly { readonly what: string; readonly cause: SecretError }[],
  ) {
    super(
      missing.length === 1
        ? `${missing[0]!.what} from ${source}: ${missing[0]!.cause.message}`
        : `${missing.length} credentials from ${source} cannot be resolved:\n${missing.map((m) => `  - ${m.what}: ${m.cause.message}`).join("\n")}`,
    );
    this.name = new.target.name;
  }
}

/** A stack or config file that lacks a setting builds need (publish does not). */
export class BuildConnectionError extends Error {
  constructor(readonly source: string, readonly kind: string, readonly missing: readonly string[]) {
    super(`${source}: building on ${kind} needs ${missing.map((key) => `hypervisor.${key}`).join(", ")}: add ${missing.length === 1 ? "it" : "them"} under rebake:hypervisor`);
    this.name = new.target.name;
  }
}

/**
 * Which driver to use and with which connection: `--driver` wins; a stack or config file of another
 * kind is then ignored only for qemu (a local build of a remote stack's recipe).
 */
export function selectDriverName(flag: string | undefined, connection: SelectedConnection | undefined): DriverName {
  checkDriverFlag(flag);
  const name = (flag as DriverName | undefined) ?? connection?.hypervisor.kind ?? DEFAULT_DRIVER;
  if (name === "qemu") return name;
  if (!connection) throw new UsageError(`--driver ${name} needs connection settings: pass --stack NAME (stacks/Pulumi.<name>.yaml) or --hypervisor-config FILE`);
  if (connection.hypervisor.kind !== name) {
    throw new UsageError(`--driver ${name} does not match ${connection.source}, which configures ${connection.hypervisor.kind}: pass --hypervisor-config FILE with a ${name} block, or drop --driver`);
  }
  return name;
}

/** The `--stack` and `--hypervisor-config` flags of a build. */
export interface ConnectionFlags {
  readonly stack?: string;
  readonly hypervisorConfig?: string;
  /** `--driver`: with qemu, a remote stack's secrets are not needed and not read. */
  readonly driver?: string;
}

export interface LoadedConnection {
  readonly connection?: SelectedConnection;
  readonly pulumiSecret?: SecretSources["pulumi"];
}

/**
 * Reads the hypervisor block: `--hypervisor-config` replaces the stack's; `pulumi:` references in
 * it, and in `recipeRefs` (a build's recipe secrets), are read from the stack in one pass (so they
 * need `--stack`). Invalid files throw StackConfigError.
 */
export async function loadConnection(
  flags: ConnectionFlags,
  deps: { readonly cwd: string; readonly exec: Exec; readonly signal?: AbortSignal; readonly recipeRefs?: readonly SecretRef[] },
): Promise<LoadedConnection> {
  let connection: SelectedConnection | undefined;
  if (flags.hypervisorConfig !== undefined) {
    const file = resolvePath(deps.cwd, flags.hypervisorConfig);
    const shown = relative(deps.cwd, file) || file;
    let text: string;
    try {
      text = readInputFile(file, MAX_STACK_FILE_BYTES).toString("utf8");
    } catch (error) {
      if (error instanceof InputFileError) throw new UsageError(`--hypervisor-config ${flags.hypervisorConfig}: ${error.message}`);
      throw error;
    }
    connection = { hypervisor: parseHypervisorConfig(text, shown), source: shown };
  } else if (flags.stack !== undefined) {
    const stack = await loadStack(deps.cwd, flags.stack);
    connection = { hypervisor: stack.hypervisor, source: stack.file };
  }
  const loaded: LoadedConnection = connection ? { connection } : {};
  if (flags.stack === undefined) return loaded;
  // A local build of a remote stack's recipe (--driver qemu) needs none of its connection's secrets.
  const used = connection && !(flags.driver === "qemu" && connection.hypervisor.kind !== "qemu") ? connection.hypervisor : {};
  const h = used as Record<string, unknown> & { guest?: Record<string, unknown> };
  const refs = [h.username, h.password, h.token, h.guest?.user, h.guest?.password, ...(deps.recipeRefs ?? [])];
  const pulumiSecret = await stackSecretLookup(refs, { cwd: deps.cwd, exec: deps.exec, stack: flags.stack, ...(deps.signal ? { signal: deps.signal } : {}) });
  return pulumiSecret ? { ...loaded, pulumiSecret } : loaded;
}

/**
 * Checks every secret a build needs before any VM exists: the recipe's references and the
 * connection's credentials, all that fail named in one error. Returns where the recipe's come from.
 */
export function checkBuildSecrets(recipeRefs: readonly SecretRef[], driverName: string | undefined, options: ConnectionSecrets): SecretSources {
  const sources: SecretSources = { env: options.env, ...(options.pulumiSecret ? { pulumi: options.pulumiSecret } : {}) };
  const recipe = secretErrors(recipeRefs, sources);
  let connection: MissingCredentialError | undefined;
  try {
    driverSettings(selectDriverName(driverName, options.connection), options);
  } catch (error) {
    if (!(error instanceof MissingCredentialError)) throw error;
    connection = error;
  }
  if (connection && recipe.length > 0) {
    // One report: the connection's lines name the stack key each reference was written under.
    const where = new Map(connection.missing.map((m) => [m.cause, `${m.what} from ${connection.source}: `]));
    throw new SecretsMissingError([...recipe, ...where.keys()], (error) => `${where.get(error) ?? ""}${error.message}`);
  }
  if (connection) throw connection;
  if (recipe.length > 0) throw new SecretsMissingError(recipe);
  return sources;
}

export function createDriver(name: string | undefined, options: DriverOptions): HypervisorDriver {
  const selected = selectDriverName(name, options.connection);
  const { settings, env } = driverSettings(selected, options);
  return createHypervisorDriver(selected, settings as never, {
    runtimeDir: options.runtimeDir,
    env,
    log: options.log,
    ...(options.exec ? { exec: options.exec } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
}

/** What resolving a connection's credentials reads. */
export type ConnectionSecrets = Pick<DriverOptions, "env" | "connection" | "pulumiSecret">;

/** The driver's settings and the environment its credential names point into. */
export function driverSettings<N extends DriverName>(name: N, options: ConnectionSecrets): { settings: DriverSettingsByName[N]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = { ...options.env };
  const connection = options.connection;
  // A local build of a remote stack's recipe (--driver qemu) uses nothing of its connection.
  if (!connection || (name === "qemu" && connection.hypervisor.kind !== "qemu")) return { settings: {} as DriverSettingsByName[N], env };
  const source = connection.source;
  const sources: SecretSources = { env: options.env, ...(options.pulumiSecret ? { pulumi: options.pulumiSecret } : {}) };
  const missing: { what: string; cause: SecretError }[] = [];
  const resolve = (what: string, ref: string, into: string) => {
    try {
      env[into] = SECRET_REF.test(ref) ? resolveSecret(ref, sources) : ref;
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      missing.push({ what, cause: error });
    }
    return into;
  };
  // All of the connection's credentials are resolved before any is reported, so one run names every one to set.
  const resolved = (settings: unknown) => {
    if (missing.length > 0) throw new MissingCredentialError(source, missing);
    return { settings: settings as DriverSettingsByName[N], env };
  };
  const hypervisor = connection.hypervisor;
  if (hypervisor.kind === "qemu") return { settings: (hypervisor.guest ? { guest: hypervisor.guest } : {}) as DriverSettingsByName[N], env };
  const guest = hypervisor.guest;
  const guestSettings = guest ? guestChannelSettings(guest, resolve) : undefined;
  if (hypervisor.kind === "vsphere") {
    const v: VsphereConnection = hypervisor;
    requireKeys(source, "vsphere", v, ["datastore", "network"]);
    const settings: DriverSettingsByName["vsphere"] = {
      url: v.url ?? `https://${v.server}/sdk`,
      datacenter: v.datacenter,
      datastore: v.datastore!,
      network: v.network!,
      insecure: v.insecure,
      credentials: {
        usernameEnv: resolve("hypervisor.username", v.username, RESOLVED_CREDENTIAL_ENV.vsphereUser),
        passwordEnv: resolve("hypervisor.password (vSphere password)", v.password, RESOLVED_CREDENTIAL_ENV.vspherePassword),
      },
      ...optionalFields(v, ["resourcePool", "folder", "isoFolder", "guestId", "hostingUnit", "markAsTemplate"] as const),
      ...(guest?.kind === "vmware-tools"
        ? { guestCredentials: { usernameEnv: RESOLVED_CREDENTIAL_ENV.guestUser, passwordEnv: RESOLVED_CREDENTIAL_ENV.guestPassword } }
        : {}),
      ...(guestSettings ? { guest: guestSettings } : {}),
    };
    return resolved(settings);
  }
  const x: XenOrchestraConnection = hypervisor;
  requireKeys(source, "xenorchestra", x, ["pool", "template", "isoSr", "guest"]);
  const settings: DriverSettingsByName["xenorchestra"] = {
    url: x.url,
    tokenEnv: resolve("hypervisor.token (Xen Orchestra token)", x.token, RESOLVED_CREDENTIAL_ENV.xoToken),
    pool: x.pool!,
    template: x.template!,
    isoSr: x.isoSr!,
    ...optionalFields(x, ["hostingUnit"] as const),
    ...(guestSettings ? { guest: guestSettings } : {}),
  };
  return resolved(settings);
}

/** The stack's guest block as channel settings, with its password resolved into the private env. */
function guestChannelSettings(guest: StackGuestChannel, resolve: (what: string, ref: string, into: string) => string): GuestChannelSettings {
  switch (guest.kind) {
    case "qga":
      return guest;
    case "vmware-tools":
      resolve("hypervisor.guest.user", guest.user, RESOLVED_CREDENTIAL_ENV.guestUser);
      resolve("hypervisor.guest.password (guest account password)", guest.password, RESOLVED_CREDENTIAL_ENV.guestPassword);
      return { kind: "vmware-tools", ...(guest.os ? { os: guest.os } : {}) };
    case "ssh":
      return guest;
    case "winrm": {
      const { password, ...rest } = guest;
      return { ...rest, passwordEnv: resolve("hypervisor.guest.password (WinRM password)", password, RESOLVED_CREDENTIAL_ENV.guestPassword) };
    }
  }
}

function requireKeys<T extends object>(source: string, kind: string, connection: T, keys: readonly (keyof T & string)[]): void {
  const missing = keys.filter((key) => connection[key] === undefined);
  if (missing.length > 0) throw new BuildConnectionError(source, kind, missing);
}

function optionalFields<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) picked[key] = from[key];
  return picked;
}

/** Rejects an unknown `--driver` before anything else runs (exit 2). */
export function checkDriverFlag(flag: string | undefined): void {
  if (flag !== undefined && !isHypervisorName(flag)) throw new UsageError(`--driver must be one of ${DRIVER_NAMES.join(", ")}, got: '${flag}'`);
}

/**
 * The `pulumi:key` values among `refs`, read from the stack once, before anything runs (so a
 * resolver stays synchronous and a missing key fails early); undefined when there are none.
 */
export async function stackSecretLookup(
  refs: readonly unknown[],
  deps: { readonly stack: string; readonly cwd: string; readonly exec: Exec; readonly signal?: AbortSignal },
): Promise<SecretSources["pulumi"] | undefined> {
  const keys = pulumiKeys(refs);
  if (keys.length === 0) return undefined;
  return readPulumiSecrets(keys, { stack: deps.stack, cwd: deps.cwd, exec: deps.exec, ...(deps.signal ? { signal: deps.signal } : {}) });
}

/** Every secret reference the publish program hands its providers: store passwords, API tokens, WinRM passwords of the executors. */
export function publishSecretRefs(stack: StackConfig): string[] {
  const hypervisorToken = stack.hypervisor.kind === "xenorchestra" ? [stack.hypervisor.token] : [];
  return [...(stack.pvs?.sites.flatMap((site) => (site.store.password ? [site.store.password] : [])) ?? []), ...(stack.mcs?.cvad ? [stack.mcs.cvad.token] : []), ...[stack.pvs?.executor, stack.mcs?.powershell?.executor].flatMap((executor) => (executor?.kind === "winrm" ? [executor.password] : [])), ...hypervisorToken];
}

/**
 * The environment the Pulumi engine runs the publish program in: the user's, plus each `pulumi:`
 * value the providers resolve, under its private variable (recipe/secrets.ts pulumiSecretVariable).
 * A key the stack does not set stays unset: the provider's error then names it and the fix.
 */
export function publishEnvironment(env: NodeJS.ProcessEnv, refs: readonly string[], pulumiSecret: SecretSources["pulumi"] | undefined): Record<string, string> {
  const out = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  for (const key of pulumiKeys(refs)) {
    const value = pulumiSecret?.(key);
    if (value !== undefined) out[pulumiSecretVariable(key)] = value;
  }
  return out;
}

/**
 * How planning hashes a recipe's local files (an ISO by path, an installer beside the recipe): read
 * once per change of the file, the digest remembered in the cache (cache/file-digests.ts). Builds
 * remember; commands that only look (plan, hash) use what builds remembered and write nothing.
 */
export function planFileDigest(cwd: string, env: NodeJS.ProcessEnv, options: { readonly cacheDir?: string | undefined; readonly remember: boolean }): HashFile {
  return rememberedDigests(cacheDirs(cwd, env, options.cacheDir).digests, hashFileSha256, { remember: options.remember });
}
