/**
 * What a recipe change does to the image: components added, removed, bumped (or changed in place
 * at the same version), settings changed, and the first step the layer cache cannot serve.
 */
import type { Recipe } from "./model.ts";
import { canonicalJson } from "./canonical-json.ts";
import { imageRecipe } from "./hash.ts";
import { normalizeRecipe } from "./normalize.ts";
import type { Plan, PlanStep, StepKind } from "./plan-model.ts";

/** A thing the image contains at some version: the OS ISO, a driver, the tools, an app, the VDA... */
export interface Component {
  readonly kind: StepKind;
  readonly name: string;
  readonly version: string;
}

export interface ComponentBump {
  readonly kind: StepKind;
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

export interface SettingChange {
  /** Dotted path into the recipe; named list entries as `steps[name]`. */
  readonly path: string;
  /** Absent when the setting is new. */
  readonly from?: unknown;
  /** Absent when the setting was removed. */
  readonly to?: unknown;
}

export interface PlanDiff {
  readonly from: DiffSide;
  readonly to: DiffSide;
  /** Same image hash: nothing to rebuild. */
  readonly identical: boolean;
  readonly added: readonly Component[];
  readonly removed: readonly Component[];
  readonly bumped: readonly ComponentBump[];
  /** Same name and version, different content: installer checksum, install command, options. */
  readonly changed: readonly Component[];
  readonly settings: readonly SettingChange[];
  /** The first step whose cumulative hash is new, so the build runs it and everything after. */
  readonly firstRerun?: { readonly index: number; readonly id: string; readonly title: string };
  /** Steps served from the layer cache (the common prefix). */
  readonly reusedSteps: number;
  readonly totalSteps: number;
}

export interface DiffSide {
  readonly name: string;
  readonly version: string;
  readonly file: string;
  readonly hash: string;
}

export interface DiffInput {
  readonly recipe: Recipe;
  readonly plan: Plan;
}

export function diffPlans(before: DiffInput, after: DiffInput): PlanDiff {
  const old = componentsOf(before.plan);
  const now = componentsOf(after.plan);
  const added: Component[] = [];
  const bumped: ComponentBump[] = [];
  const changed: Component[] = [];
  for (const [key, entry] of now) {
    const was = old.get(key);
    if (!was) added.push(entry.component);
    else if (was.component.version !== entry.component.version) {
      bumped.push({ kind: entry.component.kind, name: entry.component.name, from: was.component.version, to: entry.component.version });
    } else if (was.contentHash !== entry.contentHash) changed.push(entry.component);
  }
  const removed = [...old].filter(([key]) => !now.has(key)).map(([, entry]) => entry.component);
  const reused = commonPrefix(before.plan.steps, after.plan.steps);
  const first = after.plan.steps[reused];
  return {
    from: side(before.plan),
    to: side(after.plan),
    identical: before.plan.hash === after.plan.hash,
    added,
    removed,
    bumped,
    changed,
    settings: diffSettings(settingsOf(before.recipe), settingsOf(after.recipe)),
    ...(first ? { firstRerun: { index: reused, id: first.id, title: first.title } } : {}),
    reusedSteps: reused,
    totalSteps: after.plan.steps.length,
  };
}

function side(plan: Plan): DiffSide {
  return { name: plan.recipe.name, version: plan.recipe.version, file: plan.recipe.file, hash: plan.hash };
}

function componentsOf(plan: Plan): Map<string, { component: Component; contentHash: string }> {
  const components = new Map<string, { component: Component; contentHash: string }>();
  for (const step of plan.steps) {
    if (!step.installs) continue;
    components.set(`${step.kind}:${step.installs.name}`, {
      component: { kind: step.kind, name: step.installs.name, version: step.installs.version },
      contentHash: step.contentHash,
    });
  }
  return components;
}

/** How many leading steps keep their cumulative hash: the layer cache serves exactly those. */
function commonPrefix(before: readonly PlanStep[], after: readonly PlanStep[]): number {
  let i = 0;
  while (i < after.length && i < before.length && after[i]!.hash === before[i]!.hash) i++;
  return i;
}

/**
 * Recipe paths that name components: their changes are reported as components (added, removed,
 * bumped), so they are not repeated as settings.
 */
const COMPONENT_PATHS: readonly RegExp[] = [
  /^apps$/,
  /^os\.iso(\.|$)/,
  /^drivers(\[[^\]]*\](\.version|\.source(\..*)?)?)?$/,
  /^hypervisorTools(\.(version|installer(\..*)?|kind))?$/,
  /^vda(\.(version|installer(\..*)?))?$/,
  /^target\.targetDevice(\.(version|installer(\..*)?))?$/,
];

function settingsOf(recipe: Recipe): unknown {
  return imageRecipe(normalizeRecipe(recipe));
}

/**
 * Walks both recipes together: a part present on one side only is one change at its own path
 * (`target.domainJoin: {...} -> (none)`), not one per field inside it.
 */
function diffSettings(before: unknown, after: unknown, path = "", into: SettingChange[] = []): SettingChange[] {
  if (path && COMPONENT_PATHS.some((pattern) => pattern.test(path))) return into;
  if (isRecord(before) && isRecord(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) diffSettings(before[key], after[key], path ? `${path}.${key}` : key, into);
    return into;
  }
  const named = [before, after].map(namedEntries);
  if (named[0] && named[1]) {
    // Named entries (drivers, scripts, checks, custom steps) are matched by name, not position.
    const [was, now] = named as [Map<string, unknown>, Map<string, unknown>];
    for (const name of new Set([...was.keys(), ...now.keys()])) diffSettings(was.get(name), now.get(name), `${path}[${name}]`, into);
    return into;
  }
  if (before === undefined && after === undefined) return into;
  if (before !== undefined && after !== undefined && canonicalJson(before) === canonicalJson(after)) return into;
  into.push({ path, ...(before !== undefined ? { from: before } : {}), ...(after !== undefined ? { to: after } : {}) });
  return into;
}

/** A list of objects with unique names, keyed by name; undefined for any other value. */
function namedEntries(value: unknown): Map<string, unknown> | undefined {
  if (!Array.isArray(value) || !value.every((item) => isRecord(item) && typeof item.name === "string")) return undefined;
  const entries = new Map(value.map((item) => [(item as { name: string }).name, item as unknown]));
  return entries.size === value.length ? entries : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
