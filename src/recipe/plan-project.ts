/**
 * A recipe file to a plan: load it with its project's apps, refuse when any error was found,
 * resolve the apps, plan. What `rebake plan`, `hash` and `diff` share.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import type { SourceDocument } from "./document.ts";
import type { App, Recipe } from "./model.ts";
import type { Plan } from "./plan-model.ts";
import { createPlan, PlanError, PlanInputError } from "./plan.ts";
import type { HashFile } from "./hash.ts";
import type { Problem } from "./problem.ts";
import { loadProject } from "./project.ts";
import { AppResolutionError, resolveApps } from "./resolve.ts";
import { appInputs, recipeInputs } from "./rules/inputs.ts";

export interface PlanProjectOptions {
  /** Relative paths are resolved here; problems name files relative to it. */
  readonly cwd: string;
  /** @default streaming sha256 of the file */
  readonly hashFile?: HashFile;
  /** The recipe as printed in the plan. @default the path as loaded */
  readonly displayName?: string;
}

export type PlannedProject =
  | { readonly ok: true; readonly plan: Plan; readonly recipe: Recipe; readonly problems: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

export async function planProject(recipePath: string, options: PlanProjectOptions): Promise<PlannedProject> {
  const project = await loadProject(recipePath, { cwd: options.cwd });
  const recipe = project.recipe;
  if (!recipe || project.problems.some((p) => p.severity === "error")) return { ok: false, problems: project.problems };
  const appDirs = new Map<App, string>(project.apps.map((doc) => [doc.value, dirname(doc.path)]));
  const failed = (error: Error, rule: string): PlannedProject => {
    const { doc, pointer } = blame(error, recipe, project.apps);
    // The warning that foresaw this (input-missing on the same key) is the same mistake.
    const others = project.problems.filter((p) => !(p.severity === "warning" && p.file === doc.file && p.pointer === pointer));
    return {
      ok: false,
      problems: [...others, { file: doc.file, ...doc.locate(pointer, "key"), rule, severity: "error", message: error.message, pointer }],
    };
  };
  try {
    const apps = resolveApps(recipe.value, project.apps.map((doc) => doc.value));
    const plan = await createPlan(recipe.value, apps, {
      file: options.displayName ?? recipe.file,
      recipeDir: dirname(recipe.path),
      appDir: (app) => appDirs.get(app) ?? project.root,
      ...(options.hashFile ? { hashFile: options.hashFile } : {}),
    });
    return { ok: true, plan, recipe: recipe.value, problems: project.problems };
  } catch (error) {
    // The rules report these with positions first; reaching here means a rule let one through.
    if (error instanceof AppResolutionError) return failed(error, "app-resolution");
    if (error instanceof PlanError) return failed(error, "plan");
    throw error;
  }
}

/**
 * The file and key a planning failure is about: the key naming the unreadable input (in the recipe
 * or the app that declares it), else what the error names, else the recipe's top level.
 */
function blame(error: Error, recipe: SourceDocument<Recipe>, apps: readonly SourceDocument<App>[]): { doc: SourceDocument<unknown>; pointer: string } {
  if (error instanceof PlanInputError) {
    const declared = [
      ...recipeInputs(recipe.value).map((input) => ({ doc: recipe as SourceDocument<unknown>, input })),
      ...apps.flatMap((doc) => appInputs(doc.value).map((input) => ({ doc: doc as SourceDocument<unknown>, input }))),
    ];
    for (const { doc, input } of declared) {
      const path = input.source.path;
      if (path !== undefined && (isAbsolute(path) ? path : resolve(dirname(doc.path), path)) === error.path) return { doc, pointer: `${input.pointer}/path` };
    }
  }
  if (error instanceof AppResolutionError) return { doc: recipe, pointer: "/apps" };
  return { doc: recipe, pointer: error instanceof PlanError && error.pointer ? error.pointer : "" };
}
