/**
 * `rebake validate` without the printing: every named file (directories expanded) is loaded,
 * checked against its schema, and checked by the named rules together with the other files of
 * its project. Every problem of every file is collected; nothing throws on bad input.
 */
import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Rule, SourceDocument } from "./document.ts";
import type { SourceFs } from "./load.ts";
import type { App, Recipe } from "./model.ts";
import { compareProblems, type Problem } from "./problem.ts";
import {
  APPS_DIR, RECIPES_DIR, checkFile, findProjectRoot, findYamlFiles, isDirectory, mapLimit, runRules, type CheckedFile,
} from "./project.ts";
import { rules as defaultRules } from "./rules/index.ts";
import { checkPowerShellSyntax } from "./powershell-syntax.ts";
import { createExec } from "../util/exec.ts";
import { createPowerShellParser, type PowerShellParser } from "../util/powershell-parser.ts";
import { findPwsh } from "../util/pwsh.ts";

const READ_CONCURRENCY = 32;

export interface ValidateOptions {
  /** Relative paths are resolved here, and problems name files relative to it. */
  readonly cwd: string;
  /** @default the registry in rules/index.ts */
  readonly rules?: readonly Rule[];
  /** @default nodeSourceFs */
  readonly fs?: SourceFs;
  /**
   * Parses the recipes' PowerShell; null when there is no pwsh (the check says once it skipped).
   * @default PowerShell's parser in the pwsh findPwsh finds, started only when a recipe has PowerShell
   */
  readonly powershell?: PowerShellParser | null;
}

export interface ValidationResult {
  /** Every problem of every file, sorted by file, line, column. */
  readonly problems: Problem[];
  /** The recipes that match the schema. */
  readonly recipes: SourceDocument<Recipe>[];
  /** The apps that match the schema: those named, and those of the named recipes' projects. */
  readonly apps: SourceDocument<App>[];
  /** Every file checked, as shown in problems. */
  readonly files: string[];
}

/**
 * Validates files and directories (expanded to their .yaml/.yml files). With no paths:
 * recipes/ and apps/ under cwd.
 */
export async function validatePaths(paths: readonly string[], options: ValidateOptions): Promise<ValidationResult> {
  const problems: Problem[] = [];
  const named = paths.length > 0 ? paths : await defaultPaths(options.cwd);
  if (named.length === 0) {
    problems.push({
      file: ".", line: 0, col: 0, rule: "file-not-found", severity: "error",
      message: `there is no ${RECIPES_DIR}/ or ${APPS_DIR}/ directory here`,
      hint: "name the files or directories to validate",
    });
  }

  const files: string[] = [];
  for (const path of named) {
    const absolute = resolve(options.cwd, path);
    const isDir = await stat(absolute).then((s) => s.isDirectory(), () => false);
    if (isDir) files.push(...(await findYamlFiles(absolute)));
    else files.push(absolute);
  }
  const unique = [...new Set(files)];
  const checked = new Map<string, CheckedFile>();
  const check = async (list: readonly string[], kind?: "app"): Promise<void> => {
    const todo = list.filter((p) => !checked.has(p));
    const results = await mapLimit(todo, READ_CONCURRENCY, (p) => checkFile(p, { ...options, kind }));
    todo.forEach((p, i) => checked.set(p, results[i]!));
  };
  await check(unique);

  // Recipes are checked together with every app of their project, named or not.
  const projects = new Map<string, string[]>();
  const rootOfDir = new Map<string, Promise<string>>();
  for (const path of unique) {
    const dir = dirname(path);
    const root = await (rootOfDir.get(dir) ?? rootOfDir.set(dir, findProjectRoot(path)).get(dir)!);
    projects.set(root, [...(projects.get(root) ?? []), path]);
  }
  for (const [root, members] of projects) {
    if (!members.some((p) => checked.get(p)?.document?.kind === "recipe")) continue;
    const apps = await findYamlFiles(join(root, APPS_DIR));
    await check(apps, "app");
    members.push(...apps.filter((p) => !members.includes(p)));
  }

  const recipes: SourceDocument<Recipe>[] = [];
  const apps: SourceDocument<App>[] = [];
  for (const [root, members] of projects) {
    const context = { root, recipes: [] as SourceDocument<Recipe>[], apps: [] as SourceDocument<App>[] };
    for (const path of members) {
      const file = checked.get(path);
      if (!file?.valid || !file.document) continue;
      if (file.document.kind === "recipe") context.recipes.push(file.document as SourceDocument<Recipe>);
      else context.apps.push(file.document as SourceDocument<App>);
    }
    problems.push(...runRules(context, options.rules ?? defaultRules));
    recipes.push(...context.recipes);
    apps.push(...context.apps);
  }
  for (const file of checked.values()) problems.push(...file.problems);
  const parser = options.powershell === undefined ? defaultPowerShellParser() : options.powershell;
  problems.push(...(await checkPowerShellSyntax(recipes, { cwd: options.cwd, parser })));
  return {
    problems: problems.sort(compareProblems),
    recipes,
    apps,
    files: [...checked.values()].map((f) => f.file).sort(),
  };
}

function defaultPowerShellParser(): PowerShellParser | null {
  const pwsh = findPwsh();
  return pwsh ? createPowerShellParser({ exec: createExec(), pwsh }) : null;
}

async function defaultPaths(cwd: string): Promise<string[]> {
  const candidates = [RECIPES_DIR, APPS_DIR];
  const present = await Promise.all(candidates.map((dir) => isDirectory(join(cwd, dir))));
  return candidates.filter((_, i) => present[i]);
}
