/**
 * App resolution: turns a recipe's `apps` references into the install order. Dependencies are
 * installed before the apps that need them, otherwise the recipe's order holds; an app needed
 * twice is installed once. A dependency the recipe does not list is added, not an error.
 *
 * Validation (the app-* rules) reports unresolvable references with file positions first; the
 * errors thrown here are for callers that skip validation.
 */
import { appKey, parseAppRef } from "./app-key.ts";
import type { App, Recipe } from "./model.ts";

/** Any reason a recipe's apps cannot be put into an install order. */
export class AppResolutionError extends Error {
  override name = "AppResolutionError";
}

/** No app definition has this `name@version`. */
export class AppNotFoundError extends AppResolutionError {
  override name = "AppNotFoundError";
  constructor(
    readonly ref: string,
    readonly requiredBy: string,
    /** Versions of the same name that are defined. */
    readonly knownVersions: readonly string[],
  ) {
    const known = knownVersions.length > 0 ? `defined versions: ${knownVersions.join(", ")}` : "no version of it is defined";
    super(`${requiredBy} needs app ${ref}, which no app definition provides (${known}); add apps/${ref.replace("@", "-")}.yaml or reference a defined version`);
  }
}

/** More than one app definition has this `name@version`. */
export class AmbiguousAppError extends AppResolutionError {
  override name = "AmbiguousAppError";
  constructor(
    readonly ref: string,
    readonly count: number,
  ) {
    super(`app ${ref} is defined ${count} times; keep exactly one definition of each name@version`);
  }
}

/** Apps that depend on each other in a loop cannot be ordered. */
export class AppDependencyCycleError extends AppResolutionError {
  override name = "AppDependencyCycleError";
  constructor(
    /** The loop, first element repeated at the end: ["a@1", "b@1", "a@1"]. */
    readonly cycle: readonly string[],
  ) {
    super(`app dependencies form a cycle: ${cycle.join(" -> ")}; remove one of these dependsOn entries`);
  }
}

/** How the resolver sees a set of app definitions of any shape (plain apps, loaded documents). */
export interface AppGraph<T> {
  /** Every definition with this `name@version` key (0, 1 or more). */
  definitions(ref: string): readonly T[];
  /** The `dependsOn` references of a definition. */
  dependsOn(item: T): readonly string[];
  /** The `name@version` key of a definition. */
  key(item: T): string;
  /** Every defined version of an app name, for error messages. */
  versionsOf(name: string): readonly string[];
}

/** An app in install order, with the recipe `apps` entry that first pulled it in. */
export interface OrderedApp<T> {
  readonly item: T;
  /** Index into the roots (the recipe's `apps` list). */
  readonly root: number;
}

/**
 * `strict` throws on a missing, ambiguous or cyclic reference; otherwise those references are
 * skipped (the rules that report them run separately) and everything else is still ordered.
 */
export interface OrderOptions {
  readonly strict: boolean;
  /** Named in errors: who asked for the roots. */
  readonly requiredBy: string;
}

/** The install order of `roots` and everything they depend on. */
export function orderApps<T>(roots: readonly string[], graph: AppGraph<T>, options: OrderOptions): OrderedApp<T>[] {
  const ordered: OrderedApp<T>[] = [];
  const done = new Set<string>();
  const path: string[] = [];

  const visit = (ref: string, requiredBy: string, root: number): void => {
    if (done.has(ref)) return;
    const onPath = path.indexOf(ref);
    if (onPath >= 0) {
      if (options.strict) throw new AppDependencyCycleError([...path.slice(onPath), ref]);
      return;
    }
    const found = graph.definitions(ref);
    const item = found[0];
    if (item === undefined) {
      if (options.strict) throw new AppNotFoundError(ref, requiredBy, graph.versionsOf(nameOf(ref)));
      return;
    }
    if (found.length > 1 && options.strict) throw new AmbiguousAppError(ref, found.length);
    path.push(ref);
    for (const dependency of graph.dependsOn(item)) visit(dependency, ref, root);
    path.pop();
    done.add(ref);
    ordered.push({ item, root });
  };

  roots.forEach((ref, root) => visit(ref, options.requiredBy, root));
  return ordered;
}

/** The name part of a reference, tolerating malformed input (validation reports it). */
function nameOf(ref: string): string {
  try {
    return parseAppRef(ref).name;
  } catch {
    return ref;
  }
}

/** Indexes items by `name@version` and by name. */
export function appGraph<T>(items: readonly T[], app: (item: T) => App): AppGraph<T> {
  const byKey = new Map<string, T[]>();
  const versions = new Map<string, string[]>();
  for (const item of items) {
    const { name, version } = app(item);
    const key = appKey({ name, version });
    const same = byKey.get(key);
    if (same) same.push(item);
    else byKey.set(key, [item]);
    const known = versions.get(name) ?? [];
    if (!known.includes(version)) known.push(version);
    versions.set(name, known);
  }
  for (const known of versions.values()) known.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  return {
    definitions: (ref) => byKey.get(ref) ?? [],
    dependsOn: (item) => app(item).dependsOn ?? [],
    key: (item) => appKey(app(item)),
    versionsOf: (name) => versions.get(name) ?? [],
  };
}

/**
 * The apps of a recipe in install order: dependencies first, then the recipe's order,
 * each app once. Throws an AppResolutionError subclass when that is impossible.
 */
export function resolveApps(recipe: Recipe, apps: readonly App[]): App[] {
  const graph = appGraph(apps, (app) => app);
  return orderApps(recipe.apps ?? [], graph, { strict: true, requiredBy: `recipe ${recipe.metadata.name}` }).map(
    (entry) => entry.item,
  );
}
