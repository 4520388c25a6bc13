/**
 * A project is a directory holding apps/ (and usually recipes/): a recipe's `name@version`
 * references resolve against the app definitions of its project. This module finds the project
 * of a file, loads and schema-checks its files, and runs the named rules over them.
 */
import { readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { DocumentKind, Rule, RuleContext, SourceDocument } from "./document.ts";
import { loadDocument, type SourceFs } from "./load.ts";
import type { App, Recipe } from "./model.ts";
import { compareProblems, type Problem } from "./problem.ts";
import { rules as defaultRules } from "./rules/index.ts";
import { checkSchema } from "./schema-validation.ts";

/** The directory of app definitions inside a project. */
export const APPS_DIR = "apps";
/** The directory of recipes inside a project. */
export const RECIPES_DIR = "recipes";
const YAML_FILE = /\.ya?ml$/i;
/** Directories never searched for YAML: tooling and version control, not recipes. */
const SKIPPED_DIRS = new Set(["node_modules"]);
/** Files read at once; enough to hide latency, few enough to stay far from the fd limit. */
const READ_CONCURRENCY = 32;

export interface ProjectOptions {
  /** Paths in problems are shown relative to this directory. */
  readonly cwd: string;
  /** @default the registry in rules/index.ts */
  readonly rules?: readonly Rule[];
  /** @default nodeSourceFs */
  readonly fs?: SourceFs;
}

export interface LoadedProject {
  /** The recipe, present when it matches the schema (named-rule problems may still exist). */
  readonly recipe?: SourceDocument<Recipe>;
  /** The project's apps that match the schema. */
  readonly apps: SourceDocument<App>[];
  /** Every problem: the recipe's, the apps', and the named rules', sorted. */
  readonly problems: Problem[];
  /** The project directory (holds apps/), or the recipe's own directory when there is none. */
  readonly root: string;
}

/** A file after load and schema check. */
export interface CheckedFile {
  /** Path as shown in problems. */
  readonly file: string;
  /** Present when the file parsed. */
  readonly document?: SourceDocument<unknown>;
  /** Parsed and matching its schema: ready for the named rules. */
  readonly valid: boolean;
  readonly problems: readonly Problem[];
}

/**
 * Loads a recipe with every app of its project, checks them against the schemas and runs the
 * named rules. Callers such as plan and hash refuse to go on when `problems` holds an error.
 */
export async function loadProject(recipePath: string, options: ProjectOptions): Promise<LoadedProject> {
  const path = resolve(options.cwd, recipePath);
  const root = await findProjectRoot(path);
  const appPaths = (await findYamlFiles(join(root, APPS_DIR))).filter((p) => p !== path);
  const [recipeFile, ...appFiles] = await mapLimit([path, ...appPaths], READ_CONCURRENCY, (p, i) =>
    checkFile(p, { ...options, kind: i === 0 ? undefined : "app" }),
  );
  const problems: Problem[] = [];
  let recipe: SourceDocument<Recipe> | undefined;
  if (recipeFile) {
    if (recipeFile.document?.kind === "app") {
      problems.push({
        file: recipeFile.file, line: 0, col: 0, rule: "not-a-recipe", severity: "error",
        message: "this is an app definition, but a recipe was expected", hint: "name a file from recipes/",
      });
    } else {
      problems.push(...recipeFile.problems);
      if (recipeFile.valid) recipe = recipeFile.document as SourceDocument<Recipe>;
    }
  }
  const apps = appFiles.filter((f) => f.valid).map((f) => f.document as SourceDocument<App>);
  for (const app of appFiles) problems.push(...app.problems);
  problems.push(...runRules({ root, recipes: recipe ? [recipe] : [], apps }, options.rules ?? defaultRules));
  const unused = recipe ? unusedAppFiles(recipe.value, apps) : new Set<string>();
  // A warning about an app this recipe never installs is noise in its plan; errors still count,
  // because a broken app file can break resolution for every recipe.
  const relevant = problems.filter((p) => p.severity === "error" || !unused.has(p.file));
  return { ...(recipe ? { recipe } : {}), apps, problems: relevant.sort(compareProblems), root };
}

/** Files of the apps a recipe does not install, directly or as a dependency. */
function unusedAppFiles(recipe: Recipe, apps: readonly SourceDocument<App>[]): Set<string> {
  const byKey = new Map(apps.map((doc) => [`${doc.value.name}@${doc.value.version}`, doc]));
  const used = new Set<string>();
  const pending = [...(recipe.apps ?? [])];
  for (let ref = pending.pop(); ref !== undefined; ref = pending.pop()) {
    if (used.has(ref)) continue;
    used.add(ref);
    pending.push(...(byKey.get(ref)?.value.dependsOn ?? []));
  }
  return new Set(apps.filter((doc) => !used.has(`${doc.value.name}@${doc.value.version}`)).map((doc) => doc.file));
}

/** Loads one file and checks it against its schema. */
export async function checkFile(
  path: string,
  options: { readonly cwd: string; readonly kind?: DocumentKind; readonly fs?: SourceFs },
): Promise<CheckedFile> {
  const loaded = await loadDocument(path, options);
  const file = loaded.document?.file ?? loaded.problems[0]?.file ?? path;
  if (!loaded.document) return { file, valid: false, problems: loaded.problems };
  const schemaProblems = checkSchema(loaded.document);
  return {
    file,
    document: loaded.document,
    valid: schemaProblems.length === 0 && !loaded.problems.some((p) => p.severity === "error"),
    problems: [...loaded.problems, ...schemaProblems],
  };
}

/**
 * Runs every rule over schema-valid documents. A rule that throws is a bug in the rule, not in the
 * user's files: it becomes one `internal-rule-error` problem and the other rules still run.
 */
export function runRules(context: RuleContext, rules: readonly Rule[]): Problem[] {
  const problems: Problem[] = [];
  const where = context.recipes[0] ?? context.apps[0];
  for (const rule of rules) {
    try {
      problems.push(...rule.check(context));
    } catch (error) {
      problems.push({
        file: where?.file ?? "", line: 0, col: 0, rule: "internal-rule-error", severity: "error",
        message: `rule '${rule.id}' failed: ${error instanceof Error ? error.message : String(error)}`,
        hint: "this is a bug in rebake, not in the file: please report it with the file that triggers it",
      });
    }
  }
  return problems;
}

/** The nearest ancestor directory of a file that holds apps/, else the file's own directory. */
export async function findProjectRoot(filePath: string): Promise<string> {
  const own = dirname(filePath);
  for (let dir = own; ; dir = dirname(dir)) {
    if (await isDirectory(join(dir, APPS_DIR))) return dir;
    if (dirname(dir) === dir) return own;
  }
}

/** Every .yaml/.yml file below a directory, sorted; none when it does not exist. */
export async function findYamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && YAML_FILE.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !p.slice(dir.length).split(/[\\/]/).some((part) => part.startsWith(".") || SKIPPED_DIRS.has(part)))
    .sort();
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** Maps with at most `limit` calls in flight, keeping the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
