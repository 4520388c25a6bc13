/**
 * Recipes and apps with every documented default filled in, so that `cpus: 2` and an omitted
 * `cpus` mean, print and hash the same. The defaults are the `@default` values in model.ts.
 */
import type {
  App,
  Check,
  CustomStep,
  Hardware,
  McsTarget,
  OsSpec,
  PvsTarget,
  Recipe,
  Script,
  Seal,
  Target,
  Updates,
  Vda,
} from "./model.ts";

export const DEFAULT_LOCALE = "en-US";
export const DEFAULT_TIMEZONE = "UTC";
export const DEFAULT_HARDWARE: Required<Hardware> = {
  cpus: 2,
  memoryMiB: 4096,
  diskGiB: 64,
  firmware: "uefi",
  secureBoot: false,
  tpm: false,
};
export const DEFAULT_UPDATE_ROUNDS = 5;
export const DEFAULT_SUCCESS_CODES: readonly number[] = [0];
export const DEFAULT_SCRIPT_TIMEOUT_SECONDS = 1800;
export const DEFAULT_SNAPSHOT_NAME = "{name}-{version}-{build}";
export const DEFAULT_WRITE_CACHE = "device-ram-with-overflow-on-disk";
export const DEFAULT_RAM_CACHE_MIB = 256;
export const DEFAULT_APP_REBOOT = "if-required";

/** A recipe whose optional parts are all present, defaults applied. */
export interface NormalizedRecipe extends Recipe {
  readonly os: OsSpec & { readonly locale: string; readonly timezone: string };
  readonly hardware: Required<Hardware>;
  readonly updates: Updates;
  readonly drivers: NonNullable<Recipe["drivers"]>;
  readonly apps: NonNullable<Recipe["apps"]>;
  readonly target: Target;
  readonly seal: Required<Omit<Seal, "scripts">> & { readonly scripts: readonly NormalizedScript[] };
  readonly checks: readonly (NormalizedScript & Check)[];
  readonly steps: readonly (NormalizedScript & CustomStep)[];
}

export type NormalizedScript = Script & {
  readonly successCodes: readonly number[];
  readonly reboot: boolean;
  readonly timeoutSeconds: number;
};

export type NormalizedApp = App & {
  readonly successCodes: readonly number[];
  readonly reboot: NonNullable<App["reboot"]>;
  readonly dependsOn: NonNullable<App["dependsOn"]>;
};

export function normalizeRecipe(recipe: Recipe): NormalizedRecipe {
  return {
    ...recipe,
    os: { ...recipe.os, locale: recipe.os.locale ?? DEFAULT_LOCALE, timezone: recipe.os.timezone ?? DEFAULT_TIMEZONE },
    hardware: { ...DEFAULT_HARDWARE, ...definedOnly(recipe.hardware ?? {}) },
    updates: normalizeUpdates(recipe.updates),
    drivers: recipe.drivers ?? [],
    apps: recipe.apps ?? [],
    ...(recipe.vda ? { vda: normalizeVda(recipe.vda) } : {}),
    target: normalizeTarget(recipe.target),
    seal: {
      generalize: recipe.seal?.generalize ?? true,
      cleanup: recipe.seal?.cleanup ?? [],
      scripts: (recipe.seal?.scripts ?? []).map(normalizeScript),
    },
    checks: (recipe.checks ?? []).map(normalizeScript),
    steps: (recipe.steps ?? []).map(normalizeScript),
  };
}

export function normalizeApp(app: App): NormalizedApp {
  return {
    ...app,
    successCodes: app.successCodes ?? DEFAULT_SUCCESS_CODES,
    reboot: app.reboot ?? DEFAULT_APP_REBOOT,
    dependsOn: app.dependsOn ?? [],
  };
}

export function normalizeScript<T extends Script>(script: T): T & NormalizedScript {
  return {
    ...script,
    successCodes: script.successCodes ?? DEFAULT_SUCCESS_CODES,
    reboot: script.reboot ?? false,
    timeoutSeconds: script.timeoutSeconds ?? DEFAULT_SCRIPT_TIMEOUT_SECONDS,
  };
}

function normalizeUpdates(updates: Updates | undefined): Updates {
  // With policy none the other settings do nothing, so they must not change the hash either.
  if (!updates || updates.policy === "none") return { policy: "none" };
  return { policy: updates.policy, maxRounds: updates.maxRounds ?? DEFAULT_UPDATE_ROUNDS, exclude: updates.exclude ?? [] };
}

function normalizeVda(vda: Vda): Vda {
  return { ...vda, options: vda.options ?? [] };
}

function normalizeTarget(target: Target): Target {
  if (target.kind === "mcs") {
    const mcs: McsTarget = { ...target, snapshotName: target.snapshotName ?? DEFAULT_SNAPSHOT_NAME, shutdown: target.shutdown ?? true };
    return mcs;
  }
  const pvs: PvsTarget = {
    ...target,
    writeCache: target.writeCache ?? DEFAULT_WRITE_CACHE,
    ramCacheMiB: target.ramCacheMiB ?? DEFAULT_RAM_CACHE_MIB,
    shutdown: target.shutdown ?? false,
  };
  return pvs;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
